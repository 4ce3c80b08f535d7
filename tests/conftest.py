"""Shared fakes for the web tests: detectors that find fixed regions on a drawn "wall"."""

import numpy as np
import pytest
from fakes import FakeFaces, FakeText
from PIL import Image, ImageDraw

from redactor import Policy, Redactor
from redactor.detect import FACE_DETECTORS, TEXT_ENGINES
from redactor.types import Quad

# The drawn wall (320 x 240): a phone note, a slogan, a name the fake OCR misses, and a face.
PHONE = Quad.from_box(20, 20, 150, 44)
SLOGAN = Quad.from_box(20, 150, 200, 176)
MISSED_NAME = (200, 60, 300, 90)  # x0, y0, x1, y1: drawn text that no fake detector reports
FACE = Quad.from_box(240, 150, 290, 210)
#: A policy whose over-broad deny list hides the slogan: the editor must keep it.
POLICY = "[lists]\ndeny = ['Stand with']\n"


LINES = [(PHONE, "電話 9123 4567"), (SLOGAN, "Stand with Hong Kong")]


@pytest.fixture
def fake_engines(monkeypatch):
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(lines=LINES, **kw))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: FakeFaces([(FACE, 0.9)]))


def fake_redactor() -> Redactor:
    return Redactor(Policy.from_toml(POLICY), ocr="fake", faces="fake")


def review_of_two_walls(tmp_path):
    """A review session (fake detectors, not started) over two walls in tmp_path/in, approving
    into tmp_path/out, and its Service: what test_web.py and test_browser.py serve."""
    from redactor import batch
    from redactor.web.service import ReviewSession, Service

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir(exist_ok=True)
    draw_wall(src / "a.png", seed=1)
    draw_wall(src / "b.png", seed=2)
    service = Service(fake_redactor())
    return service, ReviewSession(batch.plan([src], out), out, service)


def draw_wall(path, seed=0):
    """A PNG (lossless, so kept pixels can be compared exactly) with coloured notes and text."""
    rng = np.random.default_rng(seed)
    base = rng.integers(150, 200, (240, 320, 3), dtype=np.uint8)
    im = Image.fromarray(base)
    d = ImageDraw.Draw(im)
    d.rectangle((15, 15, 155, 49), fill=(255, 236, 120))
    d.text((24, 24), "Tel 9123 4567", fill=(20, 20, 20))
    d.rectangle((195, 55, 305, 95), fill=(160, 220, 255))
    d.text((205, 68), "Chan Tai Man", fill=(20, 20, 20))
    d.rectangle((15, 145, 205, 181), fill=(255, 180, 200))
    d.text((24, 156), "Stand with Hong Kong", fill=(20, 20, 20))
    d.ellipse((245, 155, 285, 205), fill=(220, 170, 140))
    im.save(path)
    return path
