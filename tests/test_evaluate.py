"""evaluate: tiny corpora drawn here, sidecars written here, and a fake redactor returning chosen masks."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redactor.errors import RedactorError
from redactor.evaluate import Evaluation, coverage, evaluate, load_truth

W, H = 120, 80


def box(x0, y0, x1, y1, **kw):
    return {"category": "text", "bbox": [x0, y0, x1, y1], **kw}


def add_image(folder: Path, name: str, regions: list[dict] | None, size=(W, H)) -> Path:
    """A gradient image; with ``regions`` (even empty) a sidecar beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    rgb = np.stack([xs * 2 % 256, ys * 3 % 256, np.full_like(xs, 200)], axis=-1).astype(np.uint8)
    path = folder / name
    Image.fromarray(rgb).save(path)
    if regions is not None:
        (folder / f"{name}.json").write_text(json.dumps({"width": w, "height": h, "regions": regions}))
    return path


class FakeRedact:
    """Returns the mask set for each image name (default: nothing replaced); records the calls."""

    def __init__(self, masks: dict[str, np.ndarray] | None = None, size=(W, H)):
        self.masks = masks or {}
        self.size = size
        self.calls: list[str] = []

    def __call__(self, path: Path) -> np.ndarray:
        self.calls.append(path.name)
        return self.masks.get(path.name, np.zeros(self.size[::-1], dtype=bool))


def mask_with(*boxes, size=(W, H)) -> np.ndarray:
    m = np.zeros(size[::-1], dtype=bool)
    for x0, y0, x1, y1 in boxes:
        m[y0:y1, x0:x1] = True
    return m


def test_hidden_needs_at_least_70_percent(tmp_path):
    # Three 100x10 regions covered 69, 70 and 71 columns deep.
    add_image(tmp_path, "a.png", [box(0, 0, 100, 10, category="face"),
                                  box(0, 20, 100, 30, category="plate", pii="plate"),
                                  box(0, 40, 100, 50, pii="name")])
    masks = {"a.png": mask_with((0, 0, 69, 10), (0, 20, 70, 30), (0, 40, 71, 50))}
    ev = evaluate(tmp_path, FakeRedact(masks))
    assert ev.counts == {"face": (0, 1), "plate": (1, 1), "text:name": (1, 1)}
    assert ev.recall == {"face": 0.0, "plate": 1.0, "text:name": 1.0}


def test_spared_allows_at_most_30_percent(tmp_path):
    add_image(tmp_path, "a.png", [box(0, 0, 100, 10, pii="none"), box(0, 20, 100, 30, pii="none"),
                                  box(0, 40, 100, 50, pii="none")])
    masks = {"a.png": mask_with((0, 0, 29, 10), (0, 20, 30, 30), (0, 40, 31, 50))}
    ev = evaluate(tmp_path, FakeRedact(masks))
    assert ev.counts == {"spared": (2, 3)}
    assert ev.spared == pytest.approx(2 / 3)
    assert ev.recall == {} and ev.pii_text_recall is None


def test_optional_regions_count_neither_way(tmp_path):
    add_image(tmp_path, "a.png", [box(0, 0, 50, 10, pii="name", optional=True),
                                  box(0, 20, 50, 30, pii="none", optional=True),
                                  box(0, 40, 50, 50, category="face", optional=True),
                                  box(0, 60, 50, 70, pii="phone")])
    ev = evaluate(tmp_path, FakeRedact({"a.png": mask_with((0, 20, 50, 30), (0, 60, 50, 70))}))
    assert ev.counts == {"text:phone": (1, 1)}


def test_polygon_is_used_over_bbox(tmp_path):
    # A diamond inscribed in its 60x60 bbox fills half of it; covering the diamond alone hides it.
    diamond = [[30, 0], [60, 30], [30, 60], [0, 30]]
    add_image(tmp_path, "a.png", [box(0, 0, 60, 60, category="face", polygon=diamond)])
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    inside = (np.abs(xs - 30) + np.abs(ys - 30)) <= 30
    assert inside.sum() / 3600 == pytest.approx(0.5, abs=0.02)  # under the 70% bar as a bbox
    ev = evaluate(tmp_path, FakeRedact({"a.png": inside}))
    assert ev.counts == {"face": (1, 1)}


def test_coverage_counts_pixel_centres_inside_the_region():
    mask = np.zeros((H, W), dtype=bool)
    square = np.array([[10, 10], [20, 10], [20, 20], [10, 20]], dtype=float)
    assert coverage(mask, square) == (0.0, 100)  # exactly 10x10 pixels, not 11x11
    mask[10:20, 10:15] = True
    assert coverage(mask, square) == (0.5, 100)
    # A region partly outside the image counts only its pixels inside.
    off = np.array([[W - 5, 0], [W + 5, 0], [W + 5, 10], [W - 5, 10]], dtype=float)
    assert coverage(mask, off)[1] == 50
    # Sub-pixel corners: centres 10.5..19.5 lie inside [10.4, 19.6].
    assert coverage(mask, square + [[0.4, 0.4], [-0.4, 0.4], [-0.4, -0.4], [0.4, -0.4]])[1] == 100
    # Rotated by 30 degrees, the area stays that of the square within a row's worth of pixels.
    a = np.radians(30)
    rot = (square - 15) @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) + 40
    assert abs(coverage(mask, rot)[1] - 100) <= 6


def test_category_keys_and_pooled_text_recall(tmp_path):
    regions = [box(0, 0, 20, 10, category="face"),  # real-photo face: no pii
               box(30, 0, 50, 10, category="plate", pii="plate"),
               box(60, 0, 80, 10, pii="plate"),  # a plate number written as text
               box(0, 20, 20, 30, pii="name"), box(30, 20, 50, 30, pii="name"),
               box(60, 20, 80, 30, pii="id"), box(0, 40, 20, 50, pii="none")]
    mask = mask_with((0, 0, 20, 10), (60, 0, 80, 10), (0, 20, 20, 30))
    add_image(tmp_path, "a.png", regions)
    ev = evaluate(tmp_path, FakeRedact({"a.png": mask}))
    assert list(ev.recall) == ["face", "plate", "text:name", "text:plate", "text:id"]
    assert ev.counts["plate"] == (0, 1) and ev.counts["text:plate"] == (1, 1)
    assert ev.counts["text:name"] == (1, 2) and ev.counts["text:id"] == (0, 1)
    assert ev.pii_text_recall == pytest.approx(2 / 4)
    assert ev.spared == 1.0


def test_area_replaced_on_images_with_nothing_to_hide(tmp_path):
    add_image(tmp_path, "empty.png", [box(0, 0, 20, 10, pii="none"), box(0, 20, 20, 30, pii="name",
                                                                          optional=True)])
    add_image(tmp_path, "blank.png", [])
    add_image(tmp_path, "busy.png", [box(0, 0, 20, 10, pii="name")])
    masks = {"empty.png": mask_with((0, 40, W // 2, H)), "busy.png": np.ones((H, W), dtype=bool)}
    ev = evaluate(tmp_path, FakeRedact(masks))
    assert ev.empty_image_area_replaced == pytest.approx((0.25 + 0.0) / 2)


def test_no_empty_image_gives_none(tmp_path):
    add_image(tmp_path, "busy.png", [box(0, 0, 20, 10, pii="name")])
    assert evaluate(tmp_path, FakeRedact()).empty_image_area_replaced is None


def test_images_without_sidecar_are_skipped_and_subfolders_searched(tmp_path):
    add_image(tmp_path, "lone.png", None)
    add_image(tmp_path / "sub", "b.png", [box(0, 0, 20, 10, pii="email")])
    add_image(tmp_path, "a.png", [box(0, 0, 20, 10, pii="email")])
    fake = FakeRedact()
    seen = []
    ev = evaluate(tmp_path, fake, progress=lambda done, total, path: seen.append((done, total, path.name)))
    assert fake.calls == ["a.png", "b.png"]
    assert seen == [(1, 2, "a.png"), (2, 2, "b.png")]
    assert ev.images == 2 and ev.counts == {"text:email": (0, 2)}
    assert {w[0] for w in ev.worst} == {"a.png", "sub/b.png"}


def test_no_image_with_sidecar_is_an_error(tmp_path):
    add_image(tmp_path, "lone.png", None)
    with pytest.raises(RedactorError, match="no images with a ground-truth sidecar"):
        evaluate(tmp_path, FakeRedact())


def test_mask_of_another_size_is_an_error_naming_the_image(tmp_path):
    add_image(tmp_path, "a.png", [box(0, 0, 20, 10, pii="name")])
    with pytest.raises(RedactorError, match=r"a\.png.*80x120.*120x80"):
        evaluate(tmp_path, FakeRedact(size=(H, W)))  # rotated: 80 wide, 120 high


@pytest.mark.parametrize(("doc", "key"), [
    ("{not json", "JSON"),
    ({"height": H, "regions": []}, "'width'"),
    ({"width": W, "height": H}, "'regions'"),
    ({"width": W, "height": H, "regions": [{"category": "logo", "bbox": [0, 0, 1, 1]}]},
     r"regions\[0\]\.category"),
    ({"width": W, "height": H, "regions": [box(0, 0, 5, 5, pii="none"), box(0, 0, 5, 5)]},
     r"regions\[1\]\.pii"),
    ({"width": W, "height": H, "regions": [box(0, 0, 5, 5, pii="nickname")]}, r"regions\[0\]\.pii"),
    ({"width": W, "height": H, "regions": [box(0, 0, 5, 5, pii="face")]}, r"regions\[0\]\.pii"),
    ({"width": W, "height": H, "regions": [{"category": "face", "bbox": [0, 0, 5]}]}, r"regions\[0\]\.bbox"),
    ({"width": W, "height": H, "regions": [box(5, 0, 5, 5, pii="name")]}, r"regions\[0\]\.bbox"),
    ({"width": W, "height": H, "regions": [box(0, 0, 5, 5, pii="name", polygon=[[0, 0], [1, 1]])]},
     r"regions\[0\]\.polygon"),
    ({"width": W, "height": H, "regions": [box(0, 0, 5, 5, pii="name", optional="yes")]},
     r"regions\[0\]\.optional"),
])
def test_invalid_sidecar_is_an_error_naming_file_and_key(tmp_path, doc, key):
    sidecar = tmp_path / "a.png.json"
    sidecar.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(RedactorError, match=rf"a\.png\.json.*{key}"):
        load_truth(sidecar)


def test_region_outside_the_image_is_an_error(tmp_path):
    add_image(tmp_path, "a.png", [box(W + 10, 0, W + 20, 10, pii="name")])
    with pytest.raises(RedactorError, match=r"a\.png: regions\[0\] covers no pixel"):
        evaluate(tmp_path, FakeRedact())


def test_load_truth_reads_regions(tmp_path):
    add_image(tmp_path, "a.png", [box(0, 0, 20, 10, category="face"),
                                  box(0, 20, 20, 30, pii="none", text="hello", polygon=[[0, 20], [20, 21],
                                                                                         [20, 30], [0, 29]])])
    truth = load_truth(tmp_path / "a.png.json")
    assert (truth.width, truth.height) == (W, H)
    face, line = truth.regions
    assert (face.key, face.must, face.pii) == ("face", "hide", "face")
    assert (line.key, line.must, line.text) == ("text:none", "spare", "hello")
    assert line.polygon.tolist() == [[0, 20], [20, 21], [20, 30], [0, 29]]


def test_misses_dir_holds_a_crop_per_wrong_region_and_an_index(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "misses"
    add_image(corpus, "wall.png", [box(10, 10, 50, 20, pii="name", text="Chan\tTai Man"),
                                   box(10, 40, 50, 50, pii="none", text="slogan"),
                                   box(70, 10, 110, 20, pii="phone"),  # hidden: no crop
                                   box(70, 40, 110, 60, category="face")])
    add_image(corpus, "fine.png", [box(0, 0, 20, 10, pii="none")])
    masks = {"wall.png": mask_with((10, 40, 50, 50), (70, 10, 110, 20))}
    evaluate(corpus, FakeRedact(masks), misses_dir=out)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["index.tsv", "wall__missed__face__2.png", "wall__missed__text-name__0.png",
                     "wall__overhidden__text-none__1.png"]
    rows = [r.split("\t") for r in (out / "index.tsv").read_text().splitlines()]
    assert rows[0] == ["file", "image", "kind", "key", "coverage", "text"]
    assert rows[1:] == [["wall__missed__text-name__0.png", "wall.png", "missed", "text:name", "0.000",
                         "Chan Tai Man"],
                        ["wall__overhidden__text-none__1.png", "wall.png", "overhidden", "text:none", "1.000",
                         "slogan"],
                        ["wall__missed__face__2.png", "wall.png", "missed", "face", "0.000", ""]]
    crop = np.asarray(Image.open(out / "wall__overhidden__text-none__1.png").convert("RGB")).astype(int)
    assert crop.shape[0] >= 120  # small crops are enlarged to be readable
    green = (crop[..., 1] > 200) & (crop[..., 0] < 80)
    red_tint = (crop[..., 0] >= 127) & (crop[..., 2] < 110)  # the image's blue 200 halved, red added
    assert green.any() and red_tint.any()
    missed = np.asarray(Image.open(out / "wall__missed__face__2.png").convert("RGB")).astype(int)
    assert not ((missed[..., 0] >= 127) & (missed[..., 2] < 110)).any()  # nothing replaced near the face


def test_misses_dir_gets_an_index_even_when_nothing_is_wrong(tmp_path):
    add_image(tmp_path / "c", "a.png", [box(0, 0, 20, 10, pii="none")])
    evaluate(tmp_path / "c", FakeRedact(), misses_dir=tmp_path / "m")
    assert (tmp_path / "m" / "index.tsv").read_text() == "file\timage\tkind\tkey\tcoverage\ttext\n"


def test_worst_lists_five_images_most_wrong_first(tmp_path):
    for i in range(7):
        add_image(tmp_path, f"img{i}.png", [box(0, 10 * k, 20, 10 * k + 8, pii="name") for k in range(i)]
                  + [box(60, 0, 80, 10, pii="none")])
    ev = evaluate(tmp_path, FakeRedact({"img2.png": mask_with((60, 0, 80, 10))}))
    assert [(name, n) for name, n, _ in ev.worst] == [("img6.png", 6), ("img5.png", 5), ("img4.png", 4),
                                                     ("img2.png", 3), ("img3.png", 3)]
    assert ev.worst[3][2] == "missed text:name 2; overhidden 1"


def test_seconds_per_image_is_time_inside_redact(tmp_path):
    add_image(tmp_path, "a.png", [])
    add_image(tmp_path, "b.png", [])
    fake = FakeRedact()

    def slow(path):
        time.sleep(0.02)
        return fake(path)

    ev = evaluate(tmp_path, slow)
    assert 0.02 <= ev.seconds_per_image < 0.5


def test_json_and_text_output(tmp_path):
    add_image(tmp_path, "a.png", [box(0, 0, 20, 10, category="face"), box(0, 20, 20, 30, pii="name"),
                                  box(0, 40, 20, 50, pii="none")])
    ev = evaluate(tmp_path, FakeRedact({"a.png": mask_with((0, 0, 20, 10))}))
    assert isinstance(ev, Evaluation)
    js = json.loads(json.dumps(ev.to_json()))
    assert set(js) >= {"images", "recall", "pii_text_recall", "spared", "seconds_per_image", "counts",
                       "empty_image_area_replaced", "worst"}
    assert js["recall"] == {"face": 1.0, "text:name": 0.0}
    assert js["counts"] == {"face": [1, 1], "text:name": [0, 1], "spared": [1, 1]}
    assert js["worst"] == [["a.png", 1, "missed text:name 1"]]
    text = ev.format_text()
    assert "text:name" in text and "0/1" in text and "PII text" in text and "a.png: 1 wrong" in text


def _quality_module():
    path = Path(__file__).resolve().parents[1] / "bench" / "quality.py"
    spec = importlib.util.spec_from_file_location("bench_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_renders_each_split_against_its_bar():
    quality = _quality_module()
    synthetic = {"images": 30, "seconds_per_image": 2.5,
                 "recall": {"face": 0.98, "plate": 0.9, "text:name": 0.95, "text:id": 0.85},
                 "counts": {"face": [98, 100], "plate": [9, 10], "text:name": [95, 100], "text:id": [17, 20],
                            "spared": [90, 100]},
                 "pii_text_recall": 0.933, "spared": 0.9, "empty_image_area_replaced": None, "worst": []}
    real = {"images": 4, "seconds_per_image": 1.0, "recall": {"face": 0.95, "text:id": 0.5},
            "counts": {"face": [19, 20], "text:id": [1, 2], "spared": [1, 2]},
            "pii_text_recall": 0.5, "spared": 0.5, "empty_image_area_replaced": 0.0123,
            "worst": [["x.jpg", 2, "missed text:id 1; overhidden 1"]]}
    md = quality.render({"synthetic": synthetic, "real": real},
                        {"date": "2025-01-01", "commit": "abc1234", "machine": "8 CPUs (Test CPU)",
                         "policy": "default"})
    syn, rl = md.split("### real")
    assert "2025-01-01" in md and "abc1234" in md and "8 CPUs (Test CPU)" in md
    assert "| face | 0.980 ✓ | 98 / 100 | ≥ 0.97 |" in syn
    assert "| plate | 0.900 ✗ | 9 / 10 | ≥ 0.95 |" in syn
    assert "| text:name | 0.950 ✓ | 95 / 100 | ≥ 0.90 |" in syn
    assert "| text:id | 0.850 ✗ | 17 / 20 | ≥ 0.90 |" in syn
    assert "| **PII text** | 0.933 ✗ | 112 / 120 | ≥ 0.95 |" in syn
    assert "| **spared** | 0.900 ✓ | 90 / 100 | ≥ 0.85 |" in syn
    assert "| text:id | 0.500 | 1 / 2 | — |" in rl  # real: no per-type bar
    assert "| **PII text** | 0.500 ✗ | 1 / 2 | ≥ 0.85 |" in rl
    assert "| **spared** | 0.500 ✗ | 1 / 2 | ≥ 0.70 |" in rl
    assert "No must-hide region for plate" in rl and "0.0123" in rl and "- x.jpg: 2 (" in rl
