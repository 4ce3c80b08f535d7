"""What the web app does, without HTTP: one Redactor behind a bounded queue, and a review session.

``Service`` holds the process's one :class:`Redactor` (models load once). Detection runs one
image at a time under a lock; requests beyond ``queue`` waiting or running are refused with
:class:`Busy` (503 + Retry-After at the edge) instead of piling up memory.

The review session (``redactor review``) is in review.py; its names are re-exported here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .. import io
from ..decisions import Decisions
from ..errors import RedactorError
from ..pipeline import Failure, Redactor, render_decisions
from ..types import Result
from .review import Conflict, ReviewSession, default_state_dir, purge

__all__ = ["Busy", "Conflict", "ReviewSession", "Service", "default_state_dir", "encoded", "purge"]

#: Formats a browser shows; the preview of any other output format is sent as PNG (same pixels).
BROWSER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "BMP": "image/bmp"}


class Busy(Exception):
    """The queue is full: try again later."""


class Service:
    """One Redactor per process, detection one image at a time, at most ``queue`` requests admitted."""

    def __init__(self, redactor: Redactor, *, queue: int = 4) -> None:
        self.redactor = redactor
        self.queue = queue
        self._pending = 0
        self._count = threading.Lock()
        self._work = threading.Lock()  # detectors are reused; one image at a time keeps memory flat

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        with self._count:
            if self._pending >= self.queue:
                raise Busy(f"{self._pending} requests are already queued (limit {self.queue}); retry shortly")
            self._pending += 1
        try:
            yield
        finally:
            with self._count:
                self._pending -= 1

    def analyse(self, image: Any, name: str) -> Decisions:
        with self._work, _named(name):
            return self.redactor.analyse(image, name=name)

    def analyse_many(self, images: list[Any], names: list[str]) -> list[Decisions | Failure]:
        with self._work:
            return list(self.redactor.analyse_many(images, names=names, chunk=len(images)))

    def redact(self, image: Any, name: str) -> Result:
        with self._work, _named(name):
            return self.redactor.redact(image, name=name)

    def render(self, image: Any, decisions: Decisions, name: str) -> Result:
        with _named(name):
            return render_decisions(image, decisions, name=name, max_pixels=self.redactor.max_pixels)


@contextlib.contextmanager
def _named(name: str) -> Iterator[None]:
    """Errors about uploaded bytes name the uploaded file, as the CLI's name the path."""
    try:
        yield
    except RedactorError as e:
        if "<bytes>" not in str(e):
            raise
        raise type(e)(str(e).replace("<bytes>", name)) from e


def encoded(result: Result, *, for_browser: bool = False) -> tuple[bytes, str]:
    """The output bytes as ``redact`` writes them, and their media type. ``for_browser``: a format
    browsers cannot show (TIFF, HEIF) is sent as PNG with the same pixels."""
    assert result.source is not None
    src = result.source
    fmt = io._OUTPUT_FORMAT.get(src.format, "PNG")
    if for_browser and fmt not in BROWSER_FORMATS:
        src, fmt = replace(src, format="PNG"), "PNG"
    media = BROWSER_FORMATS.get(fmt, {"TIFF": "image/tiff", "HEIF": "image/heic"}.get(fmt, "application/octet-stream"))
    return io.encode(result.image, result.alpha, src), media
