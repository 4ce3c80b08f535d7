"""Fake detectors for tests that wire the pipeline without models: fixed lines, fixed faces."""

from pathlib import Path

import numpy as np

from redactor.types import Detection, Quad


class FakeText:
    """A text engine that finds ``lines`` ((quad, text) or (quad, text, reading confidence)) on
    any image and reads them back (confidence 0.95 unless given)."""

    def __init__(self, options=None, lines=()):
        self.lines = list(lines)

    def detect(self, rgb):
        return [(line[0], 0.9) for line in self.lines]

    def crop(self, rgb, quad):
        return np.zeros((8, 8, 3), np.uint8)

    def read(self, crops):
        read = [(line[1], line[2] if len(line) > 2 else 0.95) for line in self.lines]
        return [read[i % len(read)] for i in range(len(crops))]


class FakeFaces:
    """A face detector that finds ``faces`` ((quad, score) pairs) on any image."""

    def __init__(self, faces: list[tuple[Quad, float]]):
        self.faces = faces

    def __call__(self, rgb):
        return [Detection(kind="face", quad=q, score=s, detector="fake") for q, s in self.faces]


def written_in_home(home: Path) -> list[str]:
    """Files a run wrote under ``home`` other than redactor's own cache (jieba's tables, checked
    by sha256: redactor.models.derived; OpenVINO's compiled models: models.compile_cache), as
    paths relative to it."""
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if not p.is_dir())
    return [p for p in written if not p.startswith((".cache/redactor/jieba-tables-", ".cache/redactor/openvino/"))]
