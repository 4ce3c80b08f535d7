"""Numbers shaped like identity documents and accounts, hidden as ``id``.

A Hong Kong identity card is not the only document in a newsroom's photos: mainland resident
IDs, passports, other countries' identity and licence numbers, bank cards and accounts identify
a person as surely. Each shape is data below: a regex, a score, and where the document defines
one, a check (a check digit, a birth date inside the number). A number whose check passes
scores higher; one whose check fails (a misread digit, a specimen) keeps the shape's score,
above the policy threshold: a misread identity number is still someone's identity number.

Shapes are chosen so that dates (2019-06-12, 12/06/1985), times, prices (HK$1,234.50), Hong
Kong phone numbers (8 digits) and event counters (No. 5, Day 100) never fit: every shape needs
more digits than those, or letters in fixed places, or separators in places dates do not use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ..types import Category

Match = tuple[Category, int, int, float, str]  # as in patterns.py

_I = re.IGNORECASE


def cn_resident_id_ok(number: str) -> bool:
    """Mainland resident identity number (GB 11643): ISO 7064 MOD 11-2 check character."""
    digits = re.sub(r"\s", "", number).upper()
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(digits[:17], weights, strict=True))
    return "10X98765432"[total % 11] == digits[17]


def luhn_ok(number: str) -> bool:
    """Payment card numbers (ISO/IEC 7812): the Luhn check."""
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(number: str) -> bool:
    """International bank account numbers (ISO 13616): mod 97 of the rearranged number is 1."""
    s = re.sub(r"\s", "", number).upper()
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


_BIRTH_DATE = r"(?:19\d\d|20[0-2]\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_SEP = r"[ -]?"

# (recognizer name, regex, score without a check or when it fails, check, score when it passes)
ID_SHAPES: tuple[tuple[str, str, float, Callable[[str], bool] | None, float], ...] = (
    # mainland resident ID: region (6 digits), birth date (8), sequence (3), check (digit or X);
    # OCR and people group it 6-8-4
    ("cn-resident-id", rf"(?<![\dA-Z])[1-8]\d{{5}}{_SEP}{_BIRTH_DATE}{_SEP}\d{{3}}[\dX](?![\dA-Z])", 0.8,
     cn_resident_id_ok, 0.95),
    # payment cards: 4 groups of 4 digits (or 15-16 in one run starting like a card)
    ("card-number", r"(?<![\d-])(?:\d{4}[ -]){3}\d{4}(?:[ -]?\d{1,3})?(?![\d-])|(?<!\d)[3-6]\d{14,15}(?!\d)", 0.65,
     luhn_ok, 0.9),
    # a card number shown with masked groups ("6225 7583 **** ****", "XXXX XXXX XXXX 1234"): what
    # is left still identifies the card, and the card names its holder
    ("card-number-masked", r"(?<![\w-])(?=(?:[^\d]*\d){4})(?=[\d -]*[#*Xx•])(?:(?:\d{4}|[#*Xx•]{4})[ -]){3}(?:\d{4}|[#*Xx•]{4})(?![\w-])",
     0.8, None, 0.0),
    # IBAN: country, check digits, then 10-30 letters and digits, often in groups of 4
    ("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", 0.6, iban_ok, 0.95),
    # bank accounts written in digit groups: HK 123-456789-001, 012-345-678901, 123-4-567890
    # (three or four groups, at least 9 digits: more than a phone, and no date has three hyphens
    # around a 3-digit first group)
    ("account-groups", r"(?<![\d./-])\d{3}-\d{1,8}-\d{3,9}(?:-\d{1,4})?(?![\d./-])", 0.6, None, 0.0),
    # passports and identity cards: one or two letters and 7-8 digits (K12345678, EA1234567,
    # N1234567, AB123456-style Canadian numbers have only 6 and are left to labels)
    # (not followed by a hyphen: "JM0352019-K" is a longer code, a company's registration)
    ("passport-shape", r"(?<![A-Z0-9])[A-Z]{1,2}\d{7,8}(?![A-Z0-9-])", 0.6, None, 0.0),
    # Singapore NRIC / FIN: S1234567D
    ("nric", r"(?<![A-Z0-9])[STFGM]\d{7}[A-Z](?![A-Z0-9])", 0.7, None, 0.0),
    # Taiwan national ID: a letter, 1 or 2 (sex), 8 digits
    ("tw-id", r"(?<![A-Z0-9])[A-Z][12]\d{8}(?![A-Z0-9])", 0.75, None, 0.0),
    # UK driving licence: surname (5, padded with 9), birth date digits, initials, check
    ("uk-licence", r"(?<![A-Z0-9])[A-Z9]{5}\d[0156]\d{4}[A-Z9]{2}\d[A-Z]{2}(?:\d{2})?(?![A-Z0-9])", 0.8, None, 0.0),
    # US social security number 123-45-6789; Korean resident number 850101-1234567;
    # Malaysian MyKad 850101-14-5678 (birth date first)
    ("us-ssn", r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])", 0.75, None, 0.0),
    ("kr-rrn", r"(?<![\d-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-[1-4]\d{6}(?![\d-])", 0.8, None, 0.0),
    ("my-kad", r"(?<![\d-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-\d{2}-\d{4}(?![\d-])", 0.8, None, 0.0),
    # a machine-readable zone line without the "<<" filler the mrz pattern needs (a passport's
    # second line: number, check, nationality, birth date, sex, expiry...)
    ("mrz-line", r"^\s*(?=[A-Z0-9<]*<)(?=(?:[A-Z<]*\d){8})[A-Z0-9<]{28,44}\s*$", 0.9, None, 0.0),
)

# A label that says the value is a document or account number; the value is then hidden
# whatever its shape (letters, digits, spaces and hyphens holding at least 5 digits).
ID_LABELS = (
    r"護照(?:號碼)?|通行證(?:號碼)?|回鄉證|證件(?:號碼)?|(?:公民)?身份號碼|駕駛執照(?:號碼)?|駕照(?:號碼)?|執照號碼|"
    r"(?:銀行)?(?:帳|賬)(?:戶|號)(?:號碼)?|戶口(?:號碼)?|卡號|"
    r"\bPassport\b|\bDocument\s*(?:No|Number)\b|\bDoc\.?\s*No\b|\bCard\s*(?:No|Number)\b|"
    r"\bA/?C\s*No\b|\bAccount\s*(?:No|Number|#)|\bIBAN\b|"
    r"\bDriver'?s?\s*Licen[cs]e\b|\bLicen[cs]e\s*(?:No|Number)\b|\bSSN\b|\bNRIC\b|\bNational\s*ID\b|"
    r"\bPersonal\s*(?:No|Number)\b|\bTax\s*ID\b"
)
_LABELLED = re.compile(rf"(?:{ID_LABELS})\.?\s*[:：#.]?\s*(?P<value>(?=(?:[A-Z0-9 -]*?\d){{5}})[A-Z0-9][A-Z0-9 -]{{4,}}[A-Z0-9])", _I)

_COMPILED = tuple((name, re.compile(rx), score, check, checked) for name, rx, score, check, checked in ID_SHAPES)

# Shapes read from letters and digits alone (no label, no check). A view that joins a line's
# words ("44 DIFFERENT SIZES" -> "44DIFFERENTSIZES") makes ordinary words with a number fit
# them; an identity or licence number is one code, or a code cut by OCR into short pieces, and
# never holds a word. (IBANs are not here: their bank code is four letters, "GB82 WEST 1234...")
WORDLESS_SHAPES = frozenset({"licence-number", "long-number", "passport-shape", "nric", "tw-id"})
_WORD = re.compile(r"(?<!\S)[^\W\d_]{4,}(?!\S)")  # a whole token of 4 or more letters, no digit
_LONG_WORD = re.compile(r"(?<!\S)[^\W\d_]{5,}(?!\S)")
_DIGIT = re.compile(r"\d")


def holds_a_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` holds a whole word of letters between spaces: one of 4 or
    more after its first digit, or one of 5 or more anywhere (a code's label before the number
    is shorter: "ETKT 7813699238489", "LIC 12345678901"). "24 HR COMPUTERIZED ACCESS" and
    "ACCESS 24HR" do; "D123 4567 890" does not."""
    digit = _DIGIT.search(text, start, end)
    return bool(_LONG_WORD.search(text, start, end) or (digit and _WORD.search(text, digit.start(), end)))


def id_number_matches(text: str) -> Iterator[Match]:
    """Identity document and account numbers by shape (checked where a check exists), and any
    value after a document or account label."""
    for name, rx, score, check, checked in _COMPILED:
        for m in rx.finditer(text):
            if name == "account-groups" and sum(c.isdigit() for c in m.group()) < 9:
                continue
            ok = check is not None and check(m.group())
            yield "id", m.start(), m.end(), checked if ok else score, f"{name}-checked" if ok else name
    for m in _LABELLED.finditer(text):
        yield "id", m.start(), m.end("value"), 0.9, "id-label-value"
