"""What to hide in one image, as data an editor can change: analyse -> decisions -> render.

A :class:`Decisions` lists **every** region the analysis saw, hidden or kept: faces (kept ones
too: under the threshold, or kept by a gallery rule), plates (candidates the OCR did not
confirm are kept), every text line (harmless ones are kept), and the boxes an editor drew.
Rendering hides exactly the regions marked ``hidden`` and runs no detector, so the same
decisions give the same bytes every time, and unedited decisions give what ``redact`` gives
(``Redactor.redact`` is analyse + render: one code path).

File format (schema ``redactor.decisions/1``, ``NAME.decisions.json``)::

    {"schema": "redactor.decisions/1",
     "input": {"name", "sha256", "size", "format", "width", "height"},
     "policy": {"source", "fingerprint", "fill_color"}, "ocr": {"engine"},
     "tool": {...}, "models": {...}, "analysed": ISO-8601 UTC,
     "regions": [{"id", "kind", "category", "polygon", "hidden", "action", "source",
                  "score", "detector", "recognizer", "text_masked" | "text", "changed",
                  faces only: "rule", "gallery", "person", "distance", "detected"}]}

- ``polygon``: the padded quadrilateral that is replaced when hidden, in pixels of the image
  after its EXIF orientation, written at full float precision (rounding would move edges by
  a pixel and break "same bytes as redact").
- ``kind``: face / plate / text / manual; ``source``: ``auto`` (the analysis) or ``editor``;
  ``changed``: when an editor last changed the region (null if never).
- Text is personal data: files hold ``text_masked`` unless written with ``clear_text``.
- The input's sha256 ties a file to its image: rendering another image with it is refused.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from . import __version__
from .errors import DecisionsError
from .models import versions
from .report import mask_text
from .types import ACTIONS, CATEGORIES, Action, Category, Detection, FaceDecision, Finding, Quad, Source

SCHEMA = "redactor.decisions/1"
SUFFIX = ".decisions.json"

Kind = Literal["face", "plate", "text", "manual"]
KINDS: tuple[Kind, ...] = ("face", "plate", "text", "manual")
Origin = Literal["auto", "editor"]


def now() -> str:
    """The current time, ISO 8601 in UTC to the second (what ``changed`` and ``analysed`` hold)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Region:
    """One region of the image, hidden or kept. ``quad`` is what is replaced when hidden."""

    id: str  # unique in its image: "face-1", "plate-2", "text-7", "box-1"
    kind: Kind
    category: Category
    quad: Quad  # padded, pixels of the EXIF-corrected image
    hidden: bool
    action: Action
    source: Origin = "auto"
    score: float = 1.0
    detector: str = ""
    recognizer: str = ""  # the recognizer or face rule that decided ("" when none did)
    text: str = ""  # clear text; "" for faces, boxes, and files written with masked text
    text_masked: str = ""
    changed: str | None = None  # when an editor last changed it
    # Faces only: the gallery decision (see redactor/identity.py) and the detector's unpadded box.
    rule: str = ""
    gallery: str = ""
    person: str = ""
    distance: float | None = None
    detected: Quad | None = None

    def finding(self) -> Finding:
        return Finding(category=self.category, quad=self.quad, score=self.score, action=self.action,
                       detector=self.detector, recognizer=self.recognizer, text=self.text)


@dataclass(frozen=True)
class Decisions:
    """Every region of one image and whether it is hidden; what ``render`` needs and nothing more."""

    name: str
    sha256: str | None  # of the input file bytes; None for arrays and PIL images
    size: int | None  # input file size in bytes
    format: str
    width: int  # after EXIF orientation
    height: int
    fill_color: tuple[int, int, int]
    regions: tuple[Region, ...]
    policy_source: str = "<default>"
    policy_fingerprint: str = ""
    ocr: str = "rapidocr"
    analysed: str = ""

    # -- reading -----------------------------------------------------------------------------

    def region(self, rid: str) -> Region:
        for r in self.regions:
            if r.id == rid:
                return r
        raise DecisionsError(f"{self.name}: no region {rid!r}")

    def findings(self) -> tuple[Finding, ...]:
        """The hidden regions, in render order."""
        return tuple(r.finding() for r in self.regions if r.hidden)

    def face_decisions(self) -> tuple[FaceDecision, ...]:
        """What the report's ``faces`` lists: every detected face, hidden or kept."""
        return tuple(
            FaceDecision(quad=r.detected or r.quad, score=r.score, detector=r.detector, hidden=r.hidden,
                         rule=cast(Any, r.rule or "all"), name=r.person, gallery=r.gallery, distance=r.distance)
            for r in self.regions if r.kind == "face" and r.source == "auto"
        )

    def detections(self) -> tuple[Detection, ...]:
        """Everything the analysis detected (not the editor's boxes)."""
        return tuple(
            Detection(kind=cast(Any, r.kind), quad=r.detected or r.quad, score=r.score, detector=r.detector,
                      text=r.text)
            for r in self.regions if r.source == "auto" and r.kind != "manual"
        )

    def check_input(self, source: Source) -> None:
        """Refuse an image that is not the one analysed (DecisionsError naming both)."""
        if self.sha256 is not None and source.sha256 != self.sha256:
            raise DecisionsError(
                f"{source.name}: its content (sha256 {str(source.sha256)[:12]}…) is not the image these decisions "
                f"were made for ({self.name}, sha256 {self.sha256[:12]}…); nothing was written. Analyse this "
                "image again (redactor analyse) or give the matching decisions file"
            )
        if (source.width, source.height) != (self.width, self.height):
            raise DecisionsError(
                f"{source.name}: {source.width}x{source.height} pixels, but the decisions were made for a "
                f"{self.width}x{self.height} image ({self.name}); nothing was written"
            )

    # -- editing (each returns new Decisions) ------------------------------------------------

    def with_hidden(self, rid: str, hidden: bool, *, when: str | None = None) -> Decisions:
        self.region(rid)
        return self._map(lambda r: replace(r, hidden=hidden, changed=when or now()) if r.id == rid else r)

    def with_box(self, box: tuple[float, float, float, float], category: Category, action: Action, *,
                 when: str | None = None) -> tuple[Decisions, str]:
        """Add an editor's box (hidden), clipped to the image; returns the new decisions and its id."""
        x0, y0, x1, y1 = box
        if not all(math.isfinite(v) for v in box):
            raise DecisionsError(f"{self.name}: a box needs four finite numbers, got {box}")
        x0, x1 = sorted((min(max(x0, 0.0), self.width), min(max(x1, 0.0), self.width)))
        y0, y1 = sorted((min(max(y0, 0.0), self.height), min(max(y1, 0.0), self.height)))
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise DecisionsError(f"{self.name}: the box {box} covers no pixel of the {self.width}x{self.height} image")
        if category not in CATEGORIES:
            raise DecisionsError(f"{self.name}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
        if action not in ACTIONS:
            raise DecisionsError(f"{self.name}: unknown action {action!r}; use one of {', '.join(ACTIONS)}")
        n = 1 + max((int(r.id.split("-")[1]) for r in self.regions if r.id.startswith("box-")), default=0)
        rid = f"box-{n}"
        region = Region(id=rid, kind="manual", category=category, quad=Quad.from_box(x0, y0, x1, y1), hidden=True,
                        action=action, source="editor", detector="editor", changed=when or now())
        return replace(self, regions=(*self.regions, region)), rid

    def without(self, rid: str) -> Decisions:
        """Delete an editor's box (the analysis's regions can be kept, not deleted)."""
        if self.region(rid).source != "editor":
            raise DecisionsError(f"{self.name}: {rid} was found by the analysis; keep it instead of deleting it")
        return replace(self, regions=tuple(r for r in self.regions if r.id != rid))

    def _map(self, f: Any) -> Decisions:
        return replace(self, regions=tuple(f(r) for r in self.regions))

    # -- JSON --------------------------------------------------------------------------------

    def to_json(self, *, clear_text: bool = False) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "input": {"name": self.name, "sha256": self.sha256, "size": self.size, "format": self.format,
                      "width": self.width, "height": self.height},
            "policy": {"source": self.policy_source, "fingerprint": self.policy_fingerprint,
                       "fill_color": list(self.fill_color)},
            "ocr": {"engine": self.ocr},
            "tool": {"name": "redactor", "version": __version__},
            "models": versions(),
            "analysed": self.analysed,
            "regions": [_region_json(r, clear_text) for r in self.regions],
        }

    def dumps(self, *, clear_text: bool = False) -> bytes:
        return (json.dumps(self.to_json(clear_text=clear_text), ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: Any, *, where: str = "<decisions>") -> Decisions:
        """Parse and validate; DecisionsError names the file and the field that is wrong."""
        try:
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError(f"not a decisions file (schema must be {SCHEMA!r})")
            inp, pol = data["input"], data["policy"]
            color = tuple(int(c) for c in pol["fill_color"])
            if len(color) != 3 or not all(0 <= c <= 255 for c in color):
                raise ValueError(f"policy.fill_color {pol['fill_color']!r} is not three integers 0-255")
            regions = tuple(_region_from(r, i) for i, r in enumerate(data["regions"]))
            ids = [r.id for r in regions]
            if len(set(ids)) != len(ids):
                raise ValueError("two regions have the same id")
            return cls(
                name=str(inp["name"]), sha256=inp.get("sha256"), size=inp.get("size"), format=str(inp["format"]),
                width=int(inp["width"]), height=int(inp["height"]), fill_color=cast(Any, color), regions=regions,
                policy_source=str(pol.get("source", "")), policy_fingerprint=str(pol.get("fingerprint", "")),
                ocr=str(data.get("ocr", {}).get("engine", "")), analysed=str(data.get("analysed", "")),
            )
        except (KeyError, TypeError, ValueError, IndexError) as e:
            what = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise DecisionsError(f"{where}: invalid decisions file ({what})") from e

    @classmethod
    def loads(cls, raw: bytes | str, *, where: str = "<decisions>") -> Decisions:
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise DecisionsError(f"{where}: not JSON ({e})") from e
        return cls.from_json(data, where=where)

    @classmethod
    def load(cls, path: Path) -> Decisions:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise DecisionsError(f"{path}: cannot read the decisions file ({e.strerror or e})") from e
        return cls.loads(raw, where=str(path))


def _region_json(r: Region, clear_text: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id, "kind": r.kind, "category": r.category,
        "polygon": [[x, y] for x, y in r.quad.points],  # full precision: see the module docstring
        "hidden": r.hidden, "action": r.action, "source": r.source, "score": r.score,
        "detector": r.detector, "recognizer": r.recognizer,
    }
    if clear_text and r.text:
        out["text"] = r.text
    if r.text or r.text_masked:
        out["text_masked"] = r.text_masked or mask_text(r.text)
    out["changed"] = r.changed
    if r.kind == "face" and r.source == "auto":
        out |= {"rule": r.rule, "gallery": r.gallery or None, "person": r.person or None, "distance": r.distance,
                "detected": [[x, y] for x, y in r.detected.points] if r.detected else None}
    return out


def _region_from(d: dict[str, Any], i: int) -> Region:
    def quad(points: Any, field: str) -> Quad:
        q = Quad.from_array(points)
        if not all(math.isfinite(v) for p in q.points for v in p):
            raise ValueError(f"regions[{i}].{field} has a number that is not finite")
        return q

    if d["kind"] not in KINDS:
        raise ValueError(f"regions[{i}].kind {d['kind']!r}; use one of {', '.join(KINDS)}")
    if d["category"] not in CATEGORIES:
        raise ValueError(f"regions[{i}].category {d['category']!r}; use one of {', '.join(CATEGORIES)}")
    if d["action"] not in ACTIONS:
        raise ValueError(f"regions[{i}].action {d['action']!r}; use one of {', '.join(ACTIONS)}")
    if d.get("source", "auto") not in ("auto", "editor"):
        raise ValueError(f"regions[{i}].source {d['source']!r}; use auto or editor")
    if not isinstance(d["hidden"], bool):
        raise ValueError(f"regions[{i}].hidden must be true or false")
    text = str(d.get("text") or "")
    return Region(
        id=str(d["id"]), kind=d["kind"], category=d["category"], quad=quad(d["polygon"], "polygon"),
        hidden=d["hidden"], action=d["action"], source=d.get("source", "auto"), score=float(d.get("score", 1.0)),
        detector=str(d.get("detector") or ""), recognizer=str(d.get("recognizer") or ""), text=text,
        text_masked=str(d.get("text_masked") or (mask_text(text) if text else "")), changed=d.get("changed"),
        rule=str(d.get("rule") or ""), gallery=str(d.get("gallery") or ""), person=str(d.get("person") or ""),
        distance=d.get("distance"), detected=quad(d["detected"], "detected") if d.get("detected") else None,
    )
