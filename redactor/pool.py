"""Local worker processes for a batch: how the work is shared among them (:func:`split_work`),
the fork server they start from (:func:`worker_context`), Ctrl-C, and a worker that dies mid-chunk.

Each worker holds one :class:`redactor.jobs.Worker`, which redacts and writes its chunks: the
same writer runs in this process (one worker) and on a Ray cluster (ray_backend.py).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import warnings
from collections.abc import Generator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any, TypeVar

from .errors import AnalysisError, RedactorWarning
from .jobs import Job, Options, Outcome, Worker, record_failure

T = TypeVar("T")


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


#: Up to this many images run in the calling process, when the number of workers is not asked
#: for (bench/README.md, issue 27): worker processes start from a fork server that loads every
#: library and name model before the first worker forks, and each worker then builds its own
#: detectors; two walls took 13.5 CPU-s that way against 11.6 in one process, on the 2-core machine.
IN_PROCESS_IMAGES = 2


def worth_a_pool(todo: list[Job]) -> bool:
    """Whether ``todo`` is enough work to repay starting worker processes."""
    return len(todo) > IN_PROCESS_IMAGES


def execute(todo: list[Job], opts: Options, jobs_n: int) -> Iterator[Outcome]:
    chunks, processes, threads = split_work(todo, jobs_n)
    opts = replace(opts, threads=opts.threads or threads)
    if processes == 1:
        worker = Worker(opts)
        for chunk in chunks:
            yield from worker.process(chunk)
        return
    left = yield from _in_pool(chunks, opts, processes)
    yield from _one_by_one([job for chunk in left for job in chunk], opts)


def _pool(opts: Options, processes: int) -> Any:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(processes, mp_context=worker_context(), initializer=_init_worker, initargs=(opts,))


def worker_context() -> Any:
    """How worker processes start. They fork from a server process that has imported their
    libraries once (:mod:`redactor.preload`) and built no model, so no runtime thread is ever
    forked, and a worker loads in 1.3 s instead of 2.5 (bench/README.md). Where there is no fork
    server (Windows), each worker is a fresh interpreter.

    The server is multiprocessing's one per process, started by the first pool: its workers see
    the environment variables as they were then, and a caller's own forkserver pools started
    later in the process get the same preload."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["redactor.preload"])  # read when the server starts: once per process
    # Python 3.11's server imports the preload with the current folder first on its path (the
    # caller's sys.path reaches only the workers), so a folder named redactor where the command
    # runs was imported in place of this package, and every image failed. PYTHONSAFEPATH keeps
    # the current folder off the server's path.
    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        with _sigint_ignored():  # the server and the workers it forks inherit it (see _init_worker)
            forkserver.ensure_running()
    except OSError as e:  # its socket could not be made, e.g. a TMPDIR too long for a socket's path
        warnings.warn(f"worker processes start without the shared fork server ({e}; its socket goes "
                      f"in {tempfile.gettempdir()}): each imports its libraries itself, ≈1.3 s more. "
                      "Set TMPDIR to a short, writable folder to avoid this.", RedactorWarning, stacklevel=2)
        return mp.get_context("spawn")
    finally:
        if saved is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = saved
    return ctx


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a child process starts (ignored signals stay ignored across exec).
    Ctrl-C reaches every process of the terminal's group: in a worker, or in the fork server
    while it imports its libraries, it printed a KeyboardInterrupt traceback. Only the main
    process reacts to it: it stops the workers (:func:`_stop`) and prints one line."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


def _stop(pool: Any) -> None:
    """Stop a pool's workers at once (Ctrl-C, or an error in the caller) instead of waiting for
    their chunks: an output is written atomically, so a worker stopped mid-write leaves only a
    temporary file, which the run then removes; its image has no report and is redone next time.

    The fork server is stopped too: a worker asked for while it was still importing would be
    forked after this process had gone and die with a traceback. The next pool starts a new one.
    concurrent.futures has no public way to do either before Python 3.14 (terminate_workers)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid and getattr(pool, "_mp_context", None) is not None and pool._mp_context.get_start_method() == "forkserver":
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    pool.shutdown(wait=True, cancel_futures=True)


def _in_pool(chunks: list[list[Job]], opts: Options, processes: int) -> Generator[Outcome, None, list[list[Job]]]:
    """Chunks on ``processes`` workers; returns the chunks left unfinished when a worker died.

    A worker killed mid-chunk (by the out-of-memory killer, or a person) breaks the whole pool
    (multiprocessing.Pool waited for the lost chunk for ever): every chunk not finished then is
    handed back for ``_one_by_one``. Outputs are written atomically, so the dead worker left at
    most a temporary file, removed at the end of the run.
    """
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    left = []
    pool = _pool(opts, processes)
    try:
        futures = {pool.submit(_work, chunk): chunk for chunk in chunks}
        for future in as_completed(futures):
            try:
                yield from future.result()
            except BrokenProcessPool:
                left.append(futures[future])
    except BaseException:  # KeyboardInterrupt, or the caller closed the generator
        _stop(pool)
        raise
    pool.shutdown()
    return left


def _one_by_one(jobs: list[Job], opts: Options) -> Iterator[Outcome]:
    """After a worker died: each image alone in one worker, so the image that kills it is known.
    That image fails (never written) and a new worker takes the rest."""
    from concurrent.futures.process import BrokenProcessPool

    pool = None
    try:
        for job in jobs:
            pool = pool or _pool(opts, 1)
            try:
                yield from pool.submit(_work, [job]).result()
            except BrokenProcessPool:
                pool.shutdown()
                pool = None
                yield record_failure(job, AnalysisError(
                    f"{job.src}: the worker process died while redacting it (killed, or out of memory); nothing "
                    "was written for it. Check the machine's free memory, or redact it alone with --jobs 1"), opts)
    except BaseException:
        if pool is not None:
            _stop(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown()


_WORKER: Worker | None = None


def _init_worker(opts: Options) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C (_sigint_ignored)
    _WORKER = Worker(opts)


def _work(chunk: list[Job]) -> list[Outcome]:
    assert _WORKER is not None, "worker not initialised"
    return list(_WORKER.process(chunk))
