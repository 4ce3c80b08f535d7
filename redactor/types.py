"""Frozen types passed between the stages (load -> detect -> classify -> render -> write).

Coordinates: every point is (x, y) in pixels of the image *after* its EXIF orientation
has been applied (what a viewer shows), origin top-left, x to the right, y down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

#: Protected categories. ``face`` and ``plate`` are visual; the rest are kinds of text.
Category = Literal[
    "face", "plate", "name", "role", "phone", "email", "address", "birthday", "handle", "id", "custom",
    "unreadable",
]
CATEGORIES: tuple[Category, ...] = (
    "face", "plate", "name", "role", "phone", "email", "address", "birthday", "handle", "id", "custom",
    "unreadable",
)
TEXT_CATEGORIES: tuple[Category, ...] = tuple(c for c in CATEGORIES if c != "face")

Action = Literal["fill", "blur", "pixelate"]
ACTIONS: tuple[Action, ...] = ("fill", "blur", "pixelate")

Point = tuple[float, float]


@dataclass(frozen=True)
class Quad:
    """A quadrilateral, corners clockwise from top-left; rotated text is covered tightly."""

    points: tuple[Point, Point, Point, Point]

    @classmethod
    def from_box(cls, x0: float, y0: float, x1: float, y1: float) -> Quad:
        return cls(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))

    @classmethod
    def from_array(cls, pts: np.ndarray | list[list[float]]) -> Quad:
        a = np.asarray(pts, dtype=float).reshape(4, 2)
        return cls(tuple((float(x), float(y)) for x, y in a))  # type: ignore[arg-type]

    def array(self) -> np.ndarray:
        return np.asarray(self.points, dtype=np.float64)

    def bbox(self) -> tuple[float, float, float, float]:
        a = self.array()
        return float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 0].max()), float(a[:, 1].max())

    @property
    def height(self) -> float:
        """Length of the shorter side pair: the text height for a text line."""
        a = self.array()
        sides = [float(np.hypot(*(a[(i + 1) % 4] - a[i]))) for i in range(4)]
        return min((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)

    def padded(self, px: float) -> Quad:
        """Grow outwards by ``px`` pixels along each edge normal (corners move diagonally)."""
        if px <= 0:
            return self
        a = self.array()
        centre = a.mean(axis=0)
        out = []
        for i in range(4):
            prev_edge = a[i] - a[i - 1]
            next_edge = a[(i + 1) % 4] - a[i]
            out_dir = _unit(a[i] - centre)
            # Move along both edge normals that point away from the centre.
            move = np.zeros(2)
            for edge in (prev_edge, next_edge):
                n = _unit(np.array([edge[1], -edge[0]]))
                if np.dot(n, out_dir) < 0:
                    n = -n
                move += n * px
            out.append(a[i] + move)
        return Quad.from_array(np.array(out))

    def clipped(self, width: int, height: int) -> Quad:
        a = self.array()
        a[:, 0] = a[:, 0].clip(0, width)
        a[:, 1] = a[:, 1].clip(0, height)
        return Quad.from_array(a)

    def area(self) -> float:
        a = self.array()
        x, y = a[:, 0], a[:, 1]
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _unit(v: np.ndarray) -> np.ndarray:
    n = math.hypot(float(v[0]), float(v[1]))
    return v / n if n else v


@dataclass(frozen=True)
class Detection:
    """Something a detector found: a face, a text line, or a plate candidate."""

    kind: Literal["face", "text", "plate"]
    quad: Quad
    score: float  # detector confidence, 0..1
    detector: str  # e.g. "yuface", "rapidocr", "plate-cascade+ocr"
    text: str = ""  # recognised text (text lines and plates), empty for faces


@dataclass(frozen=True)
class Hit:
    """A protected category found inside one text string by a recognizer."""

    category: Category
    start: int  # character span in the text, end exclusive
    end: int
    score: float  # 0..1
    recognizer: str  # e.g. "email", "hk_phone", "context:姓名"


@dataclass(frozen=True)
class Finding:
    """A region that the policy says to hide, and how."""

    category: Category
    quad: Quad  # padded region that was replaced
    score: float
    action: Action
    detector: str
    recognizer: str = ""  # which recognizer/rule decided (text); "" for faces and visual plates
    text: str = ""  # clear text: personal data, only written to reports on explicit request


#: Why a detected face was hidden or kept (see redactor/identity.py):
#: "all" hidden because the policy hides every face; "protected" hidden, matched the protected gallery;
#: "allowed" kept, matched the allowed gallery; "unmatched" matched no gallery (hidden or kept by mode);
#: "encoding-failed" hidden because it could not be identified; "below-threshold" kept, score too low.
FaceRule = Literal["all", "protected", "allowed", "unmatched", "encoding-failed", "below-threshold"]


@dataclass(frozen=True)
class FaceDecision:
    """What the policy decided for one detected face, hidden or kept: reports list every face."""

    quad: Quad  # the detector's box, unpadded
    score: float  # detector confidence, 0..1
    detector: str
    hidden: bool
    rule: FaceRule
    name: str = ""  # the gallery person matched ("" when none)
    gallery: str = ""  # "protected" or "allowed" when a gallery decided, else ""
    distance: float | None = None  # encoding distance to the nearest gallery person; None when not compared


@dataclass(frozen=True, eq=False)
class Result:
    """The outcome for one image. ``image`` is a new array; the input is never modified."""

    name: str  # file path or a caller-supplied label
    image: np.ndarray  # H x W x 3 uint8 RGB, redacted
    mask: np.ndarray  # H x W bool, True where pixels were replaced
    findings: tuple[Finding, ...]
    detections: tuple[Detection, ...]  # everything detected, hidden or not
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    alpha: np.ndarray | None = None  # H x W uint8 transparency of the input, kept on output
    source: Source | None = None  # where the pixels came from; None for images made in memory
    faces: tuple[FaceDecision, ...] = ()  # every detected face, hidden or kept, and the rule that decided


@dataclass(frozen=True)
class Source:
    """What was read: enough to write the output in the same format and to resume a batch."""

    name: str  # path as given, or "<bytes>", "<PIL image>", "<array>"
    format: str  # Pillow format name of the input: "JPEG", "PNG", "WEBP", "TIFF", "HEIF", ...
    width: int  # after EXIF orientation is applied
    height: int
    icc_profile: bytes | None
    sha256: str | None  # of the input file bytes; None for arrays and PIL images
    orientation: int  # EXIF orientation tag of the input (1 if none)
    size: int | None = None  # input file size in bytes; None for arrays and PIL images
    bits: int = 8  # bits per channel the input stored; pixels (and outputs) are always 8-bit
