"""A photo's orientation, found once from its text lines, and quads carried between the photo
and the photo turned upright.

A card, a form or a note photographed sideways or upside down arrives turned a quarter, a half
or three quarters. Faces are found at any rotation, but the plate detectors (a Haar cascade, a
corner detector trained on upright plates) and the text layout (rows, notes, a label before its
value) are not rotation-invariant. So the photo's turn is decided once, from the text lines
already detected, and the rest of detection sees the photo upright.

The signal costs one call of the line-orientation classifier on a few of the longest lines:

- most of the text (by length) runs down the photo: each such line is looked at read top to
  bottom. Upright there, the photo was turned clockwise; upside down there, anticlockwise.
- most of it runs across: each line as it is; upside down, the photo was turned a half.

A line of vertical Chinese looks to the classifier like a line turned clockwise, so a street of
vertical signs can pass for a turned photo; the pipeline therefore keeps looking for plates in
the photo as taken too when it turns one a quarter (see ``Redactor._turn_upright``).

Frames: "photo" is the EXIF-corrected image (:mod:`redactor.types`); "upright" is it turned by
``np.rot90(photo, k)``, ``k`` quarter turns anticlockwise. Both in pixels, continuous
coordinates (0..w, 0..h), so a quad covers the same pixels in both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .layout import is_vertical, sideways_views
from .types import Quad

#: The longest lines the classifier looks at: one model call (its batch is 16), ≈20 ms.
SAMPLE = 16
#: Share of the text's length that must run down the photo for a quarter turn, and across it
#: for a half turn: a photo of mixed signs is left as it is.
MOSTLY = 0.8
#: Share of the looked-at length the classifier must call one way up (turned: ≥ ``SURE``; upright:
#: ≤ 1 - ``SURE``). On upright photos it doubts 2-10 lines in 100 (CHANGELOG), far below this.
AGREE = 0.75
SURE = 0.9
#: Fewer lines than this say nothing about the photo (one doubted line on an upright car photo).
MIN_LINES = 2


def decide(quads: Sequence[Quad], crop: Callable[[Quad], np.ndarray],
           turned_scores: Callable[[list[np.ndarray]], list[float]]) -> int:
    """Quarter turns anticlockwise (0-3, ``np.rot90``'s ``k``) that make the photo upright.

    ``quads``: the text lines detected in the photo; ``crop(quad)``: the line as a left-to-right
    strip (the text engine's crop); ``turned_scores(crops)``: per strip, how sure the
    orientation classifier is that it is upside down (an engine without one returns ``[]``:
    then the photo is taken as it is). 0 unless the lines agree.
    """
    if len(quads) < MIN_LINES:
        return 0
    lengths = np.array([_length(q) for q in quads])
    vertical = np.array([is_vertical(q) for q in quads])
    down = float(lengths[vertical].sum() / max(1e-9, lengths.sum()))
    if down >= MOSTLY:
        chosen = [i for i in np.argsort(-lengths) if vertical[i]][:SAMPLE]
        strips = [crop(sideways_views(quads[i])[0]) for i in chosen]  # read top to bottom
        # Upright read top to bottom: the photo was turned clockwise, one turn back.
        # Upside down: turned anticlockwise, three turns back (one clockwise).
        ways = {1: "upright", 3: "turned"}
    elif down <= 1 - MOSTLY:
        chosen = [i for i in np.argsort(-lengths) if not vertical[i]][:SAMPLE]
        strips = [crop(quads[i]) for i in chosen]
        ways = {2: "turned"}
    else:
        return 0
    if len(chosen) < MIN_LINES:
        return 0
    scores = np.asarray(turned_scores(strips), dtype=float)
    if len(scores) != len(strips):
        return 0  # no classifier
    weight = lengths[chosen]
    share = {"turned": float(weight[scores >= SURE].sum() / weight.sum()),
             "upright": float(weight[scores <= 1 - SURE].sum() / weight.sum())}
    return next((k for k, way in ways.items() if share[way] >= AGREE), 0)


def upright(rgb: np.ndarray, k: int) -> np.ndarray:
    """The photo turned ``k`` quarter turns anticlockwise (contiguous: detectors need it)."""
    return np.ascontiguousarray(np.rot90(rgb, k)) if k % 4 else rgb


def to_upright(quad: Quad, k: int, size: tuple[int, int]) -> Quad:
    """``quad`` in the photo (``size`` = its width, height) -> the same pixels in the upright
    photo. Its corners keep their order, started from the corner that is now top-left: a line's
    strip (:meth:`RapidOCREngine.crop`) is then cut the right way up."""
    return _moved(quad, k % 4, size, roll=-(k % 4))


def to_photo(quad: Quad, k: int, size: tuple[int, int]) -> Quad:
    """The inverse of :func:`to_upright`: a quad in the upright photo -> the photo (``size`` is
    the photo's width, height, as taken)."""
    w, h = size
    turned = (w, h) if k % 2 == 0 else (h, w)
    return _moved(quad, -k % 4, turned, roll=k % 4)


def _moved(quad: Quad, k: int, size: tuple[int, int], roll: int) -> Quad:
    """``quad`` in an image of ``size`` (w, h) -> the image turned ``k`` quarter turns
    anticlockwise: (x, y) -> (y, w - x) for one turn, applied ``k`` times."""
    w, h = size
    a = quad.array()
    for _ in range(k):
        a = np.stack([a[:, 1], w - a[:, 0]], axis=1)
        w, h = h, w
    return Quad.from_array(np.roll(a, roll, axis=0))


def _length(quad: Quad) -> float:
    """A line's length: its longer side."""
    a = quad.array()
    return max(float(np.hypot(*(a[1] - a[0]))), float(np.hypot(*(a[2] - a[1]))))
