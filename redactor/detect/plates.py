"""Licence plates seen as objects: OpenCV's plate cascade proposes, OCR confirms.

No trained plate detector ships offline. The Haar cascade finds most plates but also fires
on ordinary text (122 hits on 23 plate-free images when measured), so a candidate is kept only
when OCR on the upscaled crop reads something the policy's plate patterns accept. Plates the
full-photo OCR already read are found by the text path; this path adds small plates it missed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ModelError
from ..models import model_path
from ..types import Quad

_MIN_SIZE = (24, 8)  # px (w, h): the cascade's window; plates in photos are larger


class CascadePlateDetector:
    """Plate candidates and their crops; the pipeline reads the crops with the text engine
    (batched with the text lines) and keeps a candidate only if the reading is a plate.
    Built once; no per-call state.

    Each call runs a cascade of its own, read from the verified file's text held here (1 ms):
    OpenCV's cascade keeps buffers for the largest photo it has seen, and over the shared real
    split one shared cascade held 0.37 GB of a batch worker for good (a fresh one: nothing left
    after the call)."""

    name = "plate-cascade+ocr"

    def __init__(self, *, crop_height: int = 64, max_side: int = 2400) -> None:
        self._xml = model_path("plate-cascade").read_text("utf-8")
        if self._cascade().empty():
            raise ModelError(f"{model_path('plate-cascade')}: OpenCV could not load the plate cascade; "
                             "reinstall opencv-python-headless (see models/manifest.toml)")
        self.crop_height = crop_height
        self.max_side = max_side

    def candidates(self, rgb: np.ndarray) -> list[Quad]:
        """Plate boxes, found on the photo shrunk to at most ``max_side`` (the cascade's image
        pyramid on a 48 MP photo took 13 s; plates stay well above its 24x8 px minimum)."""
        import cv2

        h, w = rgb.shape[:2]
        if w < _MIN_SIZE[0] or h < _MIN_SIZE[1]:
            return []  # a strip thinner than the smallest plate the cascade looks for holds none
        scale = min(1.0, self.max_side / max(h, w))
        size = (max(1, round(w * scale)), max(1, round(h * scale)))  # a 5000x1 strip stays >= 1 px high
        small = rgb if scale == 1.0 else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        found = self._cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3, minSize=_MIN_SIZE)
        return [Quad.from_box(x / scale, y / scale, (x + w) / scale, (y + h) / scale)
                for x, y, w, h in (found if len(found) else [])]

    def _cascade(self) -> Any:
        import cv2

        cascade = cv2.CascadeClassifier()
        stored = cv2.FileStorage(self._xml, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
        cascade.read(stored.getFirstTopLevelNode())
        return cascade

    def crop(self, rgb: np.ndarray, quad: Quad) -> np.ndarray:
        """The candidate with a margin (cascade boxes are tight), upscaled, in BGR for the recogniser."""
        import cv2

        x0, y0, x1, y1 = quad.bbox()
        mx, my = 0.1 * (x1 - x0), 0.2 * (y1 - y0)
        h, w = rgb.shape[:2]
        crop = rgb[max(0, int(y0 - my)):min(h, int(y1 + my)), max(0, int(x0 - mx)):min(w, int(x1 + mx))]
        scale = max(1.0, self.crop_height / max(1, crop.shape[0]))
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        return np.ascontiguousarray(crop[:, :, ::-1])
