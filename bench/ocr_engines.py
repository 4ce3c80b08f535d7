"""The two OCR engines side by side: load time, seconds per image, peak RSS, batched recognition.

    .venv/bin/python bench/ocr_engines.py [--limit N] [--threads T] [--engines rapidocr,easyocr]

Each engine runs in its own process (so load time and peak RSS are its own) on the same first
N images of the shared real split: detection, cropping and recognition only, as the pipeline
calls them (``detect`` per image, then one ``read`` over every crop). Then the pooled crops are
recognised again with several batch sizes (the texts must not change), and for easyocr the
library's own ``readtext`` is compared with ``readtext_batched`` on two images of one size.
Prints a markdown table. Quality is measured by ``redactor eval`` (bench/quality.py), not here.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
BATCHES = (1, 6, 16)


def child(engine: str, limit: int, threads: int) -> dict[str, object]:
    from dataclasses import replace

    from redactor import io
    from redactor.detect import TEXT_ENGINES
    from redactor.detect.text import TextOptions
    from redactor.evaluate import find_images

    images = [io.load(p).rgb for p in find_images(CORPUS)[:limit]]
    t = time.perf_counter()
    ocr = TEXT_ENGINES[engine](options=TextOptions(threads=threads))
    load = time.perf_counter() - t
    det = crop = 0.0
    crops = []
    for rgb in images:
        t = time.perf_counter()
        quads = ocr.detect(rgb)
        det += time.perf_counter() - t
        t = time.perf_counter()
        crops += [ocr.crop(rgb, q) for q, _ in quads]
        crop += time.perf_counter() - t
    sweep: dict[str, float] = {}
    texts: dict[int, list[str]] = {}
    for size in BATCHES:
        ocr.options = replace(ocr.options, rec_batch=size)
        t = time.perf_counter()
        texts[size] = [txt for txt, _ in ocr.read(crops)]
        sweep[f"read s (batch {size})"] = time.perf_counter() - t
    out: dict[str, object] = {
        "images": len(images), "lines": len(crops), "load s": load,
        "detect s/img": det / len(images), "crop s/img": crop / len(images),
        "read s/img (batch 6)": sweep["read s (batch 6)"] / len(images),
        "total s/img (batch 6)": (det + crop + sweep["read s (batch 6)"]) / len(images),
        **sweep,
        # lines read differently in a batch of 6 or 16 than alone (padding to the batch's widest)
        "lines changed by batching": sum(x != y for s in BATCHES[1:] for x, y in zip(texts[1], texts[s], strict=True)),
    }
    if engine == "easyocr":
        out.update(readtext_vs_batched(ocr, images))
    out["peak RSS GB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def readtext_vs_batched(ocr: object, images: list) -> dict[str, float]:
    """EasyOCR's whole-image calls: two readtext calls vs one readtext_batched on the same pair."""
    import cv2

    reader = ocr._reader  # type: ignore[attr-defined]
    pair = [cv2.resize(images[i], (960, 720)) for i in range(2)]
    t = time.perf_counter()
    for img in pair:
        reader.readtext(img)
    one_by_one = time.perf_counter() - t
    t = time.perf_counter()
    reader.readtext_batched(pair, batch_size=16)
    batched = time.perf_counter() - t
    return {"readtext x2 s (960x720)": one_by_one, "readtext_batched s (same 2)": batched}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2, help="detection threads (the CLI gives cores / jobs)")
    ap.add_argument("--engines", default="rapidocr,easyocr")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.limit, args.threads)))
        return
    results = {}
    for engine in args.engines.split(","):
        proc = subprocess.run([sys.executable, __file__, "--child", engine, "--limit", str(args.limit),
                               "--threads", str(args.threads)], capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{engine} failed:\n{proc.stderr[-3000:]}")
        results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    keys = list(dict.fromkeys(k for r in results.values() for k in r))
    print("| | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    for k in keys:
        cells = [results[e].get(k, "") for e in results]
        print(f"| {k} | " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
