"""Documents and notes photographed sideways or upside down (issue 24): the lines are read the
right way up, on made-up cards drawn here."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redactor import Redactor
from redactor.detect.text import RapidOCREngine, TextOptions

LINES = ("Name: Chan Tai-man", "Tel: 9123 4567", "DOB 1984-07-21", "Flat B, 18/F", "Open every day")


def card() -> np.ndarray:
    img = Image.new("RGB", (720, 420), (245, 243, 236))
    draw, font = ImageDraw.Draw(img), ImageFont.load_default(size=34)
    for i, text in enumerate(LINES):
        draw.text((40, 30 + 76 * i), text, fill=(20, 20, 40), font=font)
    return np.asarray(img)


@pytest.fixture(scope="module")
def engine():
    return RapidOCREngine()


def _readings(engine: RapidOCREngine, rgb: np.ndarray) -> list[str]:
    quads = [q for q, _ in engine.detect(rgb)]
    return [t for t, _ in engine.read([engine.crop(rgb, q) for q in quads])]


def _squashed(texts) -> set[str]:
    return {"".join(t.split()).lower() for t in texts}


def test_lines_upside_down_are_read_the_right_way_up(engine):
    upright = _squashed(_readings(engine, card()))
    assert _squashed(LINES) <= upright, upright
    turned = _squashed(_readings(engine, np.ascontiguousarray(card()[::-1, ::-1])))
    assert _squashed(LINES) <= turned, turned


def test_without_the_orientation_classifier_upside_down_lines_are_nonsense():
    # What the classifier fixes (and so what the test above can catch when it breaks).
    plain = RapidOCREngine(TextOptions(upside_down=None))
    turned = _squashed(_readings(plain, np.ascontiguousarray(card()[::-1, ::-1])))
    assert len(_squashed(LINES) & turned) <= 1, turned


def test_upright_lines_are_read_once(engine, monkeypatch):
    # The classifier doubts few upright lines, and only those are read a second time.
    calls = []
    recognise = engine._recognise
    monkeypatch.setattr(engine, "_recognise", lambda crops: calls.append(len(crops)) or recognise(crops))
    rgb = card()
    engine.read([engine.crop(rgb, q) for q, _ in engine.detect(rgb)])
    assert calls[0] == len(LINES) and sum(calls[1:]) <= 1, calls


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_card_at_any_quarter_turn_hides_what_it_hides_upright(turns):
    redactor = Redactor()

    def hidden(rgb):
        return sorted(r.category for r in redactor.analyse(rgb).regions if r.kind == "text" and r.hidden)

    upright = hidden(card())
    assert {"name", "phone", "birthday", "address"} <= set(upright), upright
    assert hidden(np.ascontiguousarray(np.rot90(card(), k=-turns))) == upright
