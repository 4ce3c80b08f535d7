"""The ground truth of an evaluation corpus: sidecars read and checked into :class:`Truth`, the
images that have one (:func:`find_images`), and the share of a region's pixels a mask covers
(:func:`coverage`). The format and what counts as must-hide or must-spare are in evaluate.py's
docstring, which defines the measure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import RedactorError
from .io import INPUT_SUFFIXES

__all__ = ["CATEGORIES", "PII_VALUES", "TEXT_PII", "Region", "Truth", "coverage", "find_images", "load_truth"]

CATEGORIES = ("face", "plate", "text")
TEXT_PII = ("name", "role", "phone", "email", "address", "birthday", "handle", "plate", "id")
PII_VALUES = frozenset((*TEXT_PII, "face", "none"))

Must = Literal["hide", "spare", "optional"]


@dataclass(frozen=True, eq=False)
class Region:
    """One annotated region of a sidecar."""

    index: int  # position in the sidecar's ``regions`` list
    category: str  # "face", "plate" or "text"
    pii: str  # "none", "face", or one of TEXT_PII
    key: str  # "face", "plate" or "text:<pii>" (see the module docstring)
    must: Must
    polygon: np.ndarray  # N x 2 float64, (x, y) pixels; the bbox's 4 corners when no polygon is given
    text: str = ""


@dataclass(frozen=True)
class Truth:
    """A sidecar: the image size it annotates and its regions."""

    width: int
    height: int
    regions: tuple[Region, ...]


def load_truth(sidecar: Path) -> Truth:
    """Read and check one sidecar; anything malformed is a RedactorError naming the file and key."""
    try:
        data = json.loads(sidecar.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RedactorError(f"{sidecar}: cannot read the sidecar as JSON ({e})") from e
    if not isinstance(data, dict):
        raise RedactorError(f"{sidecar}: the sidecar must be a JSON object with width, height and regions")
    width, height = (_positive_int(sidecar, data, k) for k in ("width", "height"))
    regions = data.get("regions")
    if not isinstance(regions, list):
        raise RedactorError(f"{sidecar}: key 'regions' must be a list")
    return Truth(width, height, tuple(_region(sidecar, i, r) for i, r in enumerate(regions)))


def _positive_int(sidecar: Path, data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise RedactorError(f"{sidecar}: key '{key}' must be a positive integer, not {value!r}")
    return value


def _region(sidecar: Path, i: int, r: Any) -> Region:
    where = f"{sidecar}: regions[{i}]"
    if not isinstance(r, dict):
        raise RedactorError(f"{where} must be an object")
    category = r.get("category")
    if category not in CATEGORIES:
        raise RedactorError(f"{where}.category must be one of {', '.join(CATEGORIES)}, not {category!r}")
    # Real-photo faces carry no pii; a plate is a plate whatever its pii says.
    pii = r.get("pii", category if category != "text" else None)
    if pii not in PII_VALUES or (category == "text" and pii == "face"):
        allowed = ", ".join(sorted(PII_VALUES - ({"face"} if category == "text" else set())))
        raise RedactorError(f"{where}.pii must be one of {allowed}, not {pii!r}")
    optional = r.get("optional", False)
    if not isinstance(optional, bool):
        raise RedactorError(f"{where}.optional must be true or false, not {optional!r}")
    bbox = _points(where, "bbox", r.get("bbox"), 2).reshape(4)
    if not (bbox[2] > bbox[0] and bbox[3] > bbox[1]):
        raise RedactorError(f"{where}.bbox must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0, "
                            f"not {bbox.tolist()}")
    x0, y0, x1, y1 = bbox
    polygon = (_points(where, "polygon", r["polygon"], 3) if r.get("polygon") is not None
               else np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    must: Must = "optional" if optional else "hide" if category != "text" or pii != "none" else "spare"
    text = r.get("text", "")
    return Region(i, category, pii, category if category != "text" else f"text:{pii}", must, polygon,
                  text if isinstance(text, str) else str(text))


def _points(where: str, key: str, value: Any, min_points: int) -> np.ndarray:
    """``value`` as an N x 2 float array; bbox (4 numbers) is read as 2 points."""
    try:
        a = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError) as e:
        raise RedactorError(f"{where}.{key} must be a list of numbers ({e})") from e
    if len(a) < min_points or (key == "bbox" and len(a) != 2) or not np.isfinite(a).all():
        raise RedactorError(f"{where}.{key} has the wrong shape or non-finite values: {value!r}")
    return a


def coverage(mask: np.ndarray, polygon: np.ndarray) -> tuple[float, int]:
    """(share of the polygon's pixels that are True in ``mask``, number of its pixels in the image).

    A pixel belongs to the polygon when its centre does (even-odd rule); only the polygon's
    bounding window is rasterised, row by row, so a region costs its own area, not the image's.
    Pixels outside the image do not count. The share is nan when no pixel centre is inside.
    """
    h, w = mask.shape
    x0 = max(0, math.floor(polygon[:, 0].min()))
    y0 = max(0, math.floor(polygon[:, 1].min()))
    x1 = min(w, math.ceil(polygon[:, 0].max()))
    y1 = min(h, math.ceil(polygon[:, 1].max()))
    if x1 <= x0 or y1 <= y0:
        return math.nan, 0
    inside = _inside(polygon, x0, y0, x1, y1)
    area = int(inside.sum())
    if not area:
        return math.nan, 0
    return float(np.count_nonzero(mask[y0:y1, x0:x1] & inside)) / area, area


def _inside(polygon: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Bool (y1-y0) x (x1-x0): pixel centres inside ``polygon`` (crossing number per edge)."""
    xs = np.arange(x0, x1) + 0.5
    ys = np.arange(y0, y1) + 0.5
    inside = np.zeros((len(ys), len(xs)), dtype=bool)
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (ay > ys) != (by > ys)  # the edge spans this row's centre line (never horizontal)
        if not crosses.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = ax + (ys - ay) * (bx - ax) / (by - ay)
        inside ^= crosses[:, None] & (xs[None, :] < x_at[:, None])
    return inside


def find_images(corpus_dir: Path) -> list[Path]:
    """Images under ``corpus_dir`` (recursively) that have a sidecar ``NAME.json``, sorted."""
    return sorted(
        p for p in corpus_dir.rglob("*")
        if p.suffix.lower() in INPUT_SUFFIXES and p.is_file() and p.with_name(p.name + ".json").is_file()
    )
