"""Files in, files out for the editing workflow: ``redactor analyse`` and ``redactor render``.

``analyse`` writes ``NAME.decisions.json`` per image (mirroring the input names like ``redact``);
``render`` reads them back and writes outputs and reports with no detection. Inputs are mapped
with :func:`batch.plan`, so folders, name collisions and unsafe output folders are handled as
``redact`` handles them. Writes are atomic (io.write_atomic); an image whose decisions do not
belong to it (sha256 differs) gets nothing written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from . import io, report
from .batch import Job, Outcome, finished_output
from .decisions import SUFFIX, Decisions
from .errors import RedactorError
from .metadata import Finisher
from .pipeline import Failure, Redactor, render_decisions
from .types import Result


def decisions_path(job: Job) -> Path:
    """Where an input's decisions go: beside its report, named after the input (NAME.decisions.json)."""
    return job.report.with_name(job.src.name + SUFFIX)


def analyse_files(jobs: list[Job], redactor: Redactor, *, clear_text: bool = False,
                  on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Analyse every job's input and write its decisions file; a failed image gets none."""
    outcomes = []
    for job, d in zip(jobs, redactor.analyse_many([j.src for j in jobs], names=[str(j.src) for j in jobs]),
                      strict=True):
        if isinstance(d, Failure):
            message, stale = str(d.error), decisions_path(job)
            try:
                stale.unlink(missing_ok=True)  # a stale file must not outlive a failed analysis
            except OSError as e:  # handling a failure must not raise (a folder turned read-only)
                message += f" (and an earlier {stale} could not be removed: {e.strerror or e}; delete it by hand)"
            outcome = Outcome(job, "failed", message)
        else:
            try:
                io.write_atomic(decisions_path(job), d.dumps(clear_text=clear_text))
                outcome = Outcome(job, "analysed", findings=sum(r.hidden for r in d.regions))
            except OSError as e:
                outcome = Outcome(job, "failed", f"{job.src}: the decisions file could not be written ({e})")
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def write_rendered(job: Job, result: Result, decisions: Decisions, *, clear_text: bool = False,
                   decisions_to: Path | None = None, finisher: Finisher | None = None) -> Path:
    """Write the output image, the decisions (when ``decisions_to`` is given), then the report
    (the completion marker), each atomically. ``finisher``: kept metadata and signing, if any."""
    out = job.out
    data, meta = finished_output(job, result, finisher)
    io.write_atomic(out, data)
    if decisions_to is not None:
        io.write_atomic(decisions_to, decisions.dumps(clear_text=clear_text))
    rep = report.build(name=str(job.src), status="redacted", policy=None, result=result, output=str(out),
                       output_sha256=hashlib.sha256(data).hexdigest(), clear_text=clear_text, ocr=decisions.ocr,
                       policy_info=policy_info(decisions))
    if meta is not None:
        rep["metadata"] = meta
    io.write_atomic(job.report, report.dumps(rep))
    return out


def policy_info(d: Decisions) -> dict[str, object]:
    """The report's policy section for an output rendered from decisions."""
    edited = sum(r.source == "editor" or r.changed is not None for r in d.regions)
    return {"source": d.policy_source, "fingerprint": d.policy_fingerprint, "decisions_edited": edited}


def render_files(jobs: list[Job], decision_files: list[Path], *, clear_text: bool = False,
                 max_pixels: int = 120_000_000, on_outcome: Callable[[Outcome], None] | None = None,
                 finisher: Finisher | None = None) -> list[Outcome]:
    """Render every job from its decisions file (``decision_files[i]`` for ``jobs[i]``)."""
    outcomes = []
    for job, where in zip(jobs, decision_files, strict=True):
        try:
            d = Decisions.load(where)
            result = render_decisions(job.src, d, name=str(job.src), max_pixels=max_pixels)
            write_rendered(job, result, d, clear_text=clear_text, finisher=finisher)
            outcome = Outcome(job, "redacted", findings=len(result.findings),
                              warnings=tuple(report.input_warnings(result.source)))
        except RedactorError as e:
            outcome = Outcome(job, "failed", str(e) if str(job.src) in str(e) else f"{job.src}: {e}")
        except OSError as e:
            outcome = Outcome(job, "failed", f"{job.src}: could not be written ({e})")
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes

