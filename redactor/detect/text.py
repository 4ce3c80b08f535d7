"""Text lines with PP-OCR (rapidocr's detection and recognition stages, ONNX Runtime).

We drive rapidocr's two stages ourselves instead of calling ``RapidOCR()``:
- its end-to-end call turns stage errors into empty results, and an empty result would let an
  image through unredacted; here any failure raises :class:`AnalysisError`;
- the pipeline batches recognition crops from many images through one model call;
- we build the ONNX Runtime sessions from the manifest-verified model files, so rapidocr never
  reaches its download path, and we choose the thread count per worker process.

Coordinates: quads in pixels of the RGB image passed in (EXIF-corrected).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AnalysisError
from ..models import model_path
from ..types import Quad


@dataclass(frozen=True)
class TextOptions:
    """Detection resolution and thresholds.

    ``max_side``: detection runs on the photo shrunk so its long side is at most this many
    pixels. PP-OCR's detector loses lines below ≈8 px high, so for 1600×1200 walls with
    13 px notes the full resolution is kept (see bench/README.md for the measurements).
    """

    max_side: int = 2048
    # Photos whose long side is under this are enlarged for detection, at most 2x: on a 904 px
    # car photo the detector missed a clear 25 px plate at 1x and found it at 2x.
    min_side: int = 1600
    box_thresh: float = 0.5  # DB box score below which a candidate line is dropped
    unclip_ratio: float = 1.6  # how far DB grows a line's core region to cover the glyphs
    rec_batch: int = 6  # recognition crops per model call (6: 1.3 s for 97 lines; 16: 1.7 s; 48: 3.6 s)
    # Crops are padded to at least this width (px at height 48). PP-OCR pads to 320; 160 made
    # recognition 26% faster on the synthetic walls (1.85 -> 1.37 s/img) at the same recall
    # (PII text 0.976 -> 0.978, spared 0.948 -> 0.946): 24 of 245 readings changed, some for the better.
    rec_min_width: int = 160
    threads: int = 0  # ONNX Runtime intra-op threads; 0 = ONNX Runtime's default (all cores)


_CROP_MARGIN = 4  # px around a line's window: cubic interpolation reads 2 px beyond a sample


class RapidOCREngine:
    """Text detection and recognition. Built once; safe to reuse across images."""

    name = "rapidocr"

    def __init__(self, options: TextOptions | None = None) -> None:
        from omegaconf import OmegaConf
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
                                            "rec_img_shape": [3, 48, opts.rec_min_width]})
        det_cfg.engine_cfg = rec_cfg.engine_cfg = cfg.EngineConfig.onnxruntime
        rec_cfg.font_path = None
        # Our own sessions from the manifest-verified model files: rapidocr never reaches its
        # download code, and we choose threads and memory (see _session).
        for stage_cfg, name in ((det_cfg, "ppocr-det"), (rec_cfg, "ppocr-rec")):
            stage_cfg._set_flag("allow_objects", True)
            stage_cfg.session = _session(model_path(name), opts.threads)
        # rapidocr annotates dict but reads its config as an OmegaConf DictConfig (attribute access).
        self._det = TextDetector(det_cfg)  # type: ignore[arg-type]
        self._rec = TextRecognizer(rec_cfg)  # type: ignore[arg-type]

    def detect(self, rgb: np.ndarray) -> list[tuple[Quad, float]]:
        """Line quads and detection scores, in reading order (top to bottom, left to right)."""
        import cv2

        up = min(2.0, self.options.min_side / max(rgb.shape[:2]))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # the models were trained on BGR
        if up > 1:
            bgr = cv2.resize(bgr, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
        try:
            out = self._det(bgr)
        except Exception as e:  # onnxruntime raises plain exceptions; turn any into a loud failure
            raise AnalysisError(f"text detection failed: {type(e).__name__}: {e}") from e
        if out.boxes is None or out.scores is None:
            return []
        scale = max(1.0, up)
        return [(Quad.from_array(np.asarray(b) / scale), float(s)) for b, s in zip(out.boxes, out.scores, strict=True)]

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
        """Recognise many line crops (from any number of images) in batches."""
        if not crops:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        try:
            out = self._rec(TextRecInput(img=crops))
        except Exception as e:
            raise AnalysisError(f"text recognition failed: {type(e).__name__}: {e}") from e
        if out.txts is None or len(out.txts) != len(crops):
            raise AnalysisError(f"text recognition returned {len(out.txts or ())} results for {len(crops)} lines")
        return [(t, float(s)) for t, s in zip(out.txts, out.scores, strict=True)]


def _session(path: object, threads: int) -> Any:
    """An ONNX Runtime CPU session on ``threads`` intra-op threads (0: ONNX Runtime's default).

    Detection and recognition allocate from one arena per process that grows by what is asked
    (ONNX Runtime's default arena per session grows in powers of two and keeps it). On the 46
    real photos in one process: peak RSS 1.58 GB against 1.72, same seconds.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3  # errors only; a failure still raises and fails the image
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    _register_shared_arena()
    so.add_session_config_entry("session.use_env_allocators", "1")
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


@functools.cache
def _register_shared_arena() -> None:
    """Once per process (ONNX Runtime refuses a second registration)."""
    import onnxruntime as ort

    info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    # max_mem 0 (no cap), extend strategy 1 (kSameAsRequested), default chunk sizes
    ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, 1, -1, -1))
