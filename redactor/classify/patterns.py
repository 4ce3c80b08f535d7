"""Recognizers: one per protected category, mostly data (regexes with a score each, pattern_data.py).

Every recognizer sees the *normalised* line (see ``normalise`` in __init__.py: full-width
forms folded, Simplified characters turned Traditional) whose characters line up one-to-one
with the original, so spans index the original text.

Scores: ≥0.9 validated structure (email, HKID with a good check digit, a valid phone number, a
labelled value); 0.6-0.85 a pattern alone; below 0.5 a weak candidate that is hidden only when
the note around it lifts it (see TextClassifier.classify_lines).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator

import phonenumbers

from ..types import Category
from .names import (
    EN_GIVEN_SYLLABLES,
    EN_PLACE_NAMES,
    EN_SLOGAN_VERBS,
    EN_SURNAMES,
    EN_WESTERN_GIVEN,
    EN_WESTERN_SURNAMES,
    NAME_DEMANDS,
    REGION_NAMES,
    ZH_COMPOUND_SURNAMES,
    ZH_GIVEN_CHARS,
    ZH_PLACE_NAMES,
)
from .normalise import edits_at_most
from .numbers import id_number_matches
from .pattern_data import CJK, PATTERNS, SURN_EN_ANY, SURN_EN_RE, SURN_ZH_RE, SYLLABLE_UPPER

Match = tuple[Category, int, int, float, str]  # category, start, end, score, recognizer
Recognizer = Callable[[str], Iterator[Match]]

_I = re.IGNORECASE

_COMPILED = tuple((c, n, re.compile(p, f), s) for c, n, p, s, f in PATTERNS)


def regex_matches(text: str) -> Iterator[Match]:
    for category, name, rx, score in _COMPILED:
        for m in rx.finditer(text):
            if m.group().strip():
                yield category, m.start(), m.end(), score, name


def phone_matches(text: str) -> Iterator[Match]:
    """Numbers ``phonenumbers`` calls valid for Hong Kong, or anywhere with a + country code."""
    for pm in phonenumbers.PhoneNumberMatcher(text, "HK", leniency=phonenumbers.Leniency.VALID):
        yield "phone", pm.start, pm.end, 0.9, "phonenumbers"
    # OCR splits and joins digits oddly; an 8-digit HK-shaped run after a phone label is enough.
    for m in re.finditer(r"(?:電話|手機|手提|聯絡|Tel|Phone|Mobile|WhatsApp|Whatsapp|Call)\s*[:：]?\s*"
                         r"(?:\+?\(?852\)?\s*)?[2-9]\d{3}\s?-?\d{4}", text, _I):
        yield "phone", m.start(), m.end(), 0.9, "phone-label"
    # Shaped like an HK number (8 digits from 2-9, optionally +852) though not a valid range:
    # fake or misread numbers are still someone's number.
    for m in _HK_SHAPE.finditer(text):
        yield "phone", m.start(), m.end(), 0.75, "hk-phone-shape"


_HK_SHAPE = re.compile(r"(?<![\d.:/])(?:\+?\(?852\)?\s*)?[2-9]\d{3}[\s-]?\d{4}(?![\d.:/])")


# Case-insensitive: OCR lower-cases a prefix letter ("y522452(5)") now and then.
_HKID = re.compile(r"(?<![A-Z])([A-Z]{1,2})\s?((?:\d\s?){6})\s?[\(（]?\s?([0-9A])\s?[\)）]?", re.IGNORECASE)
_HKID_BARE = re.compile(r"[A-Z]{1,2}\d{6}[0-9A]")  # no spaces or brackets, capitals: A1234567
_CODE_GOES_ON = re.compile(r"[A-Za-z0-9-]")  # "JM0352019-K": part of a longer code
_HKID_LABEL = re.compile(r"HKID|HK\s?ID|身份證|身分證|ID\s?(?:No|Card)", _I)


def hkid_check_digit(prefix: str, digits: str) -> str:
    """Check digit of a Hong Kong identity card number (mod 11; 10 is written 'A')."""
    values = ([36] if len(prefix) == 1 else []) + [ord(c) - 55 for c in prefix] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


def hkid_matches(text: str) -> Iterator[Match]:
    labelled = bool(_HKID_LABEL.search(text))
    for m in _HKID.finditer(text):
        prefix, digits, check = m.group(1).upper(), m.group(2).replace(" ", ""), m.group(3).upper()
        if hkid_check_digit(prefix, digits) == check:
            yield "id", m.start(), m.end(), 0.95, "hkid-checked"
        elif labelled or "(" in m.group() or "（" in m.group():
            # OCR misread a digit: the shape (and a label) still say identity card number.
            yield "id", m.start(), m.end(), 0.75 if labelled else 0.6, "hkid-shape"
        elif _HKID_BARE.fullmatch(m.group()) and not _CODE_GOES_ON.match(text, m.end()):
            # the check digit fails and no bracket says "identity card": a specimen card, a
            # misread digit, or another code of the same shape; hidden all the same
            yield "id", m.start(), m.end(), 0.55, "hkid-shape-bare"
    if labelled:
        yield "id", 0, len(text), 0.7, "hkid-label"


_ZH_NAME_LINE = re.compile(rf"^\s*({SURN_ZH_RE}{CJK}{{1,2}})\s*$")
_ZH_MISREAD_SURNAME = re.compile(rf"^\s*({CJK}{{3}})\s*$")
_EN_NAME = re.compile(
    rf"\b({SURN_EN_ANY})\s+([A-Z][a-z]+|[A-Z]+)(?:[- ]([A-Za-z][a-z]+|[A-Z]+))?\b"  # CHAN Tai-man, Wong Ka Ming
    rf"|\b([A-Z][a-z]+)-([a-z]+|[A-Z][a-z]+)\s+({SURN_EN_RE})\b"  # Tai-man Chan
    rf"|\b([A-Za-z][a-z]{{2,}})\s+({SURN_EN_RE})\b"  # Sandy Kwan, Jason Wu (peter Wong)
    rf"|\b({SURN_EN_RE.upper()})({SYLLABLE_UPPER}){{1,2}}\b",  # TANGLOK: OCR dropped the space
)
_PLACES = re.compile("|".join(re.escape(p) for p in EN_PLACE_NAMES), _I)
_EN_WORD_GIVEN = re.compile(r"^[A-Z][a-z]{2,}$")


def name_matches(text: str) -> Iterator[Match]:
    m = _ZH_NAME_LINE.match(text)
    if m:
        yield "name", m.start(1), m.end(1), zh_name_line_score(m.group(1)), "zh-name-line"
    else:
        m = _ZH_MISREAD_SURNAME.match(text)
        if m and all(ch in ZH_GIVEN_CHARS for ch in m.group(1)[1:]):
            # OCR misread the surname (那小 for 鄧小) but the given name reads like one: weak
            yield "name", m.start(1), m.end(1), 0.35, "zh-name-misread"
    for m in _EN_NAME.finditer(text):
        if _place_or_repeat(m, text):
            continue
        yield "name", m.start(), m.end(), _en_name_score(m), "en-name"
    if not text.isascii() or text == text.title():
        return
    # OCR mixes cases ("Karen chan", "sIu Wing siu"): read the line title-cased too, and trust a
    # name found only that way as a pattern match (0.6 at most), never as validated
    titled = text.title()
    for m in _EN_NAME.finditer(titled):
        if _place_or_repeat(m, text):
            continue
        score = _en_name_score(m)
        if score >= 0.5:
            yield "name", m.start(), m.end(), min(score, 0.6), "en-name-recased"


def _place_or_repeat(m: re.Match[str], text: str) -> bool:
    """A name-shaped match that shares a word with a place name ("Wong Tai Sin"; "Free Hong"
    in "Free Hong Kong", where a slogan's verb reads as a given name before "Hong"), that is
    one word repeated ("Ho Ho Ho"), or that a demand follows: a slogan about a public figure
    ("X step down")."""
    overlaps_place = any(p.start() < m.end() and m.start() < p.end() for p in _PLACES.finditer(text))
    demand = any(d in text[m.start():].lower() for d in NAME_DEMANDS)
    return overlaps_place or demand or _campaign(text[:m.start()]) or len(set(m.group().lower().split())) == 1


def _campaign(before: str) -> bool:
    """Only a slogan verb stands before the name: a campaign for a public figure ("Free X",
    "Release X"), a slogan."""
    return before.strip().lower() in EN_SLOGAN_VERBS


def zh_name_line_score(line: str) -> float:
    """Score a short CJK line that starts with a surname (1-2 characters) and has 1-2 more.

    Such a line is a name or a short word that happens to start with a surname character (黃店,
    林鄭, 高飛). Given-name characters (ZH_GIVEN_CHARS) tell them apart: all given characters
    common in names -> 0.7 (hidden alone); some -> 0.45; none -> 0.3. The last two are hidden
    only on a note that carries other personal data (TextClassifier.classify_lines).
    """
    surname = next((c for c in ZH_COMPOUND_SURNAMES if line.startswith(c)), line[0])
    given = line[len(surname):]
    known = sum(ch in ZH_GIVEN_CHARS for ch in given)
    if known == len(given):
        # One given character alone (陳明) is also a common two-character word shape: a bit lower.
        return 0.7 if len(given) == 2 or len(surname) == 2 else 0.55
    return 0.45 if known else 0.3


def cantonese_syllables(word: str) -> int:
    """How many Cantonese given-name syllables ``word`` is: 1 ("ming"), 2 run together
    ("kaming", "bingyan": a common spelling, and OCR drops hyphens), or 0 (not a given name)."""
    w = word.lower()
    if w in EN_GIVEN_SYLLABLES:
        return 1
    if any(w[:i] in EN_GIVEN_SYLLABLES and w[i:] in EN_GIVEN_SYLLABLES for i in range(1, len(w))):
        return 2
    return 0


def _en_name_score(m: re.Match[str]) -> float:
    if m.group(1):  # Surname Given [Given]
        given = [g for g in (m.group(2), m.group(3)) if g]
        syllables = [cantonese_syllables(g) for g in given]
        if all(syllables):
            return 0.85 if sum(syllables) >= 2 else 0.6
        return 0.4 if any(syllables) else 0.25
    if m.group(4):  # Given-given Surname
        return 0.85 if cantonese_syllables(m.group(5)) else 0.5
    if m.group(9):  # SURNAMEGIVEN run together: weak alone, lifted on a personal note
        return 0.45
    # English given name + surname ("Sandy Kwan"); also matches "Hope Wong"-like slogans, so weak-ish.
    return 0.55 if _EN_WORD_GIVEN.match(m.group(7)) and m.group(7).lower() not in _COMMON_WORDS else 0.3


# Common English words that precede a surname-shaped word in slogans and signs ("Stand with Hong").
_COMMON_WORDS = set(
    "the and for with from our your this that stand free hong kong add oil thank thanks love peace hope "
    # verbs that open slogans ("Save Lam", "Release Chow"): a verb is no given name
    "save liberate fight protect defend support release reclaim restore pray resist unite join remember "
    "justice freedom democracy glory welcome "
    "good luck never forget we are water day page room shop cafe restaurant open closed sale "
    # ranks before a surname make a role ("Inspector Sham"), not a given name
    "inspector sergeant constable superintendent officer station senior chief probationary commissioner "
    "detective commander police sir madam".split()
)

_PLACE = "(?:" + "|".join(re.escape(p) for p in (*EN_PLACE_NAMES, *ZH_PLACE_NAMES, *REGION_NAMES)) + ")"
# "Sham Shui Po, Kowloon"; Chinese writes places from the region down without a separator: "香港九龍觀塘"
_PLACE_LINE = re.compile(rf"^\W*{_PLACE}(?:[\s,，、]*{_PLACE})*\W*$", _I)


def place_matches(text: str) -> Iterator[Match]:
    """A line that is only a district name: part of an address on a note, or a sign. Weak alone."""
    m = _PLACE_LINE.match(text)
    if m:
        yield "address", 0, len(text), 0.4, "place-line"


_WORD = re.compile(r"[A-Za-z]+")
_GIVEN_INITIAL = re.compile(r"\b([A-Z][a-zA-Z]+)\s+[A-Z]\.(?!\w)")  # "LIAM R.", "Jane Q."


def western_name_matches(text: str) -> Iterator[Match]:
    """Common English given names and surnames: both together are a name; one alone is weak."""
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    for (s1, _, w1), (_, e2, w2) in itertools.pairwise(words):
        if (w1 in EN_WESTERN_GIVEN and w2 in EN_WESTERN_SURNAMES) or (w1 in EN_WESTERN_SURNAMES and w2 in EN_WESTERN_GIVEN):
            yield "name", s1, e2, 0.7, "en-western-name"
    for m in _GIVEN_INITIAL.finditer(text):
        if m.group(1).lower() in EN_WESTERN_GIVEN:
            yield "name", m.start(), m.end(), 0.6, "en-given-initial"
    if len(words) == 1 and (words[0][2] in EN_WESTERN_GIVEN or words[0][2] in EN_WESTERN_SURNAMES):
        yield "name", words[0][0], words[0][1], 0.3, "en-western-word"


# "SURNAME, Given names": the order identity cards, passports and forms print ("CHAN, Tai Man",
# "KOWALSKI, Tomasz"), alone on its line. A known surname before the comma makes it a name; an
# unknown one in capitals does with a known given name, and is a weak candidate otherwise. Words
# after the comma that are a place make an address line instead ("KOWLOON, Hong Kong").
_SURNAME_COMMA = re.compile(r"^\s*(?P<surname>[A-Za-z][A-Za-z'-]+(?: [A-Za-z][A-Za-z'-]+)?)\s*,\s*"
                            r"(?P<given>[A-Z][a-z]+(?:[- ][A-Za-z]?[a-z]+){0,2})\s*$")
_EN_SURNAMES_ALL = frozenset(n.lower() for n in EN_SURNAMES) | EN_WESTERN_SURNAMES
_REGIONS = re.compile("|".join(re.escape(p) for p in (*EN_PLACE_NAMES, *REGION_NAMES)), _I)


def surname_comma_matches(text: str) -> Iterator[Match]:
    m = _SURNAME_COMMA.match(text)
    if not m or _REGIONS.search(m.group("given")) or _REGIONS.fullmatch(m.group("surname")):
        return
    surname, given = m.group("surname"), m.group("given").lower().replace("-", " ").split()
    known_given = all(g in EN_WESTERN_GIVEN or cantonese_syllables(g) for g in given)
    if surname.lower() in _EN_SURNAMES_ALL:
        yield "name", m.start("surname"), m.end("given"), 0.7, "surname-comma"
    elif surname.isupper() and len(surname) >= 3:
        # an unknown surname: a known given name makes it a name; otherwise weak ("SALE, Today"),
        # lifted on a personal note or an identity document
        yield "name", m.start("surname"), m.end("given"), 0.6 if known_given else 0.45, "surname-comma"


# English rank words as OCR misspells them ("Sergnant", "Inspecter", "Superintendant"): one edit
# away, two for words of ten letters or more. The exact words are rank-en above.
_RANKS_EN = ("constable", "sergeant", "inspector", "superintendent", "commissioner", "detective")
_LONG_WORD = re.compile(r"[A-Za-z]{7,}")


def misspelt_rank_matches(text: str) -> Iterator[Match]:
    for m in _LONG_WORD.finditer(text):
        word = m.group().lower()
        if word in _RANKS_EN:
            continue
        if any(edits_at_most(word, rank, 2 if len(rank) >= 10 else 1) for rank in _RANKS_EN):
            yield "role", m.start(), m.end(), 0.7, "rank-en-misread"


RECOGNIZERS: tuple[Recognizer, ...] = (
    regex_matches, phone_matches, hkid_matches, id_number_matches, name_matches, place_matches,
    western_name_matches, surname_comma_matches, misspelt_rank_matches,
)
