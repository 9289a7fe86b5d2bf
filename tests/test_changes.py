"""What changed between two computations and why (issue 16 item 4), a change of method as its own part of a
comparison between years (issue 15 item 6) and the combined 95 % range on the pages and in reports (method v2).

The account: Kongsvinger's and Grue's ledgers of 2024, computed; then a second Kongsvinger file adds consumables and
the account is computed again. Every figure is hand-computed from the shipped factor and price-index files
(tests/factories.kg); the split of every cause is hand-computed in tests/test_pipeline_units.py."""
from __future__ import annotations

import json
import types

import pyarrow.parquet as pq
import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.engine import partitions, pipeline, runner
from klimainnkjop.selectors import changes as change_selectors
from klimainnkjop.selectors import effect as effect_selectors
from klimainnkjop.selectors import results
from klimainnkjop.selectors.dashboard import Period
from klimainnkjop.storage.linestore import absolute
from klimainnkjop.storage.models import ComputeRun, Organisation
from tests.conftest import Shared, run_cli, shared_state
from tests.factories import (
    GRUE,
    KONGSVINGER,
    WEB_HEADER,
    WEB_PROFILE,
    import_ledger,
    kg,
    make_grue,
    make_kongsvinger,
    make_user,
    norwegian,
    page,
)

FIRST = WEB_HEADER + (
    "15.03.2024;10000;1100;982463718;Kontorgiganten AS;100 000,00;Papir;1;1;1\n"
    "20.06.2024;18000;1200;987654325;Nettkraft AS;200 000,00;Strøm;2;1;1\n"
)
SECOND = WEB_HEADER + "01.09.2024;12000;1100;982463718;Kontorgiganten AS;300 000,00;Rekvisita;13;1;1\n"
GRUE_CSV = WEB_HEADER + "10.05.2024;10000;2100;982463718;Kontorgiganten AS;50 000,00;Papir;1;1;1\n"

K_BEFORE = kg(100_000, "goods.office", 2024) + kg(200_000, "energy.electricity", 2024)
NEW_KG = kg(300_000, "goods.consumables", 2024)


@pytest.fixture(scope="module")
def shared_runs(request):
    from klimainnkjop.services.compute import do_compute

    with shared_state(request, "changes") as path:
        kongsvinger, grue = make_kongsvinger(), make_grue()
        import_ledger(kongsvinger, FIRST, "first.csv", profile=WEB_PROFILE)
        import_ledger(grue, GRUE_CSV, "grue.csv", profile=WEB_PROFILE)
        first = do_compute(actor="test")
        import_ledger(kongsvinger, SECOND, "second.csv", profile=WEB_PROFILE)
        second = do_compute(actor="test")
        yield Shared(path, (first.pk, second.pk))


@pytest.fixture
def runs(shared_runs, db):
    return shared_runs.value


def test_the_second_run_records_its_difference_from_the_first_and_the_causes_add_up(runs):
    first, second = runs
    folder = absolute(ComputeRun.objects.get(pk=second).result_dir)
    assert json.loads((folder / "changes.json").read_text()) == {"previous_run": first}
    stored = pq.read_table(folder / "changes.parquet").to_pylist()
    for row in stored:
        assert sum(row[f"{c}_kg"] for c in pipeline.CHANGE_CAUSES) == pytest.approx(
            row["kg_after"] - row["kg_before"], abs=1e-9)
    found = change_selectors.run_changes(system_scope(), org=KONGSVINGER)
    assert (found.run, found.base) == (second, first)
    rows = {r["category"]: r for r in found.rows}
    assert rows["goods.consumables"]["new_lines_kg"] == pytest.approx(NEW_KG, rel=1e-9)
    assert rows["goods.consumables"]["new_lines_lines"] == 1
    assert rows["goods.office"]["change_kg"] == pytest.approx(0.0, abs=1e-9)
    assert found.total["kg_before"] == pytest.approx(K_BEFORE, rel=1e-9)
    assert found.total["change_kg"] == pytest.approx(NEW_KG, rel=1e-9)
    # the same as the two runs' own totals, per category
    before = {r["category"]: r["kg_co2e"] for r in results.totals(
        system_scope(), org=KONGSVINGER, by=["category"], run=results.Run(ComputeRun.objects.get(pk=first)))["rows"]}
    after = {r["category"]: r["kg_co2e"] for r in results.totals(system_scope(), org=KONGSVINGER,
                                                                 by=["category"])["rows"]}
    for category, row in rows.items():
        assert row["change_kg"] == pytest.approx(after.get(category, 0.0) - before.get(category, 0.0), abs=1e-6)
    # Grue did not change
    assert change_selectors.run_changes(system_scope(), org=GRUE).total["change_kg"] == pytest.approx(0.0, abs=1e-9)


def test_two_runs_that_are_not_neighbours_are_compared_on_read_with_the_same_split(runs):
    first, second = runs
    backwards = change_selectors.run_changes(system_scope(), run=ComputeRun.objects.get(pk=first),
                                             base=ComputeRun.objects.get(pk=second), org=KONGSVINGER)
    rows = {r["category"]: r for r in backwards.rows}
    assert rows["goods.consumables"]["removed_lines_kg"] == pytest.approx(-NEW_KG, rel=1e-9)
    assert rows["goods.consumables"]["removed_lines_lines"] == 1


def test_the_dashboard_says_the_total_moved_more_than_the_set_share_and_names_the_cause(runs, client):
    first, second = runs
    share = NEW_KG / K_BEFORE
    assert share > 0.05  # the hand-computed move is well above the 5 % default
    notice = change_selectors.change_notice(system_scope(), org=KONGSVINGER, year=2024)
    assert notice.share == pytest.approx(share, rel=1e-9) and notice.causes[0][0] == "new_lines"
    assert change_selectors.change_notice(system_scope(), org=KONGSVINGER, year=2024, threshold=share + 0.01) is None
    assert change_selectors.change_notice(system_scope(), org=GRUE, year=2024) is None
    client.force_login(make_user("les-k", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    html, tree = page(client, f"/org/{KONGSVINGER}/?periode=2024")
    assert 'id="change-notice"' in html and "Tallene er endret siden forrige beregning" in html
    assert f"+{norwegian(NEW_KG / 1000)}" in html and "nye linjer" in html
    assert f"/sammenligning/?a={first}&amp;b={second}" in html
    client.force_login(make_user("les-g", Organisation.objects.get(orgnr=GRUE), "reader"))
    html, _ = page(client, f"/org/{GRUE}/?periode=2024")
    assert 'id="change-notice"' not in html  # Grue's total did not move
    html, _ = page(client, "/?periode=2024")
    assert 'id="change-notice"' not in html  # the region as Grue's reader sees it: Grue only


def test_the_comparison_page_splits_the_difference_by_cause(runs, client):
    first, second = runs
    client.force_login(make_user("les-k2", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    html, tree = page(client, f"/sammenligning/?a={first}&b={second}")
    assert "Hva som endret seg, og hvorfor" in html and "Nye linjer" in html and "Omklassifiserte linjer" in html
    table = [t for t in tree.find_all("table") if t.attrs.get("id") == "why-table"][0]
    from tests.factories import table_cells
    cells = table_cells(table)
    assert f"+{norwegian(NEW_KG / 1000)}" in cells


def test_the_runs_changes_command_prints_the_split_and_refuses_an_unknown_run(runs):
    first, second = runs
    result = run_cli("runs", "changes", "--org", KONGSVINGER, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["run"] == second and document["previous_run"] == first
    rows = {r["category"]: r for r in document["rows"]}
    assert rows["goods.consumables"]["new_lines_kg"] == pytest.approx(NEW_KG, rel=1e-9)
    csv_out = run_cli("runs", "changes", "--by", "category", "--format", "csv")
    assert csv_out.returncode == 0 and csv_out.stdout.splitlines()[0].startswith("category,kg_before,kg_after")
    bad = run_cli("runs", "changes", "--run", "99999")
    assert bad.returncode == 2 and "--run" in bad.stderr and "99999" in bad.stderr


# --- the combined 95 % range (method v2) on the pages and in reports ----------------------------------------------

def test_the_combined_range_of_a_view_equals_the_engines_range_of_its_lines(runs):
    run = results.latest_run()
    folder = absolute(run.run.result_dir)
    stored = {(r["org"], r["year"], r["investment"]): r for r in pq.read_table(folder / "uncertainty").to_pylist()}
    engine = stored[(KONGSVINGER, 2024, False)]  # Kongsvinger's 2024: operating only
    low, high = results.combined_range(system_scope(), org=KONGSVINGER, year=2024)[()]
    assert (low, high) == (pytest.approx(engine["kg_p025"], rel=1e-9), pytest.approx(engine["kg_p975"], rel=1e-9))
    assert low < engine["kg_co2e"] < high
    # the consolidated region: the same rule on all its lines at once (a factor shared by both organisations is one
    # correlated sum, not two independent ones)
    con = runner.connect()
    try:
        lines = con.read_parquet(partitions.lines_source(folder))
        lines = lines.filter((lines.exclusion == "") & ~lines.intra_region & (lines.year == 2024))
        expected = pipeline.uncertain_totals(lines, []).to_pyarrow().to_pylist()[0]
    finally:
        con.disconnect()
    region = results.combined_range(system_scope(), year=2024)[()]
    assert region == (pytest.approx(expected["kg_p025"], rel=1e-9), pytest.approx(expected["kg_p975"], rel=1e-9))


def test_the_dashboard_and_the_report_show_the_combined_range(runs, client):
    low, high = results.combined_range(system_scope(), org=KONGSVINGER, year=2024)[()]
    client.force_login(make_user("les-k3", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    html, _ = page(client, f"/org/{KONGSVINGER}/?periode=2024")
    assert f"95 % intervall {norwegian(low / 1000)}–{norwegian(high / 1000)} tonn" in html
    from klimainnkjop.reports import data as report_data
    from klimainnkjop.reports.periods import parse_period

    data = report_data.build(system_scope(), scope_kind="org", period=parse_period("2024"), orgnr=KONGSVINGER)
    assert (data.total.kg_low, data.total.kg_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    office = [s for s in data.by_category if s.key == "goods.office"][0]
    office_range = results.combined_range(system_scope(), org=KONGSVINGER, year=2024, by=["category"])
    assert (office.kg_low, office.kg_high) == office_range[("goods.office",)]
    assert any("95 %-intervall" in note for note in data.notes)


# --- a change of method between two years is its own part (issue 15 item 6) ---------------------------------------

def _rows(*cells):
    return [{"category": c, "method": m, "spend_nok": s, "kg_co2e": e} for c, m, s, e in cells]


def _split_of(monkeypatch, rows_from, rows_to):
    by_year = {2024: rows_from, 2025: rows_to}
    monkeypatch.setattr(effect_selectors, "_per_category",
                        lambda scope, run, org, period, units, months: by_year[period.year])
    monkeypatch.setattr(effect_selectors, "_through", lambda *args: None)  # two past years, compared whole
    monkeypatch.setattr(effect_selectors, "price_factor", lambda a, b: 1.0)
    run = types.SimpleNamespace(run=types.SimpleNamespace(pk=1), factor_set_label="test 1")
    return effect_selectors._split(system_scope(), run, Period(2024), Period(2025), None, None, None, None, None)


def test_spend_based_one_year_and_activity_based_the_next_at_equal_spend_is_a_method_part_not_a_cut(monkeypatch):
    # fuel: 100,000 NOK at 0.3 kg/NOK spend-based (30 t) in 2024; the same spend counted in litres in 2025 (20 t)
    split = _split_of(monkeypatch, _rows(("fuel", "spend", 100_000.0, 30_000.0)),
                      _rows(("fuel", "activity", 100_000.0, 20_000.0)))
    assert split.method_kg == pytest.approx(-10_000.0, abs=1e-9)
    assert split.volume_kg == pytest.approx(0.0, abs=1e-9) and split.intensity_kg == pytest.approx(0.0, abs=1e-9)


def test_a_partial_change_of_method_with_more_spend_splits_into_method_volume_and_intensity_by_hand(monkeypatch):
    # 2024: fuel 100,000 NOK spend-based, 30 t (0.3 kg/NOK); office 50,000 NOK, 5 t.
    # 2025: fuel 200,000 NOK: 120,000 spend-based at 0.3 (36 t) and 80,000 in litres at 0.2 (16 t); office unchanged
    split = _split_of(monkeypatch,
                      _rows(("fuel", "spend", 100_000.0, 30_000.0), ("office", "spend", 50_000.0, 5_000.0)),
                      _rows(("fuel", "spend", 120_000.0, 36_000.0), ("fuel", "activity", 80_000.0, 16_000.0),
                            ("office", "spend", 50_000.0, 5_000.0)))
    rows = {r["category"]: r for r in split.rows}
    # by hand: 40 % of 200,000 NOK moved from 0.3 to 0.2 kg/NOK: 200,000 × (0.4 × 0.2 − 0.4 × 0.3) = −8,000 kg
    assert rows["fuel"]["method_kg"] == pytest.approx(-8_000.0, abs=1e-9)
    assert rows["office"]["method_kg"] == 0.0
    # the rest of fuel's change, 52 − 30 + 8 = 30 t, is LMDI's: volume L(60 t, 30 t) ln(250/150), intensity the rest
    import math
    weight = (60_000.0 - 30_000.0) / math.log(2.0)
    assert rows["fuel"]["volume_kg"] == pytest.approx(weight * math.log(250_000 / 150_000), rel=1e-12)
    assert rows["fuel"]["intensity_kg"] == pytest.approx(weight * math.log((60_000 / 250_000) / (30_000 / 150_000)),
                                                         rel=1e-12)
    for r in split.rows:
        assert r["volume_kg"] + r["intensity_kg"] + r["method_kg"] == pytest.approx(r["kg_to"] - r["kg_from"], abs=1e-9)
    assert split.volume_kg + split.intensity_kg + split.method_kg == pytest.approx(split.change_kg, abs=1e-9)


def test_the_same_methods_in_both_years_give_no_method_part(monkeypatch):
    split = _split_of(monkeypatch, _rows(("fuel", "activity", 100_000.0, 30_000.0)),
                      _rows(("fuel", "activity", 103_000.0, 3_000.0)))  # diesel → HVO: a cut, all intensity
    assert split.method_kg == 0.0 and split.intensity_kg < -26_000


@pytest.mark.django_db
def test_the_method_page_states_the_method_part_the_causes_of_change_and_the_combined_range(client):
    html = " ".join(client.get("/metode/").content.decode().split())
    for phrase in ["Hva som endret seg mellom to beregninger", "nye linjer", "omklassifisert",
                   "Et metodeskifte er en egen del", "−10 tonn", "5 %",
                   "kombinerte 95 prosent-intervallet"]:
        assert phrase in html, phrase


# --- electricity: market-based beside location-based, the spend factor at a typical price (issue 15 item 4) -------

def test_the_market_based_set_is_re_created_by_its_script_and_has_the_market_role_not_a_role_of_the_account(
        tmp_path):
    import importlib.util
    import sys

    from klimainnkjop.paths import SHIPPED_DATA

    scripts = SHIPPED_DATA.parent.parent / "scripts"
    sys.path.insert(0, str(scripts))
    spec = importlib.util.spec_from_file_location("derive_nve_market", scripts / "derive_nve_electricity_market.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = script.main(out=tmp_path / "market.csv")
    assert out.read_bytes() == (SHIPPED_DATA / "factor_sets" / "nve-electricity-market.csv").read_bytes()
    assert {r["valid_from"]: r["value"] for r in script.build_rows()} == {2015: 0.509, 2016: 0.530, 2020: 0.402}
    # role market: compute carries it as kg_co2e_market beside the account, never in kg_co2e (tests/test_market_based)
    assert "# role: market\n" in out.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_method_page_shows_both_electricity_figures_and_the_spend_factors_ratio_by_hand(client, reference):
    from klimainnkjop.selectors import factors as factor_selectors
    from tests.factories import cpi, factor

    figures = factor_selectors.electricity_figures()
    rows = {r["year"]: r for r in figures["rows"]}
    assert rows[2020]["location_kg_per_kwh"] == 0.008 and rows[2020]["market_kg_per_kwh"] == 0.402
    assert rows[2023]["market_kg_per_kwh"] is None and rows[2015]["location_kg_per_kwh"] is None
    # by hand: 0.638 NOK/kWh in 2018, moved to 2026 prices, times DFØ's electricity factor per NOK
    per_kwh = 0.638 * cpi(2026) / cpi(2018) * factor("energy.electricity")
    assert figures["spend_price_year"] == 2026
    assert figures["spend_kg_per_kwh"] == pytest.approx(per_kwh, rel=1e-12)
    assert rows[2023]["spend_to_location"] == pytest.approx(per_kwh / 0.015, rel=1e-12)
    html = client.get("/metode/").content.decode()
    table = html[html.index('id="electricity-factors"'):]
    table = table[:table.index("</table>")]
    assert "<th scope=\"row\">2020</th><td class=\"num\">8</td><td class=\"num\">402</td>" in table
    assert norwegian(per_kwh / 0.015) in table
    assert "0,638 kroner per kWh i 2018" in html and "markedsbaserte tallet" in html
