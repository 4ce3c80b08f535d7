"""Numbers shaped like identity documents and accounts (issue 13), on made-up numbers only."""

import pytest

from redactor.classify import TextClassifier
from redactor.classify.numbers import cn_resident_id_ok, iban_ok, luhn_ok

CLF = TextClassifier()


def id_score(text):
    return max((h.score for h in CLF.classify(text) if h.category == "id"), default=0.0)


def hidden(text):
    return any(h.score >= 0.5 for h in CLF.classify(text))


def test_checks():
    # GB 11643's published example; one digit changed fails
    assert cn_resident_id_ok("11010519491231002X")
    assert not cn_resident_id_ok("11010519491231003X")
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")


@pytest.mark.parametrize(
    "text, low",
    [
        # mainland resident IDs, 18 characters, with and without a passing check, grouped or not
        ("11010519491231002X", 0.9), ("11010519491231003X", 0.5), ("110105 19491231 002X", 0.9),
        ("公民身份號碼 44030119900101123X", 0.5),
        # HKID-shaped without a passing check digit: with brackets, labelled, bare
        ("A123456(4)", 0.5), ("HKID A123456(4)", 0.5), ("A1234564", 0.5),
        # passports and other countries' identity numbers
        ("K12345678", 0.5), ("EA1234567", 0.5), ("S1234567D", 0.5), ("A123456789", 0.5),
        ("MORGA753116SM9IJ", 0.5), ("123-45-6789", 0.5), ("850101-14-5678", 0.5), ("850101-1234567", 0.5),
        # machine-readable zone, second line, with and without "<" filler
        ("L898902C36UTO7408122F1204159ZE184226B<<<<<10", 0.9), ("L898902C36UTO7408122F1204159ZE184226B1234510", 0.9),
        # labelled document and account numbers
        ("護照號碼：E1234567", 0.5), ("Passport No. X9876543", 0.5), ("Account No: 123 456 789", 0.5),
        ("帳號 012-345-678901", 0.5),
        # bank accounts and cards
        ("123-456789-001", 0.5), ("012-345-678901", 0.5), ("4111 1111 1111 1111", 0.9),
        ("6200 1234 **** ****", 0.8), ("GB82 WEST 1234 5698 7654 32", 0.9),
    ],
)
def test_identity_and_account_numbers_are_ids(text, low):
    assert id_score(text) >= low, (text, CLF.classify(text))


def test_a_failed_check_scores_lower_than_a_passing_one_but_is_still_hidden():
    assert 0.5 <= id_score("11010519491231003X") < id_score("11010519491231002X")
    assert 0.5 <= id_score("A1234564") < id_score("A1234563")
    assert 0.5 <= id_score("4111 1111 1111 1112") < id_score("4111 1111 1111 1111")


@pytest.mark.parametrize(
    "text",
    [
        # dates, times, prices, counters and event numbers stay readable
        "2019-06-12", "2019.6.12", "12.06.2019", "11:30-12:45", "HK$1,234.50", "Price 12,345,678", "No. 5",
        "Day 100", "Order 2019-123", "Version 3.10.0", "Flight CX1234", "ISBN 978-3-16-148410-0",
        "1 Jan 2020 - 31 Dec 2020", "Lot 2019-06-12-01", "Ref 123-45-678", "Account manager 2019",
        "Bus 101", "Route 2A", "Gate 12", "Platform 3",
    ],
)
def test_dates_prices_and_counters_are_not_ids(text):
    assert not hidden(text), (text, CLF.classify(text))


@pytest.mark.parametrize(
    "text",
    [
        # signs and slogans: ordinary words with a number, which a view that drops the spaces
        # joins into one long code ("44DIFFERENTSIZES")
        "44 DIFFERENT SIZES", "24 HR COMPUTERIZED ACCESS", "OPEN 7 DAYS 365 NIGHTS", "ORDER 2000 PIECES TODAY",
        "SAVE 30 PERCENT THIS WEEKEND", "OVER 1000000 CUSTOMERS SERVED", "3 MONTHS FREE STORAGE", "ACCESS 24HR",
    ],
)
def test_words_with_a_number_are_not_an_id(text):
    assert id_score(text) == 0.0, (text, CLF.classify(text))


@pytest.mark.parametrize(
    "text",
    [
        # codes cut into short pieces by OCR or by print, and codes after a short label, still are
        "D123 4567 890", "LIC 12345678901", "AB12 CD34 EF56", "X 1234 5678 9", "NO 123456789012",
        "ETKT 7813699238489/1",
    ],
)
def test_a_code_in_short_pieces_is_still_an_id(text):
    assert id_score(text) >= 0.5, (text, CLF.classify(text))
