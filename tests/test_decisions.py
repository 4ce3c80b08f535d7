"""Decisions: analyse lists every region, render hides exactly the hidden ones, same bytes as redact."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeFaces, FakeText
from PIL import Image

from redactor import Decisions, DecisionsError, Redactor, cli, io
from redactor.detect import FACE_DETECTORS, TEXT_ENGINES
from redactor.types import Quad

PHONE = Quad.from_box(10, 10, 110, 30)
SLOGAN = Quad.from_box(10, 100, 150, 130)
FACE = Quad.from_box(150, 20, 190, 70)
SMALL_FACE = Quad.from_box(120, 130, 140, 150)


LINES = [(PHONE, "電話 9123 4567"), (SLOGAN, "香港加油")]


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(lines=LINES, **kw))
    monkeypatch.setitem(FACE_DETECTORS, "yuface", lambda **kw: FakeFaces([(FACE, 0.9), (SMALL_FACE, 0.1)]))


@pytest.fixture
def redactor(fakes):
    return Redactor(ocr="fake")


def png(tmp_path, name="photo.png", seed=1):
    rng = np.random.default_rng(seed)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 256, (160, 220, 3), dtype=np.uint8)).save(path)
    return path


def test_every_region_is_listed_hidden_or_kept(redactor, tmp_path):
    d = redactor.analyse(png(tmp_path))
    by_id = {r.id: r for r in d.regions}
    assert set(by_id) == {"face-1", "face-2", "text-1", "text-2"}
    assert by_id["face-1"].hidden and by_id["face-1"].action == "blur" and by_id["face-1"].rule == "all"
    assert not by_id["face-2"].hidden and by_id["face-2"].rule == "below-threshold"
    assert by_id["text-1"].hidden and by_id["text-1"].category == "phone"
    assert not by_id["text-2"].hidden and by_id["text-2"].text == "香港加油"  # the slogan is kept, but listed
    assert all(r.source == "auto" and r.changed is None for r in d.regions)
    assert d.sha256 == io.load(tmp_path / "photo.png").source.sha256
    assert d.size == (tmp_path / "photo.png").stat().st_size


def test_render_of_unedited_decisions_is_redact_and_round_trips_json(redactor, tmp_path):
    path = png(tmp_path)
    redacted = redactor.redact(path)
    d = redactor.analyse(path)
    again = Decisions.loads(d.dumps())  # through the file format, masked text
    rendered = redactor.render(path, again)
    assert np.array_equal(rendered.image, redacted.image) and np.array_equal(rendered.mask, redacted.mask)
    assert [f.category for f in rendered.findings] == [f.category for f in redacted.findings]
    data = json.loads(d.dumps())
    assert data["schema"] == "redactor.decisions/1"
    phone = next(r for r in data["regions"] if r["id"] == "text-1")
    assert "text" not in phone and phone["text_masked"] == "電* **** **67"
    assert json.loads(d.dumps(clear_text=True))["regions"][2]["text"] == "電話 9123 4567"


def test_edits_keep_drawn_and_hide(redactor, tmp_path):
    path = png(tmp_path)
    original = io.load(path).rgb
    d = redactor.analyse(path).with_hidden("text-1", False)
    d, box = d.with_box((30, 60, 80, 90), "custom", "fill")
    d = d.with_hidden("text-2", True)
    out = redactor.render(path, d)
    assert np.array_equal(out.image[10:31, 5:115], original[10:31, 5:115]), "kept phone line changed"
    assert (out.image[60:90, 30:80] == 0).all(), "drawn box not filled"
    assert (out.image[105:125, 20:140] == 0).all(), "slogan hidden by the editor not filled"
    r = d.region(box)
    assert r.kind == "manual" and r.source == "editor" and r.changed
    assert d.region("text-1").changed is not None
    assert Decisions.loads(d.dumps()).region(box).quad == r.quad
    with pytest.raises(DecisionsError, match="found by the analysis"):
        d.without("text-1")
    assert box not in {r.id for r in d.without(box).regions}


def test_render_refuses_another_image(redactor, tmp_path):
    d = redactor.analyse(png(tmp_path, "a.png", seed=1))
    with pytest.raises(DecisionsError, match="not the image these decisions"):
        redactor.render(png(tmp_path, "b.png", seed=2), d)


def test_invalid_files_name_the_field(tmp_path):
    with pytest.raises(DecisionsError, match="schema"):
        Decisions.loads(b'{"schema": "x"}')
    with pytest.raises(DecisionsError, match="not JSON"):
        Decisions.loads(b"{")
    good = {"schema": "redactor.decisions/1", "input": {"name": "a", "format": "PNG", "width": 2, "height": 2},
            "policy": {"fill_color": [0, 0, 0]},
            "regions": [{"id": "x", "kind": "boat", "category": "face", "polygon": [[0, 0]] * 4, "hidden": True,
                         "action": "fill"}]}
    with pytest.raises(DecisionsError, match=r"regions\[0\].kind"):
        Decisions.from_json(good)


def test_cli_analyse_then_render_refuses_mismatch(fakes, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    png(src, "a.png", seed=1)
    png(src, "b.png", seed=2)
    assert cli.main(["analyse", str(src), "-o", str(tmp_path / "d"), "--ocr", "fake"]) == 0
    assert cli.main(["redact", str(src), "-o", str(tmp_path / "r"), "--ocr", "fake", "--jobs", "1"]) == 0
    # b.png's decisions now belong to other content: refused, nothing written for it.
    png(src, "b.png", seed=3)
    assert cli.main(["render", str(src), "--decisions", str(tmp_path / "d"), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "b.png" in err and "not the image these decisions" in err
    out = tmp_path / "o"
    assert (out / "a.png").read_bytes() == (tmp_path / "r" / "a.png").read_bytes()
    assert not (out / "b.png").exists() and not (out / "b.png.json").exists()
    report = json.loads((out / "a.png.json").read_text())
    assert report["status"] == "redacted" and report["policy"]["decisions_edited"] == 0


@pytest.mark.models
def test_real_models_render_gives_the_bytes_of_redact(tmp_path):
    """analyse + render through the real executable equals redact, byte for byte (with EXIF stripped)."""
    exe = str(Path(sys.executable).with_name("redactor"))
    sample = Path(__file__).resolve().parents[1] / "samples" / "street_car.jpg"

    def run(*args):
        proc = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    run("analyse", sample, "-o", tmp_path / "d")
    run("render", sample, "--decisions", tmp_path / "d", "-o", tmp_path / "o")
    run("redact", sample, "-o", tmp_path / "r", "--jobs", "1")
    assert (tmp_path / "o" / "street_car.jpg").read_bytes() == (tmp_path / "r" / "street_car.jpg").read_bytes()
    d = Decisions.load(tmp_path / "d" / "street_car.jpg.decisions.json")
    assert {r.kind for r in d.regions} >= {"text"} and any(not r.hidden for r in d.regions)
