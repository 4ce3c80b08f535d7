"""The batch on a Ray cluster (Ray Data): the only module that imports ray.

A thin adapter: ``batch.run`` still plans, skips done images and reports progress; this module
only replaces where the chunks run. The chunks are the local backend's (``batch.split_work``),
one Ray Data row each; ``map_batches`` sends them to a pool of actors, each holding one
``batch.Worker`` (one loaded Redactor: models load once per actor, recognition batched across
the chunk's images through ``redact_many``), which writes outputs and reports atomically, as a
local worker process does, and returns one row per image. So both backends write the same bytes.

Inputs and the output folder must be paths that every node reads and writes (a shared file
system). Ray restarts an actor that dies (killed, out of memory) and retries its chunk: a
half-done chunk is redone whole, and atomic writes mean no image is ever half-written. After
``MAX_TASK_RETRIES`` retries of a chunk, its images not yet written go again one by one, and an
image that still kills its worker fails alone (it must not stop the batch or loop for ever).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import warnings
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import __version__, batch
from .errors import RedactorError
from .models import versions

#: Retries of a chunk whose actor died. Ray restarts dead actors without limit; after this many
#: retries of one chunk its images count as failed (exit 1) and the batch goes on.
MAX_TASK_RETRIES = 2

#: Test hook, for the test suite only: an actor exits (as if killed) just before the image of
#: this file name is written, the images before it in its chunk being written. With the marker
#: variable set, only while that file does not exist, which it creates: once.
TEST_EXIT_ON, TEST_EXIT_MARKER = "REDACTOR_TEST_ACTOR_EXIT_ON", "REDACTOR_TEST_ACTOR_EXIT_MARKER"

INSTALL_HINT = "pip install 'redactor[ray]'"


def check_installed() -> None:
    """Fail before any work (RedactorError: exit 2) when Ray Data is missing."""
    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("pyarrow") is None:
        raise RedactorError(f"--backend ray needs Ray Data: {INSTALL_HINT} (or install -e '.[ray]')")


def executor(address: str | None = None, actors: int | None = None, *, worker_gb: float = 2.0) -> batch.Execute:
    """What ``batch.run(execute=...)`` calls: run the jobs left to do on a Ray cluster.

    ``address``: a running cluster to join (``ray start --head`` prints it; ``ray://`` client
    addresses work too); None starts a local cluster on this machine, for this run only.
    ``actors``: how many Redactors work at once; None: one per CPU of the cluster, at most one
    per ``worker_gb`` of its memory (what one worker peaks at, see ``commands.WORKER_GB``). If Ray is
    already initialised in this process (a library caller, the tests), that cluster is used and
    left running.
    """

    def execute(todo: list[batch.Job], opts: batch.Options) -> Iterator[batch.Outcome]:
        if not todo:
            return
        started = _connect(address)
        try:
            yield from _run(todo, opts, actors or _actors_for_cluster(worker_gb))
        finally:
            if started:
                import ray

                ray.shutdown()

    return execute


def _connect(address: str | None) -> bool:
    """Initialise Ray unless it already is; True if this call did (and should shut it down)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report usage over the network
    import ray

    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}  # the CLI reports outcomes
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError) as e:  # Ray's own errors: refused, wrong token
            raise RedactorError(
                f"could not join the Ray cluster at {address}: {str(e).splitlines()[0]} Check the address "
                "(`ray status` on the head node) and, with token authentication (Ray's default on a local "
                "`ray start --head`), run with RAY_AUTH_MODE=token and the cluster's token in ~/.ray/auth_token "
                "or RAY_AUTH_TOKEN") from e
    else:
        # "local": a new cluster even if one was started on this machine before (plain ray.init()
        # would join it); no dashboard. Ray binds its ports to the machine's address whatever it
        # is told (127.0.0.1 is "resolved" to it); 2.60 guards them with token authentication.
        ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
    return True


def _check_reachable(address: str) -> None:
    """Fail in seconds on a HOST:PORT where nothing listens: ray.init waits there for minutes."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # ray://, "auto": left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise RedactorError(f"could not join the Ray cluster at {address}: {e}. Check the address "
                            "(`ray start --head` prints it; `ray status` on the head node)") from e


def _actors_for_cluster(worker_gb: float) -> int:
    import ray

    res = ray.cluster_resources()  # "memory": what Ray lets tasks use (≈70% of the free memory)
    by_memory = int(res.get("memory", 0) / 2**30 // worker_gb)
    return max(1, min(int(res.get("CPU", 1)), by_memory or 1))


def _run(todo: list[batch.Job], opts: batch.Options, actors: int) -> Iterator[batch.Outcome]:
    import ray.data  # configures its logger on import: quieten it after

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # per-run execution notes
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # the CLI draws its own bar
    ctx.print_on_execution_start = False
    ctx.max_errored_blocks = -1  # a chunk that kept killing its actor is reported by _pass, the rest goes on
    # One CPU and one ONNX Runtime thread per actor, as each local worker process on a 2-core machine.
    opts = replace(opts, threads=opts.threads or 1)
    chunks, _, _ = batch.split_work(todo, actors)  # the local backend's chunks: same recognition batches
    lost = yield from _pass(chunks, opts, actors)
    # A chunk Ray gave up on: its images written before the actor died are done; the others go
    # again one by one, so that an image that kills every worker fails alone.
    retry = []
    for job in lost:
        if batch.is_done(job, replace(opts, force=False)):
            yield batch.Outcome(job, "dry-run" if opts.dry_run else "redacted")
        else:
            retry.append(job)
    lost = (yield from _pass([[j] for j in retry], opts, actors)) if retry and len(chunks) < len(todo) else retry
    for job in lost:
        yield batch.record_failure(job, RedactorError(
            f"its Ray worker died {MAX_TASK_RETRIES + 1} times while redacting it (killed, or out of memory; "
            "see the Ray logs); not written"), opts)


def _pass(chunks: list[list[batch.Job]], opts: batch.Options,
          actors: int) -> Generator[batch.Outcome, None, list[batch.Job]]:
    """One Ray Data pass over ``chunks``: yields what came back, returns the jobs that did not."""
    import ray.data
    import ray.data.exceptions
    import ray.exceptions

    jobs = [j for chunk in chunks for j in chunk]
    rows, k = [], 0
    for chunk in chunks:  # each row a chunk: [index in jobs, src, out, report] per image
        rows.append({"chunk": json.dumps([[k + n, str(j.src), str(j.out), str(j.report)]
                                          for n, j in enumerate(chunk)])})
        k += len(chunk)
    with warnings.catch_warnings():
        # Ray 2.60 deprecates passing max_task_retries this way (removed in 2.64) and has no named
        # parameter for it yet; Ray Data's own default is to retry for ever.
        warnings.simplefilter("ignore", DeprecationWarning)
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _RedactChunks,
            batch_size=1,  # one chunk per call
            # One chunk at a time per actor: a chunk queued behind one that kills the actor would
            # spend its own retries on deaths it did not cause.
            compute=ray.data.ActorPoolStrategy(size=min(actors, len(chunks)), max_tasks_in_flight_per_actor=1),
            num_cpus=1,
            fn_constructor_kwargs={"opts": opts, "expect": _identity()},
            max_restarts=-1,
            max_task_retries=MAX_TASK_RETRIES,
        )
    returned: set[int] = set()
    try:
        # One output block per chunk, handed over as soon as it is done (no prefetching: the bar moves).
        for block in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
            for i, status, message, findings in zip(block["index"], block["status"], block["message"],
                                                    block["findings"], strict=True):
                returned.add(int(i))
                yield batch.Outcome(jobs[int(i)], str(status), str(message), int(findings))
    except (ray.exceptions.RayError, ray.data.exceptions.SystemException) as e:
        # The whole run stopped (actors that cannot start: another redactor on a node, no memory).
        raise RedactorError(f"the Ray run stopped: {str(e).strip().splitlines()[-1]} Images finished so far "
                            "are kept; run the same command again to resume") from e
    return [j for i, j in enumerate(jobs) if i not in returned]


def _identity() -> dict[str, Any]:
    """What every node must have installed alike for the outputs to be the same."""
    return {"redactor": __version__, "models": versions()}


class _RedactChunks:
    """A Ray Data actor: one ``batch.Worker`` (one Redactor), built once per actor."""

    def __init__(self, opts: batch.Options, expect: dict[str, Any]) -> None:
        here = _identity()
        if here != expect:
            mine, theirs = ({"redactor": i["redactor"], **i["models"]} for i in (here, expect))
            differ = "; ".join(f"{k}: {mine.get(k)} here, {theirs.get(k)} on the driver"
                               for k in sorted(mine | theirs) if mine.get(k) != theirs.get(k))
            raise RedactorError(f"a Ray node differs from the driver ({differ}): install the same redactor and "
                                "models (requirements.lock) on every node")
        self.worker = batch.Worker(opts)
        self.exit_on = os.environ.get(TEST_EXIT_ON), os.environ.get(TEST_EXIT_MARKER)

    def __call__(self, rows: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {"index": [], "status": [], "message": [], "findings": []}
        for chunk in rows["chunk"]:
            entries = json.loads(chunk)
            jobs = [batch.Job(src=Path(s), out=Path(o), report=Path(r)) for _, s, o, r in entries]
            outcomes = self.worker.process(jobs)  # analyses the chunk, then writes image by image
            for (i, *_), job in zip(entries, jobs, strict=True):
                self._test_exit(job)
                outcome = next(outcomes)
                out["index"].append(i)
                out["status"].append(outcome.status)
                out["message"].append(outcome.message)
                out["findings"].append(outcome.findings)
        return out

    def _test_exit(self, job: batch.Job) -> None:
        name, marker = self.exit_on
        if name and job.src.name == name and not (marker and os.path.exists(marker)):
            if marker:
                Path(marker).touch()
            os._exit(137)  # as SIGKILL or the OOM killer would: no cleanup, no Python exception
