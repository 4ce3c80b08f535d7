"""Measure what a redactor hides and spares on photos with ground-truth sidecars.

Sidecars (format in the shared corpus README): image ``X.jpg`` has ``X.jpg.json`` with
``width``, ``height`` and ``regions``; each region has a ``category`` (face, plate, text), a
``bbox`` ``[x0, y0, x1, y1]`` (pixels, x1/y1 exclusive), an optional tighter ``polygon`` and a
``pii`` type. Coordinates are pixels of the image as a viewer shows it (EXIF orientation applied).

What counts, per region:

- *must hide*: not ``optional``, and category face or plate, or ``pii`` other than ``none``;
- *must spare*: not ``optional`` and ``pii`` is ``none``;
- optional regions count neither way.

Hidden means at least 70% (``HIDDEN_AT``) of the region lies under replaced pixels; spared means
at most 30% (``SPARED_AT``). The region is its polygon when given, else its bbox, and a pixel
belongs to it when the pixel's centre lies inside (so a bbox ``[0, 0, 10, 10]`` is exactly
10x10 pixels, and a rotated text line is not inflated by the ring of pixels its outline touches,
which on a 15 px line would be ~15% of its area and would move the thresholds).

Keys of ``Evaluation.recall`` and ``Evaluation.counts``:

- ``face``: regions of category face; ``plate``: regions of category plate (plates on vehicles);
- ``text:<pii>`` for text lines: ``text:name``, ``text:role``, ``text:phone``, ``text:email``,
  ``text:address``, ``text:birthday``, ``text:handle``, ``text:plate`` (a plate number written
  as text, e.g. on a note), ``text:id``;
- ``spared`` (counts only): ``(spared, must_spare)`` over every must-spare region.

PII text recall pools every ``text:*`` key. Sidecars are read, and coverage computed, in truth.py.
"""

from __future__ import annotations

import math
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from .errors import RedactorError
from .truth import TEXT_PII, Region, Truth, coverage, find_images, load_truth

__all__ = ["HIDDEN_AT", "KEYS", "SPARED_AT", "Evaluation", "coverage", "evaluate", "find_images", "load_truth"]

HIDDEN_AT = 0.70  # share of a must-hide region under replaced pixels for it to count as hidden
SPARED_AT = 0.30  # share of a must-spare region under replaced pixels up to which it counts as spared
#: Report order of the recall keys.
KEYS = ("face", "plate", *(f"text:{p}" for p in TEXT_PII))
WORST = 5  # images listed in Evaluation.worst


@dataclass(frozen=True)
class Evaluation:
    """What a redactor hid and spared over a corpus. Rates are 0..1; None where nothing counted."""

    images: int
    recall: dict[str, float]  # key -> hidden / must_hide, only keys with >= 1 must-hide region, KEYS order
    counts: dict[str, tuple[int, int]]  # key -> (hidden, must_hide); "spared" -> (spared, must_spare)
    pii_text_recall: float | None  # pooled over every text:* key
    spared: float | None  # spared / must_spare
    empty_image_area_replaced: float | None  # mean share of pixels replaced on images with nothing to hide
    seconds_per_image: float  # wall time inside ``redact`` only, divided by images
    worst: tuple[tuple[str, int, str], ...] = ()  # (image, misses + wrongly hidden, why), worst first

    def to_json(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "recall": {k: round(v, 4) for k, v in self.recall.items()},
            "pii_text_recall": _round(self.pii_text_recall, 4),
            "spared": _round(self.spared, 4),
            "seconds_per_image": round(self.seconds_per_image, 3),
            "counts": {k: list(v) for k, v in self.counts.items()},
            "empty_image_area_replaced": _round(self.empty_image_area_replaced, 5),
            "worst": [list(w) for w in self.worst],
        }

    def format_text(self) -> str:
        rows = [f"{'key':14} {'recall':>7}  hidden/must"]
        for key, value in self.recall.items():
            hidden, must = self.counts[key]
            rows.append(f"{key:14} {value:7.3f}  {hidden}/{must}")
        text = [v for k, v in self.counts.items() if k.startswith("text:")]
        text_hidden, text_must = sum(h for h, _ in text), sum(m for _, m in text)
        spared = self.counts.get("spared", (0, 0))
        rows += [
            f"{'PII text':14} {_fmt(self.pii_text_recall):>7}  {text_hidden}/{text_must}",
            f"{'spared':14} {_fmt(self.spared):>7}  {spared[0]}/{spared[1]}",
            f"area replaced on images with nothing to hide: {_fmt(self.empty_image_area_replaced, 4)}",
            f"images: {self.images}, seconds per image: {self.seconds_per_image:.2f}",
        ]
        if self.worst:
            rows.append("worst images:")
            rows += [f"  {name}: {n} wrong ({why})" for name, n, why in self.worst]
        return "\n".join(rows)


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def _fmt(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


@dataclass(frozen=True, eq=False)
class _Wrong:
    region: Region
    coverage: float
    kind: Literal["missed", "overhidden"]


def evaluate(
    corpus_dir: Path,
    redact: Callable[[Path | np.ndarray], np.ndarray],
    *,
    misses_dir: Path | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
    perturb: str | None = None,
    images: list[Path] | None = None,
) -> Evaluation:
    """Run ``redact`` on every image under ``corpus_dir`` that has a sidecar and score its masks.

    ``redact(path)`` returns the H x W bool mask of the pixels it replaced, in the EXIF-corrected
    frame the sidecars use; a mask of another size is an error naming the image. With
    ``misses_dir``, every missed must-hide and every wrongly hidden must-spare region is saved as
    a crop (see ``_save_crops``) and listed in ``misses_dir/index.tsv``. ``progress(done, total,
    path)`` is called after each image.

    ``perturb`` (``NAME[:SEVERITY]``, see perturb.py): each image is decoded, put through that
    condition with its ground truth (regions through the same geometry; the seed is the image's
    name, so a run repeats exactly), and ``redact`` gets the pixels. A region the condition
    shrinks below one pixel counts neither way. ``images``: a subset of the corpus's images.
    """
    images = find_images(corpus_dir) if images is None else images
    if not images:
        raise RedactorError(f"{corpus_dir}: no images with a ground-truth sidecar (X.jpg + X.jpg.json) here")
    tally: dict[str, list[int]] = {}
    empty_areas: list[float] = []
    per_image: list[tuple[str, int, str]] = []
    index_rows: list[str] = []
    used_names: set[str] = set()
    seconds = 0.0
    if misses_dir is not None:
        misses_dir.mkdir(parents=True, exist_ok=True)
    for done, image in enumerate(images, 1):
        truth = load_truth(image.with_name(image.name + ".json"))
        name = image.relative_to(corpus_dir).as_posix()
        rgb = None
        if perturb is not None:
            rgb, truth = _perturbed(image, name, truth, perturb)
        t = time.perf_counter()
        mask = np.asarray(redact(image if rgb is None else rgb), dtype=bool)
        seconds += time.perf_counter() - t
        if mask.shape != (truth.height, truth.width):
            raise RedactorError(
                f"{image}: the mask is {'x'.join(map(str, mask.shape[::-1]))} (WxH) but the sidecar says "
                f"{truth.width}x{truth.height}; the image is rotated or resized relative to its ground truth")
        wrong = _score(image, mask, truth, tally, strict=perturb is None)
        if not any(r.must == "hide" for r in truth.regions):
            empty_areas.append(float(mask.mean()))
        if wrong:
            per_image.append((name, len(wrong), _why(wrong)))
            if misses_dir is not None:
                index_rows += _save_crops(image if rgb is None else rgb, name, mask, wrong, misses_dir, used_names)
        if progress is not None:
            progress(done, len(images), image)
    if misses_dir is not None:
        (misses_dir / "index.tsv").write_text(
            "file\timage\tkind\tkey\tcoverage\ttext\n" + "".join(index_rows), encoding="utf-8")
    return _summarise(len(images), tally, empty_areas, seconds, per_image)


def _perturbed(image: Path, name: str, truth: Truth, spec: str) -> tuple[np.ndarray, Truth]:
    """The decoded image and its truth under condition ``spec``, seeded by the image's name."""
    from . import perturb
    from .io import load

    rgb = load(image).rgb
    if rgb.shape[:2] != (truth.height, truth.width):
        raise RedactorError(f"{image}: decoded as {rgb.shape[1]}x{rgb.shape[0]}, but the sidecar says "
                            f"{truth.width}x{truth.height}")
    rgb, polygons = perturb.apply(spec, rgb, [r.polygon for r in truth.regions], seed=zlib.crc32(name.encode()))
    regions = tuple(replace(r, polygon=p) for r, p in zip(truth.regions, polygons, strict=True))
    return rgb, Truth(rgb.shape[1], rgb.shape[0], regions)


def _score(image: Path, mask: np.ndarray, truth: Truth, tally: dict[str, list[int]],
           strict: bool = True) -> list[_Wrong]:
    """Add each counted region to ``tally`` (key -> [ok, total]); return the ones that went wrong.
    Not ``strict``: a region covering no pixel (shrunk by a perturbation) is skipped, not an error."""
    wrong = []
    for region in truth.regions:
        if region.must == "optional":
            continue
        cov, area = coverage(mask, region.polygon)
        if not area and not strict:
            continue
        if not area:
            raise RedactorError(f"{image}: regions[{region.index}] covers no pixel of the "
                                f"{truth.width}x{truth.height} image; fix its bbox/polygon in the sidecar")
        ok = cov >= HIDDEN_AT if region.must == "hide" else cov <= SPARED_AT
        counts = tally.setdefault(region.key if region.must == "hide" else "spared", [0, 0])
        counts[0] += ok
        counts[1] += 1
        if not ok:
            wrong.append(_Wrong(region, cov, "missed" if region.must == "hide" else "overhidden"))
    return wrong


def _why(wrong: list[_Wrong]) -> str:
    """e.g. "missed text:name 2, face 1; overhidden 3"."""
    missed = Counter(w.region.key for w in wrong if w.kind == "missed")
    overhidden = sum(w.kind == "overhidden" for w in wrong)
    parts = []
    if missed:
        parts.append("missed " + ", ".join(f"{k} {n}" for k, n in missed.most_common(4)))
    if overhidden:
        parts.append(f"overhidden {overhidden}")
    return "; ".join(parts)


def _summarise(n: int, tally: dict[str, list[int]], empty: list[float], seconds: float,
               per_image: list[tuple[str, int, str]]) -> Evaluation:
    hide_keys = [k for k in KEYS if k in tally]
    text = [tally[k] for k in hide_keys if k.startswith("text:")]
    text_hidden, text_must = sum(h for h, _ in text), sum(m for _, m in text)
    spared = tally.get("spared")
    counts = {k: (tally[k][0], tally[k][1]) for k in hide_keys}
    if spared:
        counts["spared"] = (spared[0], spared[1])
    return Evaluation(
        images=n,
        recall={k: tally[k][0] / tally[k][1] for k in hide_keys},
        counts=counts,
        pii_text_recall=text_hidden / text_must if text_must else None,
        spared=spared[0] / spared[1] if spared else None,
        empty_image_area_replaced=float(np.mean(empty)) if empty else None,
        seconds_per_image=seconds / n,
        worst=tuple(sorted(per_image, key=lambda w: (-w[1], w[0]))[:WORST]),
    )


def _save_crops(image: Path | np.ndarray, name: str, mask: np.ndarray, wrong: list[_Wrong], out: Path,
                used: set[str]) -> list[str]:
    """One PNG per wrong region: the original pixels around it, replaced pixels tinted half red,
    the region outlined in green; small crops are enlarged (nearest neighbour) to be readable.

    Files are ``<image stem>__<missed|overhidden>__<key>__<n>.png`` (``:`` in the key becomes
    ``-``, which every file system accepts); an image in a subfolder gets the folder names as a
    prefix. Returns the index.tsv rows.
    """
    from PIL import Image

    from .io import load  # the same decoder and EXIF orientation as the pipeline

    rgb = image if isinstance(image, np.ndarray) else load(image).rgb
    if rgb.shape[:2] != mask.shape:
        raise RedactorError(f"{image}: decoded as {rgb.shape[1]}x{rgb.shape[0]}, but the mask is "
                            f"{mask.shape[1]}x{mask.shape[0]}")
    tinted = rgb.copy()
    tinted[mask] = rgb[mask] // 2 + np.array([127, 0, 0], dtype=np.uint8)
    stem = "_".join(Path(name).with_suffix("").parts)
    h, w = mask.shape
    rows = []
    for n, wr in enumerate(wrong):
        poly = wr.region.polygon
        x0, y0 = np.floor(poly.min(axis=0)).astype(int)
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int)
        margin = max(12, (y1 - y0) // 2)
        cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
        crop = tinted[cy0:min(h, y1 + margin), cx0:min(w, x1 + margin)]
        scale = int(min(8, max(1, math.ceil(120 / crop.shape[0]))))
        crop = np.ascontiguousarray(np.repeat(np.repeat(crop, scale, axis=0), scale, axis=1))
        pts = np.round((poly - [cx0, cy0]) * scale * 16).astype(np.int32)  # 4 fractional bits
        cv2.polylines(crop, [pts], True, (0, 255, 0), max(1, scale // 2), cv2.LINE_AA, shift=4)
        file = f"{stem}__{wr.kind}__{wr.region.key.replace(':', '-')}__{n}.png"
        while file in used:  # x.jpg and x.png side by side
            file = file.removesuffix(".png") + "_.png"
        used.add(file)
        Image.fromarray(crop).save(out / file)
        text = " ".join(wr.region.text.split())  # no tabs or newlines inside a TSV cell
        rows.append(f"{file}\t{name}\t{wr.kind}\t{wr.region.key}\t{wr.coverage:.3f}\t{text}\n")
    return rows
