"""Protected categories in OCR'd text lines, Traditional Chinese and English.

``TextClassifier.classify(line)`` runs every recognizer (patterns.py) on one line;
``classify_lines(lines)`` does the same for the lines of one note and lets context lift
neighbours: a label ("電話", "Name:") with no value lifts the next line, and a note that holds
strong personal data (a phone, an email...) lifts weak name candidates on its other lines.

Built once, reused for thousands of images: patterns are compiled at import/init, and a call
keeps no state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

from ..errors import PolicyError
from ..types import TEXT_CATEGORIES, Category, Hit
from .patterns import RECOGNIZERS

__all__ = ["TextClassifier", "normalise"]

STRONG = 0.8  # a hit this sure makes its note personal (lifts weak names around it)
LIFTED = 0.65  # what a lifted weak candidate scores
WEAK = 0.25  # candidates at or above this are lifted on a note with strong personal data

# A line that is only a label: its value is probably on the next line.
_LABELS: tuple[tuple[Category, re.Pattern[str]], ...] = tuple(
    (cast(Category, cat), re.compile(rf"^\s*(?:{rx})\s*[:：]?\s*$", re.IGNORECASE))
    for cat, rx in (
        ("name", r"姓名|名字|Name|Surname"),
        ("phone", r"電話|手機|手提|聯絡電話|Tel|Phone|Mobile|WhatsApp"),
        ("birthday", r"生日|出生日期|出生|DOB|Date of birth|Birthday"),
        ("address", r"地址|住址|Address"),
        ("email", r"電郵|電郵地址|Email|E-mail"),
        ("handle", r"IG|FB|TG|Instagram|Facebook|Telegram|Twitter"),
        ("plate", r"車牌|車牌號碼|Plate"),
        ("id", r"HKID|身份證|身份證號碼|ID No\.?"),
        ("role", r"職位|職級|編號|警員編號|Rank|Post"),
    )
)


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def normalise(text: str) -> str:
    """Fold full-width forms (NFKC) and Simplified characters (OpenCC s2t), character by character,
    so the result has the same length as ``text`` and spans found in it index the original."""
    folded = "".join(n if len(n := unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in text)
    trad = _s2t().convert(folded)
    return trad if len(trad) == len(folded) else folded


class TextClassifier:
    """Finds protected categories in text lines. Only ``categories`` are ever reported."""

    def __init__(self, categories: frozenset[Category] = frozenset(TEXT_CATEGORIES), *,
                 deny_terms: Sequence[str] = (), deny_patterns: Sequence[str] = (),
                 allow_terms: Sequence[str] = ()) -> None:
        self.categories = frozenset(categories)
        self._deny = [t.casefold() for t in deny_terms if t.strip()]
        self._allow = [normalise(t).casefold() for t in allow_terms if t.strip()]
        self._deny_rx = []
        for pattern in deny_patterns:
            try:
                self._deny_rx.append(re.compile(pattern))
            except re.error as e:
                raise PolicyError(f"lists.deny_patterns: {pattern!r} is not a valid regex: {e}") from e

    def classify(self, text: str) -> tuple[Hit, ...]:
        """Hits in one line, strongest first. Scores below the policy threshold are candidates."""
        return self._finish(text, self._raw(text))

    def classify_lines(self, lines: Sequence[str]) -> list[tuple[Hit, ...]]:
        """Hits for each line of one note (reading order), with context from the other lines."""
        raw = [self._raw(t) for t in lines]
        strong_note = any(h.score >= STRONG for hits in raw for h in hits)
        for i, text in enumerate(lines):
            label = next((cat for cat, rx in _LABELS if rx.match(normalise(text))), None)
            if label and i + 1 < len(lines) and lines[i + 1].strip():
                raw[i] = [*raw[i], Hit(label, 0, len(text), 0.9, f"context:label-{label}")]
                nxt = lines[i + 1]
                raw[i + 1] = [*raw[i + 1], Hit(label, 0, len(nxt), 0.85, f"context:after-label-{label}")]
            if strong_note:
                # Weak candidates (a bare name, a district) are personal on a note that holds
                # strong personal data: a name next to a phone number, the last line of an address.
                raw[i] = [
                    Hit(h.category, h.start, h.end, LIFTED, h.recognizer + "+context:note")
                    if WEAK <= h.score < LIFTED else h
                    for h in raw[i]
                ]
        return [self._finish(t, hits) for t, hits in zip(lines, raw, strict=True)]

    def _raw(self, text: str) -> list[Hit]:
        norm = normalise(text)
        hits = [Hit(c, s, e, score, name) for rec in RECOGNIZERS for c, s, e, score, name in rec(norm)]
        folded = norm.casefold()
        for term in self._deny:
            start = folded.find(term)
            while start >= 0:
                hits.append(Hit("custom", start, start + len(term), 1.0, "deny-term"))
                start = folded.find(term, start + 1)
        for rx in self._deny_rx:
            hits += [Hit("custom", m.start(), m.end(), 1.0, "deny-pattern") for m in rx.finditer(norm) if m.group()]
        return hits

    def _finish(self, text: str, hits: list[Hit]) -> tuple[Hit, ...]:
        allowed = self._allowed_spans(text)
        kept = [
            h for h in hits
            if h.category in self.categories and not any(s <= h.start and h.end <= e for s, e in allowed)
        ]
        return tuple(sorted(kept, key=lambda h: (-h.score, h.start)))

    def _allowed_spans(self, text: str) -> list[tuple[int, int]]:
        if not self._allow:
            return []
        folded = normalise(text).casefold()
        spans = []
        for term in self._allow:
            start = folded.find(term)
            while start >= 0:
                spans.append((start, start + len(term)))
                start = folded.find(term, start + 1)
        return spans
