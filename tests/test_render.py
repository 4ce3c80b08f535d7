import numpy as np
import pytest

from redactor import render
from redactor.types import Quad


@pytest.fixture
def photo():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)


def test_fill_replaces_exactly_the_quad_and_leaves_input(photo):
    before = photo.copy()
    quad = Quad.from_box(10, 20, 50, 40)
    out, mask = render.apply(photo, [(quad, "fill")], fill_color=(1, 2, 3))
    assert np.array_equal(photo, before), "input modified"
    assert mask[20:40, 10:50].all() and mask.sum() <= 41 * 21
    assert (out[mask] == (1, 2, 3)).all()
    assert np.array_equal(out[~mask], photo[~mask])


def test_rotated_quad_mask_follows_the_polygon():
    quad = Quad(((50.0, 10.0), (90.0, 50.0), (50.0, 90.0), (10.0, 50.0)))  # a diamond
    mask = render.quad_mask((100, 100), quad)
    assert mask[50, 50] and not mask[12, 12] and not mask[88, 88]
    assert abs(mask.sum() - quad.area()) / quad.area() < 0.05


@pytest.mark.parametrize("action", ["blur", "pixelate"])
@pytest.mark.parametrize("size", [12, 40, 110])
def test_smear_strength_scales_with_region(photo, action, size):
    quad = Quad.from_box(5, 5, 5 + size, 5 + size * 0.9)
    out, mask = render.apply(photo, [(quad, action)])
    region = out[mask].astype(float)
    original = photo[mask].astype(float)
    # Whatever the size, most of the detail is gone: the variance left is a small share.
    assert region.std() < 0.45 * original.std()
    assert np.array_equal(out[~mask], photo[~mask])


def test_blur_keeps_few_distinct_values_on_large_region(photo):
    big = np.kron(photo[:30, :40], np.ones((4, 4, 1), dtype=np.uint8))  # 120x160 with detail
    out, mask = render.apply(big, [(Quad.from_box(0, 0, 160, 120), "pixelate")])
    blocks = {tuple(px) for px in out.reshape(-1, 3)}
    assert len(blocks) <= render.PIXELATE_BLOCKS * render.PIXELATE_BLOCKS


def test_fill_drawn_after_blur():
    img = np.full((50, 50, 3), 200, np.uint8)
    q = Quad.from_box(10, 10, 40, 40)
    out, _ = render.apply(img, [(q, "fill"), (q, "blur")], fill_color=(0, 0, 0))
    assert (out[15:35, 15:35] == 0).all()


def test_a_wide_blur_on_a_shrunk_copy_looks_as_the_full_size_one(monkeypatch):
    """Regions whose blur sigma is over MAX_SIGMA are smoothed on a shrunk copy (a 2500 px face
    took minutes at full size); the result matches the full-size Gaussian within 2 grey levels."""
    y, x = np.mgrid[:1000, :1000]
    img = np.dstack([x * 255 // 1000, y * 255 // 1000, (x * 7 + y * 3) % 256]).astype(np.uint8)
    quad = Quad.from_box(50, 50, 950, 950)
    shrunk, _ = render.apply(img, [(quad, "blur")])
    monkeypatch.setattr(render, "MAX_SIGMA", 1e9)
    full, _ = render.apply(img, [(quad, "blur")])
    assert np.abs(shrunk.astype(int) - full.astype(int)).max() <= 2
