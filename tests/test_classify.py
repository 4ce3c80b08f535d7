"""Recognizers: positive and negative cases in both languages, on our own fake data."""

import pytest

from redactor import PolicyError
from redactor.classify import TextClassifier, normalise
from redactor.classify.patterns import hkid_check_digit

CLF = TextClassifier()


def categories(text, threshold=0.5):
    return {h.category for h in CLF.classify(text) if h.score >= threshold}


@pytest.mark.parametrize(
    "text, category",
    [
        # names
        ("陳大文", "name"), ("姓名：李小明", "name"), ("黃生", "name"), ("何sir", "name"), ("鄭小姐", "name"),
        ("Chan Tai-man", "name"), ("WONG Ka Ming", "name"), ("Name: Lee Siu-fung", "name"),
        ("Ka-ming Wong", "name"), ("Mr. Leung", "name"), ("Fiona Cheung", "name"),
        # roles
        ("高級警員", "role"), ("見習督察 張", "role"), ("編號 45821", "role"), ("PC 52871", "role"),
        ("SGT 1234", "role"), ("Senior Inspector Lau", "role"), ("Station Sergeant", "role"), ("沙田警區", "role"),
        # phones
        ("電話 9123 4567", "phone"), ("+852 2345 6789", "phone"), ("(852) 6123-4567", "phone"),
        ("WhatsApp 61234567", "phone"), ("Tel: 3456 7890", "phone"), ("+44 20 7946 0958", "phone"),
        # emails, including OCR damage
        ("kaming.wong@example.com", "email"), ("電郵：tm_chan@mail.hk", "email"), ("wong.km@ example. com", "email"),
        ("siuming@hotmailcom", "email"),
        # addresses
        ("九龍旺角彌敦道 555 號 12 樓 B 室", "address"), ("香港灣仔道 88 號", "address"), ("Flat C, 12/F", "address"),
        ("88 Nathan Road, Yau Ma Tei", "address"), ("Rm 1203, Block 5", "address"), ("順利邨利富樓 1203 室", "address"),
        # birthdays
        ("DOB 1984-07-21", "birthday"), ("生日：3月5日", "birthday"), ("b. 1971.10.02", "birthday"),
        ("12/11/1988", "birthday"), ("1990年3月5日", "birthday"), ("出生日期 1979-01-30", "birthday"),
        # handles
        ("@kaming_w", "handle"), ("IG: wongkm.88", "handle"), ("FB: Tai Man Chan", "handle"), ("TG @km_w", "handle"),
        # ids
        ("A123456(3)", "id"), ("HKID: Z683365(5)", "id"), ("身份證 K 12345 6(7)", "id"),
        # international forms: UK postcode, licence numbers, MRZ, US ZIP, Western names
        ("Islington, London, N1 9GU", "address"), ("Springfield IL 62704", "address"), ("DL No: X1234567", "id"),
        ("LIC#QRTZ8842KD1", "id"), ("P<GBRDOE<<JANE<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", "id"), ("Jane Q.", "name"),
        ("Olivia Brown", "name"), ("TEL: 07-5547360", "phone"),
        # plates
        ("KM 3821", "plate"), ("車牌：FY5878", "plate"), ("AB123", "plate"), ("ABC1D23", "plate"),
    ],
)
def test_positive(text, category):
    assert category in categories(text), (text, CLF.classify(text))


@pytest.mark.parametrize(
    "text",
    [
        "勿忘初心", "五大訴求", "光復香港 時代革命", "香港人加油", "天佑香港", "多謝你", "唔好放棄", "堅持", "齊上齊落",
        "Thank you", "Hope", "Stand with Hong Kong", "Hong Kong add oil", "Never forget", "Day 100", "No. 5",
        "Page 2", "2019.6.12", "7.21 勿忘", "今晚 8 點 集合", "茶餐廳 Cafe", "Room 1", "Good luck", "We are water",
        "11.18 理大", "2019年6月12日", "Wong Tai Sin", "Lam Tin station",
    ],
)
def test_slogans_dates_and_places_are_spared(text):
    assert categories(text) == set(), (text, CLF.classify(text))


def test_hkid_check_digit():
    assert hkid_check_digit("A", "123456") == "3"
    assert hkid_check_digit("Z", "683365") == "A"  # 36*9 + 35*8 + 6*7 + 8*6 + 3*5 + 3*4 + 6*3 + 5*2 = 749
    assert hkid_check_digit("AB", "987654") == "3"  # 10*9 + 11*8 + 9*7 + 8*6 + 7*5 + 6*4 + 5*3 + 4*2 = 371
    valid = CLF.classify("A123456(3)")[0]
    invalid = CLF.classify("A123456(4)")[0]
    assert valid.recognizer == "hkid-checked" and valid.score > invalid.score


def test_ocr_noise_simplified_and_spacing():
    assert "role" in categories("编號 37583")  # Simplified 编 read for Traditional 編
    assert "phone" in categories("電話68152924")
    assert "id" in categories("HKID: A1 23456 (3)")
    assert normalise("编號：") == "編號:"


def test_spans_index_the_original_text():
    text = "Ｔｅｌ： 9123 4567"
    phone = next(h for h in CLF.classify(text) if h.category == "phone")
    assert "9123 4567" in text[phone.start:phone.end]


def test_only_policy_categories_reported():
    clf = TextClassifier(frozenset({"email"}))
    assert {h.category for h in clf.classify("電話 9123 4567 a@b.com")} == {"email"}


def test_deny_and_allow_lists():
    clf = TextClassifier(deny_terms=("Operation Sunrise",), deny_patterns=(r"CASE-\d{4}",), allow_terms=("Chan Tai-man",))
    assert {h.category for h in clf.classify("operation sunrise CASE-2041")} == {"custom"}
    assert [h for h in clf.classify("Chan Tai-man") if h.category == "name"] == []
    assert "phone" in {h.category for h in clf.classify("Chan Tai-man 9123 4567")}
    with pytest.raises(PolicyError, match="deny_patterns"):
        TextClassifier(deny_patterns=("([unclosed",))


def test_context_label_lifts_next_line_and_strong_note_lifts_names():
    lines = ["聯絡電話", "2233 4455 轉 8"]
    hits = CLF.classify_lines(lines)
    assert any(h.category == "phone" and h.score >= 0.5 for h in hits[1])
    weak = "Lo Fresh"  # a surname with a non-Cantonese given name: weak alone
    assert max((h.score for h in CLF.classify(weak)), default=0) < 0.5
    lifted = CLF.classify_lines([weak, "9123 4567", "kaming@example.com"])
    assert max(h.score for h in lifted[0]) >= 0.5
    alone = CLF.classify_lines([weak, "香港加油"])
    assert max((h.score for h in alone[0]), default=0) < 0.5
