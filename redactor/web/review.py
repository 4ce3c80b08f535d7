""":class:`ReviewSession` is the state of ``redactor review``: a queue of input files, analysed in a
background thread (the image the editor looks at first, then the next ones),
edited by the page, approved into OUTDIR. Every change is saved at once to ``STATE/KEY.json``
(status, revision, decisions with clear text, undo history), so a reload loses nothing and a
restart resumes: approved images stay approved; an image whose content changed since is analysed
again. STATE holds text read from the photos (personal data, never pixels), so it is kept out of
OUTDIR (the folder an editor hands on): ``$XDG_STATE_HOME/redactor/review/<hash of OUTDIR>/``
(``~/.local/state/...`` without XDG_STATE_HOME), folders 0700 and files 0600; ``purge`` deletes it.

Two rules keep OUTDIR true:

- Every edit and approval names the **revision** of the image the page showed; a different
  revision on the server (another tab, another editor, "hide everywhere" from another image)
  is refused with :class:`Conflict` (409 at the edge), so nothing is approved that was not shown.
- An output in OUTDIR is the image's current approved state or it is gone: the moment an
  approved image changes, its output, decisions and report are deleted (``withdrawn``), and
  the page is told to approve it again.

Images are addressed by an id drawn at random for each session (a page on another port cannot
guess it); state files are named by a hash of the output's place in OUTDIR.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import io
from ..batch import Job
from ..decisions import Decisions
from ..errors import RedactorError
from ..models import sha256_of
from ..pipeline import Failure
from ..types import Action, Category, Result
from ..workflow import decisions_path, write_rendered

if TYPE_CHECKING:
    from .service import Service

LEGACY_STATE_DIR = ".redactor-review"  # where versions up to 0.2 kept the state: inside OUTDIR
UNDO_DEPTH = 50
#: Images analysed together, their text recognised in one batch as `redact` does. 1: each image
#: is shown as soon as its own analysis is done. Measured on samples/ (3 and 9 images, 2 loaded
#: cores, server CPU-seconds): 4 after a first one alone saved nothing measurable (9 images:
#: 24.0 and 27.7 cpu-s against 27.0 one by one; 3 images: +0.3 cpu-s an image), while image 2
#: then waits for the whole chunk. Raise it where batched recognition pays (a GPU).
CHUNK = 1


class Conflict(Exception):
    """The page showed another revision of the image than the server holds: reload, then decide."""


def _normal(text: str) -> str:
    """Text compared by "hide every line with this text": NFKC, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass
class Item:
    """One image of the review queue (mutable; guarded by the session's lock)."""

    id: str
    key: str  # the state file's name: a hash of the output's place in OUTDIR
    job: Job
    status: str = "pending"  # pending, analysing, ready, approved, failed
    error: str = ""
    decisions: Decisions | None = None
    undo: list[Decisions] = field(default_factory=list)
    approved_at: str = ""
    revision: int = 0  # +1 for every change of decisions or status
    withdrawn: bool = False  # was approved, changed since: its output was deleted, approve again
    seen: bool = False  # the editor opened it in this session

    def summary(self) -> dict[str, Any]:
        d = self.decisions
        return {"id": self.id, "name": self.job.src.name, "path": str(self.job.src.name), "status": self.status,
                "error": self.error, "hidden": sum(r.hidden for r in d.regions) if d else 0,
                "regions": len(d.regions) if d else 0, "approved_at": self.approved_at,
                "revision": self.revision, "reapprove": self.withdrawn, "seen": self.seen,
                "kept_faces": sum(r.kind == "face" and not r.hidden for r in d.regions) if d else 0}


class ReviewSession:
    """The review queue over ``jobs`` (from batch.plan into OUTDIR); see the module docstring."""

    def __init__(self, jobs: list[Job], outdir: Path, service: Service, *, clear_text: bool = False,
                 state_dir: Path | None = None) -> None:
        self.outdir = outdir
        self.service = service
        self.clear_text = clear_text
        self.state_dir = state_dir or default_state_dir(outdir)
        self.moved_from = _prepare_state(self.state_dir, outdir / LEGACY_STATE_DIR)
        self.items = {i.id: i for i in (Item(secrets.token_urlsafe(12), _state_key(j, outdir), j) for j in jobs)}
        self.order = list(self.items)
        self.current: str | None = None  # the image the editor looks at: analysed first, resumed on
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        for item in self.items.values():
            self._restore(item)
        self._restore_current()

    # -- background analysis -----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.analyse_pending, name="redactor-review-analysis", daemon=True)
        self._thread.start()

    def analyse_pending(self) -> None:
        """Analyse every pending image (the background thread's work) in the order the editor will
        look at them: the one on screen first, then the ones after it, ``CHUNK`` at a time. Each
        image is shown as soon as its chunk is done."""
        while chunk := self._next_chunk(CHUNK):
            results = self.service.analyse_many([i.job.src for i in chunk], [str(i.job.src) for i in chunk])
            for item, d in zip(chunk, results, strict=True):
                with self._lock:
                    if isinstance(d, Failure):
                        item.status, item.error = "failed", str(d.error)
                    else:
                        item.decisions, item.status = d, "ready"
                        self._save(item)
                    item.revision += 1

    def _next_chunk(self, size: int) -> list[Item]:
        with self._lock:
            start = self.order.index(self.current) if self.current in self.items else 0
            looking = self.order[start:] + self.order[:start]
            chunk = [self.items[i] for i in looking if self.items[i].status == "pending"][:size]
            for item in chunk:
                item.status = "analysing"
            return chunk

    def progress(self) -> dict[str, Any]:
        with self._lock:
            items = [self.items[i].summary() for i in self.order]
        done = sum(i["status"] not in ("pending", "analysing") for i in items)
        failed = sum(i["status"] == "failed" for i in items)
        return {"items": items, "analysed": done, "total": len(items), "failed": failed,
                "approved": sum(i["status"] == "approved" for i in items),
                "to_approve": len(items) - failed, "reapprove": sum(i["reapprove"] for i in items),
                "resume": self.current, "state_dir": str(self.state_dir), "outdir": str(self.outdir)}

    # -- editing -----------------------------------------------------------------------------

    def item(self, iid: str) -> Item:
        try:
            return self.items[iid]
        except KeyError:
            raise LookupError(f"no image {iid!r} in this review") from None

    def decisions(self, iid: str) -> Decisions:
        item = self.item(iid)
        if item.decisions is None:
            if item.status == "failed":
                raise LookupError(f"{item.job.src.name} could not be analysed, so it has no decisions and nothing "
                                  f"is written for it: {item.error}")
            raise LookupError(f"{item.job.src.name} is not analysed yet ({item.status})")
        return item.decisions

    def open(self, iid: str) -> Item:
        """The editor opened ``iid``: analyse it next if pending, and resume on it after a restart."""
        with self._lock:
            item = self.item(iid)
            item.seen = True
            if self.current != iid:
                self.current = iid
                io.write_atomic(self.state_dir / "session.json", json.dumps({"current": item.key}).encode(), mode=0o600)
            return item

    def _check(self, item: Item, revision: int | None) -> None:
        if revision != item.revision:
            raise Conflict(f"{item.job.src.name} changed since this page showed it (revision {revision}, now "
                           f"{item.revision}: another tab, another editor, or 'hide everywhere' from another "
                           "image); nothing was changed. The page reloads it: look again, then decide")

    def edit(self, iid: str, change: Callable[[Decisions], Decisions], revision: int | None) -> Decisions:
        with self._lock:
            item = self.item(iid)
            self._check(item, revision)
            new = change(self.decisions(iid))
            self._push(item, new)
            return new

    def toggle(self, iid: str, rid: str, hidden: bool, revision: int | None) -> Decisions:
        return self.edit(iid, lambda d: d.with_hidden(rid, hidden), revision)

    def change(self, iid: str, rid: str, revision: int | None, *, category: Category | None = None,
               action: Action | None = None) -> Decisions:
        """Change a region's category and/or how it is hidden (fill, blur, pixelate)."""
        from ..decisions import now

        def changed(d: Decisions) -> Decisions:
            r = d.region(rid)
            new = replace(r, category=category or r.category, action=action or r.action, changed=now())
            return replace(d, regions=tuple(new if x.id == rid else x for x in d.regions))
        return self.edit(iid, changed, revision)

    def add_box(self, iid: str, box: tuple[float, float, float, float], category: Category,
                revision: int | None) -> tuple[Decisions, str]:
        action: Action = self.service.redactor.policy.actions[category]
        out: list[str] = []

        def add(d: Decisions) -> Decisions:
            new, rid = d.with_box(box, category, action)
            out.append(rid)
            return new
        return self.edit(iid, add, revision), out[0]

    def delete(self, iid: str, rid: str, revision: int | None) -> Decisions:
        return self.edit(iid, lambda d: d.without(rid), revision)

    def undo(self, iid: str, revision: int | None) -> Decisions:
        with self._lock:
            item = self.item(iid)
            self._check(item, revision)
            if not item.undo:
                raise LookupError(f"{item.job.src.name}: nothing to undo")
            self._withdraw(item)
            item.decisions = item.undo.pop()
            item.revision += 1
            self._save(item)
            return item.decisions

    def hide_everywhere(self, iid: str, rid: str, revision: int | None) -> int:
        """Hide every text region in the batch that reads like region ``rid``; returns how many changed.
        Approved images it changes are withdrawn (their outputs deleted) like any edited image."""
        with self._lock:
            self._check(self.item(iid), revision)
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
        self._withdraw(item)
        item.undo = [*item.undo, item.decisions][-UNDO_DEPTH:]
        item.decisions = new
        item.revision += 1
        self._save(item)

    def _withdraw(self, item: Item) -> None:
        """An approved image is about to change: delete its output first (then its decisions and
        report), each unlink atomic, so OUTDIR never holds a state the editor has left."""
        if item.status != "approved":
            return
        for path in (item.job.out, decisions_path(item.job), item.job.report):
            path.unlink(missing_ok=True)
        item.status, item.approved_at, item.withdrawn = "ready", "", True

    # -- output ------------------------------------------------------------------------------

    def render(self, iid: str) -> Result:
        item = self.item(iid)
        return self.service.render(item.job.src, self.decisions(iid), str(item.job.src))

    def approve(self, iid: str, revision: int | None) -> Path:
        """Write the output, its decisions and its report to OUTDIR (each atomically, report last),
        exactly as revision ``revision`` holds them. The lock is held throughout, so no edit can
        slip in between what is written and what is marked approved."""
        from ..decisions import now

        with self._lock:
            item = self.item(iid)
            self._check(item, revision)
            d = self.decisions(iid)
            result = self.service.render(item.job.src, d, str(item.job.src))
            out = write_rendered(item.job, result, d, clear_text=self.clear_text,
                                 decisions_to=decisions_path(item.job))
            item.status, item.approved_at, item.withdrawn = "approved", now(), False
            item.revision += 1
            self._save(item)
            return out

    # -- persistence -------------------------------------------------------------------------

    def _save(self, item: Item) -> None:
        assert item.decisions is not None
        state = {"status": item.status, "approved_at": item.approved_at, "revision": item.revision,
                 "withdrawn": item.withdrawn, "decisions": item.decisions.to_json(clear_text=True),
                 "undo": [u.to_json(clear_text=True) for u in item.undo]}
        io.write_atomic(self.state_dir / f"{item.key}.json", json.dumps(state, ensure_ascii=False).encode(),
                        mode=0o600)  # state holds text read from the photos

    def _restore(self, item: Item) -> None:
        path = self.state_dir / f"{item.key}.json"
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
        # Approved only while its output is there (a crash between withdrawing and saving).
        approved = state.get("status") == "approved" and item.job.out.is_file() and item.job.report.is_file()
        item.status = "approved" if approved else "ready"
        item.approved_at = str(state.get("approved_at") or "") if approved else ""
        item.withdrawn = bool(state.get("withdrawn")) or (state.get("status") == "approved" and not approved)
        item.revision = int(state.get("revision") or 0)

    def _restore_current(self) -> None:
        try:
            key = json.loads((self.state_dir / "session.json").read_bytes())["current"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        self.current = next((i.id for i in self.items.values() if i.key == key), None)


def default_state_dir(outdir: Path, base: Path | None = None) -> Path:
    """Where the review of ``outdir`` keeps its state: ``BASE/<hash of OUTDIR's absolute path>``,
    BASE by default ``$XDG_STATE_HOME/redactor/review`` (``~/.local/state/redactor/review``): out
    of OUTDIR, per user, and one folder per batch so ``purge`` deletes one batch's state only."""
    if base is None:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "redactor" / "review"
    return base / hashlib.sha256(str(outdir.resolve()).encode()).hexdigest()[:16]


def purge(state_dir: Path, outdir: Path) -> list[Path]:
    """Delete the review state of ``outdir`` (and a legacy OUTDIR/.redactor-review); returns what was deleted."""
    gone = []
    for d in (state_dir, outdir / LEGACY_STATE_DIR):
        if d.is_dir():
            shutil.rmtree(d)
            gone.append(d)
    return gone


def _prepare_state(state_dir: Path, legacy: Path) -> Path | None:
    """Make the state folder private (0700, files 0600) and move an old OUTDIR/.redactor-review
    into it (its files hold clear text inside the folder handed on); returns where it moved from."""
    old = os.umask(0o077)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    finally:
        os.umask(old)
    state_dir.chmod(0o700)
    for f in state_dir.glob("*.json"):
        f.chmod(0o600)
    if not legacy.is_dir():
        return None
    for f in legacy.glob("*.json"):
        target = state_dir / f.name
        if not target.exists():
            io.write_atomic(target, f.read_bytes(), mode=0o600)
    shutil.rmtree(legacy)
    return legacy


def _state_key(job: Job, outdir: Path) -> str:
    """A stable name for an image's state file, from the output's place in OUTDIR (the id the
    page sees is random per session instead)."""
    rel = job.out.relative_to(outdir).as_posix()
    return hashlib.sha256(rel.encode()).hexdigest()[:12]
