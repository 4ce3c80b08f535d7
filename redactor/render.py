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


def quad_mask(shape: tuple[int, ...], quad: Quad) -> np.ndarray:
    """Boolean H×W mask of the pixels inside ``quad``."""
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(quad.array()).astype(np.int32)], 1)
    return mask.astype(bool)


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
        mask = quad_mask(rgb.shape, quad)
        if not mask.any():
            continue
        if action == "fill":
            out[mask] = fill_color
        else:
            _smear(out, mask, quad, action)
        replaced |= mask
    return out, replaced


def _smear(rgb: np.ndarray, mask: np.ndarray, quad: Quad, action: Action) -> None:
    """Blur or pixelate ``rgb`` inside ``mask``, in place (``apply`` owns the copy)."""
    h, w = rgb.shape[:2]
    # The region's box must contain every masked pixel: fillPoly includes the boundary pixels.
    bx0, by0, bx1, by1 = quad.bbox()
    x0, y0 = max(0, int(np.floor(bx0))), max(0, int(np.floor(by0)))
    x1, y1 = min(w, int(np.ceil(bx1)) + 1), min(h, int(np.ceil(by1)) + 1)
    rw, rh = x1 - x0, y1 - y0
    roi = rgb[y0:y0 + rh, x0:x0 + rw].copy()
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
            smeared = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_LINEAR)
            smeared = cv2.GaussianBlur(smeared, (0, 0), sigmaX=factor / 2)
    local = mask[y0:y0 + rh, x0:x0 + rw]
    rgb[y0:y0 + rh, x0:x0 + rw][local] = smeared[local]
