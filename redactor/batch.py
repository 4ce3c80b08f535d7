"""Files in, files out: redact folders into a mirrored output folder, resumably, in parallel.

Order of writes per image: the redacted image (atomic), then its report (atomic). The report
is the completion marker: a re-run skips an image whose report says "redacted", whose recorded
input sha256 equals the input's current content, whose policy fingerprint is unchanged, and
whose output file exists. Anything else is redone, so a batch killed at any moment resumes.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from . import io, report
from .errors import AnalysisError, OutputError, RedactorError, RedactorWarning
from .models import sha256_of
from .pipeline import Failure, Redactor
from .policy import Policy

REPORT_SUFFIX = ".json"


@dataclass(frozen=True)
class Job:
    """One input file and where its output and report go."""

    src: Path
    out: Path  # output image path (suffix may change with the format, see io.OUTPUT_SUFFIX)
    report: Path


@dataclass(frozen=True)
class Outcome:
    job: Job
    status: str  # "redacted", "dry-run", "skipped", "failed"
    message: str = ""
    findings: int = 0

T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    policy: Policy
    dry_run: bool = False
    force: bool = False  # redo images even when their report says they are done
    clear_text: bool = False  # put hidden text in clear in reports
    verify: bool = False  # re-detect on the written output; remove it if anything protected remains
    max_pixels: int = 120_000_000
    threads: int = 0  # ONNX Runtime threads per process; 0 = the cores shared among the workers
    ocr: str = "rapidocr"  # text engine, a key of detect.TEXT_ENGINES


def plan(inputs: list[Path], outdir: Path) -> list[Job]:
    """Map input files and folders (recursive) to jobs under ``outdir``, mirroring names.

    Refuses (OutputError) to write into an input folder or onto an input file. Symlinked
    folders are not followed (no loops); symlinked files are read as regular files.
    """
    out_root = outdir.resolve()
    jobs: list[Job] = []
    for item in inputs:
        if not item.exists():
            raise OutputError(f"{item}: no such file or folder; check the path")
        if item.is_dir():
            root = item.resolve()
            if out_root == root or root in out_root.parents:
                raise OutputError(
                    f"{outdir}: the output folder is inside the input folder {item}; choose an output "
                    "folder outside it (outputs must never mix with or overwrite inputs)"
                )
            for dirpath, dirnames, filenames in os.walk(item, followlinks=False):
                dirnames.sort()
                for fn in sorted(filenames):
                    p = Path(dirpath) / fn
                    if p.suffix.lower() in io.INPUT_SUFFIXES:
                        jobs.append(_job(p, p.relative_to(item), outdir))
        else:
            if item.resolve().parent == out_root:
                raise OutputError(f"{item}: the input lies in the output folder {outdir}; choose another output folder")
            jobs.append(_job(item, Path(item.name), outdir))
    seen: dict[Path, Path] = {}
    unique = []
    for j in jobs:
        if j.out in seen:
            if seen[j.out].resolve() == j.src.resolve():
                continue  # the same file named twice (a folder and a file in it): redact it once
            raise OutputError(f"{j.src} and {seen[j.out]} would both be written to {j.out}; redact them separately")
        seen[j.out] = j.src
        unique.append(j)
    return unique


def _job(src: Path, rel: Path, outdir: Path) -> Job:
    out = outdir / rel
    return Job(src=src, out=out, report=out.with_name(out.name + REPORT_SUFFIX))


def is_done(job: Job, opts: Options) -> bool:
    """True when a previous run finished this image with the same input content and policy."""
    if opts.force or not job.report.is_file():
        return False
    try:
        prev = json.loads(job.report.read_text("utf-8"))
    except (OSError, ValueError):
        return False  # unreadable or half-written report: redo the image
    want = "dry-run" if opts.dry_run else "redacted"
    if prev.get("status") != want or prev.get("policy", {}).get("fingerprint") != opts.policy.fingerprint():
        return False
    if prev.get("ocr", {}).get("engine", "rapidocr") != opts.ocr:  # another engine reads other text
        return False
    if not opts.dry_run and not (prev.get("output") and Path(prev["output"]).is_file()):
        return False
    try:
        return prev.get("input", {}).get("sha256") == sha256_of(job.src)
    except OSError:
        return False


def run(jobs: list[Job], opts: Options, *, jobs_n: int = 1,
        on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Redact every job; ``on_outcome`` is called after each image (progress)."""
    outcomes: list[Outcome] = []
    todo = []
    _remove_stale_temp_files(jobs)
    for j in jobs:
        if is_done(j, opts):
            outcomes.append(Outcome(j, "skipped", "already done (same input content and policy)"))
            if on_outcome:
                on_outcome(outcomes[-1])
        else:
            todo.append(j)
    for outcome in _execute(todo, opts, jobs_n):
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def _remove_stale_temp_files(jobs: list[Job]) -> None:
    """A run killed mid-write leaves ``.NAME.RANDOM.tmp`` files (see io.write_atomic); the
    finished outputs are untouched by that, so the leftovers are only clutter: remove them."""
    for folder in {j.out.parent for j in jobs}:
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def split_work(items: list[T], jobs_n: int) -> tuple[list[list[T]], int, int]:
    """How ``jobs_n`` workers share ``items``: (chunks, worker processes, ONNX Runtime threads
    per process). One process (``jobs_n`` 1, or a single chunk) runs in the caller on every core.

    Chunks hold up to 4 images (recognition is batched per chunk), fewer when there are few
    images, so that every worker gets a share. N processes share the cores: face detection
    runs on one thread, so one process on two threads left a core idle for ≈40% of each wall,
    and two one-thread workers ran 1.35x faster (bench/README.md).
    """
    size = max(1, min(4, -(-len(items) // max(1, jobs_n))))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    cores = os.cpu_count() or 1
    if jobs_n <= 1 or len(chunks) <= 1:
        return chunks, 1, cores
    return chunks, min(jobs_n, len(chunks)), max(1, cores // jobs_n)


def _execute(todo: list[Job], opts: Options, jobs_n: int) -> Iterator[Outcome]:
    chunks, processes, threads = split_work(todo, jobs_n)
    opts = replace(opts, threads=opts.threads or threads)
    if processes == 1:
        worker = _Worker(opts)
        for chunk in chunks:
            yield from worker.process(chunk)
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # a fresh interpreter per worker: no forked ONNX Runtime threads
    with ctx.Pool(processes, initializer=_init_worker, initargs=(opts,)) as pool:
        for outcomes in pool.imap_unordered(_work, chunks):
            yield from outcomes


_WORKER: _Worker | None = None


def _init_worker(opts: Options) -> None:
    global _WORKER
    _WORKER = _Worker(opts)


def _work(chunk: list[Job]) -> list[Outcome]:
    assert _WORKER is not None, "worker not initialised"
    return list(_WORKER.process(chunk))


class _Worker:
    """One Redactor per process, built once (model load ≈1 s)."""

    def __init__(self, opts: Options) -> None:
        from .detect.text import TextOptions

        self.opts = opts
        with warnings.catch_warnings():  # the engine's limits go into every report (ocr.warnings)
            warnings.simplefilter("ignore", RedactorWarning)
            self.redactor = Redactor(opts.policy, text_options=TextOptions(threads=opts.threads),
                                     max_pixels=opts.max_pixels, ocr=opts.ocr)

    def process(self, chunk: list[Job]) -> Iterator[Outcome]:
        results = self.redactor.redact_many([j.src for j in chunk], names=[str(j.src) for j in chunk])
        for job, res in zip(chunk, results, strict=True):
            yield self._write(job, res)

    def _write(self, job: Job, res) -> Outcome:
        opts = self.opts
        if isinstance(res, Failure):
            return self._fail(job, res.error)
        try:
            out = None
            if not opts.dry_run:
                assert res.source is not None
                out = job.out.with_suffix(_suffix(job.out, res.source.format))
                data = io.encode(res.image, res.alpha, res.source)
                if opts.verify:
                    self._verify(data, job)
                io.write_atomic(out, data)
            rep = report.build(name=str(job.src), status="dry-run" if opts.dry_run else "redacted",
                               policy=opts.policy, result=res, output=str(out) if out else None,
                               clear_text=opts.clear_text, ocr=opts.ocr)
            io.write_atomic(job.report, report.dumps(rep))
        except (OSError, RedactorError) as e:
            return self._fail(job, e)
        return Outcome(job, "dry-run" if opts.dry_run else "redacted", findings=len(res.findings))

    def _verify(self, data: bytes, job: Job) -> None:
        """Run detection again on the encoded output, as a reader of the published file would."""
        again = self.redactor.redact(data, name=str(job.src))
        if again.findings:
            left = ", ".join(sorted({f.category for f in again.findings}))
            raise AnalysisError(f"{job.src}: verification found protected content still visible in the "
                                f"output ({left}); the output was not written. Check the policy's padding")

    def _fail(self, job: Job, error: BaseException) -> Outcome:
        message = str(error) if str(job.src) in str(error) else f"{job.src}: {error}"
        # A stale output from an earlier run must not sit beside a report saying "failed".
        for stale in {job.out, _previous_output(job)}:
            if stale is not None:
                stale.unlink(missing_ok=True)
        rep = report.build(name=str(job.src), status="failed", policy=self.opts.policy, error=message,
                           ocr=self.opts.ocr)
        try:
            io.write_atomic(job.report, report.dumps(rep))
        except OSError as e:
            message += f" (and its report could not be written: {e})"
        return Outcome(job, "failed", message)


def _previous_output(job: Job) -> Path | None:
    try:
        prev = json.loads(job.report.read_text("utf-8")).get("output")
    except (OSError, ValueError):
        return None
    return Path(prev) if prev and Path(prev).parent == job.out.parent else None


def _suffix(out: Path, fmt: str) -> str:
    """Keep the input's suffix when it already names the output format (.jpeg stays .jpeg)."""
    wanted = io.OUTPUT_SUFFIX[fmt]
    same = {".jpg": {".jpg", ".jpeg"}, ".tif": {".tif", ".tiff"}, ".heic": {".heic", ".heif"}}
    return out.suffix if out.suffix.lower() in same.get(wanted, {wanted}) else wanted


def summary(outcomes: list[Outcome], seconds: float) -> str:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("redacted", "dry-run", "skipped", "failed")}
    done = counts["redacted"] + counts["dry-run"]
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    rate = f", {done / seconds:.2f} images/s" if done and seconds > 0 else ""
    return f"{', '.join(parts) or 'no images'} in {seconds:.1f} s{rate}"

