"""core.figures.Figures, the one figures type of dashboards, reports and agreements: money summed in integer øre
from the selectors' NOK rows, kg as read, operating and investment apart, the range carried along."""
from __future__ import annotations

import pytest

from klimainnkjop.core.figures import Figures, grouped, ore, total


def row(spend_nok: float, kg: float, *, investment: bool = False, covered_nok: float | None = None, lines: int = 1,
        **keys) -> dict:
    return {"spend_nok": spend_nok, "kg_co2e": kg, "kg_co2e_low": kg / 2, "kg_co2e_high": kg * 2, "lines": lines,
            "covered_spend_nok": spend_nok if covered_nok is None else covered_nok, "investment": investment, **keys}


def test_money_is_summed_in_whole_øre_so_ten_thousand_ten_øre_lines_make_exactly_a_thousand_kroner():
    figures = total([row(0.1, 0.0)] * 10_000)
    assert figures.ore_total == 100_000 and isinstance(figures.ore_total, int)
    assert figures.spend_nok == 1000.0
    assert sum([0.1] * 10_000) != 1000.0  # what summing NOK as floats would have shown


def test_ore_turns_a_two_decimal_krone_amount_back_into_its_exact_øre():
    assert [ore(7_777.77), ore(-2_000.0), ore(0.29), ore(None)] == [777_777, -200_000, 29, 0]


def test_operating_and_investment_stay_apart_and_add_up_to_the_totals():
    figures = total([row(100.0, 10.0), row(300.0, 5.0, investment=True, covered_nok=0.0)], key="2025", name="Sum")
    assert (figures.ore_operating, figures.ore_investment, figures.ore_total) == (10_000, 30_000, 40_000)
    assert (figures.kg_operating, figures.kg_investment, figures.kg) == (10.0, 5.0, 15.0)
    assert (figures.tonnes_operating, figures.tonnes_investment, figures.tonnes) == (0.01, 0.005, 0.015)
    assert (figures.kg_low, figures.kg_high) == (7.5, 30.0)
    assert figures.covered_ore == 10_000 and figures.covered_share == 0.25 and figures.covered_percent == 25.0
    assert figures.intensity == pytest.approx(15.0 / 400.0)
    assert (figures.key, figures.name, figures.lines) == ("2025", "Sum", 2)


def test_an_empty_group_has_no_intensity_and_no_covered_share():
    assert (Figures().intensity, Figures().covered_share, Figures().covered_percent) == (None, None, None)


def test_groups_keep_the_order_their_keys_first_appear_in_and_are_named_by_their_key():
    rows = [row(1.0, 1.0, category="b"), row(2.0, 2.0, category="a"), row(3.0, 3.0, category="b")]
    groups = grouped(rows, lambda r: r["category"], name=lambda k: k.upper())
    assert [(g.key, g.name, g.ore_total, g.lines) for g in groups] == [("b", "B", 400, 2), ("a", "A", 200, 1)]


def test_groups_add_up_to_their_parent_and_engine_sums_in_øre_add_like_rows():
    parent = Figures("goods")
    for part in grouped([row(1.0, 1.0, c="x"), row(2.5, 2.0, c="y", investment=True)], lambda r: r["c"]):
        parent.add_figures(part)
    engine = Figures("goods").add_sums(investment=False, spend_ore=100, kg_co2e=1.0, kg_low=0.5, kg_high=2.0,
                                       lines=1, covered_ore=100)
    engine.add_sums(investment=True, spend_ore=250, kg_co2e=2.0, kg_low=1.0, kg_high=4.0, lines=1, covered_ore=250)
    assert parent == engine
