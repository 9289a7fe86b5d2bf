"""Electricity: the market-based figure beside the location-based account (issue 15 item 4), computed by hand.

The account (kg_co2e) is location-based; every line also carries kg_co2e_market: an electricity line's kWh (its
quantity, or its NOK at the typical price of its year) times NVE's residual mix of that year or the nearest earlier
published one, every other line its kg. So market total − location total = Σ electricity lines (market − location).
"""
import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from klimainnkjop.engine import runner
from klimainnkjop.storage.linestore import INVOICE_LINE_SCHEMA
from tests.factories import GRUE, GRUE_KG, KONGSVINGER, KONGSVINGER_KG, cpi, kg, norwegian

ORG, SUPPLIER = "944117784", "999999999"
CPI = {2014: 93.6, 2017: 105.5, 2018: 108.8, 2021: 116.1, 2024: 133.6, 2026: 141.0}
RESIDUAL_MIX = {2015: 0.509, 2016: 0.530, 2020: 0.402}  # NVE's supplier declaration, kg CO2 per kWh
LOCATION = 0.015   # kg CO2e per kWh (a location-based activity factor for every year here)
HEAT = 0.048       # district heating, kg CO2e per kWh (location-based; no market-based figure exists)
FOOD, POWER_PER_NOK, SUPPLIER_PER_NOK = 0.5, 0.035, 0.01  # kg per NOK (2026 prices; the supplier's 2024)
PRICE, PRICE_YEAR = 0.638, 2018  # NOK per kWh: the typical price (core.electricity.TYPICAL_PRICE)


def write_lines(path, rows: list[dict]):
    """Ledger lines of ORG (March of the row's year, food on art 115 unless a row says otherwise)."""
    defaults = {f.name: "" if pa.types.is_string(f.type) else None for f in INVOICE_LINE_SCHEMA}
    records = []
    for i, row in enumerate(rows):
        year = row.get("year", 2024)
        records.append({**defaults, "org": ORG, "line_key": f"k{i}", "art": "115", "batch": path.stem,
                        "source": "ledger", "year": year, "month": 3, "posting_date": dt.date(year, 3, 1),
                        "vat_ore": 0, "currency": "NOK", "investment": False,
                        **{k: v for k, v in row.items()}, "account": row.get("art", "115") + "000"})
    pq.write_table(pa.Table.from_pylist(records, schema=INVOICE_LINE_SCHEMA), path)
    return path


def inputs(path, *, market: bool = True) -> runner.EngineInputs:
    years = range(2014, 2027)
    spend = [{"category": c, "value": v, "low": v / 2, "high": v * 2, "price_year": 2026, "currency": "NOK",
              "ref": c, "quality": 4, "tier": 1, "valid_from": 2000, "valid_to": 2030}
             for c, v in (("goods.food", FOOD), ("energy.electricity", POWER_PER_NOK))]
    activity = [{"category": c, "unit": "kWh", "value": v, "low": v / 2, "high": v * 2, "ref": f"{c}@kWh",
                 "quality": 2, "priority": 0, "valid_from": 2000, "valid_to": 2030}
                for c, v in (("energy.electricity", LOCATION), ("energy.district_heating", HEAT))]
    suppliers = [{"supplier_orgnr": SUPPLIER, "value": SUPPLIER_PER_NOK, "low": 0.005, "high": 0.02,
                  "price_year": 2024, "currency": "NOK", "ref": "sup", "quality": 1, "priority": 0,
                  "valid_from": 2000, "valid_to": 2030}]
    market_rows = [{"category": "energy.electricity", "unit": "kWh", "value": v, "ref": f"market@{y}",
                    "price_nok": PRICE, "price_year": PRICE_YEAR, "valid_from": y} for y, v in RESIDUAL_MIX.items()]
    return runner.EngineInputs(
        line_files=[path],
        art_classes=runner.art_class_table({"115": "goods.food", "180": "energy.electricity",
                                            "181": "energy.district_heating"}),
        ancestors=runner.ancestor_table({"goods.food": None, "energy.electricity": None,
                                         "energy.district_heating": None}),
        spend_factors=runner.expand_years(spend, years, runner.SPEND_SCHEMA),
        activity_factors=runner.expand_years(activity, years, runner.ACTIVITY_SCHEMA),
        supplier_factors=runner.expand_years(suppliers, years, runner.SUPPLIER_SCHEMA),
        prices=pa.table({"year": pa.array(list(CPI), pa.int32()), "cpi": pa.array(list(CPI.values()), pa.float64())}),
        rates=pa.table({"year": pa.array(list(CPI), pa.int32()), "currency": ["NOK"] * len(CPI),
                        "nok_per_unit": [1.0] * len(CPI)}),
        market_factors=runner.expand_nearest_earlier(market_rows, years, runner.MARKET_SCHEMA) if market else None,
    )


def computed(tmp_path, rows: list[dict], *, market: bool = True) -> tuple[dict, dict]:
    """(lines by key, summary sums) of a run of the rows."""
    out = tmp_path / "out"
    runner.run(inputs(write_lines(tmp_path / "a.parquet", rows), market=market), out)
    lines = {r["line_key"]: r for r in pq.read_table(out / "lines").to_pylist()}
    summary = pq.read_table(out / "summary").to_pylist()
    return lines, {"kg": sum(r["kg_co2e"] for r in summary), "market": sum(r["kg_co2e_market"] for r in summary)}


POWER_KWH = {"art": "180", "amount_ore": 1_000_000, "quantity": 5_000.0, "quantity_unit": "kWh"}
FOOD_LINE = {"art": "115", "amount_ore": 800_000}


def test_a_tiny_account_of_one_kwh_electricity_line_and_one_food_line_has_both_totals_by_hand(tmp_path):
    lines, totals = computed(tmp_path, [POWER_KWH, FOOD_LINE])
    food = 8_000 * 141.0 / 133.6 * FOOD                                  # 4 221.556 886 kg, the same in both
    assert lines["k0"]["kg_co2e"] == pytest.approx(5_000 * 0.015, rel=1e-12)          # 75 kg location-based
    assert lines["k0"]["kg_co2e_market"] == pytest.approx(5_000 * 0.402, rel=1e-12)   # 2 010 kg: 2020's mix
    assert lines["k1"]["kg_co2e"] == lines["k1"]["kg_co2e_market"] == pytest.approx(food, rel=1e-12)
    assert totals["kg"] == pytest.approx(75 + food, rel=1e-12)
    assert totals["market"] == pytest.approx(2_010 + food, rel=1e-12)


def test_a_spend_based_electricity_line_is_turned_into_kwh_at_the_typical_price_of_its_year(tmp_path):
    lines, _ = computed(tmp_path, [{"art": "180", "amount_ore": 638_000}])
    # 6 380 NOK in 2024 at 0.638 NOK/kWh of 2018 moved to 2024 (×133.6/108.8): 8 143.71 kWh × 0.402
    kwh = 6_380 / (0.638 * 133.6 / 108.8)
    assert kwh == pytest.approx(10_000 * 108.8 / 133.6)
    assert lines["k0"]["method"] == "spend"
    assert lines["k0"]["kg_co2e"] == pytest.approx(6_380 * 141.0 / 133.6 * 0.035, rel=1e-12)
    assert lines["k0"]["kg_co2e_market"] == pytest.approx(kwh * 0.402, rel=1e-12)


@pytest.mark.parametrize("year, mix", [(2014, None), (2017, 0.530), (2021, 0.402), (2024, 0.402)])
def test_a_year_takes_its_residual_mix_or_the_nearest_earlier_published_one(tmp_path, year, mix):
    lines, _ = computed(tmp_path, [{**POWER_KWH, "quantity": 1_000.0, "year": year}])
    assert lines["k0"]["kg_co2e"] == pytest.approx(15.0)
    # before 2015 none is published: the market-based figure is the location-based one
    assert lines["k0"]["kg_co2e_market"] == pytest.approx(15.0 if mix is None else 1_000 * mix, rel=1e-12)


def test_the_year_rule_is_stated_once_in_the_expansion_of_the_published_years():
    rows = [{"category": "energy.electricity", "unit": "kWh", "value": v, "ref": str(y), "price_nok": PRICE,
             "price_year": PRICE_YEAR, "valid_from": y} for y, v in RESIDUAL_MIX.items()]
    table = runner.expand_nearest_earlier(rows, range(2013, 2023), runner.MARKET_SCHEMA).to_pylist()
    assert {r["year"]: r["ref"] for r in table} == {
        2015: "2015", 2016: "2016", 2017: "2016", 2018: "2016", 2019: "2016", 2020: "2020", 2021: "2020",
        2022: "2020"}


def test_heat_a_suppliers_own_figure_and_other_lines_count_the_same_in_both_totals(tmp_path):
    rows = [{"art": "181", "amount_ore": 500_000, "quantity": 1_000.0, "quantity_unit": "kWh"},  # district heating
            {"art": "180", "amount_ore": 1_000_000, "supplier_orgnr": SUPPLIER},               # supplier's figure
            FOOD_LINE, POWER_KWH]
    lines, totals = computed(tmp_path, rows)
    assert lines["k0"]["kg_co2e"] == lines["k0"]["kg_co2e_market"] == pytest.approx(1_000 * HEAT)
    assert lines["k1"]["method"] == "supplier"
    assert lines["k1"]["kg_co2e"] == lines["k1"]["kg_co2e_market"] == pytest.approx(10_000 * SUPPLIER_PER_NOK)
    assert lines["k2"]["kg_co2e"] == lines["k2"]["kg_co2e_market"]
    # the invariant: market total − location total = Σ electricity lines (market − location)
    electricity = sum(r["kg_co2e_market"] - r["kg_co2e"] for r in lines.values() if r["category"] == "energy.electricity")
    assert electricity == pytest.approx(5_000 * (0.402 - 0.015), rel=1e-12)
    assert totals["market"] - totals["kg"] == pytest.approx(electricity, rel=1e-12)


def test_without_a_market_based_set_or_without_electricity_both_totals_are_equal(tmp_path):
    lines, totals = computed(tmp_path, [POWER_KWH, FOOD_LINE], market=False)
    assert all(r["kg_co2e_market"] == r["kg_co2e"] for r in lines.values())
    assert totals["market"] == totals["kg"]
    (tmp_path / "again").mkdir()
    lines, totals = computed(tmp_path / "again", [FOOD_LINE, {**FOOD_LINE, "amount_ore": 1_234}])
    assert totals["market"] == totals["kg"] == pytest.approx((8_000 + 12.34) * 141.0 / 133.6 * FOOD, rel=1e-12)


# --- the shipped sets, the pages, the reports and the open data (tests/factories.py: Kongsvinger buys 250 000 NOK
# of electricity in 2024, spend-based; Grue buys office supplies only) ------------------------------------------

def power_by_hand() -> tuple[float, float]:
    """Kongsvinger's electricity line of 2024: (location-based kg, market-based kg) by hand, from the shipped
    files: DFØ's kg per NOK at 2026 prices; 250 000 NOK at 0.638 NOK/kWh of 2018 moved to 2024, × 402 g (2020's
    residual mix, the nearest earlier published year)."""
    kwh = 250_000 / (0.638 * cpi(2024) / cpi(2018))
    return kg(250_000, "energy.electricity", 2024), kwh * 0.402


@pytest.mark.django_db
def test_the_shipped_market_set_gives_the_organisation_and_region_totals_by_hand(region_data):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import results
    from klimainnkjop.storage import linestore

    location, market = power_by_hand()
    scope = system_scope()
    own = results.totals(scope, org=KONGSVINGER, year=2024)["rows"][0]
    assert own["kg_co2e"] == pytest.approx(KONGSVINGER_KG, rel=1e-9)
    assert own["kg_co2e_market"] == pytest.approx(KONGSVINGER_KG - location + market, rel=1e-9)
    grue = results.totals(scope, org=GRUE, year=2024)["rows"][0]   # no electricity: both the same
    assert grue["kg_co2e_market"] == grue["kg_co2e"] == pytest.approx(GRUE_KG, rel=1e-9)
    region = results.totals(scope, year=2024)["rows"][0]
    assert region["kg_co2e_market"] - region["kg_co2e"] == pytest.approx(market - location, rel=1e-9)
    lines = pq.read_table(linestore.absolute(results.latest_run().run.result_dir) / "lines").to_pylist()
    power = [r for r in lines if r["category"] == "energy.electricity"]
    assert len(power) == 1 and power[0]["kg_co2e_market"] == pytest.approx(market, rel=1e-9)
    assert all(r["kg_co2e_market"] == r["kg_co2e"] for r in lines if r["category"] != "energy.electricity")


@pytest.mark.django_db
def test_the_dashboards_show_the_market_based_total_under_the_location_based_one(region_data, admin_client):
    from tests.factories import page

    location, market = power_by_hand()
    shift = market - location  # Grue buys no electricity: its two totals are the same
    for url, total, market_total in ((f"/org/{KONGSVINGER}/?periode=2024", KONGSVINGER_KG, KONGSVINGER_KG + shift),
                                     ("/?periode=2024", KONGSVINGER_KG + GRUE_KG, KONGSVINGER_KG + GRUE_KG + shift),
                                     (f"/org/{GRUE}/?periode=2024", GRUE_KG, GRUE_KG)):
        html, _ = page(admin_client, url)
        text = " ".join(html.split())
        assert f"Totalt {norwegian(total / 1000)} tonn CO2e" in text, url
        assert f"Markedsbasert: {norwegian(market_total / 1000)} tonn CO2e" in text, url
        assert 'href="/metode/#electricity-market"' in html


@pytest.mark.django_db
def test_the_reports_summary_gives_both_totals(region_data):
    from klimainnkjop.access import system_scope
    from klimainnkjop.reports import data as report_data, rows as report_rows
    from klimainnkjop.reports.periods import parse_period

    location, market = power_by_hand()
    data = report_data.build(system_scope(), scope_kind=report_data.SCOPE_ORG, period=parse_period("2024"),
                             orgnr=KONGSVINGER)
    summary = {row[0]: row[1] for row in report_rows.summary(data).rows}
    assert summary["Utslipp, tonn CO2e"] == pytest.approx(KONGSVINGER_KG / 1000, rel=1e-9)
    assert summary["Markedsbasert (strøm etter restmiks), tonn CO2e"] == pytest.approx(
        (KONGSVINGER_KG - location + market) / 1000, rel=1e-9)


@pytest.mark.django_db
def test_published_figures_and_the_open_data_carry_the_market_based_total(region_data):
    from klimainnkjop.services.reports import do_publish_figures
    from klimainnkjop.web.views_public import open_data

    location, market = power_by_hand()
    publication = do_publish_figures(year=2024, orgnr=KONGSVINGER, actor="test")
    assert publication.figures["total"]["kg_co2e_market"] == pytest.approx(KONGSVINGER_KG - location + market,
                                                                            abs=1e-3)
    rows = open_data([publication])
    total = next(r for r in rows if r["category"] == "total")
    assert total["kg_co2e_market"] == publication.figures["total"]["kg_co2e_market"]
    assert all(r["kg_co2e_market"] is None for r in rows if r["category"] != "total")


@pytest.mark.django_db
def test_the_method_page_states_the_market_based_rule_its_years_and_heat(client, reference):
    html = " ".join(client.get("/metode/").content.decode().split())
    for phrase in ["markedsbasert total = total − strømlinjenes lokasjonsbaserte utslipp + deres markedsbaserte",
                   "bare for 2015, 2016 og 2020", "2016-tallet for 2017–2019 og 2020-tallet for 2021 og senere",
                   "Før 2015 finnes det ikke noe tall", "opprinnelsesgarantier",
                   "Det finnes ikke noe publisert markedsbasert tall for fjernvarme"]:
        assert phrase in html, phrase
