"""Protected categories in OCR'd text lines, Traditional Chinese and English.

    clf = TextClassifier(frozenset(TEXT_CATEGORIES), deny_terms=("Project X",))
    clf.classify("電話 9123 4567")                       # -> (Hit("phone", 3, 12, 0.9, ...), ...)
    clf.classify_lines(["姓名", "陳大文", "9123 4567"])  # one note, reading order

``classify`` runs every recognizer (patterns.py) on every view of the line (normalise.py:
Simplified folded to Traditional, OCR look-alike digits, spaces dropped or restored) and maps
each hit back to the original string. ``classify_lines`` adds context (context.py): labels lift
their values, and a note with strong personal data lifts weak name candidates on it.

Built once, reused for thousands of images: patterns are compiled at import or in ``__init__``
and a call keeps no state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import PolicyError
from ..types import TEXT_CATEGORIES, Category, Hit
from .context import (
    ADDRESS_CONTINUED,
    FUZZY_LABEL_VALUE,
    LABEL_ONLY,
    LABEL_VALUE,
    LIFTED,
    STRONG,
    WEAK,
    continues_address,
    fuzzy_label_of,
    garbled_label_of,
    label_of,
    value_shaped,
)
from .ner import DOCUMENT_ONLY, NameModels
from .normalise import normalise, views
from .numbers import WORDLESS_SHAPES, holds_a_word
from .patterns import RECOGNIZERS, Match

__all__ = ["TextClassifier", "normalise"]

# An address hit this sure lets its neighbour lines continue it (context.py, rule 3): the
# default policy's threshold, so a line hidden as an address carries its other line with it.
ADDRESS_ANCHOR = 0.5

# A name this sure on a note lifts the note's weak birthday candidates ("陳嘉明" above "05-03-90"):
# a date beside a name on a personal note is a birth date, though a name line alone (0.7) is not
# sure enough to lift everything on the note (STRONG).
NAME_BESIDE = 0.55
BIRTHDAY_BESIDE_NAME = frozenset({"date-dmy-short", "date-misread-year"})

# Weak name candidates that an identity document elsewhere in the image lifts: a name model's
# reading, or one word from the given-name and surname lists (an ID prints "BROWN" and "HOLLIE"
# on lines of their own, far from the number). Rule-based weak names (a surname character plus
# anything) are not: walls carry ID-like notes, and slogans hold such candidates.
DOCUMENT_NAME_RECOGNIZERS = frozenset({"ner-en", "ner-zh", "en-western-word", "surname-comma"})

# Categories worth reading from each view. The digit view only fixes numbers, so only
# number-carrying categories come from it (its "ABC1023" is no plate, its "2019" no name).
_VIEW_CATEGORIES: dict[str, frozenset[str]] = {
    "base": frozenset(TEXT_CATEGORIES),
    "digits": frozenset({"phone", "role", "birthday", "id"}),
    "compact": frozenset(TEXT_CATEGORIES),
    "split": frozenset(TEXT_CATEGORIES),
}


class TextClassifier:
    """Finds protected categories in text lines. Only ``categories`` are ever reported.

    deny_terms: case-insensitive substrings always reported as ``custom`` (score 1.0).
    deny_patterns: regexes always reported as ``custom``; an invalid one raises PolicyError.
    allow_terms: a hit lying inside an occurrence of one of these is dropped (a public figure).
    names: the name models (ner.py) to use; by default a new one, loaded at the first line that
    needs it. Share one between classifiers to load the models once.
    """

    def __init__(self, categories: frozenset[Category] = frozenset(TEXT_CATEGORIES), *,
                 deny_terms: Sequence[str] = (), deny_patterns: Sequence[str] = (),
                 allow_terms: Sequence[str] = (), names: NameModels | None = None) -> None:
        self.categories = frozenset(categories)
        self._names = names if names is not None else NameModels()
        self._deny = tuple(normalise(t).casefold() for t in deny_terms if t.strip())
        self._allow = tuple(normalise(t).casefold() for t in allow_terms if t.strip())
        deny_rx = []
        for pattern in deny_patterns:
            try:
                deny_rx.append(re.compile(pattern, re.IGNORECASE))
            except re.error as e:
                raise PolicyError(f"lists.deny_patterns: {pattern!r} is not a valid regex ({e}); "
                                  "fix or remove it in the policy file") from e
        self._deny_rx = tuple(deny_rx)

    def classify(self, text: str) -> tuple[Hit, ...]:
        """Hits in one line, strongest first; spans index ``text``. Scores below the policy
        threshold are candidates that context may lift."""
        return self._finish(text, self._raw(text, self._find_names([text])[0]))

    def classify_lines(self, lines: Sequence[str]) -> list[tuple[Hit, ...]]:
        """Hits for each line of one note (reading order), lifted by the note's other lines."""
        return self.classify_notes([lines])[0]

    def classify_notes(self, notes: Sequence[Sequence[str]]) -> list[list[tuple[Hit, ...]]]:
        """Hits for each line of each note of one image: :meth:`classify_lines` per note, the name
        models run once over all the lines (a batch is ≈3x cheaper a line), and an identity
        document anywhere in the image lifts the name models' weak candidates everywhere in it
        (context.py, rule 4: a passport's or a card's name sits far from its number)."""
        flat = [t for note in notes for t in note]
        found = iter(self._find_names(flat))
        raws = [self._note(note, [next(found) for _ in note]) for note in notes]
        if any(h.category == "id" and h.score >= STRONG for raw in raws for hits in raw for h in hits):
            raws = [[[Hit(h.category, h.start, h.end, LIFTED, h.recognizer + "+context:id-document")
                      if h.recognizer in DOCUMENT_NAME_RECOGNIZERS and DOCUMENT_ONLY <= h.score < LIFTED else h
                      for h in hits] for hits in raw] for raw in raws]
        return [[self._finish(t, hits) for t, hits in zip(note, raw, strict=True)]
                for note, raw in zip(notes, raws, strict=True)]

    def _note(self, lines: Sequence[str], names: list[list[Match]]) -> list[list[Hit]]:
        """Raw hits of one note's lines, with its labels, addresses and personal data as context."""
        raw = [self._raw(t, found) for t, found in zip(lines, names, strict=True)]
        for i, text in enumerate(lines):
            label = label_of(normalise(text))
            garbled = garbled_label_of(normalise(text)) if label is None else None
            if garbled is not None and i + 1 < len(lines) and value_shaped(garbled, normalise(lines[i + 1]).strip()):
                label = (garbled, 0, len(text), True)
            elif garbled is not None and i > 0 and self._value_before(lines, i, garbled):
                raw[i - 1].append(Hit(garbled, 0, len(lines[i - 1]), LABEL_ONLY, f"context:before-label-{garbled}"))
            if label is None or not label[3]:
                continue  # no label, or its value is on the same line (see _raw)
            cat, start, end, _ = label
            if i + 1 < len(lines) and lines[i + 1].strip():
                nxt = lines[i + 1]
                raw[i].append(Hit(cat, start, end, LABEL_ONLY, f"context:label-{cat}"))
                raw[i + 1].append(Hit(cat, 0, len(nxt), LABEL_ONLY, f"context:after-label-{cat}"))
            if i > 0 and self._value_before(lines, i, cat):
                # A document turned upside down or a quarter reads bottom to top: the value
                # printed below its label comes before it ("01 JAN 85" above "Date of birth").
                raw[i - 1].append(Hit(cat, 0, len(lines[i - 1]), LABEL_ONLY, f"context:before-label-{cat}"))
        self._continue_addresses(lines, raw)
        if any(h.category == "name" and h.score >= NAME_BESIDE for hits in raw for h in hits):
            raw = [[Hit(h.category, h.start, h.end, LIFTED, h.recognizer + "+context:name-on-note")
                    if h.recognizer in BIRTHDAY_BESIDE_NAME and h.score < LIFTED else h for h in hits]
                   for hits in raw]
        strong = max((h for hits in raw for h in hits if h.category in self.categories),
                     key=lambda h: h.score, default=None)
        if strong is not None and strong.score >= STRONG:
            why = f"+context:{strong.category}-on-note"
            raw = [[Hit(h.category, h.start, h.end, LIFTED, h.recognizer + why)
                    if WEAK <= h.score < LIFTED and h is not strong else h for h in hits]
                   for hits in raw]
        return raw

    @staticmethod
    def _value_before(lines: Sequence[str], i: int, cat: Category) -> bool:
        """Whether the line before label-only line ``i`` is its value: shaped like the label's
        value and no label itself, while the line after it (if any) is not so shaped."""
        before = normalise(lines[i - 1]).strip()
        after = normalise(lines[i + 1]).strip() if i + 1 < len(lines) else ""
        return (value_shaped(cat, before) and label_of(before) is None
                and not (after and value_shaped(cat, after)))

    def _continue_addresses(self, lines: Sequence[str], raw: list[list[Hit]]) -> None:
        """Lift the lines that continue an address onto the next or previous line (context.py,
        rule 3), in place; a lifted line can carry the address on to the one after it."""
        if "address" not in self.categories:
            return
        def is_address(i: int) -> bool:
            return any(h.category == "address" and h.score >= ADDRESS_ANCHOR for h in raw[i])
        changed = True
        while changed:
            changed = False
            for i, text in enumerate(lines):
                if not text.strip() or is_address(i):
                    continue
                neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(lines) and is_address(j)]
                place_only = any(h.recognizer == "place-line" for h in raw[i])
                if neighbours and continues_address(normalise(text), place_only):
                    raw[i].append(Hit("address", 0, len(text), ADDRESS_CONTINUED, "context:address-continued"))
                    changed = True

    def _find_names(self, lines: Sequence[str]) -> list[list[Match]]:
        """The name models' matches for each line (one batch), or none when names are off."""
        if "name" not in self.categories:
            return [[] for _ in lines]
        return self._names.find([normalise(t) for t in lines])

    def _raw(self, text: str, names: list[Match]) -> list[Hit]:
        best: dict[tuple[str, int, int], Hit] = {}
        # The models read the base view (normalised: same length as the line, so spans carry over).
        for cat, s, e, score, name in names:
            best[(cat, s, e)] = Hit(cat, s, e, score, name)
        for view in views(text):
            keep = _VIEW_CATEGORIES[view.name]
            for rec in RECOGNIZERS:
                for cat, s, e, score, name in rec(view.text):
                    if cat not in keep:
                        continue
                    start, end = view.span(s, e)
                    if name in WORDLESS_SHAPES and holds_a_word(text, start, end):
                        continue  # ordinary words with a number, joined by a view: not a code
                    key = (cat, start, end)
                    if key not in best or best[key].score < score:
                        best[key] = Hit(cat, start, end, score, name)
        hits = list(best.values())
        base = normalise(text)
        label = label_of(base)
        if label is not None and not label[3]:
            cat, start, end, _ = label
            hits.append(Hit(cat, start, end, LABEL_VALUE, f"context:label-{cat}"))
        elif label is None and (fuzzy := fuzzy_label_of(base)) is not None:
            cat, start, end = fuzzy
            hits.append(Hit(cat, start, end, FUZZY_LABEL_VALUE, f"context:fuzzy-label-{cat}"))
        folded = base.casefold()
        for term in self._deny:
            hits += [Hit("custom", s, s + len(term), 1.0, "deny-term") for s in _find_all(folded, term)]
        for rx in self._deny_rx:
            hits += [Hit("custom", m.start(), m.end(), 1.0, "deny-pattern")
                     for source in {text, base} for m in rx.finditer(source) if m.group()]
        return hits

    def _finish(self, text: str, hits: list[Hit]) -> tuple[Hit, ...]:
        allowed = self._allowed_spans(text)
        kept = {
            h for h in hits
            if h.category in self.categories and not any(s <= h.start and h.end <= e for s, e in allowed)
        }
        return tuple(sorted(kept, key=lambda h: (-h.score, h.start, h.end, h.category, h.recognizer)))

    def _allowed_spans(self, text: str) -> list[tuple[int, int]]:
        if not self._allow:
            return []
        folded = normalise(text).casefold()
        return [(s, s + len(term)) for term in self._allow for s in _find_all(folded, term)]


def _find_all(haystack: str, needle: str) -> list[int]:
    """Start indices of every (possibly overlapping) occurrence of ``needle``."""
    out = []
    start = haystack.find(needle)
    while start >= 0:
        out.append(start)
        start = haystack.find(needle, start + 1)
    return out
