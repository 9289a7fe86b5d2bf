import datetime as dt

import pytest
from hypothesis import given, strategies as st

from klimainnkjop.core import kostra, values


@pytest.mark.parametrize("text,ore", [
    ("-1 234,50", -123450), ("1.234,50", 123450), ("1,234.50", 123450), ("1234.5", 123450),
    ("(1 234,50)", -123450), ("1234,50-", -123450), ("1\u00a0234,5", 123450), ("kr 12", 1200),
    ("−7,25", -725), ("0,005", 0), ("0,015", 2), ("1.234.567,89", 123456789), ("+3", 300),
    ("1,234,567", 123456700), ("1.234.567", 123456700),
])
def test_norwegian_and_english_amounts_parse_to_ore(text, ore):
    assert values.parse_amount_ore(text) == ore


@pytest.mark.parametrize("text", ["", "abc", "1,2,3,4x", "--5",
                                  "12,345,67", "12.34.56", "1,23,456", "1234,567,89"])  # separators not by threes
def test_garbage_amounts_are_refused_with_a_reason(text):
    with pytest.raises(ValueError):
        values.parse_amount_ore(text)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_a_formatted_norwegian_amount_round_trips(ore):
    kroner, rest = divmod(abs(ore), 100)
    text = f"{'-' if ore < 0 else ''}{kroner:,}".replace(",", " ") + f",{rest:02d}"
    assert values.parse_amount_ore(text) == ore


@pytest.mark.parametrize("text", ["2024-03-01", "01.03.2024", "01.03.24", "01/03/2024", "20240301", "2024-03-01T00:00:00"])
def test_common_date_formats_parse(text):
    assert values.parse_date(text) == dt.date(2024, 3, 1)


def test_an_explicit_date_format_is_honoured():
    assert values.parse_date("03/01/2024", "%m/%d/%Y") == dt.date(2024, 3, 1)
    with pytest.raises(ValueError, match="expected format"):
        values.parse_date("2024-03-01", "%m/%d/%Y")


def test_orgnr_accepts_the_vat_form_and_refuses_short_numbers():
    assert values.parse_orgnr("NO 944 117 784 MVA") == "944117784"
    assert values.parse_orgnr("") == ""
    with pytest.raises(ValueError):
        values.parse_orgnr("12345")


def test_the_kostra_art_is_the_accounts_first_three_digits():
    assert kostra.art_from_account("115000") == "115"
    assert kostra.art_from_account("Z910198") is None


@pytest.mark.parametrize("art,reason", [
    ("010", "wages"), ("099", "wages"), ("115", None), ("230", None), ("375", None), ("380", "internal"),
    ("429", "transfer"), ("500", "financial"), ("620", "income"), ("285", "asset_transfer"), ("", "unknown_art"),
])
def test_non_purchases_are_excluded_by_art(art, reason):
    assert kostra.exclusion_reason(art) == reason


def test_an_art_outside_the_official_list_is_unknown():
    assert kostra.exclusion_reason("101", frozenset({"100", "115"})) == "unknown_art"


def test_old_municipality_numbers_map_to_the_2020_numbers():
    assert kostra.current_region_code("0402") == "3401"
    assert kostra.current_region_code("040200") == "3401"
    assert kostra.current_region_code("3401") == "3401"


def test_orgnr_check_digit():
    assert kostra.OrgNumber.is_valid("974760673")  # Brønnøysundregistrene
    assert not kostra.OrgNumber.is_valid("974760674")
    assert kostra.OrgNumber.with_check_digit("97476067") == "974760673"
    # 9·3 + 1·2 + 2·7 + 3·6 + 4·5 + 5·4 + 6·3 + 7·2 = 133; 133 mod 11 = 1, so the check digit would be 10:
    # no organisation number starts with these eight digits
    assert kostra.OrgNumber.with_check_digit("91234567") is None
    assert kostra.OrgNumber.with_check_digit("94411778") == "944117784"  # Kongsvinger kommune
