"""Throughput against a reference release, side by side on the same images.

    .venv/bin/python bench/throughput.py [--reference REV_OR_DIR] [--rounds N] [--limit N]
                                         [--jobs N] [CORPUS_SPLIT ...]

The yardstick is our own release 0.1.0, commit ``e1d7346`` (issue 16). Its source is taken from
this repository with ``git archive e1d7346`` into ``bench/.reference-e1d7346/`` (ignored; built
once, reused), or from ``--reference DIR``, a checkout made any other way. Both run on this
checkout's ``.venv``: the reference's pinned packages are a subset of today's
``requirements.lock``, at the same versions, so only redactor's own code differs.

Each run is a fresh process tree (model load and peak RSS are its own) doing what
``redactor redact --jobs N`` does: images split by ``redactor.batch.split_work`` among N worker
processes started the version's own way (``redactor.batch.worker_context`` where it has one),
each with one ``Redactor`` taking chunks through ``redact_many`` and encoding the output.
Reference and current alternate, ``--rounds`` times each (the machine drifts over minutes;
alternating shares the drift). Reported per version: images/s (wall time from the first chunk
sent to the last returned, once every worker has loaded), per-stage CPU-side seconds (summed
over workers), model load (a worker's ``Redactor()`` and, where the version has them, its name
models), start-up (the pool created to every worker loaded: a fork server's imports count
here), peak RSS per worker process, and recall through ``redactor.evaluate`` of today's
checkout on both versions' masks, so speed is never bought with misses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
RELEASE = "e1d7346"


def reference_checkout(rev_or_dir: str) -> Path:
    """The reference's source tree: a directory as given, or ``git archive REV`` extracted into
    ``bench/.reference-REV`` (once)."""
    if Path(rev_or_dir).is_dir():
        return Path(rev_or_dir).resolve()
    out = ROOT / "bench" / f".reference-{rev_or_dir}"
    if not (out / "redactor").is_dir():
        out.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev_or_dir], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


_WORKER = None


def _init_worker(threads: int) -> None:
    global _WORKER
    from redactor import Redactor
    from redactor.detect.text import TextOptions

    t = time.perf_counter()
    _WORKER = Redactor(text_options=TextOptions(threads=threads))
    try:  # name models (issue 13 onwards) load at their first line; count them as load
        from redactor.classify import ner
    except ImportError:
        pass
    else:
        ner.load_spacy(), ner.load_jieba()
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
        masks.append((str(p), res.mask.shape, np.packbits(res.mask).tobytes()))
    return masks, stages, _WORKER.load_seconds, _peak_gb()


def _ping(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()


def _peak_gb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux keeps it across exec, so a child of a
    large process reports the parent's size."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1e6


def child(paths: list[Path], jobs: int, masks_out: Path) -> None:
    """One timed run from this process (whichever redactor is importable): a JSON line of
    measurements on stdout, the masks to ``masks_out`` (npz, keyed by path)."""
    import multiprocessing as mp

    import numpy as np

    from redactor.batch import split_work

    chunks, processes, threads = split_work(paths, jobs)  # as `redactor redact --jobs N` splits them
    stages: dict[str, float] = defaultdict(float)
    masks, load, peak = {}, 0.0, 0.0
    import redactor.batch

    # the version's own start method: a fork server from issue 16 on, fresh interpreters before
    context = getattr(redactor.batch, "worker_context", lambda: mp.get_context("spawn"))()
    t = time.perf_counter()
    with context.Pool(processes, initializer=_init_worker, initargs=(threads,)) as pool:
        while len(set(pool.map(_ping, range(processes), chunksize=1))) < processes:
            pass  # the clock starts once every worker has loaded its models (each has answered)
        startup = time.perf_counter() - t
        t = time.perf_counter()
        for chunk_masks, chunk_stages, chunk_load, chunk_peak in pool.imap_unordered(_work, chunks):
            for p, shape, packed in chunk_masks:
                masks[p] = np.unpackbits(np.frombuffer(packed, np.uint8), count=shape[0] * shape[1]).reshape(shape)
            for k, v in chunk_stages.items():
                stages[k] += v
            load, peak = max(load, chunk_load), max(peak, chunk_peak)
        seconds = time.perf_counter() - t
    np.savez_compressed(masks_out, **{str(i): masks[str(p)] for i, p in enumerate(paths)})
    print(json.dumps({"images": len(paths), "jobs": jobs, "seconds": seconds, "load": load, "startup": startup,
                      "stages": stages, "peak_gb": peak}))


def recall_of(paths: list[Path], masks_file: Path) -> dict[str, dict[str, float]]:
    """Today's ``evaluate`` on a run's masks, per split."""
    import tempfile

    import numpy as np

    from redactor.evaluate import evaluate

    saved = np.load(masks_file)
    masks = {p: saved[str(i)].astype(bool) for i, p in enumerate(paths)}
    out = {}
    for split in sorted({p.parent for p in paths}):
        with tempfile.TemporaryDirectory() as tmp:
            for p in paths:
                if p.parent == split:
                    (Path(tmp) / p.name).symlink_to(p)
                    (Path(tmp) / (p.name + ".json")).symlink_to(p.with_name(p.name + ".json"))
            ev = evaluate(Path(tmp), lambda q, split=split: masks[split / q.name])
        out[split.name] = {"pii_text": ev.pii_text_recall, "spared": ev.spared, **ev.recall}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("splits", nargs="*", default=["synthetic", "real"])
    ap.add_argument("--limit", type=int, default=100, help="images per split (default 100: all)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="worker processes (default: what `redactor redact` picks on this machine)")
    ap.add_argument("--reference", default=RELEASE, help=f"commit or source directory (default {RELEASE})")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each version, alternating (default 2)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    from redactor.evaluate import find_images

    paths = [p for split in args.splits for p in find_images(CORPUS / split)[:args.limit]]
    if args.child:
        child(paths, args.jobs, args.child)
        return
    if args.jobs is None:
        from redactor.cli import _default_jobs

        args.jobs = _default_jobs()
    versions = {"reference": reference_checkout(args.reference), "current": ROOT}
    runs: dict[str, list[dict]] = {v: [] for v in versions}
    for r in range(args.rounds):
        for name, src in versions.items():
            masks = ROOT / "bench" / f".masks-{name}.npz"
            cmd = [sys.executable, __file__, "--limit", str(args.limit), "--jobs", str(args.jobs),
                   "--child", str(masks), *args.splits]
            env = {**os.environ, "PYTHONPATH": str(src)}
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=src).stdout
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {r + 1} {name}: {len(paths) / runs[name][-1]['seconds']:.3f} img/s", file=sys.stderr)
            if r == 0:
                runs[name][-1]["recall"] = recall_of(paths, masks)
            masks.unlink()
    report(runs, paths, args)


def report(runs: dict[str, list[dict]], paths: list[Path], args: argparse.Namespace) -> None:
    ref, cur = runs["reference"], runs["current"]
    n = len(paths)
    rate = {k: [n / r["seconds"] for r in v] for k, v in runs.items()}
    mean = {k: sum(v) / len(v) for k, v in rate.items()}
    print(f"{n} images ({', '.join(args.splits)}, up to {args.limit} per split), --jobs {args.jobs}, "
          f"{args.rounds} alternating rounds; reference {args.reference}\n")
    print("| | reference | current |\n|---|---|---|")
    print(f"| images/s, each round | {' / '.join(f'{x:.3f}' for x in rate['reference'])} "
          f"| {' / '.join(f'{x:.3f}' for x in rate['current'])} |")
    print(f"| **ratio current/reference** (mean images/s) | | **{mean['current'] / mean['reference']:.2f}x** |")
    print(f"| model load s per worker | {max(r['load'] for r in ref):.2f} | {max(r['load'] for r in cur):.2f} |")
    print(f"| start-up s (pool started to every worker loaded) | {max(r['startup'] for r in ref):.2f} "
          f"| {max(r['startup'] for r in cur):.2f} |")
    print(f"| peak RSS GB per worker | {max(r['peak_gb'] for r in ref):.2f} | {max(r['peak_gb'] for r in cur):.2f} |")
    stage_names = sorted({k for r in ref + cur for k in r["stages"]})
    for k in stage_names:
        a, b = (sum(r["stages"].get(k, 0) for r in rs) / len(rs) / n for rs in (ref, cur))
        print(f"| {k} CPU-s/img | {a:.3f} | {b:.3f} |")
    for split in ref[0]["recall"]:
        for key in sorted(ref[0]["recall"][split]):
            a, b = ref[0]["recall"][split][key], cur[0]["recall"][split].get(key)
            print(f"| {split} {key} | {a if a is None else round(a, 3)} | {b if b is None else round(b, 3)} |")


if __name__ == "__main__":
    main()
