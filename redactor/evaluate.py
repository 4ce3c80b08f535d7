"""Measure what a redactor hides and spares on photos with ground-truth sidecars.

Sidecar format and rules (as in the shared corpus README): image ``X.jpg`` has ``X.jpg.json``
with ``regions``; a region must be hidden when it is not ``optional`` and its category is
``face`` or ``plate`` or its ``pii`` is not ``none``; it must be spared when it is not optional
and its ``pii`` is ``none``. Hidden: ≥70% of its area (polygon if given, else bbox) lies under
replaced pixels; spared: ≤30%.

Keys: ``face`` and ``plate`` (plates seen on cars), and ``text:<pii>`` for text lines
(``text:plate`` is a plate written as text). ``spared`` counts the must-spare lines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .errors import RedactorError

HIDDEN_AT = 0.70
SPARED_AT = 0.30
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}


@dataclass(frozen=True)
class Region:
    key: str  # "face", "plate", "text:<pii>"
    must: str  # "hide", "spare" or "" (optional: counts neither way)
    polygon: np.ndarray  # N x 2 float, pixels
    text: str = ""


@dataclass(frozen=True)
class Evaluation:
    images: int
    recall: dict[str, float]
    counts: dict[str, tuple[int, int]]  # key -> (hidden, must_hide); "spared" -> (spared, must_spare)
    pii_text_recall: float | None
    spared: float | None
    empty_image_area_replaced: float | None
    seconds_per_image: float
    worst: tuple[tuple[str, int, str], ...] = field(default=())  # (image, errors, why)

    def to_json(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "recall": {k: round(v, 4) for k, v in self.recall.items()},
            "pii_text_recall": None if self.pii_text_recall is None else round(self.pii_text_recall, 4),
            "spared": None if self.spared is None else round(self.spared, 4),
            "seconds_per_image": round(self.seconds_per_image, 3),
            "counts": {k: list(v) for k, v in self.counts.items()},
            "empty_image_area_replaced": self.empty_image_area_replaced,
            "worst": [list(w) for w in self.worst],
        }

    def format_text(self) -> str:
        lines = [f"{'category':14} {'recall':>7}  hidden/must"]
        for key, value in self.recall.items():
            hidden, must = self.counts[key]
            lines.append(f"{key:14} {value:7.3f}  {hidden}/{must}")
        fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
        sp = self.counts.get("spared", (0, 0))
        lines += [
            f"{'PII text':14} {fmt(self.pii_text_recall):>7}",
            f"{'spared':14} {fmt(self.spared):>7}  {sp[0]}/{sp[1]}",
            f"area replaced on images with nothing to hide: {fmt(self.empty_image_area_replaced)}",
            f"images: {self.images}, seconds per image: {self.seconds_per_image:.2f}",
        ]
        if self.worst:
            lines.append("worst images:")
            lines += [f"  {name}: {n} wrong ({why})" for name, n, why in self.worst]
        return "\n".join(lines)


def load_truth(sidecar: Path) -> tuple[tuple[int, int], list[Region]]:
    """(width, height) and regions of one sidecar; a bad sidecar is an error naming the key."""
    try:
        data = json.loads(sidecar.read_text("utf-8"))
        size = (int(data["width"]), int(data["height"]))
        regions = []
        for r in data["regions"]:
            category = r["category"]
            pii = r.get("pii", "face" if category == "face" else "none")
            key = category if category in ("face", "plate") else f"text:{pii}"
            if r.get("optional"):
                must = ""
            elif category in ("face", "plate") or pii != "none":
                must = "hide"
            else:
                must = "spare"
            pts = r.get("polygon") or _box(r["bbox"])
            regions.append(Region(key, must, np.asarray(pts, dtype=np.float64).reshape(-1, 2), r.get("text", "")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RedactorError(f"{sidecar}: not a valid ground-truth sidecar ({type(e).__name__}: {e})") from e
    return size, regions


def _box(b: list[float]) -> list[list[float]]:
    x0, y0, x1, y1 = b
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def coverage(mask: np.ndarray, polygon: np.ndarray) -> float:
    """Share of the polygon's pixels that are True in ``mask`` (rasterised in a local window)."""
    h, w = mask.shape
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 1
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        return 0.0
    local = np.zeros((cy1 - cy0, cx1 - cx0), np.uint8)
    cv2.fillPoly(local, [np.round(polygon - [cx0, cy0]).astype(np.int32)], 1)
    area = int(local.sum())
    return float(mask[cy0:cy1, cx0:cx1][local.astype(bool)].sum() / area) if area else 0.0


def find_images(corpus_dir: Path) -> list[Path]:
    """Images under ``corpus_dir`` (recursive) that have a sidecar ``NAME.json``."""
    return sorted(
        p for p in corpus_dir.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.with_name(p.name + ".json").is_file()
    )


def evaluate(corpus_dir: Path, redact: Callable[[Path], np.ndarray], *, misses_dir: Path | None = None,
             progress: Callable[[int, int, Path], None] | None = None) -> Evaluation:
    """Run ``redact`` (image path -> H×W bool mask of replaced pixels) on every image with a sidecar."""
    images = find_images(corpus_dir)
    tally: dict[str, list[int]] = {}
    empty_areas: list[float] = []
    worst: list[tuple[str, int, str]] = []
    seconds = 0.0
    misses_index: list[str] = []
    for n, image in enumerate(images, 1):
        size, regions = load_truth(image.with_name(image.name + ".json"))
        t = time.perf_counter()
        mask = np.asarray(redact(image), dtype=bool)
        seconds += time.perf_counter() - t
        if mask.shape != (size[1], size[0]):
            raise RedactorError(f"{image}: mask is {mask.shape[1]}x{mask.shape[0]} but the sidecar says "
                                f"{size[0]}x{size[1]}; orientation or size mismatch")
        wrong: list[tuple[Region, float, str]] = []
        for region in regions:
            if not region.must:
                continue
            cov = coverage(mask, region.polygon)
            key = region.key if region.must == "hide" else "spared"
            ok = cov >= HIDDEN_AT if region.must == "hide" else cov <= SPARED_AT
            counts = tally.setdefault(key, [0, 0])
            counts[0] += ok
            counts[1] += 1
            if not ok:
                wrong.append((region, cov, "missed" if region.must == "hide" else "overhidden"))
        if not any(r.must == "hide" for r in regions):
            empty_areas.append(float(mask.mean()))
        if wrong:
            kinds = sorted({f"{kind} {r.key}" for r, _, kind in wrong})
            worst.append((image.name, len(wrong), ", ".join(kinds[:4])))
            if misses_dir is not None:
                misses_index += _save_misses(image, mask, wrong, misses_dir)
        if progress:
            progress(n, len(images), image)
    if misses_dir is not None:
        misses_dir.mkdir(parents=True, exist_ok=True)
        (misses_dir / "index.tsv").write_text("image\tkind\tkey\tcoverage\ttext\n" + "".join(misses_index), "utf-8")
    return _summarise(len(images), tally, empty_areas, seconds, worst)


def _summarise(n: int, tally: dict[str, list[int]], empty: list[float], seconds: float,
               worst: list[tuple[str, int, str]]) -> Evaluation:
    hide_keys = sorted(k for k in tally if k != "spared")
    text_keys = [k for k in hide_keys if k.startswith("text:")]
    text_hidden = sum(tally[k][0] for k in text_keys)
    text_must = sum(tally[k][1] for k in text_keys)
    spared = tally.get("spared")
    return Evaluation(
        images=n,
        recall={k: tally[k][0] / tally[k][1] for k in hide_keys},
        counts={k: (v[0], v[1]) for k, v in tally.items()},
        pii_text_recall=text_hidden / text_must if text_must else None,
        spared=spared[0] / spared[1] if spared else None,
        empty_image_area_replaced=round(float(np.mean(empty)), 5) if empty else None,
        seconds_per_image=seconds / n if n else 0.0,
        worst=tuple(sorted(worst, key=lambda w: -w[1])[:5]),
    )


def _save_misses(image: Path, mask: np.ndarray, wrong: list[tuple[Region, float, str]], out: Path) -> list[str]:
    """A crop per wrong region: replaced pixels tinted red, the region outlined in green."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    rgb = np.asarray(Image.open(image).convert("RGB")).copy()
    rgb[mask] = (rgb[mask] * 0.5 + np.array([255, 0, 0]) * 0.5).astype(np.uint8)
    h, w = mask.shape
    rows = []
    for i, (region, cov, kind) in enumerate(wrong):
        x0, y0 = np.floor(region.polygon.min(axis=0)).astype(int)
        x1, y1 = np.ceil(region.polygon.max(axis=0)).astype(int)
        m = max(12, (y1 - y0) // 2)
        crop = rgb[max(0, y0 - m):min(h, y1 + m), max(0, x0 - m):min(w, x1 + m)].copy()
        poly = np.round(region.polygon - [max(0, x0 - m), max(0, y0 - m)]).astype(np.int32)
        cv2.polylines(crop, [poly], True, (0, 255, 0), 1)
        name = f"{image.stem}__{kind}__{region.key.replace(':', '-')}__{i}.png"
        Image.fromarray(crop).save(out / name)
        rows.append(f"{image.name}\t{kind}\t{region.key}\t{cov:.2f}\t{region.text}\n")
    return rows
