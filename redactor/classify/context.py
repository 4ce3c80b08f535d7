"""Context: what a label or the rest of a note says about a line.

Two rules, both recorded in ``Hit.recognizer`` as ``context:...``:

1. **Labels.** A line that starts with a label ("電話", "Name:", "DOB", "地址") makes its value
   that category (``context:label-phone``; applied by ``classify`` too, it needs no other line).
   A misread label ("Piate", "卓牌") counts when its value has the right shape
   (``context:fuzzy-label-plate``). A line that is *only* a label lifts the next line of the
   note (``context:after-label-phone``): OCR often reads label and value as two lines.
2. **Personal notes.** A note with any strong hit (score >= STRONG: a valid phone number, an
   email, a checked HKID...) is someone's personal data, so weak candidates on its other lines
   (a bare "surname + characters" line, a district name that ends an address) are lifted to
   LIFTED (``zh-name-line+context:phone-on-note``).
"""

from __future__ import annotations

import re
from typing import cast

from ..types import Category
from .normalise import edits_at_most

STRONG = 0.8  # a hit this sure makes its note personal
WEAK = 0.25  # candidates at or above this are lifted on a personal note...
LIFTED = 0.65  # ...to this score (above the default policy threshold of 0.5)
LABEL_VALUE = 0.85  # a value after its label
LABEL_ONLY = 0.85  # a label alone on its line, with a value on the next line
FUZZY_LABEL_VALUE = 0.7  # a misread label whose value has the right shape

# (category, label regex, needs a digit in the value when there is no colon)
# Values of number-like categories must hold a digit unless a colon says "here comes the value":
# "生日快樂" (happy birthday) and "Phone shop" are not personal data.
_LABEL_TABLE: tuple[tuple[str, str, bool], ...] = (
    # Passports print each field in English and French (ICAO Doc 9303), often Spanish too: the
    # other languages' labels make "Date of birth Date de naissance" a label alone when OCR
    # drops the slash between them.
    ("name", r"姓名|名字|\bName\b|\bSurname\b|\bGiven names?\b|\bNom\b|\bPr[ée]noms\b|\bApellidos\b|\bNombres?\b",
     False),
    ("phone", r"聯絡電話|電話|手機|手提|聯絡|\bTel\b|\bPhone\b|\bMobile\b|\bWhats ?App\b|\bCell\b", True),
    ("birthday", r"出生日期|出生|生日|\bDOB\b|\bD\.O\.B\.?|\bDate\s*of\s*birth|\bBirthday\b|\bBorn\b|"
                 r"\bDate\s*de\s*naissance\b|\bFecha\s*de\s*nacimiento\b", True),
    ("address", r"住址|地址|\bAddress\b|\bAddr\.?", False),
    ("email", r"電郵地址|電郵|郵箱|\bE-?mail\b", False),
    ("plate", r"車牌號碼|車牌|\bPlate\b|\bReg\.? No\.?", True),
    ("id", r"身份證號碼|身份證|身分證|公民身份號碼|護照號碼|護照|通行證號碼|證件號碼|駕駛執照號碼|帳戶號碼|賬戶號碼|帳號|賬號|"
           r"\bHKID\b|\bID No\.?|\bPassport(?: No\.?)?|\bDocument No\.?|\bCard No\.?|\bAccount No\.?|"
           r"\bLicen[cs]e No\.?|\bDriver'?s? Licen[cs]e No\.?", True),  # "DRIVER LICENSE" alone is a card's title
    ("role", r"警員編號|編號|職位|職級|\bRank\b", True),
    ("handle", r"\bIG\b|\bFB\b|\bTG\b|\bInstagram\b|\bFacebook\b|\bTelegram\b|\bTwitter\b|微博|微信|\bWeChat\b", False),
)
_LABELS: tuple[tuple[Category, re.Pattern[str], bool], ...] = tuple(
    (cast(Category, cat),
     re.compile(rf"^\s*(?:{rx})\s*(?P<colon>[:：]?)\s*(?P<value>.*?)\s*$", re.IGNORECASE),
     needs_digit)
    for cat, rx, needs_digit in _LABEL_TABLE
)


# Misread labels: OCR turns "Plate" into "Piate", "車牌" into "卓牌", "編號" into "编线". A label
# word within one edit (two for long words), or a two-character CJK label with one character
# right, still counts, but only when the value has the shape of that category's value.
_FUZZY_WORDS: tuple[tuple[Category, str], ...] = (
    ("phone", "phone"), ("phone", "mobile"), ("phone", "whatsapp"), ("email", "email"), ("email", "e-mail"),
    ("address", "address"), ("plate", "plate"), ("handle", "telegram"), ("handle", "twitter"),
    ("handle", "instagram"), ("handle", "facebook"), ("birthday", "birthday"), ("name", "surname"),
)
_FUZZY_ZH: tuple[tuple[Category, str], ...] = (
    ("phone", "電話"), ("phone", "手機"), ("phone", "手提"), ("plate", "車牌"), ("role", "編號"), ("role", "警號"),
    ("birthday", "生日"), ("birthday", "出生"), ("email", "電郵"), ("id", "身份"),
)
_VALUE_SHAPES: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"^\+?[\d()\s-]{8,}$"),
    "plate": re.compile(r"^[A-HJ-NPR-Z]{1,2}\s?\d{1,4}$"),
    "role": re.compile(r"^\d{4,6}$"),
    "birthday": re.compile(r"^\d{1,4}\s*[/.\-年]\s*\d{1,2}\s*[/.\-月]\s*\d{1,4}|"
                           r"^\d{1,2}\s*[A-Z]{3,9}\b[\s/A-Z]*\d{2,4}$", re.IGNORECASE),  # 01 JAN /JAN 85
    "id": re.compile(r"^[A-Z]{1,2}\s?\d{6}"),
    "email": re.compile(r"^\S+[@.]\S+$"),
    "handle": re.compile(r"^@?\s?[\w.]{3,}"),
    "address": re.compile(r"\d"),
    "name": re.compile(r"^[A-Za-z]{2,}"),
}
_FIRST_WORD = re.compile(r"^\s*([A-Za-z-]{5,})\s*[:：]?\s*(.*?)\s*$")
_FIRST_ZH = re.compile(r"^\s*([\u3400-\u9fff]{2})\s*[:：]?\s*(.*?)\s*$")


def _within_one_or_two(a: str, b: str) -> bool:
    """Edit distance of ``a`` and ``b`` is at most 1, or 2 for words of 8+ letters."""
    return edits_at_most(a, b, 2 if len(b) >= 8 else 1)


def fuzzy_label_of(text: str) -> tuple[Category, int, int] | None:
    """A misread label followed by a value shaped like that label's value: category, value span."""
    m = _FIRST_WORD.match(text)
    if m and m.group(2):
        word = m.group(1).lower()
        for cat, label in _FUZZY_WORDS:
            if _within_one_or_two(word, label) and _VALUE_SHAPES[cat].search(m.group(2)):
                return cat, m.start(2), m.end(2)
    m = _FIRST_ZH.match(text)
    if m and m.group(2):
        word = m.group(1)
        for cat, label in _FUZZY_ZH:
            if sum(x == y for x, y in zip(word, label, strict=True)) == 1 and _VALUE_SHAPES[cat].search(m.group(2)):
                return cat, m.start(2), m.end(2)
    return None


# A label followed by its translation is still a label alone: "姓名 NAME", "Date of birth/Date
# de naissance", "Sex/Sexe" on forms and passports. A translation follows a slash or sits in
# brackets and holds no digit; or it is the same category's label in another language.
_TRANSLATION = re.compile(r"^[/(（|]\s*[^\d/]*?\s*[)）]?\s*[:：]?$")


def _is_translation(value: str, rx: re.Pattern[str]) -> bool:
    m = rx.match(value)
    return bool(_TRANSLATION.match(value) or (m and not m.group("value")))


def garbled_label_of(text: str) -> Category | None:
    """A label of a number-like category followed by words without a digit, which
    :func:`label_of` does not take (its value would need a digit): a bilingual label OCR
    garbled ("Date of birthCate de naissanice"), or a sign ("Phone shop"). The caller lifts the
    next line only when it has the shape of that category's value."""
    for cat, rx, needs_digit in _LABELS:
        m = rx.match(text)
        if m and needs_digit and not any(c.isdigit() for c in m.group("value")):
            return cat
    return None


def value_shaped(category: Category, text: str) -> bool:
    return bool(_VALUE_SHAPES[category].search(text))


def label_of(text: str) -> tuple[Category, int, int, bool] | None:
    """The label that starts ``text`` (already normalised): category, value span, label-only.

    Returns None when the line does not start with a label, or its value is not shaped like one.
    """
    for cat, rx, needs_digit in _LABELS:
        m = rx.match(text)
        if not m:
            continue
        value = m.group("value")
        if not value or _is_translation(value, rx):
            return cat, m.start(), m.end(), True
        has_colon = bool(m.group("colon"))
        if len(value.strip()) < 2 or (needs_digit and not has_colon and not any(c.isdigit() for c in value)):
            return None
        return cat, m.start("value"), m.end("value"), False
    return None


# 3. Addresses over two lines. A line next to an address hit (same note) that holds address
# material itself continues it: "Flat 3, 12/F," above "Kwong Wah Street"; "新界沙田大圍" above
# "村南道 12 號"; "88 Nathan Road" above "Tsim Sha Tsui, Kowloon". Address material: a floor or
# flat number; a line of nothing but place names; an English street, building or flat word; a
# Chinese address word with a number ("恒豐大廈 12 樓"), or a line ending in a street or estate
# word ("大圍村南道"). A building's name alone ("XX花園公寓", a sign beside the address it shows)
# is not, nor a line that merely ends with a place ("光復香港", "Stand with Hong Kong").
#
# 4. Identity documents. An image where an identity document or card number is found (an ``id``
# hit >= STRONG: a checked HKID, an MRZ, a bank card) is a document: its names sit on lines of
# their own, far from the number, so the name models' weak candidates anywhere in the image are
# lifted (TextClassifier.classify_notes).
ADDRESS_CONTINUED = 0.7
_ADDRESS_WORDS_ZH = r"[道街路里巷徑坊圍邨苑村樓座室號]|大廈|花園|中心|閣|山莊|廣場|商場|大樓"
_ADDRESS_END_ZH = r"[道街路里巷徑坊邨苑村]\s*$"
_ADDRESS_WORDS_EN = (r"\b(?:Street|St|Road|Rd|Avenue|Ave|Lane|Path|Terrace|Drive|Square|Circuit|Crescent|Building|Bldg|"
                     r"Estate|Court|Ct|Mansion|House|Tower|Towers|Block|Blk|Flat|Floor|Fl|Room|Rm|Unit|Suite|Gardens?|"
                     r"Centre|Center|Plaza|Villa|Heights|Village|Jalan|Taman|Lorong)\b\.?")
_FLOOR = r"\d{1,3}\s*/\s*F\b|\bG/F\b|\d+\s*樓|\d{1,3}(?:st|nd|rd|th)\s+Floor"
_CONTINUES_EN = re.compile(rf"{_ADDRESS_WORDS_EN}|{_FLOOR}|{_ADDRESS_END_ZH}", re.IGNORECASE)
_ZH_WORD = re.compile(_ADDRESS_WORDS_ZH)
# Slogans and wishes that happen to hold an address character (上街, 回家路, 中心): a line with
# one of these is not an address line.
_NOT_ADDRESS = re.compile(r"加油|革命|光復|自由|民主|快樂|不可|萬歲|下台|唔|嘅|我|你|佢|\b(?:free|stand|with|love|save|fight|"
                          r"add oil|thank|never|forget|we|you|our)\b", re.IGNORECASE)


def continues_address(text: str, place_only: bool) -> bool:
    """Whether ``text`` (normalised) can be a line of an address whose other line is next to it.
    ``place_only``: the line is nothing but place names (a recognizer says so)."""
    if _NOT_ADDRESS.search(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    return place_only or bool(_CONTINUES_EN.search(text)) or (has_digit and bool(_ZH_WORD.search(text)))
