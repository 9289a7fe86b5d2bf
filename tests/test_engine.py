"""The calculation: hand-computed cases, and invariants against an independent per-line oracle."""
import datetime as dt
import itertools

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from klimainnkjop.access import system_scope
from klimainnkjop.engine import runner
from klimainnkjop.selectors.results import totals
from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.linestore import LINE_SCHEMA
from klimainnkjop.storage.models import Category, Factor, FactorSet
from tests.factories import import_ledger, ledger_csv

FOOD = 0.02036864734299517       # provisional-dfo.csv, goods.food, 2026 prices
ELECTRICITY = 0.035742850241545894
CPI = {2021: 116.1, 2022: 122.8, 2023: 129.6, 2024: 133.6, 2025: 137.5, 2026: 141.0}


def test_spend_is_moved_to_the_factors_price_year_before_the_factor_applies(org, reference):
    import_ledger(org, ledger_csv(
        "01.03.2022;115000;2020;2100;999999999;Mat AS;10 000,00;Matvarer",
        "01.11.2024;180000;1200;1000;988888888;Kraft AS;20 000,00;Strøm",
        "15.04.2024;010100;2020;2100;;;50 000,00;Lønn",
        "15.04.2024;429000;2020;2100;;;2 500,00;Mva-kompensasjon",
    ))
    run = do_compute(actor="test")
    food = 10_000 * (141.0 / 122.8) * FOOD          # 233.874 533 8 kg (decimal arithmetic, 30 digits)
    power = 20_000 * (141.0 / 133.6) * ELECTRICITY  # 754.452 377 9 kg
    assert run.kg_co2e == pytest.approx(food + power, rel=1e-12)
    assert run.spend_ore == 3_000_000 and run.lines_purchase == 2 and run.lines_in == 4
    rows = {r["category"]: r for r in totals(system_scope(), by=["category"])["rows"]}
    assert rows["goods.food"]["kg_co2e"] == pytest.approx(233.8745338, abs=1e-6)
    assert rows["energy.electricity"]["kg_co2e"] == pytest.approx(754.4523779, abs=1e-6)
    assert rows["goods.food"]["spend_nok"] == 10_000.00


def test_a_factor_in_another_currency_and_price_year_is_applied_after_conversion(org, reference):
    food = Category.objects.get(code="goods.food")
    eur_set = FactorSet.objects.create(name="test-eur", version="1", publisher="test", licence="CC0", attribution="t")
    Factor.objects.create(factor_set=eur_set, category=food, value=0.5, low=0.25, high=0.75, unit="EUR",
                          price_year=2022, source_ref="hand-made")
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;11 629,00;Matvarer"))
    run = do_compute(factor_set_name="test-eur", actor="test")
    # 11 629 NOK in 2024 → 2022 prices (×122.8/133.6) → EUR at the 2022 average (÷10.1026) → × 0.5 kg/EUR
    expected = 11_629 * (122.8 / 133.6) / 10.1026 * 0.5
    assert run.kg_co2e == pytest.approx(expected, rel=1e-12)
    assert round(run.kg_co2e * 1000) == 529_019  # grams; 529.018 823 75 kg in 30-digit decimal arithmetic
    assert totals(system_scope())["factor_set"] == "test-eur 1"
    assert run.kg_low == pytest.approx(expected / 2) and run.kg_high == pytest.approx(expected * 1.5)


def test_a_credit_keeps_its_low_below_its_estimate_and_its_high_above(org, reference):
    """amount x the factor's low is the higher end for a negative amount: low and high are the lower and the higher
    of the two products, so low <= kg <= high holds for a credit note as for a purchase, and for their sums."""
    food = Category.objects.get(code="goods.food")
    ranged = FactorSet.objects.create(name="test-range", version="1", publisher="test", licence="CC0", attribution="t")
    Factor.objects.create(factor_set=ranged, category=food, value=0.02, low=0.01, high=0.04, unit="NOK",
                          price_year=2024, source_ref="hand-made")
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Matvarer",
                                  "02.03.2024;115000;2020;2100;999999999;Mat AS;-3 000,00;Kreditnota"))
    run = do_compute(factor_set_name="test-range", actor="test")
    lines = pq.read_table(sorted((org_results(run) / "lines").glob("*.parquet"))).to_pylist()
    credit = next(r for r in lines if r["amount_ore"] < 0)
    assert credit["kg_co2e"] == pytest.approx(-3000 * 0.02, rel=1e-12)
    assert (credit["kg_low"], credit["kg_high"]) == pytest.approx((-3000 * 0.04, -3000 * 0.01), rel=1e-12)
    assert all(r["kg_low"] <= r["kg_co2e"] <= r["kg_high"] for r in lines)
    # 1 000 kr: 10, 20, 40 kg; -3 000 kr: -120, -60, -30 kg
    assert (run.kg_low, run.kg_co2e, run.kg_high) == pytest.approx((-110.0, -40.0, 10.0), rel=1e-12)


def org_results(run):
    from klimainnkjop.storage.linestore import absolute

    return absolute(run.result_dir)


def test_recomputing_with_another_factor_set_keeps_the_earlier_results(org, reference, data_dir):
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Matvarer"))
    first = do_compute(actor="test")
    second = do_compute(actor="test")
    assert first.pk != second.pk
    assert list((data_dir / first.result_dir / "aggregates").glob("*.parquet"))
    assert list((data_dir / second.result_dir / "aggregates").glob("*.parquet"))


def test_kostra_lines_step_aside_for_a_year_that_has_ledger_lines(org, reference):
    from tests.factories import do_import_kostra

    def record(year, klasse, art, kr):
        return f"0A{year} 040200{' ' * 18}{klasse}0202{art}{kr:>9}"
    kostra_file = "\n".join([record(2023, 1, "115", 100), record(2024, 1, "115", 999)]).encode()
    do_import_kostra(data=kostra_file, file_name="kostra.dat", actor="test")
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Matvarer"))
    do_compute(actor="test")
    by_year = {r["year"]: r["spend_nok"] for r in totals(system_scope(), by=["year"])["rows"]}
    assert by_year == {2023: 100_000.0, 2024: 1_000.0}


# --- invariants on the engine itself, against an independent oracle -------------------------------

ARTS = ["010", "115", "180", "230", "270", "375", "380", "429", "500", "620", "101", ""]
CATEGORY = {"115": "goods.food", "180": "energy.electricity", "230": "construction.works", "270": "services.other",
            "375": "services.public_production"}
FACTOR = {"goods.food": 0.02, "energy.electricity": 0.035, "construction.works": 0.025, "services.other": 0.015}
# services.public_production deliberately has no factor: purchase, not covered


def _inputs(tmp_path, lines):
    columns = {f.name: [] for f in LINE_SCHEMA}
    for i, (art, year, month, unit, amount, investment) in enumerate(lines):
        values = {"line_key": f"k{i}", "org": "944117784" if i % 3 else "964950113", "batch": "b", "source": "ledger",
                  "row_no": i + 2, "posting_date": dt.date(year, month, 1), "year": year, "month": month,
                  "account": art + "000", "art": art, "function": "", "unit": unit, "project": "",
                  "supplier_orgnr": "999999999" if i % 2 else "", "supplier_name": "", "amount_ore": amount,
                  "vat_ore": 0, "currency": "NOK", "amount_orig_minor": amount, "description": "", "invoice_no": "",
                  "voucher": "", "line_id": "", "investment": investment, "quantity": None, "quantity_unit": ""}
        for k, v in values.items():
            columns[k].append(v)
    path = tmp_path / "lines.parquet"
    pq.write_table(pa.Table.from_pydict(columns, schema=LINE_SCHEMA), path)
    known = frozenset(a for a in ARTS if a and a != "101")
    factors = [{"category": c, "value": v, "low": v / 2, "high": v * 2, "price_year": 2026, "currency": "NOK",
                "ref": c, "quality": 4, "tier": 1, "valid_from": 1900, "valid_to": 9999} for c, v in FACTOR.items()]
    parents = {c: None for c in set(CATEGORY.values())}
    return runner.EngineInputs(
        line_files=[path], art_classes=runner.art_class_table(CATEGORY, known),
        ancestors=runner.ancestor_table(parents),
        spend_factors=runner.expand_years(factors, range(2020, 2028), runner.SPEND_SCHEMA),
        prices=pa.table({"year": pa.array(list(CPI), pa.int32()), "cpi": pa.array(list(CPI.values()), pa.float64())}),
        rates=pa.table({"year": pa.array(list(CPI), pa.int32()), "currency": ["NOK"] * len(CPI),
                        "nok_per_unit": [1.0] * len(CPI)}),
    )


def _oracle_kg(art, year, amount):
    category = CATEGORY.get(art)
    if category is None or category not in FACTOR:
        return 0.0
    return amount / 100 * CPI[2026] / CPI[year] * FACTOR[category]


line_strategy = st.tuples(
    st.sampled_from(ARTS), st.sampled_from(list(CPI)), st.integers(1, 12), st.sampled_from(["1000", "2100", "3100"]),
    st.integers(-10**9, 10**10), st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line_strategy, min_size=1, max_size=60))
def test_parts_sum_to_totals_under_every_grouping(tmp_path_factory, lines):
    import duckdb

    tmp = tmp_path_factory.mktemp("engine")
    totals_ = runner.run(_inputs(tmp, lines), tmp / "out")
    purchases = [ln for ln in lines if ln[0] in CATEGORY]
    assert totals_.lines_in == len(lines)
    assert totals_.lines_purchase == len(purchases)
    assert totals_.spend_ore == sum(ln[4] for ln in purchases)
    expected_kg = sum(_oracle_kg(ln[0], ln[1], ln[4]) for ln in lines)
    assert totals_.kg_co2e == pytest.approx(expected_kg, rel=1e-9, abs=1e-6)
    # the factors' low and high are half and twice the value; a credit's ends are turned round (low <= kg <= high)
    line_kg = [_oracle_kg(ln[0], ln[1], ln[4]) for ln in lines]
    assert totals_.kg_low == pytest.approx(sum(min(k / 2, k * 2) for k in line_kg), rel=1e-9, abs=1e-6)
    assert totals_.kg_high == pytest.approx(sum(max(k / 2, k * 2) for k in line_kg), rel=1e-9, abs=1e-6)
    agg = str(tmp / "out" / "aggregates" / "*.parquet")
    keys = ["org", "year", "month", "unit", "category", "supplier_orgnr", "art", "investment", "method", "quality"]
    con = duckdb.connect()
    whole = con.execute(f"select sum(kg_co2e), sum(spend_ore), sum(lines), sum(kg_low), sum(kg_high) "
                        f"from '{agg}'").fetchone()
    assert whole[2] == len(lines)
    rolled = con.execute(f"select sum(kg_co2e), sum(spend_ore), sum(lines), sum(kg_low), sum(kg_high) "
                         f"from '{tmp / 'out' / 'summary' / '*.parquet'}'").fetchone()
    assert rolled[1:3] == whole[1:3]
    for name in ("aggregates", "summary"):  # a file per organisation, sorted: a read of one year skips the rest
        files = sorted((tmp / "out" / name).glob("*.parquet"))
        assert files, name
        for path in files:
            order = [tuple(r) for r in con.execute(f"select org, year, month from '{path}'").fetchall()]
            assert order and order == sorted(order) and len({o for o, _y, _m in order}) == 1, path
    assert rolled[0] == pytest.approx(whole[0], rel=1e-9, abs=1e-6)
    for size in (1, 2):
        for group in itertools.combinations(keys, size):
            cols = ", ".join(group)
            parts = con.execute(f"select sum(kg), sum(sp), sum(n), sum(lo), sum(hi) from (select {cols}, "
                                f"sum(kg_co2e) kg, sum(spend_ore) sp, sum(lines) n, sum(kg_low) lo, sum(kg_high) hi "
                                f"from '{agg}' group by {cols})").fetchone()
            assert parts[0] == pytest.approx(whole[0], rel=1e-9, abs=1e-6)
            assert parts[1] == whole[1] and parts[2] == whole[2]
            assert parts[3] == pytest.approx(whole[3], rel=1e-9, abs=1e-6)
            assert parts[4] == pytest.approx(whole[4], rel=1e-9, abs=1e-6)
