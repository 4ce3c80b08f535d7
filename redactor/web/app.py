"""Routes only: the review page, its JSON API, and the HTTP API of ``redactor serve``.

Every route calls the library (through web.service); the guard in web.security runs first.
Images are addressed by an id drawn at random per session, never by a path from the request.
Every edit and approval sends the ``revision`` of the image the page showed (409 when it is not
the server's); answers list the approved images an edit ``withdrew`` (their outputs deleted).
"""

from __future__ import annotations

import inspect
import json
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__, io
from ..decisions import Decisions
from ..errors import DecisionsError, ImageError, ImageTooLargeError, RedactorError
from ..types import ACTIONS, CATEGORIES
from .review import Conflict, ReviewSession
from .security import Guard, derive
from .service import Busy, Service, encoded

#: Uploads above this are refused with 413 (a 48 MP JPEG is ≈25 MB).
MAX_UPLOAD = 64 * 2**20
RETRY_AFTER_S = 5

Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(service: Service, *, session: ReviewSession | None = None, token: str | None = None,
               allowed_hosts: frozenset[str] = frozenset(), max_upload: int = MAX_UPLOAD,
               clear_text: bool = False) -> Guard:
    """The ASGI app behind the guard. ``session`` is None for ``redactor serve`` (API only)."""
    token = token or secrets.token_urlsafe(24)
    templates = jinja2.Environment(loader=jinja2.PackageLoader("redactor.web", "templates"), autoescape=True)
    csrf = derive(token, "csrf")
    thumbs: OrderedDict[str, bytes] = OrderedDict()

    def page(request: Request) -> Response:
        name = "review.html" if session is not None else "serve.html"
        html = templates.get_template(name).render(csrf=csrf, version=__version__, categories=CATEGORIES,
                                                   actions=ACTIONS)
        return HTMLResponse(html)

    # -- review --------------------------------------------------------------------------------

    def need_session() -> ReviewSession:
        if session is None:
            raise LookupError("this server has no review queue (it was started by `redactor serve`)")
        return session

    def queue(request: Request) -> Response:
        return JSONResponse(need_session().progress())

    def original(request: Request) -> Response:
        """The input, upright (EXIF orientation applied) and re-encoded with no metadata, for display."""
        s, iid = need_session(), request.path_params["iid"]
        item = s.item(iid)
        if iid not in thumbs:
            loaded = io.load(item.job.src, max_pixels=s.service.redactor.max_pixels)
            thumbs[iid] = io.encode(loaded.rgb, None, io.Source("view", "JPEG", 0, 0, None, None, 1), jpeg_quality=90)
            while len(thumbs) > 8:
                thumbs.popitem(last=False)
        return Response(thumbs[iid], media_type="image/jpeg")

    def decisions(request: Request) -> Response:
        s, iid = need_session(), request.path_params["iid"]
        s.open(iid)
        return _decisions_json(s, iid)

    def preview(request: Request) -> Response:
        s = need_session()
        data, media = encoded(s.render(request.path_params["iid"]), for_browser=True)
        return Response(data, media_type=media)

    async def edit(request: Request, change: Callable[[dict[str, Any], int], Any], **extra: Any) -> Response:
        """Run ``change(body, revision)`` (one edit of the session, checked against the page's
        revision); answer the image's new state and the approved images the edit withdrew."""
        s, iid = need_session(), request.path_params["iid"]
        body = await _json_body(request)
        revision = _revision(body)
        before = {i for i, item in s.items.items() if item.status == "approved"}
        out = await run_in_threadpool(change, body, revision)
        withdrawn = sorted(s.items[i].job.src.name for i in before if s.items[i].status != "approved")
        return _decisions_json(s, iid, withdrawn=withdrawn, **{k: f(out) for k, f in extra.items()})

    async def toggle(request: Request) -> Response:
        s, iid, rid = need_session(), request.path_params["iid"], request.path_params["rid"]

        def change(body: dict[str, Any], revision: int) -> Any:
            if not isinstance(body.get("hidden"), bool):
                raise ValueError("send {\"hidden\": true|false, \"revision\": N}")
            return s.toggle(iid, rid, body["hidden"], revision)
        return await edit(request, change)

    async def change_region(request: Request) -> Response:
        s, iid, rid = need_session(), request.path_params["iid"], request.path_params["rid"]

        def change(body: dict[str, Any], revision: int) -> Any:
            category, action = body.get("category"), body.get("action")
            if category is not None and category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
            if action is not None and action not in ACTIONS:
                raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
            return s.change(iid, rid, revision, category=category, action=action)
        return await edit(request, change)

    async def add_box(request: Request) -> Response:
        s, iid = need_session(), request.path_params["iid"]

        def change(body: dict[str, Any], revision: int) -> Any:
            box, category = body.get("box"), body.get("category", "custom")
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int | float) for v in box)):
                raise ValueError("send {\"box\": [x0, y0, x1, y1], \"category\": ..., \"revision\": N} "
                                 "in image pixels")
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
            x0, y0, x1, y1 = (float(v) for v in box)
            return s.add_box(iid, (x0, y0, x1, y1), category, revision)
        return await edit(request, change, added=lambda out: out[1])

    async def delete_box(request: Request) -> Response:
        s, iid, rid = need_session(), request.path_params["iid"], request.path_params["rid"]
        return await edit(request, lambda body, revision: s.delete(iid, rid, revision))

    async def hide_everywhere(request: Request) -> Response:
        s, iid, rid = need_session(), request.path_params["iid"], request.path_params["rid"]
        return await edit(request, lambda body, revision: s.hide_everywhere(iid, rid, revision), changed=lambda n: n)

    async def undo(request: Request) -> Response:
        s, iid = need_session(), request.path_params["iid"]
        return await edit(request, lambda body, revision: s.undo(iid, revision))

    async def approve(request: Request) -> Response:
        s, iid = need_session(), request.path_params["iid"]
        out = await run_in_threadpool(s.approve, iid, _revision(await _json_body(request)))
        return JSONResponse({**s.progress(), "output": out.name})

    async def approve_all(request: Request) -> Response:
        """Approve every image in ``revisions`` ({id: revision}) the editor has opened and that is
        still at that revision; the others are listed with the reason."""
        s = need_session()
        body = await _json_body(request)
        revisions = body.get("revisions")
        if not isinstance(revisions, dict):
            raise ValueError("send {\"revisions\": {\"ID\": revision, ...}} for the images to approve")
        approved, skipped = [], []
        for iid, revision in revisions.items():
            item = s.item(iid)
            if item.status != "ready" or not item.seen:
                skipped.append({"name": item.job.src.name, "why": "not opened yet" if item.status == "ready"
                                else item.status})
                continue
            try:
                await run_in_threadpool(s.approve, iid, revision)
                approved.append(item.job.src.name)
            except Conflict:
                skipped.append({"name": item.job.src.name, "why": "changed since the page showed it"})
        return JSONResponse({**s.progress(), "approved": approved, "skipped": skipped})

    # -- API for newsroom tooling ----------------------------------------------------------------

    async def api_redact(request: Request) -> Response:
        name, data = await _upload(request, "image", max_upload)
        with service.admitted():
            result = await run_in_threadpool(service.redact, data, name)
        body, media = encoded(result)
        return Response(body, media_type=media, headers={"X-Redactor-Hidden": str(len(result.findings))})

    async def api_analyse(request: Request) -> Response:
        name, data = await _upload(request, "image", max_upload)
        with service.admitted():
            d = await run_in_threadpool(service.analyse, data, name)
        return Response(d.dumps(clear_text=clear_text), media_type="application/json")

    async def api_render(request: Request) -> Response:
        form = await _form(request, max_upload)
        name, data = _file(form, "image")
        _, raw = _file(form, "decisions")
        d = Decisions.loads(raw, where="the decisions part")
        result = await run_in_threadpool(service.render, data, d, name)
        body, media = encoded(result)
        return Response(body, media_type=media)

    routes = [
        Route("/", _errors(page)),
        Route("/api/queue", _errors(queue)),
        Route("/api/images/{iid}/image", _errors(original)),
        Route("/api/images/{iid}/decisions", _errors(decisions)),
        Route("/api/images/{iid}/preview", _errors(preview)),
        Route("/api/images/{iid}/regions", _errors(add_box), methods=["POST"]),
        Route("/api/images/{iid}/regions/{rid}", _errors(toggle), methods=["POST"]),
        Route("/api/images/{iid}/regions/{rid}", _errors(change_region), methods=["PATCH"]),
        Route("/api/images/{iid}/regions/{rid}", _errors(delete_box), methods=["DELETE"]),
        Route("/api/images/{iid}/regions/{rid}/hide-everywhere", _errors(hide_everywhere), methods=["POST"]),
        Route("/api/images/{iid}/undo", _errors(undo), methods=["POST"]),
        Route("/api/images/{iid}/approve", _errors(approve), methods=["POST"]),
        Route("/api/approve-all", _errors(approve_all), methods=["POST"]),
        Route("/api/redact", _errors(api_redact), methods=["POST"]),
        Route("/api/analyse", _errors(api_analyse), methods=["POST"]),
        Route("/api/render", _errors(api_render), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(resources.files("redactor.web") / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    return Guard(app, token=token, allowed_hosts=allowed_hosts, max_body=max_upload + 64 * 1024)


def _decisions_json(s: ReviewSession, iid: str, **extra: Any) -> Response:
    """The image's decisions for the page, in clear text: the page is the editor's own view, behind
    the token (the files handed on stay masked unless --report-text). ``candidates``: ids of plate
    candidates the OCR did not confirm, kept and never changed, which the page does not draw unless
    asked (no one would hide them; they stay in the decisions file)."""
    item = s.item(iid)
    d = s.decisions(iid)
    candidates = [r.id for r in d.regions if r.kind == "plate" and r.source == "auto" and not r.hidden
                  and not r.recognizer and r.changed is None]
    return JSONResponse({"id": iid, "name": item.job.src.name, "status": item.status, "undo": len(item.undo),
                         "revision": item.revision, "reapprove": item.withdrawn, "candidates": candidates,
                         "decisions": d.to_json(clear_text=True), **extra})


def _errors(endpoint: Callable[[Request], Any]) -> Endpoint:
    """Library errors as JSON naming the problem: 4xx for the caller's mistakes, 503 when busy."""
    async def wrapped(request: Request) -> Response:
        try:
            if inspect.iscoroutinefunction(endpoint):
                return await endpoint(request)
            return await run_in_threadpool(endpoint, request)  # decoding and encoding stay off the loop
        except Conflict as e:
            return JSONResponse({"error": str(e), "conflict": True}, 409)
        except Busy as e:
            return JSONResponse({"error": str(e)}, 503, headers={"Retry-After": str(RETRY_AFTER_S)})
        except LookupError as e:
            return JSONResponse({"error": str(e).strip("'\"")}, 404)
        except ImageTooLargeError as e:
            return JSONResponse({"error": str(e)}, 413)
        except (ImageError, DecisionsError) as e:
            return JSONResponse({"error": str(e)}, 422)
        except ValueError as e:
            return JSONResponse({"error": str(e)}, 400)
        except RedactorError as e:  # analysis failed: nothing is returned for the image
            return JSONResponse({"error": str(e)}, 500)
    wrapped.__name__ = endpoint.__name__
    return wrapped


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as e:
        raise ValueError(f"the body is not JSON ({e})") from e
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _revision(body: dict[str, Any]) -> int:
    """The revision of the image the page shows, which every edit and approval must send."""
    revision = body.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise ValueError("send the \"revision\" of the image the page shows (an integer), as in "
                         "{\"revision\": N}; GET /api/images/ID/decisions gives it")
    return revision


class _InMemoryParser(MultiPartParser):
    """Uploads stay in memory (bounded by the guard's size limit): a photo is personal data and
    must not be spooled to a temporary file outside OUTDIR."""

    spool_max_size = MAX_UPLOAD + 1


async def _form(request: Request, max_upload: int) -> dict[str, UploadFile | str]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ValueError("send multipart/form-data with the image in the field 'image'")
    parser = _InMemoryParser(request.headers, request.stream(), max_files=2, max_fields=4,
                             max_part_size=max_upload)
    parser.spool_max_size = max_upload + 1
    try:
        form = await parser.parse()
    except Exception as e:  # the parser's MultiPartException and malformed-body errors
        if type(e).__name__ in ("MultiPartException", "MultipartParseError"):
            raise ValueError(f"malformed multipart body ({e})") from e
        raise
    return dict(form.items())


def _file(form: dict[str, UploadFile | str], field: str) -> tuple[str, bytes]:
    part = form.get(field)
    if not isinstance(part, UploadFile):
        raise ValueError(f"missing the file field {field!r} (multipart/form-data)")
    part.file.seek(0)
    name = (part.filename or field).replace("/", "_").replace("\\", "_")[:200]
    return name, part.file.read()


async def _upload(request: Request, field: str, max_upload: int) -> tuple[str, bytes]:
    return _file(await _form(request, max_upload), field)
