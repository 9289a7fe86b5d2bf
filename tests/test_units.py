"""Unit names on invoices, statistics and ledgers: Rec 20 codes, Norwegian spellings in any case, conversions."""
from __future__ import annotations

import pytest

from klimainnkjop.core import units


@pytest.mark.parametrize("name,canonical", [
    ("KGM", "kg"), ("Kg", "kg"), ("KG", "kg"), ("kilo", "kg"), ("LTR", "litre"), ("Liter", "litre"),
    ("L", "litre"), ("Tonn", "tonne"), ("ton", "tonne"), ("kwh", "kWh"), ("KWH", "kWh"), ("Stk", "piece"),
    ("H87", "piece"), ("m³", "m3"),
])
def test_units_are_recognised_in_any_case_and_as_rec_20_codes(name, canonical):
    assert units.canonical(name) == canonical


@pytest.mark.parametrize("name", ["pk", "PK", "Pakke", "kartong", "BX", "fl", "pt", "rull"])
def test_packages_of_unknown_size_are_their_own_unit_and_never_pints_peck_or_pint(name):
    assert units.normalize(12.5, name) == (12.5, "package")
    assert units.factor(name, "litre") is None
    assert units.factor(name, "piece") is None


@pytest.mark.parametrize("quantity,name,expected", [
    (5, "hl", (500.0, "litre")), (2, "MWh", (2.0, "MWh")), (1500, "GRM", (1500.0, "g")),
])
def test_quantities_are_expressed_in_a_canonical_unit(quantity, name, expected):
    value, unit = units.normalize(quantity, name)
    assert (round(value, 9), unit) == expected


def test_conversion_between_units_of_one_dimension_uses_the_units_library():
    assert units.factor("MWh", "kWh") == pytest.approx(1000)
    assert units.factor("tonne", "kg") == pytest.approx(1000)
    assert units.factor("m3", "litre") == pytest.approx(1000)
    assert units.factor("kg", "litre") is None


def test_an_unknown_unit_is_not_guessed():
    assert units.canonical("blåbærsyltetøy") is None
    assert units.normalize(3, "5") is None


def test_no_two_unit_names_differ_by_case_only_so_case_folding_is_unambiguous():
    names = [*units.CANONICAL, *units.ALIASES]
    folded: dict[str, set[str]] = {}
    for name in names:
        folded.setdefault(name.lower(), set()).add(units.CANONICAL.get(name) and name or units.ALIASES[name])
    assert {k: v for k, v in folded.items() if len(v) > 1} == {}
