import pytest

from redactor.report import mask_text


@pytest.mark.parametrize(
    "clear, masked",
    [
        ("9123 4567", "9*** **67"),
        ("陳大文", "***"),
        ("tommy.wong@corp.net", "t****.****@****.*et"),
        ("", ""),
    ],
)
def test_mask_text(clear, masked):
    assert mask_text(clear) == masked
