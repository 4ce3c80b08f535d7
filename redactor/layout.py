"""Text-line layout: fragments joined into rows, rows grouped into notes. Pure geometry.

The detector returns line fragments; classification needs whole rows ("編號" | "37583" say
nothing apart) and the notes they sit on (a name beside a phone number is personal). All
coordinates are pixels of the EXIF-corrected image.
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from .types import Detection, Quad


def merge_rows(lines: list[Detection]) -> list[Detection]:
    """Join fragments of one text row: the detector splits a line at wide spaces ("編號" |
    "37583"), and neither half alone says what the line is, nor would hiding one half hide it.

    Fragments join when they slant the same way (within 6°), overlap vertically by ≥60% of the
    smaller height, differ in height by less than 1.5x, and the gap between them is under 0.8
    of the smaller height (a word space; notes side by side are further apart). The joined
    row's quad is the minimum-area rectangle around its fragments.

    Vertical lines (:func:`is_vertical`) join only each other, by the same rules turned a
    quarter: one below the other in a column, top first. Side by side they are separate
    columns, not one row.
    """
    vertical = [is_vertical(d.quad) for d in lines]
    boxes = [_reading_box(d.quad) for d in lines]
    heights = [max(1.0, d.quad.height) for d in lines]
    angles = [_slant(d.quad) for d in lines]
    order = sorted(range(len(lines)), key=lambda i: boxes[i][0])
    rows: list[list[int]] = []
    for i in order:
        for row in rows:
            j = row[-1]
            a, b = boxes[j], boxes[i]
            hmin, hmax = sorted((heights[i], heights[j]))
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            gap = b[0] - a[2]
            same_slant = abs(angles[i] - angles[j]) < 6 and vertical[i] == vertical[j]
            # Plates space their letters and digits widely: "WC" | "6093" still join.
            plate_like = (not vertical[i] and _PLATE_LETTERS.match(lines[j].text)
                          and _PLATE_DIGITS.match(lines[i].text))
            max_gap = 2.5 * hmax if plate_like else 0.8 * hmin
            if same_slant and hmax / hmin < 1.5 and overlap_y >= 0.6 * hmin and -0.5 * hmin < gap < max_gap:
                row.append(i)
                break
        else:
            rows.append([i])
    # Two-row plates: letters directly above digits, overlapping horizontally.
    for j in range(len(lines)):
        if vertical[j] or not _PLATE_LETTERS.match(lines[j].text) or [j] not in rows:
            continue
        for row in rows:
            i = row[0]
            a, b = boxes[j], boxes[i]
            if (len(row) == 1 and not vertical[i] and _PLATE_DIGITS.match(lines[i].text)
                    and min(a[2], b[2]) > max(a[0], b[0])
                    and -0.3 * heights[i] < b[1] - a[3] < 0.6 * heights[i]):
                rows = [r for r in rows if r != [j]]
                row.insert(0, j)
                break
    return [lines[row[0]] if len(row) == 1 else _join([lines[i] for i in row]) for row in rows]


def _join(parts: list[Detection]) -> Detection:
    """One text line from fragments: their texts in order, the minimum-area rectangle around them."""

    pts = np.concatenate([d.quad.array() for d in parts]).astype(np.float32)
    return Detection(kind="text", quad=_ordered(cv2.boxPoints(cv2.minAreaRect(pts))),
                     score=min(d.score for d in parts), detector=parts[0].detector,
                     text=" ".join(d.text for d in parts))


_PLATE_LETTERS = re.compile(r"^\s*[A-Z]{1,3}\s*$")
_PLATE_DIGITS = re.compile(r"^\s*\d{1,4}\s*$")


def is_plate_row(text: str) -> bool:
    """One row of a two-row plate: its letters ("VE") or its digits ("2758") alone."""
    return bool(_PLATE_LETTERS.match(text) or _PLATE_DIGITS.match(text))


def is_vertical(quad: Quad) -> bool:
    """A line running down the photo: its edges from the second corner are at least 1.5x its
    first edge (a top-left corner first, as detectors give them). Vertical Chinese writing, or a
    note turned a quarter. It is read both ways up (see the pipeline), as the recogniser reads
    only left-to-right strips. 1.5 is where rapidocr turns a crop."""
    a = quad.array()
    return float(np.hypot(*(a[2] - a[1]))) >= 1.5 * float(np.hypot(*(a[1] - a[0])))


def sideways_views(quad: Quad) -> tuple[Quad, Quad]:
    """A vertical line's quad started from another corner, so that a crop of it is a
    left-to-right strip: read top to bottom (the column's top at the strip's left, as rapidocr
    turns a tall crop), then bottom to top."""
    p = quad.points
    return Quad((p[1], p[2], p[3], p[0])), Quad((p[3], p[0], p[1], p[2]))


def _reading_box(quad: Quad) -> tuple[float, float, float, float]:
    """A line's box in a frame where it reads left to right: as it is, or for a vertical line
    turned a quarter clockwise ((x, y) -> (y, -x)): a column reads from its top, and columns
    side by side come right to left (the order of vertical Chinese, and of a note turned
    clockwise; one turned anticlockwise comes out in reverse order)."""
    x0, y0, x1, y1 = quad.bbox()
    return (y0, -x1, y1, -x0) if is_vertical(quad) else (x0, y0, x1, y1)


def _slant(quad: Quad) -> float:
    """Angle of the top edge in degrees (0 = horizontal)."""
    (x0, y0), (x1, y1) = quad.points[0], quad.points[1]
    return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


def _ordered(pts: np.ndarray) -> Quad:
    """Corners clockwise from top-left (boxPoints returns them in an arbitrary rotation)."""
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise in image coordinates (y down), starting at -pi
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return Quad.from_array(np.roll(pts, -start, axis=0))


def group_lines(quads: list[Quad]) -> list[list[int]]:
    """Group text lines into notes/paragraphs: lines stacked close together with similar heights.

    Two lines join when the vertical gap between them is under 1.5 line heights, they overlap
    horizontally, and their heights differ by less than 2.2x. Groups come out in reading order.
    Vertical lines group only with each other, by the same rules turned a quarter (columns side
    by side, read right to left: see :func:`_reading_box`).
    """
    n = len(quads)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    vertical = [is_vertical(q) for q in quads]
    boxes = [_reading_box(q) for q in quads]
    heights = [max(1.0, q.height) for q in quads]
    for i in range(n):
        for j in range(i + 1, n):
            if vertical[i] != vertical[j]:
                continue
            a, b = boxes[i], boxes[j]
            hmin, hmax = sorted((heights[i], heights[j]))
            if hmax / hmin > 2.2:
                continue
            gap = max(a[1], b[1]) - min(a[3], b[3])
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            if gap < 1.5 * hmin and overlap_x > 0:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    ordered = [sorted(g, key=lambda i: (boxes[i][1], boxes[i][0])) for g in groups.values()]
    tops = [q.bbox() for q in quads]  # notes in the photo's order, whichever way they read
    return sorted(ordered, key=lambda g: (tops[g[0]][1], tops[g[0]][0]))
