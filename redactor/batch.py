"""Files in, files out: redact folders into a mirrored output folder, resumably, in parallel.

:func:`run` skips the images an earlier run finished and hands the rest to an executor: local
worker processes by default (pool.py), a Ray cluster with ``ray_backend.executor``. Planning,
the resume check and the writing of each image are in jobs.py; the names are re-exported here,
where callers have always found them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from . import pool
from .jobs import (
    REPORT_SUFFIX,
    Job,
    Options,
    Outcome,
    Worker,
    check_writable,
    encoded_output,
    finished_output,
    is_done,
    output_name,
    plan,
    record_failure,
)
from .pool import IN_PROCESS_IMAGES, split_work, worker_context, worth_a_pool

__all__ = [
    "IN_PROCESS_IMAGES", "REPORT_SUFFIX", "Execute", "Job", "Options", "Outcome", "Worker", "check_writable",
    "encoded_output", "finished_output", "is_done", "output_name", "plan", "record_failure", "run", "split_work",
    "summary", "worker_context", "worth_a_pool",
]

Execute = Callable[[list[Job], Options], Iterable[Outcome]]



def run(jobs: list[Job], opts: Options, *, jobs_n: int = 1,
        on_outcome: Callable[[Outcome], None] | None = None, execute: Execute | None = None,
        small_in_process: bool = False) -> list[Outcome]:
    """Redact every job; ``on_outcome`` is called after each image (progress).

    ``execute`` redacts the jobs left after skipping the done ones, one Outcome per job, in any
    order: by default ``jobs_n`` local worker processes (``small_in_process``: none, when the
    work is too small to repay them, see :func:`worth_a_pool`); ``ray_backend.executor`` runs
    them on a Ray cluster. Both send each chunk through :class:`Worker`, so skipping, resuming
    and the bytes written are the same.
    """
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
    local = execute is None
    if execute is None:
        def execute(todo: list[Job], opts: Options) -> Iterable[Outcome]:
            return pool.execute(todo, opts, jobs_n if not small_in_process or worth_a_pool(todo) else 1)
    results = execute(todo, opts)
    try:
        for outcome in results:
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
    except BaseException:  # Ctrl-C: stop the workers now (closing the generator), not at exit
        close = getattr(results, "close", None)
        if close is not None:
            close()
        if local:  # its workers are stopped: what they were writing is only temporary files
            _remove_stale_temp_files(jobs)
        raise
    _remove_stale_temp_files(jobs)  # left by a worker that died mid-write (its image was redone)
    return outcomes


def _remove_stale_temp_files(jobs: list[Job]) -> None:
    """A run killed mid-write leaves ``.NAME.RANDOM.tmp`` files (see io.write_atomic); the
    finished outputs are untouched by that, so the leftovers are only clutter: remove them."""
    for folder in {j.out.parent for j in jobs}:
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)



def summary(outcomes: list[Outcome], seconds: float) -> str:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("redacted", "dry-run", "skipped", "failed")}
    done = counts["redacted"] + counts["dry-run"]
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    rate = f", {done / seconds:.2f} images/s" if done and seconds > 0 else ""
    return f"{', '.join(parts) or 'no images'} in {seconds:.1f} s{rate}"
