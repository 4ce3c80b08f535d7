"""One image's job in a batch: where its output and report go (:func:`plan`), whether an
earlier run finished it (:func:`is_done`), and writing it (:class:`Worker`, :func:`record_failure`).

Order of writes per image: the redacted image (atomic), then its report (atomic). The report
is the completion marker: a re-run skips an image only when its report says it is done with
the same input content, policy, engine, version and models, and the output still has the
sha256 the report recorded (see :func:`is_done`). Anything else is redone, so a batch killed
at any moment resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, io, report
from .errors import AnalysisError, OutputError, RedactorError, RedactorWarning
from .metadata import Finisher
from .models import sha256_of, versions
from .pipeline import Failure, Redactor
from .policy import Policy
from .types import Result

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
    warnings: tuple[str, ...] = ()  # what the output lost against the input (report.input_warnings)



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

    Before any work, refuses (OutputError) every layout where an output could overwrite or land
    inside an input: OUTDIR inside an input folder or an input folder inside OUTDIR, and any
    input file (symlinks resolved) inside OUTDIR; an OUTDIR that is a file; and two inputs
    whose outputs would share one path. Symlinked folders are not followed (no loops);
    symlinked files are read as regular files.

    Output names: an output keeps its input's name when the format is kept; when the format
    changes (GIF, or a file whose name says another format than its content, is written as
    PNG), the new suffix is appended: ``b.gif`` -> ``b.gif.png``. So ``b.gif`` and ``b.png``
    in one folder get distinct outputs. The format is read from each file's header here.
    """
    out_root = _checked_outdir(outdir)
    jobs: list[Job] = []
    for item in inputs:
        if not item.exists():
            raise OutputError(f"{item}: no such file or folder; check the path")
        if item.is_dir():
            root = item.resolve()
            if out_root == root or root in out_root.parents or out_root in root.parents:
                where = "contains" if out_root in root.parents else "is inside"
                raise OutputError(
                    f"{outdir}: the output folder {where} the input folder {item}; choose an output folder "
                    "apart from it (outputs must never mix with or overwrite inputs)")
            for dirpath, dirnames, filenames in os.walk(item, followlinks=False):
                dirnames.sort()
                for fn in sorted(filenames):
                    p = Path(dirpath) / fn
                    if p.suffix.lower() in io.INPUT_SUFFIXES:
                        jobs.append(_job(p, p.relative_to(item), outdir, out_root))
        else:
            jobs.append(_job(item, Path(item.name), outdir, out_root))
    return _unique(jobs)


def check_writable(outdir: Path, jobs: Iterable[Job] = ()) -> None:
    """Refuse (OutputError) before any work when OUTDIR, or a folder in it that an output of
    ``jobs`` goes into, cannot be written: read-only file system, no permission, immutable.

    Each folder is tried by creating and removing a temporary file in it (the only test that
    sees every cause: ``os.access`` misses ACLs and network file systems, and root passes it on
    a read-only bind mount's folders' modes). OUTDIR is created when missing, as a write would."""
    folders = {outdir} | {p for j in jobs for p in (j.out.parent, j.report.parent) if p.is_dir()}
    for folder in sorted(folders):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".redactor-write-check.", suffix=".tmp", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise OutputError(
                f"{folder}: the output folder cannot be written ({e.strerror or e}); nothing was done. "
                "Give -o a folder you can write to, or make this one writable (remount it read-write, chmod u+w)"
            ) from e


def _checked_outdir(outdir: Path) -> Path:
    """OUTDIR resolved; an OUTDIR that is (or lies under) a file is refused before any work."""
    for p in (outdir, *outdir.parents):
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"{outdir}: {'is' if p == outdir else f'lies under {p}, which is'} a file, "
                                  "not a folder; give -o a folder (it is created if missing)")
            break
    return outdir.resolve()


def _job(src: Path, rel: Path, outdir: Path, out_root: Path) -> Job:
    real = src.resolve()
    if real == out_root or out_root in real.parents:
        raise OutputError(f"{src}: the input lies in the output folder {outdir}; an output could replace it. "
                          "Choose an output folder that holds no inputs")
    out = outdir / rel
    fmt = io.sniff_format(src)
    if fmt is not None:
        out = out.with_name(output_name(out.name, fmt))
    return Job(src=src, out=out, report=(outdir / rel).with_name(rel.name + REPORT_SUFFIX))


def encoded_output(job: Job, result: Result) -> bytes:
    """The output file's bytes, once the content's format is checked to still give the name
    planned for it (a file replaced by another format since the plan would collide)."""
    assert result.source is not None
    if job.out.name != output_name(job.src.name, result.source.format):
        raise OutputError(f"{job.src}: its format changed to {result.source.format} since the batch was planned; "
                          "run the command again")
    return io.encode(result.image, result.alpha, result.source)


def finished_output(job: Job, result: Result, finisher: Finisher | None) -> tuple[bytes, dict[str, Any] | None]:
    """The output's bytes with the policy's kept metadata and signature (redactor/metadata.py),
    and the report's ``metadata`` section; with no finisher (the default), metadata-free and None."""
    data = encoded_output(job, result)
    if finisher is None:
        return data, None
    assert result.source is not None
    return finisher.finish(data, io.output_format(result.source.format), job.src, result.findings,
                           sha256=result.source.sha256)


def output_name(name: str, fmt: str) -> str:
    """The output file's name for an input named ``name`` whose content is in format ``fmt``."""
    wanted = io.OUTPUT_SUFFIX[fmt]
    same = {".jpg": {".jpg", ".jpeg"}, ".tif": {".tif", ".tiff"}, ".heic": {".heic", ".heif"}}
    return name if Path(name).suffix.lower() in same.get(wanted, {wanted}) else name + wanted


def _unique(jobs: list[Job]) -> list[Job]:
    """Drop a file named twice (a folder and a file in it); refuse two inputs sharing an output."""
    taken: dict[Path, Job] = {}
    unique = []
    for j in jobs:
        for path in (j.out.resolve(), j.report.resolve()):
            other = taken.get(path)
            if other is None:
                continue
            if other.src.resolve() == j.src.resolve() and other.out == j.out:
                break  # the same file named twice: redact it once
            raise OutputError(f"{j.src} and {other.src} would both be written to {path}; rename one of them "
                              "or redact them into separate output folders")
        else:
            taken[j.out.resolve()] = taken[j.report.resolve()] = j
            unique.append(j)
    return unique


def is_done(job: Job, opts: Options) -> bool:
    """True when a previous run finished this image and its output is still what it wrote.

    The resume key: the input's content (sha256), the policy's fingerprint, the OCR engine,
    redactor's version and every model's package and sha256; and the output file's sha256 as
    the report recorded it. After an upgrade (which may find more) every image is redone; an
    output that is missing, truncated or edited since is redone too.
    """
    if opts.force or not job.report.is_file():
        return False
    try:
        prev = json.loads(job.report.read_text("utf-8"))
    except (OSError, ValueError):
        return False  # unreadable or half-written report: redo the image
    if not isinstance(prev, dict):
        return False
    key = {
        "status": "dry-run" if opts.dry_run else "redacted",
        "policy": opts.policy.fingerprint(),
        "ocr": opts.ocr,
        "version": __version__,
        "models": versions(),
    }
    if key != {
        "status": prev.get("status"),
        "policy": (prev.get("policy") or {}).get("fingerprint"),
        "ocr": (prev.get("ocr") or {}).get("engine"),
        "version": (prev.get("tool") or {}).get("version"),
        "models": prev.get("models"),
    }:
        return False
    try:
        if not opts.dry_run:
            recorded = prev.get("output_sha256")
            if (not prev.get("output") or Path(prev["output"]).resolve() != job.out.resolve()
                    or not recorded or sha256_of(job.out) != recorded):
                return False
        return (prev.get("input") or {}).get("sha256") == sha256_of(job.src)
    except OSError:
        return False  # output or input gone or unreadable: redo (the input's error comes then)



class Worker:
    """One Redactor per process (or Ray actor), built once (model load ≈1 s). ``process`` redacts
    a chunk and writes its outputs and reports: both backends call it, so both write the same."""

    def __init__(self, opts: Options) -> None:
        from .detect.text import TextOptions

        self.opts = opts
        with warnings.catch_warnings():  # the engine's limits go into every report (ocr.warnings)
            warnings.simplefilter("ignore", RedactorWarning)
            self.redactor = Redactor(opts.policy, text_options=TextOptions(threads=opts.threads),
                                     max_pixels=opts.max_pixels, ocr=opts.ocr)
        self.finisher = Finisher.for_policy(opts.policy) if opts.policy.metadata.active else None

    def process(self, chunk: list[Job]) -> Iterator[Outcome]:
        results = self.redactor.redact_many([j.src for j in chunk], names=[str(j.src) for j in chunk])
        for job, res in zip(chunk, results, strict=True):
            yield self._write(job, res)

    def _write(self, job: Job, res) -> Outcome:
        opts = self.opts
        if isinstance(res, Failure):
            return self._fail(job, res.error)
        try:
            out = meta = None
            if not opts.dry_run:
                out = job.out
                data, meta = finished_output(job, res, self.finisher)
                if opts.verify:
                    self._verify(data, job)
                io.write_atomic(out, data)
            rep = report.build(name=str(job.src), status="dry-run" if opts.dry_run else "redacted",
                               policy=opts.policy, result=res, output=str(out) if out else None,
                               output_sha256=hashlib.sha256(data).hexdigest() if out else None,
                               clear_text=opts.clear_text, ocr=opts.ocr)
            if meta is not None:
                rep["metadata"] = meta
            io.write_atomic(job.report, report.dumps(rep))
        except (OSError, RedactorError) as e:
            return self._fail(job, e)
        return Outcome(job, "dry-run" if opts.dry_run else "redacted", findings=len(res.findings),
                       warnings=tuple(rep["warnings"]))

    def _verify(self, data: bytes, job: Job) -> None:
        """Run detection again on the encoded output, as a reader of the published file would."""
        again = self.redactor.redact(data, name=str(job.src))
        if again.findings:
            left = ", ".join(sorted({f.category for f in again.findings}))
            raise AnalysisError(f"{job.src}: verification found protected content still visible in the "
                                f"output ({left}); the output was not written. Check the policy's padding")

    def _fail(self, job: Job, error: BaseException) -> Outcome:
        return record_failure(job, error, self.opts)


def record_failure(job: Job, error: BaseException, opts: Options) -> Outcome:
    """Fail an image: remove any output an earlier run left for it, write a "failed" report."""
    message = str(error) if str(job.src) in str(error) else f"{job.src}: {error}"
    # A stale output from an earlier run must not sit beside a report saying "failed". This
    # runs while handling an error, often one of the output folder itself: it never raises.
    for stale in {job.out, _previous_output(job)}:
        if stale is None:
            continue
        try:
            stale.unlink(missing_ok=True)
        except OSError as e:
            message += f" (and an earlier output {stale} could not be removed: {e.strerror or e}; delete it by hand)"
    rep = report.build(name=str(job.src), status="failed", policy=opts.policy, error=message,
                       ocr=opts.ocr)
    try:
        io.write_atomic(job.report, report.dumps(rep))
    except OSError as e:
        message += f" (and its report could not be written: {e.strerror or e})"
    return Outcome(job, "failed", message)


def _previous_output(job: Job) -> Path | None:
    try:
        prev = json.loads(job.report.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    out = prev.get("output") if isinstance(prev, dict) else None
    return Path(out) if isinstance(out, str) and out and Path(out).parent == job.out.parent else None
