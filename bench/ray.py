"""The Ray backend against the local one, on the same images: throughput, start-up, memory.

    .venv/bin/python bench/ray.py [--limit N] [--repeats R] [CORPUS_SPLIT ...]

Modes: `local` (what `redactor redact --jobs 2` runs: two spawned worker processes), `ray-1`
and `ray-2` (`--backend ray --jobs 1|2`: a local Ray cluster started for the run, with one or
two actors). Each run is its own process, so start-up and memory are its own; modes are
interleaved over the repeats (the machine is shared and drifts) and the table gives medians.

Per run:
- images/s once started: images after the first chunk came back, over the time from then to
  the last image. Outcomes come back a chunk at a time on both backends, so this is the same
  window for both, excluding start-up (pool spawn or cluster start, model loads, first chunk).
- start-up s: wall time minus what the images would take at that rate: the cost of starting
  (for Ray: the cluster, its workers, the actors' model loads) and of the ramp-up.
- ray.init s: the cluster start alone (part of start-up).
- worker peak GB: the largest peak RSS (VmHWM) of a worker process (local) or an actor (Ray),
  sampled every 0.25 s from /proc; Ray's own processes (raylet, GCS, agents) are summed apart.
- CPU s per image: user+system CPU of the workers or actors, and apart the CPU of everything
  else the run started (Ray's processes; the pool's resource tracker) and of the driver. On a
  shared machine wall-clock rates swing with the neighbours' load; CPU seconds barely do, so
  they say whether Ray costs more work per image. Counted once started (from the first image
  back to the last, as the rate) and over the whole run. "2 idle cores" is the rate the CPU
  seconds once started allow when the run has both cores to itself: 2 / (all CPU s per image),
  or for one actor 1 / (its CPU s per image).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# This file is named ray.py: drop its folder from the import path, or `import ray` finds it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
MODES = ("local", "ray-1", "ray-2")
TICKS = os.sysconf("SC_CLK_TCK")


def images_of(splits: list[str], limit: int) -> list[Path]:
    from redactor.evaluate import find_images

    return [p for split in splits for p in find_images(CORPUS / split)[:limit]]


class MemorySampler(threading.Thread):
    """Peak RSS of every descendant process, by pid, with what it was (its command line)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak: dict[int, float] = {}
        self.rss: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self.names: dict[int, set[str]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            for pid in _descendants():
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    status = Path(f"/proc/{pid}/status").read_text()
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if "VmHWM:" not in status:
                    continue
                self.peak[pid] = int(status.split("VmHWM:")[1].split()[0]) / 1e6
                self.rss[pid] = int(status.split("VmRSS:")[1].split()[0]) / 1e6
                self.cpu[pid] = (int(stat[11]) + int(stat[12])) / TICKS  # utime + stime
                self.names.setdefault(pid, set()).add(cmd[:80])

    def is_worker(self, pid: int) -> bool:
        """A process that redacted: a spawned pool worker or a Ray Data map actor."""
        return any("spawn_main" in n or "MapWorker" in n for n in self.names[pid])

    def workers(self) -> list[float]:
        return [self.peak[p] for p in self.names if self.is_worker(p)]

    def cpu_seconds(self) -> tuple[float, float]:
        """(CPU s of the workers, CPU s of every other process the run started), last samples."""
        work = sum(self.cpu[p] for p in self.cpu if self.is_worker(p))
        return work, sum(self.cpu.values()) - work

    def ray_system(self) -> float:
        """RSS of Ray's own processes (raylet, GCS, agents), at the last sample."""
        return sum(self.rss[p] for p, names in self.names.items()
                   if not any("spawn_main" in n or "MapWorker" in n or n.startswith("ray::") for n in names))


def _own_cpu() -> float:
    me = os.times()
    return me.user + me.system


def _descendants() -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [os.getpid()]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def child(mode: str, paths: list[Path]) -> None:
    """One run in this process; prints one JSON line."""
    from redactor import Policy, batch

    sampler = MemorySampler()
    sampler.start()
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for p in paths:  # plan() mirrors one folder; symlinks keep the inputs where they are
            (src / p.name).symlink_to(p)
        jobs = batch.plan([src], Path(tmp) / "out")
        opts = batch.Options(policy=Policy.default(), force=True)
        t0 = time.perf_counter()
        init = 0.0
        execute = None
        if mode.startswith("ray"):
            from redactor import ray_backend

            ray_backend._connect(None)  # started here to time it; the executor reuses it
            init = time.perf_counter() - t0
            execute = ray_backend.executor(actors=int(mode.split("-")[1]))
        started: list[tuple[float, float, float]] = []  # CPU s (workers, others, driver) at the first image back

        def on_outcome(_: batch.Outcome) -> None:
            times.append(time.perf_counter())
            if len(times) == 1:
                started.append((*sampler.cpu_seconds(), _own_cpu()))

        outcomes = batch.run(jobs, opts, jobs_n=2, execute=execute, on_outcome=on_outcome)
        wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    if mode.startswith("ray"):
        import ray

        ray.shutdown()
    work_cpu, other_cpu = sampler.cpu_seconds()
    driver_cpu = _own_cpu()
    n = len(paths)
    first = times[0]
    n_first = sum(t - first < 0.05 for t in times)  # the first chunk(s), back together
    k = max(1, n - n_first)
    steady = [(a - b) / k for a, b in zip((work_cpu, other_cpu, driver_cpu), started[0], strict=True)]
    if n_first == n:  # everything came back at once (a single chunk): no "once started" to speak of
        steady = [work_cpu / n, other_cpu / n, driver_cpu / n]
    idle_rate = 1 / steady[0] if mode == "ray-1" else 2 / sum(steady)
    rate = (len(times) - n_first) / (times[-1] - first) if n_first < len(times) else len(times) / wall
    print(json.dumps({
        "mode": mode, "images": len(paths), "failed": sum(o.status == "failed" for o in outcomes),
        "wall": wall, "rate": rate, "startup": wall - len(paths) / rate, "init": init,
        "first_outcome": first - t0, "worker_peak_gb": max(sampler.workers(), default=0.0),
        "workers": len(sampler.workers()), "ray_system_gb": sampler.ray_system() if mode != "local" else 0.0,
        "worker_cpu": steady[0], "other_cpu": steady[1], "driver_cpu": steady[2],
        "all_cpu_run": (work_cpu + other_cpu + driver_cpu) / n,
        "idle_rate": idle_rate, "load": os.getloadavg()[0],
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("splits", nargs="*", default=["synthetic", "real"])
    ap.add_argument("--limit", type=int, default=12, help="images per split (default 12)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    paths = images_of(args.splits, args.limit)
    if args.child:
        child(args.child, paths)
        return
    runs: dict[str, list[dict]] = {m: [] for m in args.modes.split(",")}
    for _ in range(args.repeats):
        for mode in runs:
            cmd = [sys.executable, __file__, "--limit", str(args.limit), "--child", mode, *args.splits]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs[mode].append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(runs[mode][-1]), file=sys.stderr)
    med = {m: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "mode"} for m, rs in runs.items()}
    print(f"{len(paths)} images ({', '.join(args.splits)}, {args.limit} per split), median of {args.repeats} runs\n")
    print("| | " + " | ".join(runs) + " |\n|---|" + "---|" * len(runs))
    rows = [("images/s once started", "rate", "{:.3f}"), ("wall s (all images, start-up included)", "wall", "{:.1f}"),
            ("start-up s", "startup", "{:.1f}"), ("of which ray.init s", "init", "{:.1f}"),
            ("first image back s", "first_outcome", "{:.1f}"), ("worker/actor peak GB", "worker_peak_gb", "{:.2f}"),
            ("Ray system processes GB", "ray_system_gb", "{:.2f}"),
            ("once started: worker/actor CPU s per image", "worker_cpu", "{:.2f}"),
            ("once started: other processes CPU s per image", "other_cpu", "{:.3f}"),
            ("once started: driver CPU s per image", "driver_cpu", "{:.3f}"),
            ("whole run: all CPU s per image", "all_cpu_run", "{:.2f}"),
            ("images/s on 2 idle cores (from CPU s)", "idle_rate", "{:.3f}"),
            ("load average at the end (2 cores)", "load", "{:.1f}")]
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(med[m][key]) for m in runs) + " |")
    if "local" in med:
        for label, key in (("throughput / local", "rate"), ("2-idle-core rate / local", "idle_rate")):
            ratios = (f"{med[m][key] / med['local'][key]:.2f}" for m in runs)
            print(f"| {label} | " + " | ".join(ratios) + " |")
    print("\nper run (images/s once started): " + "; ".join(
        f"{m} " + ", ".join(f"{r['rate']:.3f}" for r in rs) for m, rs in runs.items()))


if __name__ == "__main__":
    main()
