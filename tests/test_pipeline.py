"""Pipeline wiring with fake detectors: what gets hidden, and failing closed."""

import threading

import fakes
import numpy as np
import pytest

from redactor import AnalysisError, Failure, Policy, Redactor
from redactor.detect import FACE_DETECTORS, TEXT_ENGINES
from redactor.detect.text import TextOptions
from redactor.layout import group_lines
from redactor.types import Detection, Quad

PHONE = Quad.from_box(10, 10, 110, 30)
SLOGAN = Quad.from_box(10, 100, 150, 130)
FACE = Quad.from_box(150, 20, 190, 70)


class FakeText(fakes.FakeText):
    """Reads a phone line and a slogan; detection raises on images whose top-left pixel is 13."""

    def __init__(self, options=None, lines=None):
        super().__init__(lines=lines or [(PHONE, "電話 9123 4567"), (SLOGAN, "香港加油")])

    def detect(self, rgb):
        if rgb[0, 0, 0] == 13:
            raise RuntimeError("detector exploded")
        return super().detect(rgb)


@pytest.fixture
def redactor(monkeypatch):
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(**kw))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: fakes.FakeFaces([(FACE, 0.9)]))
    return Redactor(ocr="fake", faces="fake")


def photo(value=120):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (160, 220, 3), dtype=np.uint8)
    img[0, 0] = value
    return img


def test_phone_filled_slogan_spared_face_blurred(redactor):
    img = photo()
    result = redactor.redact(img)
    cats = sorted(f.category for f in result.findings)
    assert cats == ["face", "phone"]
    assert result.mask[15:25, 20:100].all(), "phone line not covered"
    assert (result.image[15:25, 20:100] == 0).all(), "phone not filled solid"
    assert not result.mask[105:125, 20:140].any(), "slogan hidden"
    assert result.mask[30:60, 160:180].all(), "face not hidden"
    face_px = result.image[30:60, 160:180].astype(float)
    assert face_px.std() < img[30:60, 160:180].std() * 0.5
    assert np.array_equal(img, photo()), "input modified"
    phone = next(f for f in result.findings if f.category == "phone")
    assert phone.action == "fill" and phone.text == "電話 9123 4567" and phone.detector == "fake"


def test_policy_without_phone_leaves_it(monkeypatch):
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(**kw))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: fakes.FakeFaces([(FACE, 0.9)]))
    r = Redactor(Policy.from_toml("protect = ['face', 'name']"), ocr="fake", faces="fake")
    assert [f.category for f in r.redact(photo()).findings] == ["face"]


SMUDGE = Quad.from_box(10, 40, 110, 60)


@pytest.mark.parametrize("lines, protect, hidden", [
    # a line read with 0.4 confidence beside a phone number: fail closed
    ([(PHONE, "電話 9123 4567"), (SMUDGE, "Ch?n K", 0.4)], None, True),
    # the same line in a photo with no personal text: kept (a distant sign, a texture)
    ([(SLOGAN, "香港加油"), (SMUDGE, "Ch?n K", 0.4)], None, False),
    # read with confidence and harmless: kept
    ([(PHONE, "電話 9123 4567"), (SMUDGE, "Ch?n K", 0.9)], None, False),
    # a policy that does not protect "unreadable"
    ([(PHONE, "電話 9123 4567"), (SMUDGE, "Ch?n K", 0.4)], "protect = ['phone']", False),
])
def test_unreadable_line_hidden_where_personal_text_was_found(monkeypatch, lines, protect, hidden):
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(lines=lines))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: fakes.FakeFaces([]))
    policy = Policy.from_toml(protect) if protect else None
    decisions = Redactor(policy, ocr="fake", faces="fake").analyse(photo())
    smudge = next(r for r in decisions.regions if r.text == "Ch?n K")
    assert smudge.hidden is hidden
    assert smudge.category == ("unreadable" if hidden else "custom")
    if hidden:
        assert smudge.recognizer == "unreadable" and smudge.score == pytest.approx(0.6)


class ExplodingFaces(fakes.FakeFaces):
    """Finds FACE; raises on images whose top-left pixel is 17, and notes the thread it ran on."""

    def __init__(self):
        super().__init__([(FACE, 0.9)])
        self.threads: list[str] = []

    def __call__(self, rgb):
        self.threads.append(threading.current_thread().name)
        if rgb[0, 0, 0] == 17:
            raise RuntimeError("face detector exploded")
        return super().__call__(rgb)


class ThreadNotingText(FakeText):
    threads: list[str] = []

    def detect(self, rgb):
        self.threads.append(threading.current_thread().name)
        return super().detect(rgb)


@pytest.mark.parametrize("threads, beside", [(0, True), (1, False)])
def test_failing_detector_fails_closed_and_batch_goes_on(monkeypatch, threads, beside):
    """Text detection runs on a second thread beside face detection when the engine may use every
    core (threads 0), in turn on one thread (a batch worker's threads 1); either way a failure of
    either detector is that image's failure, and the next image is redacted."""
    faces, text = ExplodingFaces(), ThreadNotingText()
    text.threads = []
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: text)
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: faces)
    redactor = Redactor(ocr="fake", faces="fake", text_options=TextOptions(threads=threads))
    out = list(redactor.redact_many([photo(), photo(13), photo(17), photo()], names=["a", "b", "c", "d"]))
    assert [isinstance(o, Failure) for o in out] == [False, True, True, False]
    assert "b" in str(out[1].error) and "detector exploded" in str(out[1].error)
    assert "c" in str(out[2].error) and "face detector exploded" in str(out[2].error)
    assert [r.findings[0].category for r in (out[0], out[3])] == ["face", "face"]
    assert set(faces.threads) == {threading.main_thread().name}
    assert (threading.main_thread().name not in text.threads) is beside
    with pytest.raises(AnalysisError, match="detector exploded"):
        redactor.redact(photo(13), name="bad.jpg")


def test_recognition_returning_too_few_results_is_an_error(monkeypatch, redactor):
    monkeypatch.setattr(redactor._text, "read", lambda crops: [("x", 1.0)] * (len(crops) - 1))
    with pytest.raises(AnalysisError):
        redactor.redact(photo())


def test_group_lines_joins_a_note_and_separates_far_lines():
    note = [Quad.from_box(0, 0, 100, 14), Quad.from_box(0, 18, 90, 32), Quad.from_box(5, 36, 80, 50)]
    far = [Quad.from_box(300, 0, 400, 14), Quad.from_box(0, 200, 100, 214)]
    groups = group_lines(note + far)
    assert [0, 1, 2] in groups and [3] in groups and [4] in groups


def test_merge_rows_joins_split_fragments_and_two_row_plates():
    from redactor.layout import merge_rows

    def det(text, box):
        return Detection(kind="text", quad=Quad.from_box(*box), score=0.9, detector="t", text=text)

    lines = [
        det("編號", (10, 10, 50, 30)), det("37583", (58, 10, 120, 30)),  # one row, a word space apart
        det("WC", (300, 100, 340, 125)), det("6093", (290, 127, 350, 155)),  # a two-row plate
        det("勿忘", (500, 10, 540, 30)),  # far away on the same row: another note
    ]
    texts = sorted(d.text for d in merge_rows(lines))
    assert texts == ["WC 6093", "勿忘", "編號 37583"]


def test_vertical_columns_side_by_side_stay_apart_and_a_split_column_joins():
    from redactor.layout import merge_rows

    def det(text, box):
        return Detection(kind="text", quad=Quad.from_box(*box), score=0.9, detector="t", text=text)

    lines = [
        det("姓名陳大文", (230, 40, 270, 260)),  # three columns 30 px apart, right to left
        det("電話", (160, 40, 200, 130)), det("91234567", (160, 138, 200, 390)),  # one column, split
        det("香港加油", (90, 40, 130, 220)),
        det("編號 37583", (10, 400, 300, 430)),  # a horizontal row below them
    ]
    texts = sorted(d.text for d in merge_rows(lines))
    assert texts == ["姓名陳大文", "編號 37583", "電話 91234567", "香港加油"]
    groups = group_lines([d.quad for d in merge_rows(lines)])
    columns = next(g for g in groups if len(g) == 3)
    assert [merge_rows(lines)[i].text for i in columns] == ["姓名陳大文", "電話 91234567", "香港加油"]


class SidewaysText(FakeText):
    """One vertical line; it reads as a phone only from a strip whose first corner is the
    quad's bottom-left (bottom to top: a note turned anticlockwise)."""

    LINE = Quad.from_box(40, 10, 70, 150)

    def __init__(self, options=None):
        super().__init__(lines=[(self.LINE, "")])

    def crop(self, rgb, quad):
        bottom_to_top = quad.points[0] == self.LINE.points[3]
        return np.full((8, 8, 3), 1 if bottom_to_top else 0, np.uint8)

    def read(self, crops):
        return [("電話 9123 4567", 0.9) if c[0, 0, 0] else ("話9 1", 0.4) for c in crops]


def test_a_vertical_line_is_read_both_ways_up_and_the_surer_reading_kept(monkeypatch):
    monkeypatch.setitem(TEXT_ENGINES, "sideways", lambda **kw: SidewaysText(**kw))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: fakes.FakeFaces([(FACE, 0.9)]))
    result = Redactor(ocr="sideways", faces="fake").redact(photo())
    assert [(f.category, f.text) for f in result.findings if f.category != "face"] == [("phone", "電話 9123 4567")]


def test_a_recognition_failure_fails_only_its_image(monkeypatch, redactor):
    from redactor import AnalysisError as AE

    real_crop, real_read = redactor._text.crop, redactor._text.read

    def crop(rgb, quad):
        c = real_crop(rgb, quad)
        c[0, 0, 0] = 77 if rgb[0, 0, 0] == 77 else 0  # mark crops of the poisoned image
        return c

    def read(crops):
        if any(c[0, 0, 0] == 77 for c in crops):
            raise AE("recogniser choked on a crop")
        return real_read(crops)

    monkeypatch.setattr(redactor._text, "crop", crop)
    monkeypatch.setattr(redactor._text, "read", read)
    out = list(redactor.redact_many([photo(), photo(77), photo()], names=["a", "b", "c"]))
    assert [type(o).__name__ for o in out] == ["Result", "Failure", "Result"]
    assert "b" in str(out[1].error) and "choked" in str(out[1].error)


class TwoRowPlateText(FakeText):
    """One squarish box holding two rows. Its whole crop reads as the bottom row only, as the real
    recogniser does; each half reads as its own row (told apart by crop height)."""

    BOX = Quad.from_box(40, 40, 100, 95)

    def __init__(self, rows=("VE", "2758"), confidence=0.9):
        self.rows = rows
        self.confidence = confidence

    def detect(self, rgb):
        return [(self.BOX, 0.9)]

    def crop(self, rgb, quad):
        return np.zeros((56, 60, 3), np.uint8)

    def read(self, crops):
        if [c.shape[0] for c in crops] == [56]:  # the whole box
            return [(self.rows[1], 0.8)]
        assert [c.shape[0] for c in crops] == [30, 31], "expected the top and bottom halves"
        return [(self.rows[0], self.confidence), (self.rows[1], self.confidence)]


def two_row_redactor(monkeypatch, rows, confidence=0.9):
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: TwoRowPlateText(rows, confidence))
    return Redactor(Policy.from_toml("protect = ['plate', 'name']"), ocr="fake")


def test_two_row_plate_in_one_box_is_read_as_both_rows(monkeypatch):
    result = two_row_redactor(monkeypatch, ("VE", "2758")).redact(photo())
    assert [(f.category, f.text) for f in result.findings] == [("plate", "VE 2758")]
    assert result.mask[45:90, 45:95].all()


def test_two_row_reread_keeps_the_reading_when_the_rows_make_no_plate(monkeypatch):
    result = two_row_redactor(monkeypatch, ("加油", "2758")).redact(photo())
    assert result.findings == ()
    assert [d.text for d in result.detections] == ["2758"]


def test_two_row_reread_read_with_little_confidence_is_no_plate(monkeypatch):
    """A round logo read as "0" gave halves read "S" and "2" with confidence 0.25: a guess."""
    result = two_row_redactor(monkeypatch, ("S", "2"), confidence=0.25).redact(photo())
    assert [d.text for d in result.detections] == ["2"]
    assert all(f.category != "plate" for f in result.findings)


@pytest.mark.parametrize("reading, plate", [
    ("BIMMAX", True), ("QRT+4071", True), ("ZK 4W2P", True),  # vanity, emblem as "+", spaced
    ("EXIT", False), ("2758", False), ("", False), ("PARK HERE NOW", False),
])
def test_a_crop_the_plate_cascade_proposed_is_a_plate_by_its_shape(reading, plate):
    """The cascade has seen a plate there: 5-8 capitals and digits are enough, digits or not."""
    redactor = Redactor(Policy.from_toml("protect = ['plate']"), faces="yuface")
    assert redactor._is_plate(reading, seen=True) is plate
