"""Throughput: the naive loop a newcomer would write vs. redactor's batch path, same images.

    .venv/bin/python bench/throughput.py [--limit N] [--jobs N] [CORPUS_SPLIT ...]

Each mode runs in its own process tree (so model load and peak RSS are its own) over the same
images, and reports images/s, per-stage seconds, model load time, peak RSS per process, and
recall through `redactor.evaluate` (so speed is never bought with misses). Prints a markdown table.

naive: one process; for each image, decode with Pillow, `RapidOCR()` with its defaults on the
whole image, libfacedetection (yuface) on the whole image, classify each line alone, fill, encode JPEG; one
after the other.
pipeline: what `redactor redact --jobs N` runs: images split by `redactor.batch.split_work`
among N spawned worker processes, each with one `Redactor` (ONNX Runtime threads = cores / N)
taking chunks of up to 4 images through `redact_many` (batched recognition) and encoding the
output. Stage seconds are summed over workers (CPU-side
seconds, not wall time); images/s is wall time from the first chunk sent to the last returned.
"""

from __future__ import annotations

import argparse
import io as stdio
import json
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
    import yuface
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
        faces = [(x, y, w, h, c) for c, x, y, w, h, *_ in yuface.c_detect(np.ascontiguousarray(rgb[:, :, ::-1]))]
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


_WORKER = None


def _init_worker(threads: int) -> None:
    global _WORKER
    from redactor import Redactor
    from redactor.detect.text import TextOptions

    t = time.perf_counter()
    _WORKER = Redactor(text_options=TextOptions(threads=threads))
    _WORKER.load_seconds = time.perf_counter() - t  # type: ignore[attr-defined]


def _work(chunk: list[Path]) -> tuple[list, dict[str, float], float, float]:
    """One chunk in a worker: (path, packed mask) pairs, stage seconds, load s, peak RSS GB."""
    import numpy as np

    from redactor import io

    stages: dict[str, float] = defaultdict(float)
    masks = []
    for p, res in zip(chunk, _WORKER.redact_many(chunk), strict=True):
        for k, v in res.timings.items():
            stages[k] += v
        t0 = time.perf_counter()
        io.encode(res.image, res.alpha, res.source)
        stages["encode"] += time.perf_counter() - t0
        masks.append((p, res.mask.shape, np.packbits(res.mask)))
    return masks, stages, _WORKER.load_seconds, _peak_gb()


def run_pipeline(paths: list[Path], jobs: int) -> tuple[dict[str, float], dict[Path, object], float, float, float]:
    import multiprocessing as mp

    import numpy as np

    from redactor.batch import split_work

    chunks, processes, threads = split_work(paths, jobs)  # as `redactor redact --jobs N` splits them
    stages: dict[str, float] = defaultdict(float)
    masks, load, peak = {}, 0.0, 0.0
    with mp.get_context("spawn").Pool(processes, initializer=_init_worker, initargs=(threads,)) as pool:
        # The clock starts once every worker has loaded its models (each has answered a ping).
        while len(set(pool.map(_ping, range(processes), chunksize=1))) < processes:
            pass
        t = time.perf_counter()
        for chunk_masks, chunk_stages, chunk_load, chunk_peak in pool.imap_unordered(_work, chunks):
            for p, shape, packed in chunk_masks:
                masks[p] = np.unpackbits(packed, count=shape[0] * shape[1]).reshape(shape).astype(bool)
            for k, v in chunk_stages.items():
                stages[k] += v
            load, peak = max(load, chunk_load), max(peak, chunk_peak)
        seconds = time.perf_counter() - t
    return stages, masks, load, seconds, peak


def _ping(_: int) -> int:
    import os

    time.sleep(0.2)
    return os.getpid()


def _peak_gb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux keeps it across exec, so a child of a
    large process reports the parent's size."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1e6


def child(mode: str, paths: list[Path], jobs: int) -> None:
    """Run one mode from this process and print one JSON line with its measurements."""
    from redactor.evaluate import evaluate

    if mode == "naive":
        t = time.perf_counter()
        stages, masks, load = run_naive(paths)
        seconds, peak = time.perf_counter() - t - load, _peak_gb()
    else:
        stages, masks, load, seconds, peak = run_pipeline(paths, jobs)
    recall = {}
    for split in {p.parent for p in paths}:
        chosen = {p for p in paths if p.parent == split}
        ev = _evaluate_subset(split, chosen, masks, evaluate)
        recall[split.name] = {"pii_text": ev.pii_text_recall, "spared": ev.spared, **ev.recall}
    print(json.dumps({"mode": mode, "jobs": jobs if mode == "pipeline" else 1, "images": len(paths),
                      "seconds": seconds, "load": load, "stages": stages, "peak_gb": peak, "recall": recall}))


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
    ap.add_argument("--jobs", type=int, default=None,
                    help="pipeline worker processes (default: what `redactor redact` picks)")
    ap.add_argument("--child", choices=["naive", "pipeline"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    paths = images_of(args.splits, args.limit)
    if args.jobs is None:
        from redactor.cli import _default_jobs

        args.jobs = _default_jobs()
    if args.child:
        child(args.child, paths, args.jobs)
        return
    runs = {}
    for mode in ("naive", "pipeline"):
        cmd = [sys.executable, __file__, "--limit", str(args.limit), "--jobs", str(args.jobs),
               "--child", mode, *args.splits]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs[mode] = json.loads(out.strip().splitlines()[-1])
    naive, pipe = runs["naive"], runs["pipeline"]
    print(f"{len(paths)} images ({', '.join(args.splits)}, {args.limit} per split)\n")
    print(f"| | naive | pipeline (--jobs {pipe['jobs']}) |\n|---|---|---|")
    print(f"| images/s | {naive['images'] / naive['seconds']:.3f} | {pipe['images'] / pipe['seconds']:.3f} |")
    print(f"| ratio pipeline/naive | | {naive['seconds'] / pipe['seconds']:.2f}x |")
    print(f"| model load s | {naive['load']:.2f} | {pipe['load']:.2f} |")
    print(f"| peak RSS GB per process | {naive['peak_gb']:.2f} | {pipe['peak_gb']:.2f} |")
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
