"""Addresses that run over two lines (issue 13), on made-up addresses."""

import pytest

from redactor.classify import TextClassifier

CLF = TextClassifier()


def hidden(hits):
    return any(h.score >= 0.5 for h in hits)


@pytest.mark.parametrize(
    "first, second",
    [
        ("Flat 7, 23/F,", "Kwong Fat Street"),  # a street named without a number
        ("88 Example Road", "Tsim Sha Tsui, Kowloon"),  # districts and a region
        ("Rm 5, 3/F,", "Golden Lotus Building"),
        ("香港九龍觀塘", "開源道 77 號 9 樓"),
        ("地址：香港灣仔", "駱克道"),  # a street without its number, after a labelled district
        ("香港灣仔道 88 號", "灣仔"),  # a district alone closing the address
        ("彩雲道 12 號", "金碧大廈 8 樓"),
        ("Unit 1203, Tower 2", "Sydney NSW 2000"),
    ],
)
def test_the_second_line_of_an_address_is_hidden(first, second):
    hits = CLF.classify_lines([first, second])
    assert hidden(hits[0]) and hidden(hits[1]), (first, second, hits)


def test_continuation_is_a_context_rule():
    alone = CLF.classify("Kwong Fat Street")
    assert not hidden(alone)  # a street sign alone stays readable
    hits = CLF.classify_lines(["Flat 7, 23/F,", "Kwong Fat Street", "Tsuen Wan"])
    assert all(hidden(h) for h in hits), hits  # and carries on to a third line


@pytest.mark.parametrize(
    "address, other",
    [
        ("88 Example Road", "Stand with Hong Kong"),  # a slogan ending in a place
        ("香港灣仔道 88 號", "光復香港"),
        ("彩雲道 12 號", "翠林花園公寓"),  # a building's name alone: a sign beside the address it shows
        ("Room 1203, Block 5", "Happy birthday"),
    ],
)
def test_a_line_that_is_no_address_is_not_carried(address, other):
    hits = CLF.classify_lines([address, other])
    assert hidden(hits[0]) and not hidden(hits[1]), (address, other, hits)
