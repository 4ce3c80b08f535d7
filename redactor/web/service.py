"""What the web app does, without HTTP: one Redactor behind a bounded queue, and a review session.

``Service`` holds the process's one :class:`Redactor` (models load once). Detection runs one
image at a time under a lock; requests beyond ``queue`` waiting or running are refused with
:class:`Busy` (503 + Retry-After at the edge) instead of piling up memory.

``ReviewSession`` is the state of ``redactor review``: a queue of input files, each analysed in a
background thread, edited by the page, approved into OUTDIR. Every change is saved at once to
``OUTDIR/.redactor-review/ID.json`` (status, decisions with clear text, undo history), so a reload
loses nothing and a restart resumes: approved images stay approved; an image whose content changed
since is analysed again. That folder holds text read from the photos (personal data), never pixels.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import io
from ..batch import Job
from ..decisions import Decisions
from ..errors import RedactorError
from ..models import sha256_of
from ..pipeline import Redactor, render_decisions
from ..types import Action, Category, Result
from ..workflow import decisions_path, write_rendered

STATE_DIR = ".redactor-review"
UNDO_DEPTH = 50
#: Formats a browser shows; the preview of any other output format is sent as PNG (same pixels).
BROWSER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "BMP": "image/bmp"}


class Busy(Exception):
    """The queue is full: try again later."""


class Service:
    """One Redactor per process, detection one image at a time, at most ``queue`` requests admitted."""

    def __init__(self, redactor: Redactor, *, queue: int = 4) -> None:
        self.redactor = redactor
        self.queue = queue
        self._pending = 0
        self._count = threading.Lock()
        self._work = threading.Lock()  # detectors are reused; one image at a time keeps memory flat

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        with self._count:
            if self._pending >= self.queue:
                raise Busy(f"{self._pending} requests are already queued (limit {self.queue}); retry shortly")
            self._pending += 1
        try:
            yield
        finally:
            with self._count:
                self._pending -= 1

    def analyse(self, image: Any, name: str) -> Decisions:
        with self._work, _named(name):
            return self.redactor.analyse(image, name=name)

    def redact(self, image: Any, name: str) -> Result:
        with self._work, _named(name):
            return self.redactor.redact(image, name=name)

    def render(self, image: Any, decisions: Decisions, name: str) -> Result:
        with _named(name):
            return render_decisions(image, decisions, name=name, max_pixels=self.redactor.max_pixels)


@contextlib.contextmanager
def _named(name: str) -> Iterator[None]:
    """Errors about uploaded bytes name the uploaded file, as the CLI's name the path."""
    try:
        yield
    except RedactorError as e:
        if "<bytes>" not in str(e):
            raise
        raise type(e)(str(e).replace("<bytes>", name)) from e


def encoded(result: Result, *, for_browser: bool = False) -> tuple[bytes, str]:
    """The output bytes as ``redact`` writes them, and their media type. ``for_browser``: a format
    browsers cannot show (TIFF, HEIF) is sent as PNG with the same pixels."""
    assert result.source is not None
    src = result.source
    fmt = io._OUTPUT_FORMAT.get(src.format, "PNG")
    if for_browser and fmt not in BROWSER_FORMATS:
        from dataclasses import replace

        src, fmt = replace(src, format="PNG"), "PNG"
    media = BROWSER_FORMATS.get(fmt, {"TIFF": "image/tiff", "HEIF": "image/heic"}.get(fmt, "application/octet-stream"))
    return io.encode(result.image, result.alpha, src), media


def _normal(text: str) -> str:
    """Text compared by "hide every line with this text": NFKC, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass
class Item:
    """One image of the review queue (mutable; guarded by the session's lock)."""

    id: str
    job: Job
    status: str = "pending"  # pending, analysing, ready, approved, failed
    error: str = ""
    decisions: Decisions | None = None
    undo: list[Decisions] = field(default_factory=list)
    approved_at: str = ""

    def summary(self) -> dict[str, Any]:
        d = self.decisions
        return {"id": self.id, "name": self.job.src.name, "path": str(self.job.src.name), "status": self.status,
                "error": self.error, "hidden": sum(r.hidden for r in d.regions) if d else 0,
                "regions": len(d.regions) if d else 0, "approved_at": self.approved_at}


class ReviewSession:
    """The review queue over ``jobs`` (from batch.plan into OUTDIR); see the module docstring."""

    def __init__(self, jobs: list[Job], outdir: Path, service: Service, *, clear_text: bool = False) -> None:
        self.outdir = outdir
        self.service = service
        self.clear_text = clear_text
        self.state_dir = outdir / STATE_DIR
        self.items = {i.id: i for i in (Item(_item_id(j, outdir), j) for j in jobs)}
        self.order = list(self.items)
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        for item in self.items.values():
            self._restore(item)

    # -- background analysis -----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.analyse_pending, name="redactor-review-analysis", daemon=True)
        self._thread.start()

    def analyse_pending(self) -> None:
        """Analyse every pending image in queue order (the background thread's work)."""
        for iid in self.order:
            item = self.items[iid]
            with self._lock:
                if item.status != "pending":
                    continue
                item.status = "analysing"
            try:
                d = self.service.analyse(item.job.src, str(item.job.src))
            except RedactorError as e:
                with self._lock:
                    item.status, item.error = "failed", str(e)
                continue
            with self._lock:
                item.decisions, item.status = d, "ready"
                self._save(item)

    def progress(self) -> dict[str, Any]:
        with self._lock:
            items = [self.items[i].summary() for i in self.order]
        done = sum(i["status"] not in ("pending", "analysing") for i in items)
        return {"items": items, "analysed": done, "total": len(items)}

    # -- editing -----------------------------------------------------------------------------

    def item(self, iid: str) -> Item:
        try:
            return self.items[iid]
        except KeyError:
            raise LookupError(f"no image {iid!r} in this review") from None

    def decisions(self, iid: str) -> Decisions:
        item = self.item(iid)
        if item.decisions is None:
            raise LookupError(f"{item.job.src.name} is not analysed yet ({item.status})")
        return item.decisions

    def edit(self, iid: str, change: Callable[[Decisions], Decisions]) -> Decisions:
        with self._lock:
            item = self.item(iid)
            new = change(self.decisions(iid))
            self._push(item, new)
            return new

    def toggle(self, iid: str, rid: str, hidden: bool) -> Decisions:
        return self.edit(iid, lambda d: d.with_hidden(rid, hidden))

    def add_box(self, iid: str, box: tuple[float, float, float, float], category: Category) -> tuple[Decisions, str]:
        action: Action = self.service.redactor.policy.actions[category]
        out: list[str] = []

        def add(d: Decisions) -> Decisions:
            new, rid = d.with_box(box, category, action)
            out.append(rid)
            return new
        return self.edit(iid, add), out[0]

    def delete(self, iid: str, rid: str) -> Decisions:
        return self.edit(iid, lambda d: d.without(rid))

    def undo(self, iid: str) -> Decisions:
        with self._lock:
            item = self.item(iid)
            if not item.undo:
                raise LookupError(f"{item.job.src.name}: nothing to undo")
            item.decisions = item.undo.pop()
            if item.status == "approved":
                item.status = "ready"
            self._save(item)
            return item.decisions

    def hide_everywhere(self, iid: str, rid: str) -> int:
        """Hide every text region in the batch that reads like region ``rid``; returns how many changed."""
        with self._lock:
            text = _normal(self.decisions(iid).region(rid).text)
            if not text:
                raise LookupError("this region has no text to match")
            changed = 0
            for item in self.items.values():
                d = item.decisions
                if d is None:
                    continue
                ids = [r.id for r in d.regions if r.kind == "text" and not r.hidden and _normal(r.text) == text]
                if ids:
                    new = d
                    for r in ids:
                        new = new.with_hidden(r, True)
                    self._push(item, new)
                    changed += len(ids)
            return changed

    def _push(self, item: Item, new: Decisions) -> None:
        assert item.decisions is not None
        item.undo = [*item.undo, item.decisions][-UNDO_DEPTH:]
        item.decisions = new
        if item.status == "approved":
            item.status = "ready"  # changed since approval: approve again to write it
        self._save(item)

    # -- output ------------------------------------------------------------------------------

    def render(self, iid: str) -> Result:
        item = self.item(iid)
        return self.service.render(item.job.src, self.decisions(iid), str(item.job.src))

    def approve(self, iid: str) -> Path:
        """Write the output, its decisions and its report to OUTDIR (each atomically, report last)."""
        with self._lock:
            item = self.item(iid)
            d = self.decisions(iid)
        result = self.service.render(item.job.src, d, str(item.job.src))
        out = write_rendered(item.job, result, d, clear_text=self.clear_text,
                             decisions_to=decisions_path(item.job))
        with self._lock:
            if item.decisions is d:  # not edited while the files were written
                from ..decisions import now

                item.status, item.approved_at = "approved", now()
                self._save(item)
        return out

    # -- persistence -------------------------------------------------------------------------

    def _save(self, item: Item) -> None:
        assert item.decisions is not None
        state = {"status": item.status, "approved_at": item.approved_at,
                 "decisions": item.decisions.to_json(clear_text=True),
                 "undo": [u.to_json(clear_text=True) for u in item.undo]}
        io.write_atomic(self.state_dir / f"{item.id}.json", json.dumps(state, ensure_ascii=False).encode())

    def _restore(self, item: Item) -> None:
        path = self.state_dir / f"{item.id}.json"
        if not path.is_file():
            return
        try:
            state = json.loads(path.read_bytes())
            d = Decisions.from_json(state["decisions"], where=str(path))
            undo = [Decisions.from_json(u, where=str(path)) for u in state.get("undo", [])]
        except (OSError, ValueError, KeyError, RedactorError):
            return  # unreadable state: analyse again
        try:
            current = sha256_of(item.job.src)
        except OSError:
            return
        if d.sha256 != current:
            return  # the input changed since: its old decisions do not apply
        item.decisions, item.undo = d, undo
        item.status = "approved" if state.get("status") == "approved" else "ready"
        item.approved_at = str(state.get("approved_at") or "")


def _item_id(job: Job, outdir: Path) -> str:
    """A stable id from the output's place in OUTDIR: pages address images by it, never by path."""
    rel = job.out.relative_to(outdir).as_posix()
    return hashlib.sha256(rel.encode()).hexdigest()[:12]
