import pytest

from redactor.types import Quad


def test_padded_grows_every_side():
    q = Quad.from_box(10, 10, 30, 20)
    x0, y0, x1, y1 = q.padded(2).bbox()
    assert (x0, y0, x1, y1) == pytest.approx((8, 8, 32, 22))
    assert q.padded(0) is q


def test_height_of_rotated_line():
    q = Quad(((0.0, 0.0), (100.0, 10.0), (99.0, 20.0), (-1.0, 10.0)))
    assert 9 < q.height < 11


def test_clipped_and_area():
    q = Quad.from_box(-5, -5, 15, 15).clipped(10, 10)
    assert q.bbox() == (0, 0, 10, 10)
    assert q.area() == 100
