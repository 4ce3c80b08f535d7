"""Latency of the whole command against a reference release: one image, and a small folder.

    .venv/bin/python bench/latency.py [--reference REV_OR_DIR] [--rounds N] [--no-folder]
                                      [--image PATH ...]

What an editor waits for: ``redactor redact INPUT... -o OUT`` as a fresh process (cold
process, warm disk cache: one untimed run of each version first), on

- one image each: a 1600x1200 wall (``synthetic/wall_dev_s1_0000.jpg``) and ``samples/name_card.png``;
- 16 images: 8 walls of the synthetic split and 8 real photos spread over the real split.

The reference is our release 0.1.0, commit ``e1d7346`` (issue 27), from ``git archive`` into
``bench/.reference-REV/`` as bench/throughput.py does, or ``--reference DIR``; any commit works
(``--reference ff04190`` for the code before issue 27). Both run on this checkout's ``.venv``
with the default ``--jobs``. Reference and current alternate within each round.

Per run: wall seconds (spawn to exit), CPU seconds of the whole process tree (user + sys of the
command, its fork server and workers: this process is their subreaper, so every descendant's
time comes back to it), the largest peak RSS of any process in the tree, and the machine's load
average before the run (the 2-core machine is shared: CPU-s are the steadier evidence). For one
image, the phases of the command's own process: interpreter start (spawn to the first line),
imports (``import redactor.cli``), each model's load (with its thread: the name models load
in the background from issue 27 on), and each stage as the report's timings give it.
Whether both versions wrote the same bytes for each image is reported too: a speed change that
keeps them keeps recall.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import RELEASE, ROOT, reference_checkout  # noqa: E402

# the shared corpus beside the checkout, or beside the folder of worktrees holding it
CORPUS = next((p / "shared" / "corpus" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()),
              ROOT.parent / "shared" / "corpus")
WALL = CORPUS / "synthetic" / "wall_dev_s1_0000.jpg"
CARD = ROOT / "samples" / "name_card.png"

# Run in the command's own process, before its first import: times the phases, then runs the CLI.
BOOTSTRAP = r"""
import json, os, sys, threading, time
first = time.time()
events = []
def timed(name, fn):
    def wrapper(*a, **kw):
        t = time.time()
        try:
            return fn(*a, **kw)
        finally:
            events.append((name, t, time.time(), threading.current_thread().name))
    return wrapper
t = time.time()
import redactor.cli
events.append(("imports (redactor.cli)", t, time.time(), "MainThread"))
import redactor.detect as d
for reg, kind in ((d.FACE_DETECTORS, "faces"), (d.TEXT_ENGINES, "text")):
    for k in list(reg):
        reg[k] = timed(f"load {kind} detector ({k})", reg[k])
try:
    from redactor.classify import ner
except ImportError:
    ner = None
for fn in ("load_spacy", "load_jieba"):
    if ner is not None and hasattr(ner, fn):
        setattr(ner, fn, timed(f"load {fn[5:]}", getattr(ner, fn)))
from redactor import pipeline
pipeline.Redactor.__init__ = timed("Redactor() (all detectors)", pipeline.Redactor.__init__)
code = 1
try:
    if hasattr(redactor.cli, "run"):  # the command's own entry point (it exits), from issue 27 on
        redactor.cli.run()
    code = redactor.cli.main(sys.argv[1:])
finally:
    end = time.time()
    with open(os.environ["LATENCY_PHASES"], "w") as f:
        json.dump({"first": first, "end": end, "events": events}, f)
sys.exit(code)
"""


def _become_subreaper() -> None:
    """Orphans of the command (multiprocessing's fork server and resource tracker outlive it)
    are re-parented to this process, which reaps them: their CPU time, and that of the workers
    they reaped, then counts in this process's RUSAGE_CHILDREN."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_all(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)
    raise RuntimeError("descendants of the command still running after 30 s")


def run_once(src: Path, inputs: list[Path], out: Path, extra: tuple[str, ...] = ()) -> dict:
    """One cold run of ``redactor redact INPUTS -o OUT`` from source tree ``src``, measured by a
    fresh runner process (so that the tree's CPU time and peak RSS are this run's alone)."""
    shutil.rmtree(out, ignore_errors=True)
    phases = out.with_suffix(".phases.json")
    env = {**os.environ, "PYTHONPATH": str(src), "LATENCY_PHASES": str(phases)}
    load = os.getloadavg()[0]
    cmd = [sys.executable, "-c", BOOTSTRAP, "redact", *map(str, inputs), "-o", str(out), *extra]
    runner = subprocess.run([sys.executable, __file__, "--measure", json.dumps(cmd)], env=env, cwd=src,
                            capture_output=True, text=True, check=True)
    m = json.loads(runner.stdout.strip().splitlines()[-1])
    if m["returncode"] != 0:
        raise RuntimeError(f"{src}: redact failed ({m['returncode']}):\n{m['stderr'][-3000:]}")
    p = json.loads(phases.read_text())
    phases.unlink()
    stages: dict[str, float] = {}
    outputs = {}
    for report in sorted(out.glob("*.json")):
        rep = json.loads(report.read_text())
        for k, v in (rep.get("timings") or {}).items():
            stages[k] = stages.get(k, 0.0) + v
        if rep.get("output"):
            outputs[Path(rep["output"]).name] = hashlib.sha256(Path(rep["output"]).read_bytes()).hexdigest()
    t = m["spawned"]
    return {
        "wall": m["wall"], "cpu": m["cpu"], "peak_gb": m["peak_gb"], "load": load,
        "start": p["first"] - t, "command": p["end"] - p["first"],
        "events": [(name, s - t, e - t, thread) for name, s, e, thread in p["events"]],
        "stages": stages, "outputs": outputs,
    }


def measure(cmd: list[str]) -> None:
    """The runner: run ``cmd``, reap every descendant, print wall, CPU-s and peak RSS as JSON."""
    _become_subreaper()
    t = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t
    _reap_all()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"returncode": proc.returncode, "stderr": proc.stderr, "spawned": t, "wall": wall,
                      "cpu": usage.ru_utime + usage.ru_stime,
                      "peak_gb": usage.ru_maxrss / 1e6}))  # KB: the largest process of the tree


def review_once(src: Path, tmp: Path) -> dict:
    """``redactor review samples/ -o OUT`` from source tree ``src``: seconds from spawn to the URL
    printed, to the first image analysed (what the page shows first, outlined) and to every image
    analysed, polled through the page's own API with the printed token."""
    import httpx

    shutil.rmtree(tmp, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    t = time.time()
    cmd = [sys.executable, "-m", "redactor.cli", "review", str(ROOT / "samples"), "-o", str(tmp / "out"),
           "--port", "0", "--state-dir", str(tmp / "state")]
    proc = subprocess.Popen(cmd, cwd=src, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        if not url.startswith("http"):
            raise RuntimeError(f"{src}: review printed no URL")
        printed = time.time() - t
        client = httpx.Client(base_url=url.split("/?")[0])
        client.get(url, follow_redirects=True)  # the token for the session cookie
        first = None
        while True:
            states = [i["status"] for i in client.get("/api/queue").json()["items"]]
            done = [s in ("ready", "failed") for s in states]
            if first is None and any(done):
                first = time.time() - t
            if all(done):
                return {"url": printed, "first": first, "all": time.time() - t, "images": len(states)}
            if time.time() - t > 300:
                raise RuntimeError(f"{src}: review analysed {sum(done)} of {len(states)} images in 300 s")
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(30)


def folder_images() -> list[Path]:
    from redactor.evaluate import find_images

    walls = find_images(CORPUS / "synthetic")[:8]
    real = find_images(CORPUS / "real")
    step = max(1, len(real) // 8)
    return walls + real[::step][:8]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", default=RELEASE, help=f"commit or source directory (default {RELEASE})")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each version per case, alternating (default 3)")
    ap.add_argument("--image", type=Path, action="append", help="one-image cases (default: a wall and the card)")
    ap.add_argument("--no-folder", action="store_true", help="skip the 16-image case")
    ap.add_argument("--folder-only", action="store_true", help="only the 16-image case")
    ap.add_argument("--no-warm", action="store_true", help="no untimed first run of each (caches warm)")
    ap.add_argument("--review", action="store_true",
                    help="only the review page on samples/: spawn to the first image analysed (this checkout, "
                         "and the reference where it has `redactor review`)")
    ap.add_argument("--save", type=Path, help="also write every run's measurements to this JSON file")
    ap.add_argument("--from", dest="saved", type=Path, help="print the tables of a --save file; run nothing")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(json.loads(args.measure))
        return
    if args.saved:
        saved = json.loads(args.saved.read_text())
        args.rounds, args.reference = saved["rounds"], saved["reference"]
        report(saved["runs"], args)
        return

    versions = {"reference": reference_checkout(args.reference), "current": ROOT}
    if args.review:
        review(versions, args.rounds)
        return
    cases = {p.name: [p] for p in (args.image or [WALL, CARD])} if not args.folder_only else {}
    if not args.no_folder:
        cases["16 images"] = folder_images()
    runs: dict[str, dict[str, list[dict]]] = {c: {v: [] for v in versions} for c in cases}
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        for inputs in cases.values() if not args.no_warm else ():  # warm the disk cache and user cache folder
            for src in versions.values():
                run_once(src, inputs, Path(tmp) / "warm")
        for r in range(args.rounds):
            for case, inputs in cases.items():
                for name, src in versions.items():
                    res = run_once(src, inputs, Path(tmp) / f"{name}-{r}")
                    runs[case][name].append(res)
                    print(f"round {r + 1} {case} {name}: wall {res['wall']:.2f} s, CPU {res['cpu']:.2f} s, "
                          f"load {res['load']:.2f}", file=sys.stderr)
                    if args.save:
                        args.save.write_text(json.dumps({"rounds": r + 1, "reference": args.reference,
                                                         "runs": runs}))
    report(runs, args)


def review(versions: dict[str, Path], rounds: int) -> None:
    have = {n: src for n, src in versions.items() if (src / "redactor" / "web").is_dir()}
    runs: dict[str, list[dict]] = {n: [] for n in have}
    with tempfile.TemporaryDirectory(prefix="latency-review-") as tmp:
        for r in range(rounds):
            for name, src in have.items():
                res = review_once(src, Path(tmp) / name)
                runs[name].append(res)
                print(f"round {r + 1} review {name}: URL {res['url']:.2f} s, first image {res['first']:.2f} s, "
                      f"all {res['images']} {res['all']:.2f} s, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"`bench/latency.py --review`, {rounds} alternating rounds, {os.cpu_count()} CPUs, samples/ "
          f"({runs[next(iter(runs))][0]['images']} images)\n")
    print("| version | URL printed, s | first image analysed, s | all analysed, s |\n|---|---|---|---|")
    for name, rs in runs.items():
        cells = (" / ".join(f"{r[k]:.2f}" for r in rs) for k in ("url", "first", "all"))
        print(f"| {name} | " + " | ".join(cells) + " |")


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def report(runs: dict[str, dict[str, list[dict]]], args: argparse.Namespace) -> None:
    print(f"`bench/latency.py`, {args.rounds} alternating rounds, reference {args.reference}, "
          f"{os.cpu_count()} CPUs; load average (1 min) before the runs: "
          f"{min(r['load'] for c in runs.values() for v in c.values() for r in v):.2f}-"
          f"{max(r['load'] for c in runs.values() for v in c.values() for r in v):.2f}\n")
    print("| case | | reference | current | ratio |\n|---|---|---|---|---|")
    runs = {case: by for case, by in runs.items() if by["reference"] and by["current"]}  # a partial --save
    for case, by in runs.items():
        ref, cur = by["reference"], by["current"]
        for key, label in (("wall", "wall s"), ("cpu", "CPU-s (tree)")):
            a, b = _mean([r[key] for r in ref]), _mean([r[key] for r in cur])
            each = " / ".join(f"{r[key]:.2f}" for r in cur)
            print(f"| {case} | {label}, mean (current each: {each}) | {a:.2f} | {b:.2f} | **{a / b:.2f}x** |")
        print(f"| {case} | peak RSS GB, largest process | {max(r['peak_gb'] for r in ref):.2f} "
              f"| {max(r['peak_gb'] for r in cur):.2f} | |")
        same = sum(ref[0]["outputs"].get(k) == v for k, v in cur[0]["outputs"].items())
        print(f"| {case} | outputs byte-identical to the reference | | {same} of {len(cur[0]['outputs'])} | |")
    for case, by in runs.items():
        if case == "16 images":
            continue
        for name, rs in by.items():
            best = min(rs, key=lambda r: r["wall"])
            print(f"\nPhases, {case}, {name} (the fastest round, wall {best['wall']:.2f} s; s from spawn):\n")
            print("| phase | thread | start | end | s |\n|---|---|---|---|---|")
            print(f"| interpreter start | MainThread | 0.00 | {best['start']:.2f} | {best['start']:.2f} |")
            for ev, s, e, thread in sorted(best["events"], key=lambda x: x[1]):
                print(f"| {ev} | {thread} | {s:.2f} | {e:.2f} | {e - s:.2f} |")
            for k, v in best["stages"].items():
                print(f"| stage {k} (report timings) | MainThread | | | {v:.2f} |")
            print(f"| whole command | | 0.00 | {best['wall']:.2f} | {best['wall']:.2f} |")


if __name__ == "__main__":
    main()
