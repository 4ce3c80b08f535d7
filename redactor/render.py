"""Fill, blur and pixelate as pure functions: a new image out, the input never touched.

Strength scales with the region so that the result is irreversible at any size:
- ``fill`` replaces every pixel with one colour (nothing of the original remains);
- ``blur`` keeps about ``BLUR_SAMPLES`` samples across the region's longest side (the region is
  shrunk by area-averaging, enlarged again and smoothed), so a 40 px face and a 400 px face are
  both reduced to the same coarse blob; a plain Gaussian of fixed size leaves large faces
  recognisable and can be partly deconvolved;
- ``pixelate`` keeps ``PIXELATE_BLOCKS`` blocks across the longest side;
- on small regions a sample or block is never smaller than ``MIN_BLOCK`` pixels.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from .types import Action, Quad

# Samples kept across a blurred region's longest side. 7 left a blurred head (hair, blob, neck)
# that the 2x face detail pass still scored 0.5 as a face; at 5 no face is found in the output.
BLUR_SAMPLES = 5
PIXELATE_BLOCKS = 8  # blocks across a pixelated region's longest side
MIN_BLOCK = 4.0  # px: on small regions each kept sample still averages at least 4x4 pixels
MAX_SIGMA = 16.0  # px: a blur wider than this runs on a shrunk copy (same look, seconds not minutes)


def quad_mask(shape: tuple[int, ...], quad: Quad) -> np.ndarray:
    """Boolean H×W mask of the pixels inside ``quad``."""
    mask = np.zeros(shape[:2], dtype=bool)
    window, local = _window_mask(shape, quad)
    if window is not None:
        mask[window] = local
    return mask


def _window_mask(shape: tuple[int, ...], quad: Quad) -> tuple[tuple[slice, slice] | None, np.ndarray]:
    """The quad's bounding window in the image (None when it lies outside) and the mask of the
    quad's pixels inside that window. fillPoly includes boundary pixels, so the window reaches
    one pixel past the quad's far edges. Only the window is allocated: a full-size mask per
    region cost 96 MB on a 48 MP photo."""
    h, w = shape[:2]
    bx0, by0, bx1, by1 = quad.bbox()
    x0, y0 = max(0, int(np.floor(bx0))), max(0, int(np.floor(by0)))
    x1, y1 = min(w, int(np.ceil(bx1)) + 1), min(h, int(np.ceil(by1)) + 1)
    if x1 <= x0 or y1 <= y0:
        return None, np.zeros((0, 0), bool)
    local = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(local, [np.round(quad.array() - (x0, y0)).astype(np.int32)], 1)
    return (slice(y0, y1), slice(x0, x1)), local.astype(bool)


def apply(
    rgb: np.ndarray, regions: Iterable[tuple[Quad, Action]], fill_color: tuple[int, int, int] = (0, 0, 0)
) -> tuple[np.ndarray, np.ndarray]:
    """Render every region; returns (new image, boolean mask of replaced pixels).

    Blur and pixelate run first and fills last, so a fill is never softened by a neighbour's blur.
    """
    out = rgb.copy()
    replaced = np.zeros(rgb.shape[:2], dtype=bool)
    ordered = sorted(regions, key=lambda r: r[1] == "fill")
    for quad, action in ordered:
        window, local = _window_mask(rgb.shape, quad)
        if window is None or not local.any():
            continue
        if action == "fill":
            out[window][local] = fill_color
        else:
            _smear(out[window], local, action)
        replaced[window] |= local
    return out, replaced


def _smear(roi_out: np.ndarray, local: np.ndarray, action: Action) -> None:
    """Blur or pixelate the window ``roi_out`` (a view into the output) inside ``local``, in place."""
    rh, rw = local.shape
    roi = roi_out.copy()
    n = BLUR_SAMPLES if action == "blur" else PIXELATE_BLOCKS
    factor = max(max(rw, rh) / n, MIN_BLOCK)
    if factor >= max(rw, rh):
        # No bigger than one block: averaging the whole region is the only safe reduction.
        smeared = np.broadcast_to(roi.reshape(-1, 3).mean(axis=0).astype(np.uint8), roi.shape)
    else:
        small = cv2.resize(roi, (max(1, round(rw / factor)), max(1, round(rh / factor))), interpolation=cv2.INTER_AREA)
        if action == "pixelate":
            smeared = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
        else:
            # The smoothing runs where its sigma is at most MAX_SIGMA px, then the result is
            # enlarged: on a 2500 px face a full-size Gaussian (sigma 250) took 3 minutes, and
            # the region holds only BLUR_SAMPLES samples across either way.
            scale = min(1.0, MAX_SIGMA / (factor / 2))
            mid = (max(1, round(rw * scale)), max(1, round(rh * scale)))
            smeared = cv2.resize(small, mid, interpolation=cv2.INTER_LINEAR)
            smeared = cv2.GaussianBlur(smeared, (0, 0), sigmaX=factor / 2 * scale)
            if mid != (rw, rh):
                smeared = cv2.resize(smeared, (rw, rh), interpolation=cv2.INTER_LINEAR)
    roi_out[local] = smeared[local]
