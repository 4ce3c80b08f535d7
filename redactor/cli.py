"""Command line: a thin layer over the library. Library errors become messages and exit codes here.

Exit codes: 0 every image redacted (or skipped as already done); 1 at least one image failed;
2 the command could not start (bad arguments, policy, model, unsafe output folder).

The arguments are built here; what each command then does is in commands.py.
"""

from __future__ import annotations

import argparse
import gc
import sys
import warnings
from pathlib import Path

from . import __version__
from .commands import (
    EXIT_USAGE,
    _default_jobs,
    cmd_analyse,
    cmd_eval,
    cmd_gallery,
    cmd_inspect,
    cmd_models,
    cmd_redact,
    cmd_render,
    cmd_review,
    cmd_serve,
)
from .detect import TEXT_ENGINE_WARNINGS, TEXT_ENGINES, check_text_engine
from .errors import RedactorError, RedactorWarning


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redactor",
        description="Find faces, licence plates and personal text (Traditional Chinese and English) "
        "in photos and write redacted copies that cannot be reversed, with a JSON report per image.",
    )
    parser.add_argument("--version", action="version", version=f"redactor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("redact", help="redact images and folders into an output folder",
                       description="Redact image files and folders (recursive) into OUTDIR, mirroring "
                       "their names; writes NAME.json reports beside the outputs. Re-running resumes: "
                       "images already done with the same content and policy are skipped.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR", help="output folder")
    _add_policy(p)
    p.add_argument("--dry-run", action="store_true", help="write reports only, no images")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help=f"worker processes, or Ray actors with --backend ray (default: one per core as memory "
                   f"allows; {_default_jobs()} on this machine, or the whole Ray cluster's cores; 1 or 2 images run in "
                   "this process)")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="where the workers run: local processes (default), or a Ray cluster (pip install "
                   "'redactor[ray]'; inputs and OUTDIR must be paths every node reaches)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --backend ray: join this running cluster (default: start one on this machine)")
    resume = p.add_mutually_exclusive_group()
    resume.add_argument("--resume", action="store_true",
                        help="skip images already done with the same content and policy (the default)")
    resume.add_argument("--force", action="store_true", help="redo images even if already done")
    p.add_argument("--verify", action="store_true",
                   help="after redacting, run detection again on the output; if anything protected is still "
                   "found, do not write it and count the image as failed (about twice the time)")
    p.add_argument("--report-text", action="store_true",
                   help="write hidden text in clear in the reports (it is personal data; default: masked)")
    _add_metadata(p)
    _add_max_pixels(p)
    _add_ocr(p)
    p.set_defaults(func=cmd_redact)

    e = sub.add_parser("eval", help="measure what the policy hides and spares on photos with ground truth",
                       description="Run the pipeline on every image in CORPUS_DIR that has a ground-truth "
                       "sidecar (X.jpg + X.jpg.json) and print recall per category, the spared rate and "
                       "seconds per image. Nothing is written unless --misses is given.")
    e.add_argument("corpus", type=Path, metavar="CORPUS_DIR")
    _add_policy(e)
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    e.add_argument("--misses", type=Path, metavar="DIR",
                   help="write a crop of every missed and every wrongly hidden region into DIR")
    e.add_argument("--perturb", metavar="NAME[:SEVERITY]",
                   help="measure on the photos as taken in worse conditions: each image and its ground truth go "
                   "through NAME (perspective, rotation, blur, noise, jpeg, downscale, lowlight, photocopy, "
                   "orientation, or phone: a random mix) at SEVERITY 1-3 (default 2), seeded by the image's name")
    _add_ocr(e)
    e.set_defaults(func=cmd_eval)

    a = sub.add_parser("analyse", help="find what to hide and write editable decisions, no images",
                       description="Analyse images and folders (recursive) and write NAME.decisions.json per image "
                       "into DIR (names mirrored as in redact): every region found, hidden or kept, editable. "
                       "`redactor render` turns them into redacted images with no detection.")
    a.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders")
    a.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="folder for the decisions files")
    _add_policy(a)
    a.add_argument("--report-text", action="store_true",
                   help="write text in clear in the decisions (it is personal data; default: masked)")
    _add_max_pixels(a)
    _add_ocr(a)
    a.set_defaults(func=cmd_analyse)

    r = sub.add_parser("render", help="write redacted images from decisions files, no detection",
                       description="Render each INPUT exactly as its NAME.decisions.json in --decisions DIR says "
                       "(the layout `redactor analyse` writes), into OUTDIR with a report per image. No detector "
                       "runs. A decisions file made for other content (sha256) is refused and nothing is written.")
    r.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders")
    r.add_argument("--decisions", required=True, type=Path, metavar="DIR", help="folder of decisions files")
    r.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR", help="output folder")
    r.add_argument("--report-text", action="store_true",
                   help="write hidden text in clear in the reports (needs decisions written with --report-text)")
    _add_metadata(r)
    _add_max_pixels(r)
    r.set_defaults(func=cmd_render)

    v = sub.add_parser("review", help="review, correct and approve redactions in a local web page",
                       description="Analyse the images in the background and serve a review page on this "
                       "machine: hide or keep each region, draw boxes, preview, approve. Approving writes the "
                       "output, its report and its decisions into OUTDIR. Every change is saved at once in a "
                       "private state folder out of OUTDIR (it holds the text read from the photos; printed at "
                       "start); run the same command again to resume, add --purge to delete it when done. "
                       "Prints the URL to open.")
    v.add_argument("inputs", nargs="*", type=Path, metavar="INPUT", help="image files or folders")
    v.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR", help="output folder")
    v.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="keep the review state in DIR/<hash of OUTDIR> (default DIR: $XDG_STATE_HOME/redactor/"
                   "review, or ~/.local/state/redactor/review); the folder is made 0700, its files 0600")
    v.add_argument("--purge", action="store_true",
                   help="delete the review state of OUTDIR (clear text read from the photos) and exit; "
                   "OUTDIR itself is left as it is")
    _add_policy(v)
    v.add_argument("--report-text", action="store_true",
                   help="write hidden text in clear in reports and decisions (default: masked)")
    _add_server(v, port=8766)
    _add_ocr(v)
    v.set_defaults(func=cmd_review)

    s = sub.add_parser("serve", help="HTTP API: POST /api/redact, /api/analyse, /api/render",
                       description="Serve the HTTP API for newsroom tooling. Prints http://HOST:PORT/?token=TOKEN "
                       "once; clients send Authorization: Bearer TOKEN. The token is random unless REDACTOR_TOKEN "
                       "is set. Requests beyond --queue get 503 with Retry-After; uploads over --max-upload-mb, 413.")
    _add_policy(s)
    s.add_argument("--queue", type=int, default=4, metavar="N",
                   help="requests waiting or running at once; more get 503 (default: %(default)s)")
    s.add_argument("--max-upload-mb", type=float, default=64, metavar="MB",
                   help="largest upload accepted (default: %(default)s)")
    s.add_argument("--report-text", action="store_true", help="decisions from /api/analyse in clear text")
    _add_server(s, port=8765)
    _add_ocr(s)
    s.set_defaults(func=cmd_serve)

    i = sub.add_parser("inspect", help="show the metadata a file carries and what redaction would keep",
                       description="List every metadata tag in FILE (EXIF, IPTC, XMP, maker notes, C2PA...) and "
                       "what `redact` with this policy and --keep-metadata would do with it: kept (its text still "
                       "checked), never kept (and why), or dropped. Needs exiftool. Check an output the same way.")
    i.add_argument("file", type=Path, metavar="FILE")
    _add_policy(i)
    i.add_argument("--keep-metadata", metavar="FIELD,...", help="as for redact")
    i.set_defaults(func=cmd_inspect)

    m = sub.add_parser("models", help="list the models and verify their sha256",
                       description="List every model from models/manifest.toml and verify each file.")
    m.set_defaults(func=cmd_models)

    g = sub.add_parser("gallery", help="manage face galleries (people always hidden, or kept visible)",
                       description="A gallery file holds names and face encodings (128 numbers per portrait), "
                       "never face images. A policy's [faces] table names a protected gallery (always hidden) "
                       "or an allowed gallery (kept visible). Encodings are biometric data: keep the file private.")
    gsub = g.add_subparsers(dest="gallery_command", required=True, metavar="ACTION")
    ga = gsub.add_parser("add", help="add portraits of a person (one face per image)",
                         description="Encode the one face in each IMAGE and store it under NAME (adding to NAME's "
                         "encodings if NAME is already there). An image with no face or several faces is refused.")
    ga.add_argument("name", metavar="NAME")
    ga.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    gl = gsub.add_parser("list", help="list the people in a gallery",
                         description="List each person's name and number of encodings.")
    gr = gsub.add_parser("remove", help="remove a person and all their encodings",
                         description="Remove NAME and all their encodings from the gallery.")
    gr.add_argument("name", metavar="NAME")
    for sp in (ga, gl, gr):
        sp.add_argument("--gallery", type=Path, default=Path("gallery.json"), metavar="FILE",
                        help="gallery file (default: %(default)s)")
    g.set_defaults(func=cmd_gallery)
    return parser


def _add_policy(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", type=Path, metavar="FILE", help="policy TOML (default: the shipped policy)")


def _add_metadata(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep-metadata", metavar="FIELD,...",
                   help="keep these metadata fields of each input, e.g. iptc:By-line,iptc:Credit,iptc:Caption-Abstract "
                   "(replaces the policy's [metadata] keep; default: none, outputs carry no metadata). Their text is "
                   "checked like the photo's; location, serials, face regions and the like are never kept")
    p.add_argument("--sign", nargs=2, metavar=("CERT", "KEY"),
                   help="sign each output with Content Credentials (C2PA): CERT a PEM chain, signing certificate "
                   "first; KEY its PEM private key. The manifest says what was hidden, by category and count")
    p.add_argument("--keep-manifest", action="store_true",
                   help="with --sign: keep an input's own C2PA manifest as the output's ingredient (it can hold "
                   "the original's thumbnail; default: removed)")



def _add_max_pixels(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-pixels", type=int, default=120_000_000, metavar="N",
                   help="refuse images with more pixels than this (default: %(default)s)")


def _add_ocr(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ocr", choices=list(TEXT_ENGINES), default="rapidocr",
                   help="OCR engine (default: %(default)s, Traditional Chinese and English). easyocr needs "
                   "pip install 'redactor[easyocr]', reads English only (no Chinese names or addresses) "
                   "and is several times slower on a CPU; it uses a GPU when torch sees one")


def _add_server(p: argparse.ArgumentParser, *, port: int) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: %(default)s, this machine only; another host prints a warning)")
    p.add_argument("--port", type=int, default=port, help="port (default: %(default)s; 0 picks a free one)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also accept requests whose Host header is NAME (e.g. behind a proxy); repeatable")
    _add_max_pixels(p)


def _prepare_ocr(ocr: str) -> None:
    """Say what the chosen engine cannot do, once, before any work (the library's
    RedactorWarning for the same thing is silenced so it is not printed twice), and stop here
    if the engine's optional packages are missing."""
    warnings.filterwarnings("ignore", category=RedactorWarning)
    if ocr in TEXT_ENGINE_WARNINGS:
        print(f"redactor: warning: {TEXT_ENGINE_WARNINGS[ocr]}", file=sys.stderr)
    check_text_engine(ocr)



def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():  # filters set for this command only (library callers keep theirs)
            if hasattr(args, "ocr"):
                _prepare_ocr(args.ocr)
            return int(args.func(args))
    except RedactorError as e:
        print(f"redactor: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("redactor: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def run() -> None:
    """The ``redactor`` command: :func:`main`, then exit without the interpreter's last garbage
    collections. Those walked every object the models had made (≈150,000: spaCy's pipeline,
    jieba's tables) for ≈0.3 s after the work was done (issue 27); freezing them skips that
    walk only: atexit handlers and finalizers still run, files are already closed."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
