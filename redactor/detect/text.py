"""Text lines with PP-OCR (rapidocr's detection and recognition stages, on OpenVINO).

We drive rapidocr's two stages ourselves instead of calling ``RapidOCR()``:
- its end-to-end call turns stage errors into empty results, and an empty result would let an
  image through unredacted; here any failure raises :class:`AnalysisError`;
- the pipeline batches recognition crops from many images through one model call;
- we compile the models from the manifest-verified files, so rapidocr never reaches its
  download path, and we choose the thread count per worker process and the precision.

Camera-size photos: detection shrinks a photo to ``max_side``, and a 25 px line on a 6000 px
photo is 8 px there, under what the detector finds. A photo over ``max_side`` is therefore also
read in overlapping tiles at full resolution, and the lines of both passes are merged (see
:meth:`RapidOCREngine.detect`).

Coordinates: quads in pixels of the RGB image passed in (EXIF-corrected).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AnalysisError
from ..models import compile_cache, hidden, model_path
from ..types import Quad


@dataclass(frozen=True)
class TextOptions:
    """Detection resolution and thresholds.

    ``max_side``, ``max_pixels``: detection runs on the photo shrunk so its long side is at most
    ``max_side`` and its area at most ``max_pixels``. PP-OCR's detector loses lines below ≈8 px
    high, so for 1600×1200 walls with 13 px notes the full resolution is kept (see
    bench/README.md for the measurements).
    """

    max_side: int = 2048
    # Detection's memory grows with the pixels it sees: compiled for the shape, ≈0.12 GB a
    # megapixel above the worker (a 1600x1216 wall, 1.95 Mpx: 0.24 GB). 3.1 Mpx holds a 4:3
    # photo of max_side whole. At 2.1 (the cap with the dynamic-shape model, 0.3 GB a
    # megapixel) a phone-mix wall of 2.34 Mpx was tiled and lost a birthday line.
    max_pixels: int = 3_100_000
    # Photos whose long side is under this are enlarged for detection, at most 2x: on a 904 px
    # car photo the detector missed a clear 25 px plate at 1x and found it at 2x.
    min_side: int = 1600
    # DB box score below which a candidate line is dropped. rapidocr's default is 0.5; on blurred
    # and noisy photos the box scores of real lines sink (see ``sharpen``), and at 0.3 the
    # detector found 0.768 of the personal lines on "phone:2" walls against 0.730, with 2
    # more lines on 10 clean walls (685 -> 687) and the same found there.
    box_thresh: float = 0.3
    # Detection sees the photo sharpened (unsharp mask, Gaussian sigma px, amount): DB's
    # probability map spreads on blurred glyphs and falls apart on small blurred lines.
    # Personal lines found on 10 synthetic walls (with box_thresh 0.3): blur:3 0.962 -> 0.976,
    # phone:2 0.768 -> 0.896, phone:3 0.758 -> 0.874, clean 0.995 either way. Recognition reads
    # the unsharpened photo.
    sharpen: tuple[float, float] = (1.5, 1.0)
    unclip_ratio: float = 1.6  # how far DB grows a line's core region to cover the glyphs
    rec_batch: int = 6  # recognition crops per model call (6: 1.3 s for 97 lines; 16: 1.7 s; 48: 3.6 s)
    # Crops are padded to at least this width (px at height 48). PP-OCR pads to 320; 160 made
    # recognition 26% faster on the synthetic walls (1.85 -> 1.37 s/img) at the same recall
    # (PII text 0.976 -> 0.978, spared 0.948 -> 0.946): 24 of 245 readings changed, some for the better.
    rec_min_width: int = 160
    threads: int = 0  # inference threads per model call; 0 = OpenVINO's default (all cores)
    # OpenVINO inference precision of detection and of recognition: "bf16" (used only where the
    # CPU computes it natively) or "f32". f32 gives ONNX Runtime's quads and readings exactly on
    # every corpus line. bf16 is faster (detection 0.5x, recognition 0.6x the CPU) but moves
    # quads and readings: bf16 detection lost a birthday and an address line on the walls;
    # bf16 recognition kept every count on both splits but lost a plate and single text lines
    # under the phone mix (bench/README.md).
    precision: tuple[str, str] = ("f32", "f32")
    # Photos over max_side or max_pixels: full-resolution tiles of at most tile x tile px (within
    # max_pixels, so a tile does not raise the peak), overlapping by at least tile_overlap px
    # (see RapidOCREngine.detect).
    tile: int = 1440
    tile_overlap: int = 160
    # A line the orientation classifier (PP-OCR's text-line classifier: upright or turned 180°)
    # calls upside down with at least this confidence is read turned too, and the more confident
    # reading kept (see RapidOCREngine.read). None: no classifier (every line read once).
    upside_down: float | None = 0.9


#: Height (px, at the size detection ran) of a line quad that the whole-photo pass reliably finds.
#: DB's quads are ≈1.4x the glyphs' height, so this is ≈11 px text, above the ≈8 px where the
#: detector starts losing lines. Thinner lines are the tiles' job.
_WHOLE_PASS_MIN_LINE = 16


_CROP_MARGIN = 4  # px around a line's window: cubic interpolation reads 2 px beyond a sample


class RapidOCREngine:
    """Text detection and recognition. Built once; safe to reuse across images."""

    name = "rapidocr"

    def __init__(self, options: TextOptions | None = None) -> None:
        from omegaconf import OmegaConf
        from rapidocr.ch_ppocr_cls import TextClassifier
        from rapidocr.ch_ppocr_det import TextDetector
        from rapidocr.ch_ppocr_rec import TextRecognizer
        from rapidocr.main import DEFAULT_CFG_PATH
        from rapidocr.utils.log import logger
        from rapidocr.utils.parse_parameters import ParseParams

        logger.setLevel("WARNING")  # its INFO lines ("Using engine...") would drown the progress bar

        self.options = opts = options or TextOptions()
        cfg = ParseParams.load(DEFAULT_CFG_PATH)
        det_cfg = OmegaConf.merge(cfg.Det, {"limit_type": "max", "limit_side_len": opts.max_side,
                                            "box_thresh": opts.box_thresh, "unclip_ratio": opts.unclip_ratio})
        rec_cfg = OmegaConf.merge(cfg.Rec, {"rec_batch_num": opts.rec_batch,
                                            "rec_img_shape": [3, 48, opts.rec_min_width], "font_path": None})
        # rapidocr's stages run on our own sessions, compiled from the manifest-verified model
        # files: rapidocr never reaches its download code, and we choose threads and precision.
        # Detection runs compiled for each photo's shape, its buffers released after each call;
        # recognition's are small and reused by the next batch.
        det, rec = opts.precision
        self._det = _stage(TextDetector, det_cfg, _OpenVINOSession(model_path("ppocr-det"), opts.threads, det,
                                                                   static=True))
        self._rec = _stage(TextRecognizer, rec_cfg, _OpenVINOSession(model_path("ppocr-rec"), opts.threads, rec))
        det_input = _DetInput(self._det.get_preprocess())  # rapidocr builds its own afresh per photo
        self._det.get_preprocess = lambda: det_input
        self._cls = None
        if opts.upside_down is not None:
            cls_cfg = OmegaConf.merge(cfg.Cls, {"cls_batch_num": _CLS_BATCH, "cls_thresh": opts.upside_down})
            self._cls = _stage(TextClassifier, cls_cfg, _OpenVINOSession(model_path("ppocr-cls"), opts.threads, "f32"))

    def detect(self, rgb: np.ndarray) -> list[tuple[Quad, float]]:
        """Line quads and detection scores, in reading order (top to bottom, left to right).

        A photo within ``max_side`` and ``max_pixels`` is detected whole (small ones enlarged, at
        most 2x and within ``max_pixels``). A larger one gets two passes: the whole photo shrunk
        to fit finds the large lines, and tiles at full resolution find the small ones (on a
        6000x4000 photo of a wall, a name card's 20-25 px lines were 7-8 px in the shrunk photo:
        not found).
        """
        h, w = rgb.shape[:2]
        opts = self.options
        fit = min(opts.max_side / max(h, w), math.sqrt(opts.max_pixels / (h * w)))  # < 1: too large
        if fit < 1:
            return self._detect_tiled(rgb, fit)
        import cv2

        up = min(2.0, opts.min_side / max(h, w), fit)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # the models were trained on BGR
        if up > 1:
            bgr = cv2.resize(bgr, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
        scale = max(1.0, up)
        return [(Quad.from_array(b / scale), s) for b, s in self._run(bgr)]

    def _detect_tiled(self, rgb: np.ndarray, scale: float) -> list[tuple[Quad, float]]:
        """Both passes on a photo over ``max_side`` or ``max_pixels``, their lines merged; the
        whole-photo pass sees it shrunk by ``scale`` to fit both.

        The whole-photo pass (shrunk by area averaging, which keeps thin strokes that bilinear
        shrinking skips) finds every line at least ``_WHOLE_PASS_MIN_LINE`` px high there:
        ``_WHOLE_PASS_MIN_LINE / scale`` px in the photo. The tiles overlap by at least that
        much, so each thinner line lies whole across its height in some tile; a tile keeps only
        its lines under half the overlap (larger ones are the whole pass's, and a tile cut
        through big letters would offer parts of them). A line longer than a tile is found in
        pieces, one per tile; pieces of one line, and a line found by both passes, become one
        quad (:func:`_merge_same_lines`). Memory: one tile's pixels at a time, never a copy of
        the whole photo.
        """
        import cv2

        h, w = rgb.shape[:2]
        opts = self.options
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        back = np.array([w / size[0], h / size[1]])
        found = [(Quad.from_array(b * back), s)
                 for b, s in self._run(np.ascontiguousarray(small[:, :, ::-1]))]
        overlap = max(opts.tile_overlap, math.ceil(_WHOLE_PASS_MIN_LINE / scale))
        tile = max(opts.tile, 2 * overlap)
        for y0, y1 in _spans(h, tile, overlap):
            for x0, x1 in _spans(w, tile, overlap):
                part = np.ascontiguousarray(rgb[y0:y1, x0:x1, ::-1])
                if _flat(part):
                    continue
                for b, s in self._run(part):
                    quad = Quad.from_array(b + (x0, y0))
                    if quad.height < overlap / 2:
                        found.append((quad, s))
        merged = _merge_same_lines(found)
        return sorted(merged, key=lambda qs: (qs[0].bbox()[1], qs[0].bbox()[0]))

    def _run(self, bgr: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """The detector on one BGR image: corner arrays (4x2, its pixels) and scores."""
        try:
            out = self._det(_sharpened(bgr, *self.options.sharpen))
        except Exception as e:  # the runtime raises plain exceptions; turn any into a loud failure
            raise AnalysisError(f"text detection failed: {type(e).__name__}: {e}") from e
        if out.boxes is None or out.scores is None:
            return []
        return [(np.asarray(b, np.float64).reshape(4, 2), float(s))
                for b, s in zip(out.boxes, out.scores, strict=True)]

    @staticmethod
    def crop(rgb: np.ndarray, quad: Quad) -> np.ndarray:
        """The line straightened into a horizontal strip (BGR, as the recogniser expects).

        The warp reads only a window around the quad. Given the whole photo as a BGR view
        (negative stride), OpenCV copied all of it for every line: 10 ms a line, 0.7 s a wall;
        from the window, 0.4 ms. The window has a margin for the cubic kernel and reaches the
        photo's edges where the quad does. On 796 corpus lines, 784 strips came out identical to
        a warp of the whole photo and 12 differed by 1-5 grey levels (the shifted transform rounds
        differently).
        """
        from rapidocr.utils.process_img import get_rotate_crop_image

        pts = quad.array().astype(np.float32)
        h, w = rgb.shape[:2]
        x0, y0 = (max(0, int(np.floor(v)) - _CROP_MARGIN) for v in pts.min(axis=0))
        x1, y1 = (int(np.ceil(v)) + _CROP_MARGIN for v in pts.max(axis=0))
        window = np.ascontiguousarray(rgb[y0:min(h, y1), x0:min(w, x1), ::-1])
        if window.size == 0:  # a quad wholly outside the photo: warp the photo, as before
            return get_rotate_crop_image(np.ascontiguousarray(rgb[:, :, ::-1]), pts)
        return get_rotate_crop_image(window, pts - np.array([x0, y0], np.float32))

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognise many line crops (from any number of images) in batches.

        Lines upside down (a card or a note photographed the wrong way up; a line turned a
        quarter is a vertical quad, which the pipeline reads both ways) read as nonsense. The
        orientation classifier looks at every crop (≈1 ms a line against ≈13 for reading it);
        a crop it calls turned 180° is read turned as well, and the more confident reading is
        kept, so a classifier's mistake on an upright line costs one extra reading, not the
        line. Upright photos pay the classifier and the few lines it doubts.
        """
        if not crops:
            return []
        texts = self._recognise(crops)
        doubtful = self._upside_down(crops)
        if doubtful:
            import cv2

            again = self._recognise([cv2.rotate(crops[i], cv2.ROTATE_180) for i in doubtful])
            for i, reading in zip(doubtful, again, strict=True):
                if reading[1] > texts[i][1]:
                    texts[i] = reading
        return texts

    def _upside_down(self, crops: list[np.ndarray]) -> list[int]:
        """Indices of the crops the orientation classifier calls turned 180°, confidently."""
        if self._cls is None:
            return []
        assert self.options.upside_down is not None
        return [i for i, p in enumerate(self.turned_scores(crops)) if p >= self.options.upside_down]

    def turned_scores(self, crops: list[np.ndarray]) -> list[float]:
        """Per crop, how sure the orientation classifier is that it is turned 180° (0..1); an
        engine built without the classifier (``upside_down=None``) returns no scores."""
        if self._cls is None or not crops:
            return []
        # The classifier sees a 48x192 strip: a long line squashed into it (an MRZ line of 44
        # characters) loses its letters' shapes. Such a line is shown whole and in pieces of that
        # shape, and the line is doubted when any of them is (a piece of "<<<<" filler looks the same both ways).
        pieces, owner = [], []
        for i, crop in enumerate(crops):
            for piece in _pieces(crop):
                pieces.append(piece)
                owner.append(i)
        try:
            out = self._cls(pieces)
        except Exception as e:
            raise AnalysisError(f"text orientation failed: {type(e).__name__}: {e}") from e
        if out.cls_res is None or len(out.cls_res) != len(pieces):
            raise AnalysisError(f"text orientation returned {len(out.cls_res or ())} results for {len(pieces)} lines")
        turned = [0.0] * len(crops)
        for i, (label, score) in zip(owner, out.cls_res, strict=True):
            turned[i] = max(turned[i], float(score) if label == "180" else 1 - float(score))
        return turned

    def _recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        from rapidocr.ch_ppocr_rec import TextRecInput

        try:
            out = self._rec(TextRecInput(img=crops))
        except Exception as e:
            raise AnalysisError(f"text recognition failed: {type(e).__name__}: {e}") from e
        if out.txts is None or len(out.txts) != len(crops):
            raise AnalysisError(f"text recognition returned {len(out.txts or ())} results for {len(crops)} lines")
        return [(t, float(s)) for t, s in zip(out.txts, out.scores, strict=True)]


#: Width / height of the orientation classifier's input (48x192); longer lines go in pieces, at most this many.
_CLS_ASPECT, _CLS_PIECES = 4, 4


def _pieces(crop: np.ndarray) -> list[np.ndarray]:
    """A line crop whole, and a long one also as strips of the orientation classifier's shape
    spread evenly along it (the whole line squashed is sometimes the surer view: a 10 px
    "Date of birth Date de naissance" turned 180° was doubted whole, 0.95, and by no piece)."""
    h, w = crop.shape[:2]
    n = min(_CLS_PIECES, math.ceil(w / max(1, _CLS_ASPECT * h)))
    if n <= 1:
        return [crop]
    width = _CLS_ASPECT * h
    return [crop, *(crop[:, x:x + width] for x in (round(k * (w - width) / (n - 1)) for k in range(n)))]


def _sharpened(bgr: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """Unsharp mask: ``bgr + amount * (bgr - blur(bgr, sigma))``, saturated to 0-255."""
    import cv2

    if not amount:
        return bgr
    return cv2.addWeighted(bgr, 1 + amount, cv2.GaussianBlur(bgr, (0, 0), sigma), -amount, 0)


def _spans(n: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of the fewest tiles of at most ``tile`` px that cover ``n`` px with
    neighbours overlapping by at least ``overlap`` px; all of one size, spread evenly (tiles
    of the largest size would overlap more than needed: 77 Mpx read for a 48 Mpx photo, not 58)."""
    if n <= tile:
        return [(0, n)]
    count = math.ceil((n - overlap) / (tile - overlap))
    size = math.ceil((n + (count - 1) * overlap) / count)
    return [(start, start + size) for start in (round(i * (n - size) / (count - 1)) for i in range(count))]


#: A tile whose neighbouring pixels nowhere differ by this many grey levels holds no text the
#: detector can find: 24 px lines 6 grey levels darker than their background were not found,
#: 10 levels darker were (all 5 lines). A plain wall or sky costs ≈10 ms instead of a detection.
_FLAT_CONTRAST = 8


def _flat(bgr: np.ndarray) -> bool:
    import cv2

    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return int(cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).max()) < _FLAT_CONTRAST


def _merge_same_lines(found: list[tuple[Quad, float]]) -> list[tuple[Quad, float]]:
    """One quad per text line: the pieces of a line cut by tile edges, and a line found by
    both passes, joined into the minimum-area rectangle around them (with the best score).

    Two quads are one line when they run the same way (within 10°), are about as high
    (within 1.5x), overlap across the line by over half the thinner one's height and touch or
    overlap along it. Lines stacked one above the other do not overlap across by that much,
    and a quad around several lines (the shrunk photo can blur a paragraph into one) is much
    higher than each: both are kept, and each is read.
    """
    if not found:
        return []
    pts = [q.array() for q, _ in found]
    boxes = np.array([q.bbox() for q, _ in found])
    # Candidate pairs: boxes that touch (vectorised; the exact test below is per pair).
    touch = ((boxes[:, None, 0] <= boxes[None, :, 2]) & (boxes[None, :, 0] <= boxes[:, None, 2])
             & (boxes[:, None, 1] <= boxes[None, :, 3]) & (boxes[None, :, 1] <= boxes[:, None, 3]))
    parent = list(range(len(found)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(touch, 1)), strict=True):
        if _same_line(pts[i], pts[j]):
            parent[root(int(i))] = root(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(found)):
        groups.setdefault(root(i), []).append(i)
    return [found[g[0]] if len(g) == 1
            else (_around(np.concatenate([pts[i] for i in g])), max(found[i][1] for i in g))
            for g in groups.values()]


def _axes(a: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A quad's direction (unit vector along its longer side), length and height."""
    e1, e2 = a[1] - a[0], a[2] - a[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    along, length, height = (e1, l1, l2) if l1 >= l2 else (e2, l2, l1)
    return along / max(length, 1e-9), length, height


def _same_line(a: np.ndarray, b: np.ndarray) -> bool:
    ua, la, ha = _axes(a)
    ub, lb, hb = _axes(b)
    if max(ha, hb) > 1.5 * max(1.0, min(ha, hb)):
        return False
    # A quad about as long as it is high (one character) has no direction of its own.
    u = ua if la >= 1.2 * ha or lb < 1.2 * hb else ub
    if min(la / max(ha, 1e-9), lb / max(hb, 1e-9)) >= 1.2 and abs(float(ua @ ub)) < math.cos(math.radians(10)):
        return False
    n = np.array([-u[1], u[0]])
    across = min((a @ n).max(), (b @ n).max()) - max((a @ n).min(), (b @ n).min())
    along = min((a @ u).max(), (b @ u).max()) - max((a @ u).min(), (b @ u).min())
    return bool(across > 0.5 * min(ha, hb) and along >= 0)


def _around(pts: np.ndarray) -> Quad:
    """The minimum-area rectangle around points, corners clockwise from the top-left."""
    import cv2

    box = cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32))).astype(np.float64)
    centre = box.mean(axis=0)
    box = box[np.argsort(np.arctan2(box[:, 1] - centre[1], box[:, 0] - centre[0]))]
    return Quad.from_array(np.roll(box, -int(np.argmin(box.sum(axis=1))), axis=0))


class _DetInput:
    """rapidocr's detection input (its DetPreProcess: resized to multiples of 32, ``(x / 255 -
    mean) / std`` in float64, transposed to 1x3xHxW and cast to float32) computed from a table of
    the 256 values per channel, made by the same operations: the same array bit for bit, in
    0.03 CPU-s on a wall instead of 0.24, and C-contiguous (OpenVINO copied rapidocr's
    transposed array once more)."""

    def __init__(self, rapidocr_input: Any) -> None:
        self._resize = rapidocr_input.resize
        values = np.arange(256, dtype=np.float32)[:, None]
        self._table = ((values * rapidocr_input.scale - rapidocr_input.mean) / rapidocr_input.std).astype(np.float32)

    def __call__(self, bgr: np.ndarray) -> np.ndarray | None:
        resized = self._resize(bgr)
        if resized is None:
            return None
        h, w = resized.shape[:2]
        out = np.empty((1, 3, h, w), np.float32)
        for c in range(3):
            np.take(self._table[:, c], resized[:, :, c], out=out[0, c])
        return out


_CLS_BATCH = 16  # orientation crops per model call (48x192 each: small)

#: Compiled input shapes a static session keeps; each holds ≈50 MB between calls.
_STATIC_SHAPES = 2


def import_openvino() -> Any:
    """openvino without its telemetry. ``import openvino`` imports its model converter, which,
    with the openvino-telemetry package present (openvino's wheel requires it), writes a client
    id under ~/intel and sends a Google Analytics event from a background thread on every import.
    A redaction tool must not report where and when it runs; with that package hidden, the
    converter takes its own stub, as where the package is not installed."""
    with hidden("openvino_telemetry"):
        import openvino
    return openvino


class _OpenVINOSession:
    """One model on OpenVINO's CPU plugin, as rapidocr's stages call it: ``session(batch)`` and,
    for recognition, the character list embedded in the model's metadata.

    OpenVINO, not ONNX Runtime: on this project's CPU (one thread, PP-OCRv6 small) detection of
    a 1600x1216 wall took 0.52 CPU-s in f32 against ONNX Runtime's 1.74, with the same quads and
    readings on every corpus line (bench/README.md). bf16 runs where the CPU computes it
    natively (AVX-512 BF16 or AMX) and ``precision`` asks for it; elsewhere f32.

    ``static`` (detection): the model is compiled for each input shape it meets, and its buffers
    are released after each call. On a 1600x1216 wall that took the call's peak from 0.63 to
    0.24 GB above the worker and the time from 0.87 to 0.77 CPU-s, against the dynamic model; a
    new shape costs a compile (0.15-0.27 CPU-s), which photos of one camera pay once.
    """

    def __init__(self, path: object, threads: int, precision: str, static: bool = False) -> None:
        core = import_openvino().Core()
        if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            precision = "f32"
        # No pinning: two worker processes on one thread each would both be pinned to core 0.
        # No cache of compiled shapes: every line batch has its own width, and with the default
        # cache a worker grew by ≈1 GB over 200 recognition calls (0.72 GB flat without; the
        # same speed on the corpus).
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY",
                                  "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False, "CPU_RUNTIME_CACHE_CAPACITY": 0}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self._core, self._config = core, config
        self._model = core.read_model(str(path))
        self._static = static
        # Input shape -> (compiled model, its request); the dynamic model under the key None.
        self._compiled: dict[tuple[int, ...] | None, tuple[Any, Any]] = {}
        if not static:
            self._compiled_for(None)  # fail at start-up, not on the first image

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        compiled, request = self._compiled_for(batch.shape if self._static else None)
        # The output tensor is reused by the next call: copy it out.
        out = np.array(request.infer({0: batch})[0])
        if self._static:
            compiled.release_memory()
        return out

    def _compiled_for(self, shape: tuple[int, ...] | None) -> tuple[Any, Any]:
        """The model compiled for ``shape`` (None: the dynamic model). The last
        ``_STATIC_SHAPES`` shapes are kept (a tiled photo alternates two: the whole photo
        shrunk, and its tiles, all of one size)."""
        if shape not in self._compiled:
            while len(self._compiled) >= _STATIC_SHAPES:
                del self._compiled[next(iter(self._compiled))]
            if shape is not None:
                self._model.reshape(list(shape))
            # The dynamic model (shape None) through the cache of compiled models; not each shape.
            config = self._config if shape is not None else {**self._config, **compile_cache()}
            compiled = self._core.compile_model(self._model, "CPU", config)
            self._compiled[shape] = compiled, compiled.create_infer_request()
        return self._compiled[shape]

    def _metadata(self) -> dict[str, str]:
        info = self._model.get_rt_info()  # an ONNX model's metadata_props, as OpenVINO keeps them
        return {k: v.value for k, v in info["framework"].items()} if "framework" in info else {}

    def have_key(self, key: str = "character") -> bool:
        return key in self._metadata()

    def get_character_list(self, key: str = "character") -> list[str]:
        return self._metadata()[key].splitlines()


def _stage(cls: type, cfg: Any, session: _OpenVINOSession) -> Any:
    """rapidocr's stage ``cls`` (pre- and post-processing) around our ``session``: rapidocr
    builds its own engine from ``cfg.engine_type`` in the constructor, so it is handed ours."""
    import sys
    from unittest import mock

    with mock.patch.object(sys.modules[cls.__module__], "get_engine", lambda _type: lambda _cfg: session):
        return cls(cfg)  # rapidocr annotates dict but reads an OmegaConf DictConfig
