"""Views of one OCR line that undo the OCR noise recognizers trip on, with maps back to the line.

PP-OCR reads Simplified characters for Traditional ones (编號 for 編號), drops or inserts spaces
("電話6815 2924", "編 號 469 576", "KwokSiu-hong") and confuses look-alike glyphs inside numbers
(O/0, l/I/1, B/8). Rather than teach every pattern about every kind of noise, each recognizer
runs on a few *views* of the line, and every hit is mapped back to a span of the original text:

- ``base``: full-width forms folded (NFKC) and Simplified characters turned Traditional (OpenCC,
  character by character so the length is unchanged);
- ``digits``: base with look-alike letters read as digits where they touch a digit ("2l03 63l5");
- ``compact``: base without whitespace (CJK text has no spaces; OCR adds some);
- ``split``: base with a space at camel-case and letter/digit boundaries ("SeniorInspectorTse",
  "DOB14Apr2001"), where OCR dropped the spaces between English words.

A view is only made when it differs from ``base``, so a clean line costs one pass.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

__all__ = ["View", "normalise", "views"]


@dataclass(frozen=True)
class View:
    """A rewritten line. ``index[i]`` is the original index of view character ``i``."""

    name: str
    text: str
    index: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span (end exclusive) covering view characters ``start:end``."""
        if end <= start:
            return self.index[start], self.index[start]
        return self.index[start], self.index[end - 1] + 1


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def normalise(text: str) -> str:
    """Full-width forms folded (NFKC) and Simplified characters turned Traditional, one character
    for one, so the result has the length of ``text`` and its indices are the original's."""
    folded = "".join(n if len(n := unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in text)
    trad = _s2t().convert(folded)
    # OpenCC converts per character for s2t almost always; if a phrase rule ever changed the
    # length, the folded text is still a faithful (if Simplified) index-aligned reading.
    return trad if len(trad) == len(folded) else folded


# Letters OCR reads for digits. Only replaced where they touch a digit (or another replaced
# letter that does), so words stay words: "Hello" keeps its l's, "2l03" becomes "2103".
_DIGIT_LOOKALIKES = {"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1", "i": "1",
                     "B": "8", "S": "5", "Z": "2"}
_LOOKALIKE_RUN = re.compile(r"(?<=\d)[OoDQlI|iBSZ]+(?=\d|\W|$)|(?<![A-Za-z])[OoDQlI|iBSZ]+(?=\d)")
_SPACE = re.compile(r"\s+")
_SPLIT_AT = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])"  # camel case: "KwokSiu", "CHOIBing"
    r"|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"  # letters and digits: "DOB14Apr2001"
    r"|(?<=[\u3400-\u9fff])(?=[A-Za-z])|(?<=[A-Za-z])(?=[\u3400-\u9fff])"  # scripts: "蕭強英Siu"
)


def _digits(base: str) -> str:
    out = list(base)
    for m in _LOOKALIKE_RUN.finditer(base):
        run = m.group()
        # One letter touching a digit only on one side reads as a digit only when the letter
        # run is short: "l98B" yes, "2Apr" no (A is not a look-alike anyway), "1Boss" no.
        if len(run) > 2:
            continue
        for i in range(m.start(), m.end()):
            out[i] = _DIGIT_LOOKALIKES[base[i]]
    return "".join(out)


def views(text: str) -> list[View]:
    """The views of ``text`` that differ from each other; ``base`` first."""
    base = normalise(text)
    identity = tuple(range(len(base)))
    out = [View("base", base, identity)]
    digits = _digits(base)
    if digits != base:
        out.append(View("digits", digits, identity))
    if _SPACE.search(base.strip()):
        keep = [i for i, ch in enumerate(base) if not ch.isspace()]
        out.append(View("compact", "".join(base[i] for i in keep), tuple(keep)))
    if _SPLIT_AT.search(base):
        chars: list[str] = []
        index: list[int] = []
        cuts = {m.start() for m in _SPLIT_AT.finditer(base)}
        for i, ch in enumerate(base):
            if i in cuts:
                chars.append(" ")
                index.append(i)  # an inserted space maps to the character after it
            chars.append(ch)
            index.append(i)
        out.append(View("split", "".join(chars), tuple(index)))
    return out


def edits_at_most(a: str, b: str, limit: int) -> bool:
    """Whether the edit distance (Levenshtein) of ``a`` and ``b`` is at most ``limit``: OCR's
    misspellings of label and rank words."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= limit
