"""Measures (tiltak): the register and its history, the expected effect computed from the account, packages
without double counting, the trajectory, and the CLI. The account is the web tests' two ledgers (factories:
KONGSVINGER_CSV, GRUE_CSV), computed once for the module; the figures are hand-computed from the shipped
factor files."""
from __future__ import annotations

import csv
import datetime as dt
import json
import re

import pytest

from klimainnkjop.access import Scope, operator, system_scope
from klimainnkjop.core.errors import InvalidInput, OutsideScope
from klimainnkjop.selectors import measures as selectors
from klimainnkjop.services import measures as services
from klimainnkjop.storage.models import AuditEntry, Measure, Organisation
from tests.conftest import Shared, run_cli, shared_state
from tests.factories import (
    DATA, GRUE, GRUE_CSV, KONGSVINGER, KONGSVINGER_CSV, WEB_PROFILE, assert_no_inline_script, chart_payload, cpi,
    import_ledger, kg, make_user, norwegian, page, squash, table_cells,
)


def spend_factor(category: str, column: str) -> float:
    with open(DATA / "factor_sets" / "dfo-klimaintensiteter.csv", encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";")
        return next(float(r[column]) for r in rows if r["key"] == category and r["basis"] == "spend")


def activity_factor(category: str, column: str) -> float:
    with open(DATA / "factor_sets" / "desnz-2025-activity.csv", encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";")
        return next(float(r[column]) for r in rows if r["key"] == category and r["unit"] == "litre")


K_OFFICE = kg(123_456, "goods.office", 2024)
G_OFFICE = kg(77_777, "goods.office", 2024)
K_TOTAL = K_OFFICE + kg(250_000, "energy.electricity", 2024) + kg(1_000_000, "construction.works", 2024)
OFFICE_LOW = spend_factor("goods.office", "low") / spend_factor("goods.office", "value")
OFFICE_HIGH = spend_factor("goods.office", "high") / spend_factor("goods.office", "value")


@pytest.fixture(scope="module")
def shared_account(request):
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.organisations import do_create_organisation

    with shared_state(request, "measures") as path:
        kongsvinger = do_create_organisation(orgnr=KONGSVINGER, name="Kongsvinger kommune", kostra_region="0402",
                                             region_name="Kongsvingerregionen", actor="test")
        grue = do_create_organisation(orgnr=GRUE, name="Grue kommune", kostra_region="0423",
                                      region_name="Kongsvingerregionen", actor="test")
        import_ledger(kongsvinger, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
        import_ledger(grue, GRUE_CSV, "grue-2024.csv", profile=WEB_PROFILE)
        do_compute(actor="test")
        yield Shared(path, None)


@pytest.fixture
def account(shared_account, db):
    return shared_account


def make(name="Mindre kontorrekvisita", *, kind=2, mechanism="quantity", percent=20.0,
         categories=("goods.office",), **kwargs) -> Measure:
    return services.do_create_measure(name=name, kind=kind, mechanism=mechanism, percent=percent,
                                      categories=list(categories), baseline_year=2024, actor="test", **kwargs)


def test_less_quantity_in_a_category_cuts_that_share_of_its_kg_with_the_range_of_its_factor(account):
    row = selectors.measure_row(system_scope(), make(percent=20))
    assert row["expected_kg_per_year"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE), rel=1e-9)
    assert row["expected_kg_low"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE) * OFFICE_LOW, rel=1e-9)
    assert row["expected_kg_high"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE) * OFFICE_HIGH, rel=1e-9)
    assert row["expected_kg_low"] < row["expected_kg_per_year"] < row["expected_kg_high"]
    assert row["measured_kg_per_year"] is None and row["not_computed"] is None


def test_a_measure_for_one_organisation_counts_only_its_purchases(account):
    row = selectors.measure_row(system_scope(), make(mechanism="intensity", percent=30, kind=4,
                                                     organisations=[KONGSVINGER]))
    assert row["expected_kg_per_year"] == pytest.approx(0.3 * K_OFFICE, rel=1e-9)
    region_wide = make("Hele regionen", percent=10)
    grue_only = selectors.measure_row(system_scope(), region_wide, org=GRUE)
    assert grue_only["expected_kg_per_year"] == pytest.approx(0.1 * G_OFFICE, rel=1e-9)


def test_a_switch_uses_the_library_factors_of_both_categories(account):
    row = selectors.measure_row(system_scope(), make(mechanism="switch", percent=50, kind=3,
                                                     to_category="goods.paper", organisations=[KONGSVINGER]))
    a, b = spend_factor("goods.office", "value"), spend_factor("goods.paper", "value")
    assert row["expected_kg_per_year"] == pytest.approx(0.5 * K_OFFICE * (1 - b / a), rel=1e-9)
    low = 0.5 * K_OFFICE * OFFICE_LOW * (1 - spend_factor("goods.paper", "high") / a)
    assert row["expected_kg_low"] == pytest.approx(min(low, row["expected_kg_per_year"]), rel=1e-9)


def test_diesel_to_hvo_is_the_ratio_of_their_activity_factors_per_litre(reference):
    ratio = selectors.switch_ratio("energy.fuel.diesel", "energy.fuel.hvo", 2024)
    assert (ratio.basis, ratio.unit) == ("activity", "litre")
    diesel = activity_factor("energy.fuel.diesel", "value")
    assert ratio.value == pytest.approx(activity_factor("energy.fuel.hvo", "value") / diesel, rel=1e-12)
    assert ratio.low == pytest.approx(activity_factor("energy.fuel.hvo", "low") / diesel, rel=1e-12)
    assert 0 < ratio.low < ratio.value < ratio.high < 1


def test_a_measure_without_purchases_in_its_categories_says_why_and_has_no_cost_per_tonne(account):
    row = selectors.measure_row(system_scope(), make(categories=("goods.food.beef",), cost_yearly_nok=1000))
    assert row["expected_kg_per_year"] is None and row["nok_per_tonne"] is None
    assert "no purchases in goods.food.beef" in row["not_computed"]


def test_nok_per_tonne_spreads_the_one_off_cost_over_the_lifetime(account):
    row = selectors.measure_row(system_scope(), make(cost_once_nok=50_000, cost_yearly_nok=-2_000, lifetime_years=5))
    assert row["cost_nok_per_year"] == pytest.approx(8_000)
    assert row["nok_per_tonne"] == pytest.approx(8_000 / (0.2 * (K_OFFICE + G_OFFICE) / 1000), rel=1e-9)


def test_a_package_applies_overlapping_measures_in_order_instead_of_adding_them(account):
    less = make("Mindre", percent=20)
    cleaner = make("Renere", mechanism="intensity", percent=30, kind=4, organisations=[KONGSVINGER],
                   cost_yearly_nok=1_000)
    package = services.do_create_package(name="Middels", measures=[less, cleaner], baseline_year=2024, actor="test")
    effect = selectors.package_effect(system_scope(), package)
    first, second = effect.rows
    assert first["kg_per_year"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE), rel=1e-9)
    assert second["kg_per_year"] == pytest.approx(0.3 * 0.8 * K_OFFICE, rel=1e-9)  # on what the first left
    assert effect.kg == pytest.approx(first["kg_per_year"] + second["kg_per_year"])
    added = 0.2 * (K_OFFICE + G_OFFICE) + 0.3 * K_OFFICE
    assert effect.kg == pytest.approx(added - 0.2 * 0.3 * K_OFFICE, rel=1e-9)
    assert effect.nok_per_tonne == pytest.approx(1_000 / (effect.kg / 1000), rel=1e-9)
    reversed_order = services.do_create_package(name="Omvendt", measures=[cleaner, less], baseline_year=2024,
                                                actor="test")
    other = selectors.package_effect(system_scope(), reversed_order)
    assert other.kg == pytest.approx(effect.kg, rel=1e-12)  # the order moves the parts, not the total
    assert other.rows[0]["kg_per_year"] == pytest.approx(0.3 * K_OFFICE, rel=1e-9)


def test_the_trajectory_takes_each_measure_from_its_date_and_the_package_an_organisation_adopted(account):
    less = make("Mindre", percent=20, effective_date=dt.date(2026, 1, 1))
    bound = make("I avtalen", mechanism="intensity", percent=30, kind=4, agreement="Kontorrekvisita 2023-2027",
                 agreement_renewal=dt.date(2027, 7, 2))  # 183 of 365 days of 2027 in effect
    package = services.do_create_package(name="Høy", measures=[less, bound], baseline_year=2024, actor="test")
    with operator():  # as the command line would
        services.do_adopt_package(package=package, organisation=Organisation.objects.get(orgnr=KONGSVINGER),
                                  adopted_on=dt.date(2025, 6, 1), case_number="25/123", actor="test")
    document = selectors.trajectory(system_scope(), to_year=2028, org=KONGSVINGER)
    assert document["packages"] == {KONGSVINGER: "Høy"}
    rows = {(r["year"], r["scenario"]): r["kg_co2e"] for r in document["rows"]}
    assert all(rows[(y, "bau")] == pytest.approx(K_TOTAL, rel=1e-9) for y in range(2024, 2029))
    assert rows[(2025, "package")] == pytest.approx(K_TOTAL, rel=1e-9)
    assert rows[(2026, "package")] == pytest.approx(K_TOTAL - 0.2 * K_OFFICE, rel=1e-9)
    share = 183 / 365
    assert rows[(2027, "package")] == pytest.approx(K_TOTAL - 0.2 * K_OFFICE - 0.3 * share * 0.8 * K_OFFICE, rel=1e-9)
    assert rows[(2028, "package")] == pytest.approx(K_TOTAL - K_OFFICE * (1 - 0.8 * 0.7), rel=1e-9)
    grown = selectors.trajectory(system_scope(), to_year=2026, org=KONGSVINGER, growth_percent=10)
    bau = [r["kg_co2e"] for r in grown["rows"] if r["scenario"] == "bau"]
    assert bau == pytest.approx([K_TOTAL, K_TOTAL * 1.1, K_TOTAL * 1.21], rel=1e-9)


def test_the_trajectory_page_without_an_adopted_package_asks_for_one_in_bokmal(account, client):
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    client.force_login(make_user("admin", kongsvinger, "region-admin"))
    html, _tree = page(client, f"/tiltak/bane/?org={KONGSVINGER}&til=2028")
    assert "Ingen pakke er vedtatt her ennå: velg en pakke for å se utslippsbanen." in html
    assert "no package" not in html  # the selector's own English words are not shown


def test_the_trajectory_page_refuses_a_target_year_before_the_baseline_in_bokmal_and_the_cli_names_its_option(
        account, client):
    package = services.do_create_package(name="Tidlig", measures=[make("Mindre", percent=20)], baseline_year=2024,
                                         actor="test")
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    client.force_login(make_user("admin", kongsvinger, "region-admin"))
    html, _tree = page(client, f"/tiltak/bane/?org={KONGSVINGER}&pakke={package.pk}&til=2020")
    assert "Utslippsbanen kan ikke vises: 2020 er før basisåret 2024" in html
    assert "--to" not in html and "before the baseline" not in html
    result = run_cli("trajectory", "--org", KONGSVINGER, "--package", "Tidlig", "--to", "2020")
    assert result.returncode != 0 and "--to: 2020 is before the baseline year 2024" in result.stderr


def test_the_trajectory_shows_the_organisations_tonnes_target_as_its_straight_path(account, client):
    """Issue 10 item 5 against issue 11's targets: a cut of 40 % from 2024 to 2028 for Kongsvinger's tonnes is drawn
    from K_TOTAL in 2024 to 0.6 × K_TOTAL in 2028, a tenth of the cut a year; in the CLI and on the page."""
    from klimainnkjop.services.targets import do_set_target

    less = make("Mindre", percent=20, effective_date=dt.date(2025, 1, 1))
    package = services.do_create_package(name="Basis", measures=[less], baseline_year=2024, actor="test")
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    with operator():  # as the command line would
        services.do_adopt_package(package=package, organisation=kongsvinger, adopted_on=dt.date(2025, 1, 1),
                                  case_number="25/1", actor="test")
    result = run_cli("trajectory", "--org", KONGSVINGER, "--to", "2028", "--format", "json")
    assert "target" not in {r["scenario"] for r in json.loads(result.stdout)["rows"]}  # no target yet
    do_set_target(kpi="tonnes_co2e", kind="cut", value=40, baseline_year=2024, target_year=2028,
                  organisation=kongsvinger, actor="test")
    rows = json.loads(run_cli("trajectory", "--org", KONGSVINGER, "--to", "2028", "--format", "json").stdout)["rows"]
    path = {r["year"]: r["kg_co2e"] for r in rows if r["scenario"] == "target"}
    assert path == pytest.approx({y: K_TOTAL * (1 - 0.4 * (y - 2024) / 4) for y in range(2024, 2029)}, rel=1e-9)
    client.force_login(make_user("admin", kongsvinger, "region-admin"))
    _, tree = page(client, f"/tiltak/bane/?org={KONGSVINGER}&til=2028")
    cells = table_cells(tree.find_all("table", id="trajectory-table")[0])
    assert "Målbane" in cells and norwegian(0.6 * K_TOTAL / 1000) in cells
    spec = chart_payload(tree.find_all("figure")[0])["spec"]
    assert len(spec["data"]["values"]) == 15  # five years, three lines


def test_status_changes_keep_their_history_and_an_audit_entry(account):
    measure = make()
    org = Organisation.objects.get(orgnr=KONGSVINGER)
    services.do_change_measure_status(measure=measure, status="recommended", actor="test")
    with pytest.raises(InvalidInput, match="case number"):
        services.do_change_measure_status(measure=measure, status="adopted", organisation=org,
                                          date=dt.date(2025, 3, 1), actor="test")
    services.do_change_measure_status(measure=measure, status="adopted", organisation=org, date=dt.date(2025, 3, 1),
                                      case_number="25/77", actor="test")
    services.do_change_measure_status(measure=measure, status="implemented", date=dt.date(2025, 4, 1),
                                      agreement="Kontor 2025", actor="test")
    with pytest.raises(InvalidInput, match="cannot become proposed"):
        services.do_change_measure_status(measure=measure, status="proposed", actor="test")
    steps = [(h.status, h.case_number) for h in selectors.history(system_scope(), measure)]
    assert steps == [("proposed", ""), ("recommended", ""), ("adopted", "25/77"), ("implemented", "")]
    measure.refresh_from_db()
    assert measure.effective_date == dt.date(2025, 4, 1) and measure.agreement == "Kontor 2025"
    actions = list(AuditEntry.objects.filter(object_type="Measure", object_id=str(measure.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["create_measure"] + ["change_measure_status"] * 3
    grue_reader = Scope(orgnrs=frozenset({GRUE}), label="grue")
    assert [h.status for h in selectors.history(grue_reader, measure)] == ["proposed", "recommended", "implemented"]
    grue = Organisation.objects.get(orgnr=GRUE)  # a second organisation adopts it: recorded, the status stays
    services.do_change_measure_status(measure=measure, status="adopted", organisation=grue, date=dt.date(2025, 6, 1),
                                      case_number="25/9", actor="test")
    measure.refresh_from_db()
    assert measure.status == "implemented"
    assert [(h.status, h.organisation_id) for h in selectors.history(grue_reader, measure)][-1] == ("adopted", grue.pk)
    with pytest.raises(InvalidInput, match="adopted this measure already"):
        services.do_change_measure_status(measure=measure, status="adopted", organisation=grue,
                                          date=dt.date(2025, 6, 2), case_number="25/10", actor="test")
    only_grue = make("Bare Grue", organisations=[GRUE])
    with pytest.raises(InvalidInput, match="does not apply to"):
        services.do_change_measure_status(measure=only_grue, status="adopted", organisation=org,
                                          date=dt.date(2025, 3, 1), case_number="25/78", actor="test")


def test_a_reader_of_one_organisation_sees_region_measures_on_its_own_purchases_only(account):
    make("Hele regionen", percent=10)
    make("Bare Kongsvinger", percent=10, organisations=[KONGSVINGER])
    grue_reader = Scope(orgnrs=frozenset({GRUE}), label="grue")
    rows = selectors.measure_rows(grue_reader)
    assert [r["name"] for r in rows] == ["Hele regionen"]
    assert rows[0]["expected_kg_per_year"] == pytest.approx(0.1 * G_OFFICE, rel=1e-9)
    with pytest.raises(OutsideScope):
        selectors.measure_rows(grue_reader, org=KONGSVINGER)


MEASURES_CSV = (
    "name;kind;mechanism;percent;categories;to_category;organisations;baseline_year;cost_once_nok;cost_yearly_nok;"
    "lifetime_years;owner;effective_date\n"
    "Gjenbruk av møbler;1;quantity;15;goods.office;;;2024;10 000;0;5;Innkjøpssjef;2025-01-01\n"
    "Papir i stedet;3;switch;40;goods.office;goods.paper;944117784;2024;0;-5 000;1;;\n"
)


def test_measures_import_and_list_through_the_cli(account, tmp_path):
    path = tmp_path / "tiltak.csv"
    path.write_text(MEASURES_CSV, encoding="utf-8")
    result = run_cli("measures", "import", path)
    assert result.returncode == 0, result.stderr
    entry = AuditEntry.objects.get(action="import_measures")
    assert entry.after == {"file": "tiltak.csv", "measures": ["Gjenbruk av møbler", "Papir i stedet"]}
    listed = json.loads(run_cli("measures", "list", "--format", "json").stdout)
    assert [r["name"] for r in listed] == ["Gjenbruk av møbler", "Papir i stedet"]
    for key in ("id", "name", "kind", "status", "categories", "expected_kg_per_year", "expected_kg_low",
                "expected_kg_high", "cost_nok_per_year", "nok_per_tonne", "measured_kg_per_year"):
        assert key in listed[0]
    assert listed[0]["expected_kg_per_year"] == pytest.approx(0.15 * (K_OFFICE + G_OFFICE), rel=1e-9)
    assert listed[0]["cost_nok_per_year"] == pytest.approx(2_000)
    grue = json.loads(run_cli("measures", "list", "--org", GRUE, "--format", "json").stdout)
    assert [r["name"] for r in grue] == ["Gjenbruk av møbler"]
    table = run_cli("measures", "list", "--format", "csv")
    assert table.returncode == 0 and "Papir i stedet" in table.stdout


def test_a_bad_measures_file_is_refused_whole_naming_each_row_and_field(account, tmp_path):
    path = tmp_path / "tiltak.json"
    path.write_text(json.dumps([
        {"name": "Godt tiltak", "kind": 2, "mechanism": "quantity", "percent": 10, "categories": ["goods.office"],
         "baseline_year": 2024},
        {"name": "Feil art", "kind": 7, "mechanism": "quantity", "percent": 10, "categories": "goods.office",
         "baseline_year": 2024},
        {"name": "Bytte uten mål", "kind": 3, "mechanism": "switch", "percent": 150,
         "categories": "goods.nothing", "baseline_year": 2024},
    ]), encoding="utf-8")
    result = run_cli("measures", "import", path)
    assert result.returncode == 2
    assert "tiltak.json, row 2, column 'kind'" in result.stderr
    assert "row 3, column 'percent'" in result.stderr and "row 3, column 'to_category'" in result.stderr
    assert "row 3, column 'categories': no category 'goods.nothing'" in result.stderr
    assert not Measure.objects.exists()


def test_packages_list_and_trajectory_through_the_cli(account):
    first = make("Mindre", percent=20, effective_date=dt.date(2025, 1, 1))
    assert run_cli("packages", "add", "Basis", "--measures", str(first.pk), "--baseline-year", "2024").returncode == 0
    adopted = run_cli("packages", "adopt", "Basis", "--org", KONGSVINGER, "--date", "2025-02-01", "--case", "25/9")
    assert adopted.returncode == 0, adopted.stderr
    listed = json.loads(run_cli("packages", "list", "--format", "json").stdout)
    assert listed[0]["name"] == "Basis" and listed[0]["measures"] == ["Mindre"]
    assert listed[0]["expected_kg_per_year"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE), rel=1e-9)
    assert listed[0]["adopted_by"][0]["case_number"] == "25/9"
    result = run_cli("trajectory", "--org", KONGSVINGER, "--to", "2026", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [(r["year"], r["scenario"]) for r in rows][:4] == [(2024, "bau"), (2024, "package"), (2025, "bau"),
                                                              (2025, "package")]
    assert rows[3]["kg_co2e"] == pytest.approx(K_TOTAL - 0.2 * K_OFFICE, rel=1e-9)
    region = json.loads(run_cli("trajectory", "--region", "--to", "2025", "--package", "Basis").stdout)
    assert region["rows"][3]["reduction_kg"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE), rel=1e-9)
    assert run_cli("trajectory", "--region", "--to", "2025", "--package", "Ingen").returncode == 2


def test_the_abatement_curve_puts_the_cheapest_tonne_first_and_its_widths_add_up(account):
    make("Dyr", percent=10, cost_yearly_nok=100_000)
    make("Sparer", percent=20, cost_yearly_nok=-1_000)
    make("Uten kjøp", categories=("goods.food.beef",))
    rows = selectors.measure_rows(system_scope())
    curve = selectors.abatement_curve(rows)
    assert [b["name"] for b in curve] == ["Sparer", "Dyr"]
    assert curve[0]["x1"] == pytest.approx(curve[1]["x0"])
    assert curve[-1]["x1"] == pytest.approx(0.3 * (K_OFFICE + G_OFFICE) / 1000, rel=1e-9)
    assert [r["name"] for r in selectors.ranking_by_tonnes(rows)] == ["Sparer", "Dyr"]


# --- the pages ---------------------------------------------------------------------------------------------------

def test_the_measures_page_ranks_by_cost_per_tonne_with_hand_computed_tonnes(account, client):
    make("Dyr", percent=10, cost_yearly_nok=100_000)
    make("Sparer", percent=20, cost_yearly_nok=-1_000)
    make("Uten kjøp", categories=("goods.food.beef",))
    client.force_login(make_user("les-k", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    html, tree = page(client, "/tiltak/")
    assert_no_inline_script(tree, "/tiltak/")
    cells = table_cells(tree.find_all("table", id="measures-table")[0])
    names = [c for c in cells if c in ("Dyr", "Sparer", "Uten kjøp")]
    assert names == ["Sparer", "Dyr", "Uten kjøp"]
    assert norwegian(0.2 * K_OFFICE / 1000) in cells  # Kongsvinger's reader: Kongsvinger's purchases only
    assert "Kontekst" not in html and "Tiltak" in html  # bokmål
    assert "har ingen kjøp i kategoriene" in squash(html)


def test_a_measure_page_shows_what_it_traces_to_and_its_history(account, client):
    measure = make("Papir i stedet", mechanism="switch", percent=50, kind=3, to_category="goods.paper",
                   organisations=[KONGSVINGER])
    services.do_change_measure_status(measure=measure, status="recommended", actor="test")
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    client.force_login(make_user("les-k", kongsvinger, "reader"))
    html, tree = page(client, f"/tiltak/{measure.pk}/")
    factors = table_cells(tree.find_all("table", id="measure-factors")[0])
    a, b = spend_factor("goods.office", "value"), spend_factor("goods.paper", "value")
    assert norwegian(b / a, 3) in factors
    cut = table_cells(tree.find_all("table", id="measure-cells")[0])
    assert norwegian(0.5 * K_OFFICE * (1 - b / a) / 1000) in cut
    assert f'/org/{KONGSVINGER}/linjer/?periode=2024&amp;kategori=goods.office' in html
    history = table_cells(tree.find_all("table", id="measure-history")[0])
    assert "Foreslått" in history and "Anbefalt" in history
    client.force_login(make_user("les-g", Organisation.objects.get(orgnr=GRUE), "reader"))
    assert client.get(f"/tiltak/{measure.pk}/").status_code == 404  # Kongsvinger's measure


def test_the_curve_and_trajectory_pages_draw_the_numbers_of_their_tables(account, client):
    less = make("Mindre", percent=20, effective_date=dt.date(2025, 1, 1), cost_yearly_nok=500)
    package = services.do_create_package(name="Basis", measures=[less], baseline_year=2024, actor="test")
    with operator():  # as the command line would
        services.do_adopt_package(package=package, organisation=Organisation.objects.get(orgnr=KONGSVINGER),
                                  adopted_on=dt.date(2025, 1, 1), case_number="25/1", actor="test")
    client.force_login(make_user("admin", Organisation.objects.get(orgnr=KONGSVINGER), "region-admin"))
    _, tree = page(client, f"/tiltak/kurve/?pakke={package.pk}")
    spec = chart_payload(tree.find_all("figure")[0])["spec"]
    assert spec["data"]["values"][0]["x1"] == pytest.approx(0.2 * (K_OFFICE + G_OFFICE) / 1000, rel=1e-9)
    _, tree = page(client, f"/tiltak/bane/?org={KONGSVINGER}&til=2026")
    rows = table_cells(tree.find_all("table", id="trajectory-table")[0])
    assert rows[rows.index("2025") + 2] == norwegian((K_TOTAL - 0.2 * K_OFFICE) / 1000)
    spec = chart_payload(tree.find_all("figure")[0])["spec"]
    assert len(spec["data"]["values"]) == 6  # three years, two scenarios
    html, _ = page(client, "/tiltak/pakker/")
    assert "25/1" in html and "Basis" in html


assert cpi(2024) > 0  # the hand computation's inputs are there


def test_the_excel_report_has_the_measures_and_the_adopted_package_of_the_organisation(account, tmp_path):
    from openpyxl import load_workbook

    less = make("Mindre", percent=20, cost_yearly_nok=1_000)
    make("Bare Grue", percent=10, organisations=[GRUE])
    package = services.do_create_package(name="Basis", measures=[less], baseline_year=2024, actor="test")
    with operator():  # as the command line would
        services.do_adopt_package(package=package, organisation=Organisation.objects.get(orgnr=KONGSVINGER),
                                  adopted_on=dt.date(2025, 1, 1), case_number="25/1", actor="test")
    out = tmp_path / "k.xlsx"
    result = run_cli("report", "--org", KONGSVINGER, "--period", "2024", "--format", "xlsx", "-o", out)
    assert result.returncode == 0, result.stderr
    book = load_workbook(out)
    measures = list(book["Tiltak"].iter_rows(values_only=True))
    assert [r[0] for r in measures[1:]] == ["Mindre"]  # Grue's measure is not Kongsvinger's
    assert measures[1][5] == pytest.approx(0.2 * K_OFFICE / 1000, rel=1e-9)
    assert measures[0][4] == "Basisår" and measures[1][4] == "2024"  # a year, not "2 024" as a grouped number
    packages = list(book["Tiltakspakker"].iter_rows(values_only=True))
    assert packages[1][0] == "Basis" and packages[1][2] == pytest.approx(0.2 * K_OFFICE / 1000, rel=1e-9)
    assert "25/1" in packages[1][5]


def test_an_organisations_purchaser_records_its_adoptions_and_a_reader_may_not(account, client):
    measure = make()
    package = services.do_create_package(name="Basis", measures=[measure], baseline_year=2024, actor="test")
    kongsvinger, grue = Organisation.objects.get(orgnr=KONGSVINGER), Organisation.objects.get(orgnr=GRUE)
    client.force_login(make_user("les-k", kongsvinger, "reader"))
    html, _ = page(client, f"/tiltak/{measure.pk}/")
    assert 'action="/tiltak/' not in html  # no form for a reader
    adoption = {"status-status": "adopted", "status-organisation": KONGSVINGER, "status-date": "2025-03-01",
                "status-case_number": "25/5"}
    assert client.post(f"/tiltak/{measure.pk}/status/", adoption).status_code == 403
    assert client.post(f"/tiltak/pakker/{package.pk}/vedta/", {}).status_code == 403
    client.force_login(make_user("innkjop-g", grue, "purchaser"))
    assert client.post(f"/tiltak/{measure.pk}/status/", adoption).status_code == 400  # not Grue's to record
    # recommending is the region's step: not offered to an organisation's purchaser, and refused if posted
    assert client.post(f"/tiltak/{measure.pk}/status/", {"status-status": "recommended"}).status_code == 400
    response = client.post(f"/tiltak/{measure.pk}/status/", adoption | {"status-organisation": GRUE})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.status == "adopted"
    response = client.post(f"/tiltak/pakker/{package.pk}/vedta/", {
        f"adopt{package.pk}-organisation": GRUE, f"adopt{package.pk}-date": "2025-04-01",
        f"adopt{package.pk}-case_number": "25/6"})
    assert response.status_code == 302
    assert [(a.organisation.orgnr, a.case_number) for a in selectors.adoptions(system_scope(), package)] == [
        (GRUE, "25/6")]
    entry = AuditEntry.objects.filter(action="adopt_package").get()
    assert entry.actor.username == "innkjop-g" and entry.organisation == grue
    response = client.post(f"/tiltak/pakker/{package.pk}/vedta/", {f"adopt{package.pk}-organisation": GRUE})
    assert response.status_code == 400 and f'id="adopt{package.pk}-errors"' in response.content.decode()


def test_an_organisations_purchaser_records_only_its_own_steps_of_a_measure_of_the_whole_region(account, client):
    """Recommending and verifying a measure, and moving it back, change it for every organisation: region
    administrators' steps. A purchaser adopts and implements it for their own organisation."""
    measure = make()  # no organisations: the region's
    grue = Organisation.objects.get(orgnr=GRUE)
    client.force_login(make_user("innkjop-g", grue, "purchaser"))
    html, _ = page(client, f"/tiltak/{measure.pk}/")
    offered = set(re.findall(r'<option value="([a-z]+)"', html.split('name="status-status"', 1)[1].split("</select>")[0]))
    assert offered == {"adopted", "implemented"}
    url = f"/tiltak/{measure.pk}/status/"
    for status in ("recommended", "verified"):
        assert client.post(url, {"status-status": status, "status-organisation": GRUE}).status_code == 400
    measure.refresh_from_db()
    assert measure.status == "proposed" and not measure.history.exclude(note="created").exists()
    services.do_change_measure_status(measure=measure, status="verified", actor="test")
    response = client.post(url, {"status-status": "implemented", "status-organisation": GRUE,
                                 "status-date": "2025-05-01"})  # a step back for the whole region
    assert response.status_code == 403
    measure.refresh_from_db()
    assert measure.status == "verified"
    adoption = {"status-status": "adopted", "status-organisation": GRUE, "status-date": "2025-03-01",
                "status-case_number": "25/7"}
    assert client.post(url, adoption).status_code == 302  # its own adoption, recorded; the status kept
    measure.refresh_from_db()
    assert measure.status == "verified" and measure.history.filter(status="adopted", organisation=grue).exists()


def test_a_package_shows_a_person_only_the_measures_they_may_see(account, client):
    """A package is the region's; a measure of Kongsvinger's in it is not Grue's to see (its page is 404 for Grue):
    neither the packages page nor the curve names it, costs it or counts it for a person of Grue."""
    own = make("Bare for Kongsvinger", organisations=[KONGSVINGER], cost_yearly_nok=987_654)
    shared = make("For hele regionen", percent=10)
    package = services.do_create_package(name="Blandet", measures=[own, shared], baseline_year=2024, actor="test")
    grue = Organisation.objects.get(orgnr=GRUE)
    scope = Scope(orgnrs=frozenset({GRUE}))
    assert [m.name for m in selectors.package_measures(scope, package)] == ["For hele regionen"]
    assert [m.name for m in selectors.package_measures(system_scope(), package)] == ["Bare for Kongsvinger",
                                                                                    "For hele regionen"]
    row = selectors.package_rows(scope)[0]
    assert row["measures"] == ["For hele regionen"] and row["cost_nok_per_year"] == 0
    client.force_login(make_user("les-g", grue, "reader"))
    assert client.get(f"/tiltak/{own.pk}/").status_code == 404
    for url in ("/tiltak/pakker/", f"/tiltak/kurve/?pakke={package.pk}"):
        html = client.get(url).content.decode()
        assert "For hele regionen" in html and "Bare for Kongsvinger" not in html and "987" not in html, url


def test_who_may_record_which_step_of_a_measure(account):
    from klimainnkjop.access import can_record_measure_step

    kongsvinger, grue = Organisation.objects.get(orgnr=KONGSVINGER), Organisation.objects.get(orgnr=GRUE)
    purchaser, admin = make_user("innkjop-g", grue, "purchaser"), make_user("region", kongsvinger, "region-admin")
    reader = make_user("les-g", grue, "reader")
    for current, status, orgnr, allowed in [
            ("proposed", "adopted", GRUE, True), ("recommended", "implemented", GRUE, True),
            ("implemented", "adopted", GRUE, True),  # another adoption of a measure taken further
            ("proposed", "recommended", GRUE, False), ("implemented", "verified", GRUE, False),
            ("verified", "implemented", GRUE, False), ("recommended", "proposed", GRUE, False),  # back
            ("proposed", "adopted", KONGSVINGER, False), ("proposed", "adopted", None, False)]:
        assert can_record_measure_step(purchaser, current, status, orgnr) is allowed, (current, status, orgnr)
        assert can_record_measure_step(admin, current, status, orgnr)
        assert not can_record_measure_step(reader, current, status, orgnr)


def test_a_measures_workbook_is_read_like_the_csv_and_a_missing_column_is_named(account, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Kind", "Mechanism", "Percent", "Categories", "Baseline_year", "Cost_yearly_nok"])
    sheet.append(["Mindre rekvisita", 2, "quantity", 20, "goods.office", 2024, -1500.5])
    path = tmp_path / "tiltak.xlsx"
    book.save(path)
    assert run_cli("measures", "import", path).returncode == 0
    stored = Measure.objects.get(name="Mindre rekvisita")
    assert (stored.kind, stored.percent, stored.cost_yearly_ore) == (2, 20.0, -150_050)
    bad = tmp_path / "uten-kategorier.csv"
    bad.write_text("name;kind;mechanism;percent;baseline_year\nA;2;quantity;10;2024\n", encoding="utf-8")
    result = run_cli("measures", "import", bad)
    assert result.returncode == 2 and "uten-kategorier.csv, row 1, column 'categories': required column" in result.stderr
