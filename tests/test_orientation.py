"""Documents and notes photographed sideways or upside down (issue 24): the lines are read the
right way up, on made-up cards drawn here."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redactor import Redactor, orientation
from redactor.detect.text import RapidOCREngine, TextOptions
from redactor.types import Quad

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


# -- the photo's orientation, found once (redactor/orientation.py) ---------------------------


def test_quads_carried_upright_cover_the_same_pixels():
    rgb = np.zeros((60, 100, 3), np.uint8)
    rgb[10:20, 30:70] = 255  # a "line" 40 px long, 10 high
    line = Quad.from_box(30, 10, 70, 20)
    for k in range(4):
        turned = orientation.upright(rgb, k)
        moved = orientation.to_upright(line, k, (100, 60))
        x0, y0, x1, y1 = (round(v) for v in moved.bbox())
        assert turned[y0:y1, x0:x1].all() and turned.sum() == rgb.sum(), k
        assert np.allclose(orientation.to_photo(moved, k, (100, 60)).array(), line.array()), k


def test_a_line_of_a_turned_photo_is_cut_upright_from_the_photo_turned_upright():
    # A detector's quad starts at its top-left corner in the photo as taken; carried upright, it
    # starts at the line's own top-left, so its strip reads the right way up.
    rgb, line = card(), Quad.from_box(40, 30, 420, 72)
    strip = RapidOCREngine.crop(rgb, line)
    for clockwise in (1, 2, 3):
        photo = np.ascontiguousarray(np.rot90(rgb, k=-clockwise))
        seen = orientation.to_upright(line, -clockwise % 4, (rgb.shape[1], rgb.shape[0])).array()
        seen = Quad.from_array(np.roll(seen, -int(np.argmin(seen.sum(axis=1))), axis=0))
        moved = orientation.to_upright(seen, clockwise, (photo.shape[1], photo.shape[0]))
        again = RapidOCREngine.crop(orientation.upright(photo, clockwise), moved)
        # The same strip within a pixel's shift (the crop warps pixel centres, quads are continuous).
        assert again.shape == strip.shape, clockwise
        same, other_way = _differ(again, strip), _differ(again, strip[::-1, ::-1])
        assert same < 0.25 * other_way, (clockwise, same, other_way)


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    blur = lambda x: cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.0)  # noqa: E731
    return float(np.abs(blur(a) - blur(b)).mean())


def _lines(vertical: bool, n: int = 5) -> list[Quad]:
    return [Quad.from_box(40 * i, 0, 40 * i + 30, 300) if vertical else Quad.from_box(0, 40 * i, 300, 40 * i + 30)
            for i in range(n)]


def _scores(value: float):
    return lambda crops: [value] * len(crops)


@pytest.mark.parametrize(("vertical", "turned", "k"), [
    (False, 0.02, 0),   # upright lines across the photo
    (False, 0.98, 2),   # upside down: a half turn
    (True, 0.02, 1),    # down the photo and upright read top to bottom: it was turned clockwise
    (True, 0.98, 3),    # upside down read top to bottom: turned anticlockwise
    (True, 0.5, 0),     # the classifier unsure: as taken
])
def test_the_turn_follows_the_lines_and_the_classifier(vertical, turned, k):
    assert orientation.decide(_lines(vertical), lambda q: np.zeros((8, 8, 3), np.uint8), _scores(turned)) == k


def test_no_turn_without_agreement_or_evidence():
    crop = lambda q: np.zeros((8, 8, 3), np.uint8)  # noqa: E731
    mixed = _lines(True, 3) + _lines(False, 3)
    assert orientation.decide(mixed, crop, _scores(0.98)) == 0  # half the text each way
    assert orientation.decide(_lines(False, 1), crop, _scores(0.99)) == 0  # one line says nothing
    assert orientation.decide(_lines(False), crop, lambda crops: []) == 0  # no classifier
    # Two of five lines doubted (by length): no majority.
    assert orientation.decide(_lines(False), crop, lambda crops: [0.99, 0.99, 0.0, 0.0, 0.0]) == 0
    assert orientation.decide(_lines(False), crop, lambda crops: [0.99, 0.99, 0.99, 0.99, 0.0]) == 2


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_the_plate_detectors_see_a_turned_card_upright_and_regions_land_on_its_lines(turns, monkeypatch):
    redactor = Redactor()
    seen = []
    candidates = redactor._plates.candidates
    monkeypatch.setattr(redactor._plates, "candidates", lambda rgb: seen.append(rgb) or candidates(rgb))
    upright = {r.text: r.quad for r in redactor.analyse(card()).regions if r.kind == "text" and r.hidden}
    photo = np.ascontiguousarray(np.rot90(card(), k=-turns))
    seen.clear()
    turned = {r.text: r.quad for r in redactor.analyse(photo).regions if r.kind == "text" and r.hidden}
    # The photo turned upright (after a quarter turn, the photo as taken as well: see below).
    assert np.array_equal(seen[0], card()), "the plate cascade did not see the photo upright"
    assert upright.keys() == turned.keys()
    for text, quad in turned.items():  # each hidden line where that line is in the turned photo
        expected = orientation.to_photo(upright[text], turns, (photo.shape[1], photo.shape[0]))
        assert _overlap(quad, expected) > 0.8, (text, quad, expected)


def _overlap(a: Quad, b: Quad) -> float:
    """Intersection over union of two quads' boxes."""
    ax0, ay0, ax1, ay1 = a.bbox()
    bx0, by0, bx1, by1 = b.bbox()
    iw, ih = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    inter = max(0.0, iw) * max(0.0, ih)
    return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)


def test_after_a_quarter_turn_plates_are_looked_for_in_the_photo_as_taken_too(monkeypatch):
    # Vertical Chinese signs look to the line classifier like a photo turned clockwise: a wrong
    # quarter turn must not hide an upright plate from the plate detectors.
    redactor = Redactor()
    box = Quad.from_box(500, 300, 640, 340)
    seen = []

    def candidates(rgb):
        seen.append(rgb.shape)
        return [box] if np.array_equal(rgb, card()) else []

    monkeypatch.setattr(orientation, "decide", lambda *args: 1)
    monkeypatch.setattr(redactor._plates, "candidates", candidates)
    plates = [r for r in redactor.analyse(card()).regions if r.kind == "plate"]
    assert seen == [(720, 420, 3), (420, 720, 3)], seen  # the photo turned, then as taken
    assert len(plates) == 1, plates
    x0, y0, x1, y1 = plates[0].quad.bbox()  # back in the photo's frame, where the candidate was
    assert abs((x0 + x1) / 2 - 570) < 2 and abs((y0 + y1) / 2 - 320) < 2, plates[0].quad
