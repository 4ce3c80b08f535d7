"""Detector families, one module each, and the registry of their names.

A detector is built once and called on many images; it holds no per-call state. Heavy
libraries are imported inside each factory so that only the chosen engines load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _yuface(**kw: Any) -> Any:
    from .faces import YuFaceDetector

    return YuFaceDetector(**kw)


def _rapidocr(**kw: Any) -> Any:
    from .text import RapidOCREngine

    return RapidOCREngine(**kw)


def _easyocr(**kw: Any) -> Any:
    from .easyocr_engine import EasyOCREngine

    return EasyOCREngine(**kw)


FACE_DETECTORS: dict[str, Callable[..., Any]] = {"yuface": _yuface}
TEXT_ENGINES: dict[str, Callable[..., Any]] = {"rapidocr": _rapidocr, "easyocr": _easyocr}

def check_text_engine(name: str) -> None:
    """Fail fast, before any image, when an engine's optional packages are missing (ModelError
    naming the pip install); worker processes would otherwise each fail on their own."""
    if name == "easyocr":
        from .easyocr_engine import require_extra

        require_extra()


#: What a user must know about an engine before trusting its output (CLI, reports, eval).
TEXT_ENGINE_WARNINGS: dict[str, str] = {
    "easyocr": "the easyocr engine reads English only (offline weights): Chinese text is not read, so "
               "Chinese names, addresses and other Chinese personal text will NOT be found or hidden; "
               "use --ocr rapidocr (the default) for Chinese",
}
