"""Robustness conditions (issue 13): pixels and ground truth move together, runs repeat exactly,
and `eval --perturb` scores the perturbed image against the perturbed truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from redactor import perturb
from redactor.errors import RedactorError
from redactor.evaluate import coverage, evaluate

REDACTOR = str(Path(sys.executable).with_name("redactor"))


def scene(w=320, h=240):
    """Mid-grey with three bright rectangles (white, one near a corner) and their polygons."""
    rgb = np.full((h, w, 3), 90, np.uint8)
    boxes = [(40, 30, 120, 60), (180, 150, 300, 200), (5, 200, 60, 235)]
    for x0, y0, x1, y1 in boxes:
        rgb[y0:y1, x0:x1] = 250
    polys = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float) for x0, y0, x1, y1 in boxes]
    return rgb, polys


@pytest.mark.parametrize("spec", [f"{n}:{s}" for n in perturb.NAMES for s in (1, 2, 3)])
def test_truth_follows_the_pixels(spec):
    rgb, polys = scene()
    out, moved = perturb.apply(spec, rgb, polys, seed=7)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    grey = out.mean(axis=2).astype(np.uint8)
    level, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = grey > level  # the rectangles, wherever the condition put them (and however dark)
    for poly in moved:
        share, area = coverage(bright, poly)
        assert area > 0 and share > 0.85, (spec, share)
    assert bright.sum() < 1.25 * sum(coverage(bright, p)[0] * coverage(bright, p)[1] for p in moved), spec


def test_geometry_actually_moves_and_seeds_repeat():
    rgb, polys = scene()
    a, pa = perturb.apply("perspective:3", rgb, polys, seed=1)
    b, pb = perturb.apply("perspective:3", rgb, polys, seed=1)
    c, pc = perturb.apply("perspective:3", rgb, polys, seed=2)
    assert np.array_equal(a, b) and all(np.array_equal(x, y) for x, y in zip(pa, pb, strict=True))
    assert not np.array_equal(a, c)
    assert np.abs(pa[0] - polys[0]).max() > 3  # corners moved by up to 20% of the side
    r, _ = perturb.apply("rotation:3", rgb, polys, seed=1)
    assert r.shape[0] > rgb.shape[0] and r.shape[1] > rgb.shape[1]  # the canvas grows: nothing cut off
    d, pd = perturb.apply("downscale:3", rgb, polys, seed=1)
    assert d.shape[:2] == (84, 112) and np.allclose(pd[0], polys[0] * 0.35, atol=0.01)


def test_photometric_conditions_get_worse_with_severity():
    rgb, polys = scene()
    errors = [np.abs(perturb.apply(f"noise:{s}", rgb, polys, seed=3)[0].astype(int) - rgb).mean() for s in (1, 2, 3)]
    assert errors[0] < errors[1] < errors[2]
    dark = [perturb.apply(f"lowlight:{s}", rgb, polys, seed=3)[0].mean() for s in (1, 2, 3)]
    assert dark[0] > dark[1] > dark[2]


@pytest.mark.parametrize("spec, says", [("fog", "unknown condition"), ("blur:0", "severity"), ("blur:x", "severity")])
def test_bad_spec_names_the_choices(spec, says):
    with pytest.raises(RedactorError, match=says):
        perturb.parse(spec)


def test_eval_scores_the_perturbed_image_against_the_perturbed_truth(tmp_path):
    rgb, polys = scene()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    regions = [{"category": "text", "pii": "name", "bbox": [*p.min(axis=0).tolist(), *p.max(axis=0).tolist()]}
               for p in polys]
    (tmp_path / "a.png.json").write_text(json.dumps({"width": 320, "height": 240, "regions": regions}))

    def hides_bright(image):  # a redactor that finds exactly the bright rectangles
        assert isinstance(image, np.ndarray), "with --perturb the redactor gets the perturbed pixels"
        return image.mean(axis=2) > 170

    for spec in ("rotation:3", "perspective:3", "downscale:3", "phone:3"):
        result = evaluate(tmp_path, hides_bright, perturb=spec)
        assert result.recall["text:name"] == 1.0, spec
    # A redactor that ignores the condition (hides the unmoved boxes) misses after a rotation.
    fixed = np.zeros((240, 320), bool)
    for x0, y0, x1, y1 in [(40, 30, 120, 60), (180, 150, 300, 200), (5, 200, 60, 235)]:
        fixed[y0:y1, x0:x1] = True
    with pytest.raises(RedactorError, match="mask is"):
        evaluate(tmp_path, lambda image: fixed, perturb="rotation:3")  # the canvas grew
    assert evaluate(tmp_path, lambda image: fixed, perturb="perspective:3").recall["text:name"] < 1.0


def test_cli_refuses_a_bad_condition_before_loading_models(tmp_path):
    proc = subprocess.run([REDACTOR, "eval", str(tmp_path), "--perturb", "fog:2"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "unknown condition 'fog'" in proc.stderr


@pytest.mark.parametrize("severity, degrees", [(1, 90), (2, 180), (3, 270)])
def test_orientation_turns_pixels_and_truth_exactly(severity, degrees):
    rgb, polys = scene()
    rgb[35:45, 45:55] = (200, 0, 0)  # a red mark inside the first box, to follow
    out, moved = perturb.apply(f"orientation:{severity}", rgb, polys, seed=5)
    h, w = rgb.shape[:2]
    assert out.shape[:2] == ((w, h) if degrees in (90, 270) else (h, w))
    turned = np.rot90(rgb, k=-degrees // 90)  # clockwise, drawn independently of the module
    assert np.array_equal(out, turned)
    for poly, before in zip(moved, polys, strict=True):  # each box holds the same pixels, turned
        x0, y0 = np.floor(poly.min(axis=0)).astype(int)
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int)
        bx0, by0 = before.min(axis=0).astype(int)
        bx1, by1 = before.max(axis=0).astype(int)
        assert np.array_equal(out[y0:y1, x0:x1], np.rot90(rgb[by0:by1, bx0:bx1], k=-degrees // 90))
    red = np.argwhere((out[:, :, 0] == 200) & (out[:, :, 1] == 0))
    (ry0, rx0), (ry1, rx1) = red.min(axis=0), red.max(axis=0) + 1
    (fx0, fy0), (fx1, fy1) = moved[0].min(axis=0), moved[0].max(axis=0)
    assert fx0 <= rx0 <= rx1 <= fx1 and fy0 <= ry0 <= ry1 <= fy1


def test_orientation_is_not_part_of_the_phone_mix():
    assert "orientation" in perturb.NAMES and "orientation" not in perturb.PHONE_ORDER
    assert perturb.describe("orientation:2") == "orientation:2 (degrees clockwise 180)"


def test_adding_a_condition_kept_the_phone_mix_draws():
    # The phone mix is seeded by its place among the conditions; records made before
    # "orientation" was added must regenerate exactly.
    assert perturb.NAMES.index("phone") == 8 and perturb.NAMES[-1] == "orientation"
