"""Fake detectors for tests that wire the pipeline without models: fixed lines, fixed faces."""

import numpy as np

from redactor.types import Detection, Quad


class FakeText:
    """A text engine that finds ``lines`` ((quad, text) pairs) on any image and reads them back."""

    def __init__(self, options=None, lines=()):
        self.lines = list(lines)

    def detect(self, rgb):
        return [(q, 0.9) for q, _ in self.lines]

    def crop(self, rgb, quad):
        return np.zeros((8, 8, 3), np.uint8)

    def read(self, crops):
        texts = [t for _, t in self.lines]
        return [(texts[i % len(texts)], 0.95) for i in range(len(crops))]


class FakeFaces:
    """A face detector that finds ``faces`` ((quad, score) pairs) on any image."""

    def __init__(self, faces: list[tuple[Quad, float]]):
        self.faces = faces

    def __call__(self, rgb):
        return [Detection(kind="face", quad=q, score=s, detector="fake") for q, s in self.faces]
