"""The real models on the bundled samples: everything protected is hidden, slogans stay,
metadata is gone, and the outputs give nothing back to OCR or the face detector."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from redactor import Redactor
from redactor.evaluate import evaluate

pytestmark = pytest.mark.models
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def redactor():
    return Redactor()


@pytest.fixture(scope="module")
def redacted(redactor, tmp_path_factory):
    """`redactor redact samples -o OUT` through the library's batch path (what the CLI runs)."""
    from redactor import batch
    from redactor.policy import Policy

    out = tmp_path_factory.mktemp("out")
    outcomes = batch.run(batch.plan([SAMPLES], out), batch.Options(policy=Policy.default()))
    assert [o.status for o in outcomes] == ["redacted"] * len(outcomes), [o.message for o in outcomes]
    return out


def test_samples_every_protected_region_hidden_and_slogans_spared(redactor):
    ev = evaluate(SAMPLES, lambda p: redactor.redact(p).mask)
    assert ev.images >= 3
    missed = {k: v for k, v in ev.counts.items() if k != "spared" and v[0] < v[1]}
    assert not missed, f"missed regions: {missed}"
    assert ev.spared == 1.0, ev.format_text()


def test_outputs_carry_no_metadata(redacted):
    car = redacted / "street_car.jpg"
    tags = json.loads(subprocess.run(["exiftool", "-j", "-a", "-G1", str(car)], capture_output=True,
                                     text=True, check=True).stdout)[0]
    groups = {k.split(":")[0] for k in tags}
    assert not groups & {"IFD0", "ExifIFD", "GPS", "IFD1", "XMP-dc", "XMP-x", "IPTC"}, groups
    assert not any("Comment" in k or "Thumbnail" in k for k in tags)


def test_orientation_applied(redacted):
    from PIL import Image

    src = Image.open(SAMPLES / "street_car.jpg")
    out = Image.open(redacted / "street_car.jpg")
    if src.getexif().get(0x0112) in (5, 6, 7, 8):
        assert out.size == (src.height, src.width)
    truth = json.loads((SAMPLES / "street_car.jpg.json").read_text())
    assert out.size == (truth["width"], truth["height"])


def test_ocr_reads_none_of_the_hidden_text(redactor, redacted):
    """Hidden strings must not come back when the output is read again."""
    for sidecar in SAMPLES.glob("*.json"):
        truth = json.loads(sidecar.read_text())
        hidden = [r["text"] for r in truth["regions"] if r.get("text") and r.get("pii", "none") != "none"
                  and not r.get("optional")]
        out = redacted / sidecar.name.removesuffix(".json")
        result = redactor.redact(out)
        read = " ".join(d.text for d in result.detections if d.kind == "text").replace(" ", "")
        for text in hidden:
            digits = "".join(ch for ch in text if ch.isalnum())
            assert len(digits) < 4 or digits not in read, f"{out.name}: {text!r} still readable"
        faces = [d for d in result.detections if d.kind == "face" and d.score >= 0.5]
        assert not faces, f"{out.name}: a face is still detectable after blurring: {faces}"


def test_report_masks_text_by_default(redacted):
    rep = json.loads((redacted / "lennon_wall.jpg.json").read_text())
    assert rep["findings"] and all("text" not in f for f in rep["findings"])
    assert any("*" in f.get("text_masked", "") for f in rep["findings"])
    assert np.isclose(sum(rep["counts"].values()), len(rep["findings"]))
