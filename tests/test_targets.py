"""Targets, the KPI library, their follow-up and climate budgets (issue 11), on a small account computed once for
the module whose figures are worked out by hand here (spend × CPI ratio × the shipped factor: factories.kg)."""
from __future__ import annotations

import json

import pytest
from django_scopes import scopes_disabled

from tests.conftest import Shared, run_cli, shared_state
from tests.factories import KONGSVINGER, WEB_HEADER, WEB_PROFILE, import_ledger, kg, make_grue, make_kongsvinger

OFFICE, POWER = "goods.office", "energy.electricity"
# Kongsvinger: office supplies (unit 1100) and electricity (unit 1200) in 2024, 2025 and 2026; Grue only in 2025.
KONGSVINGER_LEDGER = WEB_HEADER + (
    "15.01.2024;10000;1100;982463718;Kontorgiganten AS;10 000,00;Papir;1;1;1\n"
    "15.05.2024;18000;1200;987654325;Nettkraft AS;40 000,00;Strøm;2;1;1\n"
    "20.08.2024;10000;1100;982463718;Kontorgiganten AS;20 000,00;Papir;3;1;1\n"
    "15.02.2025;10000;1100;982463718;Kontorgiganten AS;12 000,00;Papir;4;1;1\n"
    "10.05.2025;18000;1200;987654325;Nettkraft AS;50 000,00;Strøm;5;1;1\n"
    "20.08.2025;10000;1100;982463718;Kontorgiganten AS;8 000,00;Papir;6;1;1\n"
    "10.11.2025;18000;1200;987654325;Nettkraft AS;30 000,00;Strøm;7;1;1\n"
    "15.01.2026;10000;1100;982463718;Kontorgiganten AS;5 000,00;Papir;8;1;1\n"
    "15.07.2026;18000;1200;987654325;Nettkraft AS;20 000,00;Strøm;9;1;1\n"
)
GRUE_LEDGER = WEB_HEADER + "10.03.2025;10000;2100;982463718;Kontorgiganten AS;30 000,00;Papir;1;1;1\n"

# By hand, kg CO2e per line
K24 = {1: kg(10_000, OFFICE, 2024), 5: kg(40_000, POWER, 2024), 8: kg(20_000, OFFICE, 2024)}  # month -> kg
K25 = {2: kg(12_000, OFFICE, 2025), 5: kg(50_000, POWER, 2025), 8: kg(8_000, OFFICE, 2025),
       11: kg(30_000, POWER, 2025)}
G25 = kg(30_000, OFFICE, 2025)
K24_T, K25_T = sum(K24.values()) / 1000, sum(K25.values()) / 1000
K25_SPEND = 100_000
POPULATION_2025 = {"3401": 18_109, "3417": 4_513}  # SSB table 07459, data/population.csv

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared_targets(request):
    """Kongsvinger and Grue with the ledgers above, computed once; a unit leader of Kongsvinger's unit 1100."""
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.storage.models import Membership, Unit
    from tests.factories import make_user

    with shared_state(request, "targets") as path:
        kongsvinger, grue = make_kongsvinger(), make_grue()
        import_ledger(kongsvinger, KONGSVINGER_LEDGER, "kongsvinger.csv", profile=WEB_PROFILE)
        import_ledger(grue, GRUE_LEDGER, "grue.csv", profile=WEB_PROFILE)
        do_compute(actor="test")
        leader = make_user("leder-1100")
        Membership.objects.create(user=leader, organisation=kongsvinger, role="unit-leader",
                                  unit=Unit.objects.get(organisation=kongsvinger, code="1100"))
        yield Shared(path, {"kongsvinger": kongsvinger, "grue": grue, "leader": leader})


def _period(code):
    from klimainnkjop.selectors.dashboard import parse_period

    return parse_period(code)


def _values(subject_kwargs, code, scope=None):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import kpis

    return kpis.kpi_values(scope or system_scope(), kpis.Subject(**subject_kwargs), _period(code))


def _rows(subject_kwargs, code):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import kpis

    return {(r.key, r.category): r for r in kpis.follow_up(system_scope(), kpis.Subject(**subject_kwargs),
                                                          _period(code))}


# --- the KPI library --------------------------------------------------------------------------------------------

def test_every_kpi_has_a_definition_a_formula_a_source_a_unit_and_a_direction_in_bokmal():
    from django.utils import translation

    from klimainnkjop.selectors.kpis import HIGHER, KPIS, LOWER

    assert len(KPIS) == 10
    with translation.override("nb"):
        for kpi in KPIS.values():
            assert str(kpi.name) and str(kpi.definition) and kpi.formula and str(kpi.source) and kpi.unit
            assert kpi.direction in (LOWER, HIGHER)
        assert str(KPIS["tonnes_co2e"].name) == "Utslipp fra innkjøp"
        assert str(KPIS["measured_share"].name) == "Andel av innkjøpene med målte tall"
    # the KPIs of agreements, cases and measures are computed from their registers (tests/test_links.py)
    assert {k for k, v in KPIS.items() if not v.data} == set()  # construction_cut: tests/test_construction.py


def test_an_organisations_kpis_for_a_year_are_computed_from_the_account(shared_targets):
    values = _values({"org": KONGSVINGER}, "2025")
    assert values["tonnes_co2e"] == pytest.approx(K25_T)
    assert values["kg_per_nok"] == pytest.approx(K25_T * 1000 / K25_SPEND)
    assert values["tonnes_per_inhabitant"] == pytest.approx(K25_T / POPULATION_2025["3401"])
    assert values["measured_share"] == 0.0  # every line is spend-based


def test_a_quarter_and_a_half_year_take_only_their_months(shared_targets):
    assert _values({"org": KONGSVINGER}, "2025Q3")["tonnes_co2e"] == pytest.approx(K25[8] / 1000)
    half = _values({"org": KONGSVINGER}, "2025H1")
    assert half["tonnes_co2e"] == pytest.approx((K25[2] + K25[5]) / 1000)
    assert half["kg_per_nok"] == pytest.approx((K25[2] + K25[5]) / 62_000)
    assert _values({"org": KONGSVINGER}, "2025H1")["tonnes_co2e"] + _values(
        {"org": KONGSVINGER}, "2025H2")["tonnes_co2e"] == pytest.approx(K25_T)


def test_the_region_divides_by_the_inhabitants_of_all_its_municipalities(shared_targets):
    values = _values({}, "2025")
    assert values["tonnes_co2e"] == pytest.approx(K25_T + G25 / 1000)
    assert values["tonnes_per_inhabitant"] == pytest.approx((K25_T + G25 / 1000) / sum(POPULATION_2025.values()))


def test_a_unit_has_its_own_emissions_but_no_inhabitants(shared_targets):
    values = _values({"org": KONGSVINGER, "unit": "1200"}, "2025")
    assert values["tonnes_co2e"] == pytest.approx((K25[5] + K25[11]) / 1000)
    assert values["tonnes_per_inhabitant"] is None


def test_a_category_kpi_covers_the_category_and_those_below_it(shared_targets):
    assert _values({"category": "energy"}, "2025")["tonnes_co2e"] == pytest.approx((K25[5] + K25[11]) / 1000)
    assert _values({"category": OFFICE}, "2025")["tonnes_co2e"] == pytest.approx((K25[2] + K25[8] + G25) / 1000)


def test_kpis_whose_data_does_not_exist_yet_say_so_instead_of_a_number(shared_targets):
    # no agreements, procurement cases or measures here (with them: tests/test_links.py), no construction projects
    rows = _rows({"org": KONGSVINGER}, "2025")
    for key in ("agreement_share", "requirements_share", "measures_implemented", "construction_cut"):
        assert rows[(key, None)].value is None
        assert rows[(key, None)].status == "no_data"
    assert rows[("tonnes_co2e", None)].status == "no_target"


def test_a_population_figure_edited_wins_over_the_shipped_table(shared_targets):
    from klimainnkjop.services.targets import do_set_population
    from klimainnkjop.storage.models import AuditEntry

    do_set_population(municipality="3401", year=2025, inhabitants=20_000, source="Folkeregisteret", actor="test")
    assert _values({"org": KONGSVINGER}, "2025")["tonnes_per_inhabitant"] == pytest.approx(K25_T / 20_000)
    assert AuditEntry.objects.filter(action="set_population").count() == 1


# --- targets and their follow-up -----------------------------------------------------------------------------------

def _cut_target(**kwargs):
    from klimainnkjop.services.targets import do_set_target

    args = dict(organisation=None, kpi="tonnes_co2e", kind="cut", value=30.0, baseline_year=2024, target_year=2030,
                actor="test")
    args.update(kwargs)
    return do_set_target(**args)


def test_a_cut_target_is_followed_along_the_straight_path_for_a_year(shared_targets):
    _cut_target(organisation=shared_targets.value["kongsvinger"])
    row = _rows({"org": KONGSVINGER}, "2025")[("tonnes_co2e", None)]
    assert row.baseline_value == pytest.approx(K24_T)
    assert row.target == pytest.approx(K24_T * 0.7)  # 30 % below 2024 in 2030
    assert row.expected_now == pytest.approx(K24_T * (1 - 0.30 * 1 / 6))  # one sixth of the way in 2025
    assert K25_T > row.expected_now * 1.05  # 2025 is far above the path
    assert row.status == "off_track"


def test_a_quarter_is_held_to_the_path_scaled_by_the_baseline_years_same_quarter(shared_targets):
    _cut_target(organisation=shared_targets.value["kongsvinger"])
    row = _rows({"org": KONGSVINGER}, "2025Q3")[("tonnes_co2e", None)]
    assert row.value == pytest.approx(K25[8] / 1000)
    assert row.expected_now == pytest.approx(K24[8] / 1000 * (1 - 0.30 / 6))
    assert row.status == "on_track"  # 8 000 NOK of office supplies against 20 000 a year before
    half = _rows({"org": KONGSVINGER}, "2025H1")[("tonnes_co2e", None)]
    assert half.expected_now == pytest.approx((K24[1] + K24[5]) / 1000 * (1 - 0.30 / 6))


def test_the_status_rule_is_on_track_at_risk_within_five_percent_and_off_track_beyond():
    from klimainnkjop.selectors.kpis import HIGHER, LOWER, status_of

    assert status_of(100.0, 100.0, LOWER) == "on_track"
    assert status_of(104.9, 100.0, LOWER) == "at_risk"
    assert status_of(105.1, 100.0, LOWER) == "off_track"
    assert status_of(60.0, 60.0, HIGHER) == "on_track"
    assert status_of(57.5, 60.0, HIGHER) == "at_risk"  # 2.5 below, 5 % of 60 is 3
    assert status_of(56.9, 60.0, HIGHER) == "off_track"


def test_the_path_goes_through_the_milestones():
    from klimainnkjop.selectors.kpis import path_value
    from klimainnkjop.storage.models import Target

    target = Target(kind="cut", value=50.0, baseline_year=2020, target_year=2030,
                    milestones=[{"year": 2025, "value": 40.0}])
    assert path_value(target, 100.0, 2020) == 100.0
    assert path_value(target, 100.0, 2022) == pytest.approx(100 - 40 * 2 / 5)
    assert path_value(target, 100.0, 2025) == pytest.approx(60.0)
    assert path_value(target, 100.0, 2028) == pytest.approx(60 - 10 * 3 / 5)
    assert path_value(target, 100.0, 2035) == pytest.approx(50.0)


def test_a_region_target_names_the_organisations_missing_from_its_baseline_year(shared_targets):
    _cut_target()
    row = _rows({}, "2025")[("tonnes_co2e", None)]
    assert row.missing_in_baseline == ["Grue kommune"]  # Grue has no figures for 2024
    assert row.baseline_value == pytest.approx(K24_T)


def test_a_category_target_gets_a_row_of_its_own(shared_targets):
    from klimainnkjop.services.targets import do_set_target

    do_set_target(kpi="kg_per_nok", category="energy", value=0.01, baseline_year=2024, target_year=2030,
                  actor="test")
    row = _rows({}, "2025")[("kg_per_nok", "energy")]
    assert row.value == pytest.approx((K25[5] + K25[11]) / 80_000)
    assert row.baseline_value == pytest.approx(K24[5] / 40_000)
    assert row.expected_now == pytest.approx(row.baseline_value + (0.01 - row.baseline_value) / 6)


def test_setting_a_target_is_audited_and_a_new_one_replaces_the_old_which_is_kept(shared_targets):
    from klimainnkjop.storage.models import AuditEntry, Target

    first = _cut_target()
    second = _cut_target(value=40.0, case_number="2026/17")
    first.refresh_from_db()
    assert not first.active and second.active
    entries = AuditEntry.objects.filter(action="set_target").order_by("id")
    assert [e.after["value"] for e in entries] == [30.0, 40.0]
    assert entries.last().before == {"replaced": [first.pk]}
    assert Target.objects.filter(kpi="tonnes_co2e", organisation=None).count() == 2


@pytest.mark.parametrize("kwargs,field", [
    ({"kpi": "happiness"}, "--kpi"), ({"baseline_year": 2031}, "--baseline-year"),
    ({"value": 130.0}, "--value"), ({"baseline_year": None}, "--baseline-year"),
    ({"category": "no.such"}, "--category"), ({"unit_code": "1100"}, "--unit"),
])
def test_a_target_with_bad_input_is_refused_naming_the_field(shared_targets, kwargs, field):
    from klimainnkjop.core.errors import InvalidInput
    from klimainnkjop.storage.models import Target

    with pytest.raises(InvalidInput, match=f"^{field}:"):
        _cut_target(**kwargs)
    assert not Target.objects.exists()


def test_the_steering_documents_targets_are_adopted_in_one_step_and_only_once(shared_targets):
    from klimainnkjop.services.targets import do_adopt_target_templates
    from klimainnkjop.storage.models import AuditEntry

    adopted = do_adopt_target_templates(baseline_year=2024, target_year=2030, actor="test")
    assert {(t.template, t.kpi, t.value, t.target_year) for t in adopted} == {
        ("requirements_90", "requirements_share", 90.0, 2030),
        ("construction_minus_50", "construction_cut", 50.0, 2030),
        ("agreements_cut", "agreement_tonnes_co2e", None, 2030),
        ("climate_neutral_2025", "tonnes_co2e", 100.0, 2025)}
    assert AuditEntry.objects.filter(action="set_target").count() == 4
    assert do_adopt_target_templates(baseline_year=2024, target_year=2030, actor="test") == []
    rows = _rows({}, "2025")
    assert rows[("requirements_share", None)].status == "no_data"
    assert rows[("agreement_tonnes_co2e", None)].target_year == 2030
    neutral = rows[("tonnes_co2e", None)]
    assert neutral.target == 0.0 and neutral.expected_now == pytest.approx(0.0)  # 100 % cut reached in 2025
    assert neutral.status == "off_track"


def test_adopting_a_template_without_a_year_needs_one(shared_targets):
    from klimainnkjop.core.errors import InvalidInput
    from klimainnkjop.services.targets import do_adopt_target_templates

    with pytest.raises(InvalidInput, match="^--target-year: .*requirements_90"):
        do_adopt_target_templates(baseline_year=2024, keys=["requirements_90"], actor="test")
    assert len(do_adopt_target_templates(baseline_year=2021, keys=["climate_neutral_2025"], actor="test")) == 1


# --- the command line ------------------------------------------------------------------------------------------------

def test_targets_add_and_list_on_the_command_line(shared_targets):
    added = run_cli("targets", "add", "--org", KONGSVINGER, "--kpi", "tonnes_co2e", "--kind", "cut",
                    "--baseline-year", "2024", "--target-year", "2030", "--value", "30", "--case-number", "26/4",
                    "--milestone", "2027=10", "--decision-date", "2026-06-18")
    assert added.returncode == 0, added.stderr
    listed = json.loads(run_cli("targets", "list", "--format", "json").stdout)
    assert [(t["org"], t["kpi"], t["kind"], t["value"], t["baseline_year"], t["target_year"], t["case_number"],
             t["milestones"], t["decision_date"]) for t in listed] == [
        (KONGSVINGER, "tonnes_co2e", "cut", 30.0, 2024, 2030, "26/4", [{"year": 2027, "value": 10.0}], "2026-06-18")]
    # the path goes through the milestone: 10 % below 2024 in 2027, so 2025 expects a third of that
    row = {r["key"]: r for r in json.loads(run_cli("kpis", "--org", KONGSVINGER, "--period", "2025", "--format",
                                                   "json").stdout)}["tonnes_co2e"]
    assert row["expected_now"] == pytest.approx(K24_T * (1 - 0.10 / 3))
    definitions = json.loads(run_cli("kpis", "--definitions", "--format", "json").stdout)
    assert definitions[0] | {"definition": ""} == {
        "key": "tonnes_co2e", "name": "Emissions from purchases", "definition": "",  # the CLI speaks English
        "formula": "sum(kg_co2e) / 1000",
        "source": "The climate account: ledgers, KOSTRA, invoices and supplier statistics", "unit": "t CO2e",
        "direction": "lower", "data": True}


def test_kpis_on_the_command_line_give_a_row_per_kpi_with_target_and_status(shared_targets):
    _cut_target(organisation=shared_targets.value["kongsvinger"])
    result = run_cli("kpis", "--org", KONGSVINGER, "--period", "2025Q3", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 10
    row = rows["tonnes_co2e"]
    assert {"key", "name", "value", "unit", "target", "target_year", "expected_now", "status"} <= set(row)
    assert row["value"] == pytest.approx(K25[8] / 1000)
    assert row["expected_now"] == pytest.approx(K24[8] / 1000 * (1 - 0.30 / 6))
    assert (row["target"], row["target_year"], row["status"]) == (pytest.approx(K24_T * 0.7), 2030, "on_track")
    assert row["name"] == "Emissions from purchases"  # the CLI speaks English; the pages and reports bokmål
    region = {r["key"]: r for r in json.loads(run_cli("kpis", "--region", "--period", "2025", "--format",
                                                      "json").stdout)}
    assert region["tonnes_co2e"]["value"] == pytest.approx(K25_T + G25 / 1000)


@pytest.mark.parametrize("args,message", [
    (["kpis", "--org", KONGSVINGER, "--period", "2025Q5"], "--period"),
    (["kpis", "--org", KONGSVINGER, "--unit", "9999", "--period", "2025"], "--unit"),
    (["targets", "add", "--region", "--kpi", "nope", "--target-year", "2030", "--value", "1"], "--kpi"),
    (["budgets", "status", "--org", KONGSVINGER, "--period", "2025"], "no budget"),
])
def test_bad_input_on_the_command_line_exits_with_2_and_says_what(shared_targets, args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr


# --- climate budgets -------------------------------------------------------------------------------------------------

def _budget(**kwargs):
    from klimainnkjop.services.budgets import do_set_budget

    args = dict(organisation=None, year=2025, cut_percent=10.0, actor="test")
    args.update(kwargs)
    with scopes_disabled():  # a builder of test data, as the operator (like a fixture)
        return do_set_budget(**args)


def _status(code, unit=None, scope=None):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.budgets import budget_status

    return budget_status(scope or system_scope(), orgnr=KONGSVINGER, unit_code=unit, period=_period(code))


def test_a_budget_proposed_from_last_year_is_spread_by_last_years_months(shared_targets):
    budget = _budget(organisation=shared_targets.value["kongsvinger"])
    assert budget.tonnes == pytest.approx(K24_T * 0.9)
    expected = [0.9 * K24.get(month, 0.0) / 1000 for month in range(1, 13)]
    assert budget.monthly_tonnes == pytest.approx(expected)
    assert sum(budget.monthly_tonnes) == pytest.approx(budget.tonnes)
    assert (budget.version, budget.profile) == (1, "last-year")


def test_budget_status_for_a_quarter_a_half_year_and_the_year_by_hand(shared_targets):
    _budget(organisation=shared_targets.value["kongsvinger"])
    q3 = _status("2025Q3")
    assert q3.budget_t == pytest.approx(0.9 * K24[8] / 1000)
    assert q3.actual_t == pytest.approx(K25[8] / 1000)
    assert q3.deviation_t == pytest.approx(q3.actual_t - q3.budget_t)
    # January–September 2025 actual, and no budget left after September (2024 had nothing in October–December)
    assert q3.forecast_t == pytest.approx((K25[2] + K25[5] + K25[8]) / 1000)
    assert q3.categories == [{"category": OFFICE, "actual_t": pytest.approx(K25[8] / 1000),
                              "expected_t": pytest.approx(q3.budget_t),
                              "deviation_t": pytest.approx(q3.deviation_t)}]
    # the trend keeps the deviation so far: the year's budget × actual / budget from January to September
    assert q3.trend_forecast_t == pytest.approx(K24_T * 0.9 * q3.forecast_t / (0.9 * K24_T))
    h1 = _status("2025H1")
    assert h1.budget_t == pytest.approx(0.9 * (K24[1] + K24[5]) / 1000)
    assert h1.actual_t == pytest.approx((K25[2] + K25[5]) / 1000)
    year = _status("2025")
    assert (year.budget_t, year.actual_t, year.forecast_t) == (
        pytest.approx(K24_T * 0.9), pytest.approx(K25_T), pytest.approx(K25_T))
    by_category = {c["category"]: c for c in year.categories}
    assert by_category[POWER]["expected_t"] == pytest.approx(K24_T * 0.9 * K24[5] / (K24_T * 1000))
    assert by_category[POWER]["deviation_t"] == pytest.approx((K25[5] + K25[11]) / 1000
                                                              - by_category[POWER]["expected_t"])
    assert sum(c["deviation_t"] for c in year.categories) == pytest.approx(year.deviation_t)


def test_a_revised_budget_is_a_new_version_and_the_original_is_kept(shared_targets):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.budgets import budget_versions
    from klimainnkjop.storage.models import AuditEntry

    kongsvinger = shared_targets.value["kongsvinger"]
    _budget(organisation=kongsvinger)
    _budget(organisation=kongsvinger, tonnes=6.0)
    versions = budget_versions(system_scope(), KONGSVINGER, None, 2025)
    assert [(b.version, round(b.tonnes, 6)) for b in versions] == [(2, 6.0), (1, round(K24_T * 0.9, 6))]
    year = _status("2025")
    assert (year.budget_t, year.original_t) == (pytest.approx(6.0), pytest.approx(K24_T * 0.9))
    assert AuditEntry.objects.filter(action="set_climate_budget").count() == 2


def test_without_last_year_a_budget_needs_tonnes_and_is_spread_evenly(shared_targets):
    from klimainnkjop.core.errors import InvalidInput

    grue = shared_targets.value["grue"]
    with pytest.raises(InvalidInput, match="^--tonnes: 2024 has no figures"):
        _budget(organisation=grue)
    budget = _budget(organisation=grue, tonnes=1.2)
    assert budget.monthly_tonnes == pytest.approx([0.1] * 12) and budget.profile == "even"
    for tonnes in (1e300, float("inf"), float("nan"), -1):
        with pytest.raises(InvalidInput, match="^--tonnes: .* from 0 to 100,000,000"):
            _budget(organisation=grue, tonnes=tonnes)


def test_a_unit_leader_sees_their_units_budget_and_nothing_of_other_units(shared_targets):
    from klimainnkjop.access import scope_for
    from klimainnkjop.selectors.budgets import budgets_of

    kongsvinger = shared_targets.value["kongsvinger"]
    for unit in ("", "1100", "1200"):
        _budget(organisation=kongsvinger, unit_code=unit, tonnes=1.2)
    scope = scope_for(shared_targets.value["leader"])
    assert [b.unit_code for b in budgets_of(scope, KONGSVINGER, 2025)] == ["1100"]
    assert _status("2025Q1", unit="1100", scope=scope).actual_t == pytest.approx(K25[2] / 1000)
    for unit in (None, "1200"):
        with pytest.raises(PermissionError):
            _status("2025", unit=unit, scope=scope)


def test_budgets_on_the_command_line(shared_targets):
    result = run_cli("budgets", "set", "--org", KONGSVINGER, "--unit", "1200", "--year", "2025", "--cut", "10")
    assert result.returncode == 0, result.stderr
    status = json.loads(run_cli("budgets", "status", "--org", KONGSVINGER, "--unit", "1200", "--period", "2025Q2",
                                "--format", "json").stdout)
    assert status["budget_t"] == pytest.approx(0.9 * K24[5] / 1000)
    assert status["actual_t"] == pytest.approx(K25[5] / 1000)
    assert status["deviation_t"] == pytest.approx((K25[5] - 0.9 * K24[5]) / 1000)
    assert status["forecast_t"] == pytest.approx(K25[5] / 1000)  # no budget left after May for unit 1200
    assert status["categories"][0]["category"] == POWER


# --- pages -------------------------------------------------------------------------------------------------------------

def test_the_organisation_page_shows_its_kpis_against_their_targets(shared_targets, client):
    from tests.factories import make_user, page, squash, table_cells

    _cut_target(organisation=shared_targets.value["kongsvinger"])
    client.force_login(make_user("leser", shared_targets.value["kongsvinger"], "reader"))
    _html, tree = page(client, f"/org/{KONGSVINGER}/?periode=2025Q3")
    (section,) = [s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "kpis-heading"]
    cells = [squash(c) for c in table_cells(section.find_all("table")[0])]
    assert "Utslipp fra innkjøp" in cells
    row = cells[cells.index("Utslipp fra innkjøp"):][:7]
    assert row[2] == "t CO2e" and row[4] == "2030" and row[6] == "På sporet"
    assert "Ingen data ennå" in cells


def test_the_budget_page_shows_a_unit_leader_only_their_units_budget(shared_targets, client):
    from tests.factories import page

    kongsvinger = shared_targets.value["kongsvinger"]
    for unit in ("", "1100", "1200"):
        _budget(organisation=kongsvinger, unit_code=unit, tonnes=1.2)
    client.force_login(shared_targets.value["leader"])
    html, tree = page(client, f"/org/{KONGSVINGER}/klimabudsjett/?periode=2025Q1")
    headers = [h.text().strip() for h in tree.find_all("th") if h.attrs.get("scope") == "row"]
    assert headers[0].startswith("1100")
    assert not any(h.startswith("1200") or h == "Kongsvinger kommune" for h in headers)
    assert "Lagre budsjett" not in html  # a unit leader may not set budgets
    assert client.post(f"/org/{KONGSVINGER}/klimabudsjett/", {"year": 2025, "tonnes": 1}).status_code == 403


def test_finance_sets_a_budget_on_the_page(shared_targets, client):
    from klimainnkjop.storage.models import ClimateBudget
    from tests.factories import make_user, page, squash

    client.force_login(make_user("okonomi", shared_targets.value["kongsvinger"], "finance"))
    response = client.post(f"/org/{KONGSVINGER}/klimabudsjett/", {"unit": "1200", "year": 2025, "tonnes": "2.4"})
    assert response.status_code == 302
    budget = ClimateBudget.objects.with_scopes_disabled().get(unit_code="1200", year=2025)
    assert (budget.tonnes, budget.version) == (2.4, 1)
    html, tree = page(client, f"/org/{KONGSVINGER}/klimabudsjett/?periode=2025")
    assert "prognosen etter trenden beholder avviket" in html
    (row,) = [r for r in tree.find_all("tr") if r.find_all("th") and r.find_all("th")[0].text().startswith("1200")]
    cells = [squash(c.text()) for c in row.find_all("td")]
    actual = (K25[5] + K25[11]) / 1000
    assert cells[:5] == ["1", "2,4", "2,4", f"{actual:.1f}".replace(".", ","),
                         ("+" if actual - 2.4 > 0.05 else "") + f"{actual - 2.4:.1f}".replace(".", ",").replace("-", "−")]
    assert client.post(f"/org/{KONGSVINGER}/klimabudsjett/", {"year": "", "tonnes": "-1"}).status_code == 400
    # absurd budgets are refused with the form's message (1e308 was a 500: its months overflowed to infinity)
    for tonnes in ("1e300", "1e308", "inf", "nan"):
        refused = client.post(f"/org/{KONGSVINGER}/klimabudsjett/", {"unit": "1200", "year": 2025, "tonnes": tonnes})
        assert refused.status_code == 400, tonnes
    assert ClimateBudget.objects.with_scopes_disabled().filter(unit_code="1200", year=2025).count() == 1


# --- reports -----------------------------------------------------------------------------------------------------------

def test_the_report_carries_the_same_kpi_values_as_the_page(shared_targets, client, tmp_path):
    import csv as csv_module

    from tests.factories import make_user, page, squash, table_cells

    _cut_target(organisation=shared_targets.value["kongsvinger"])
    out = tmp_path / "k.csv"
    made = run_cli("report", "--org", KONGSVINGER, "--period", "2025Q3", "--format", "csv", "-o", out)
    assert made.returncode == 0, made.stderr
    lines = list(csv_module.reader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    start = lines.index(["Måleindikatorer og mål"])
    assert lines[start + 1] == ["Indikator", "Verdi", "Måleenhet", "Mål", "Målår", "Forventet nå", "Status"]
    rows = {r[0]: r for r in lines[start + 2:] if r}
    tonnes = rows["Utslipp fra innkjøp"]
    assert float(tonnes[1].replace(",", ".")) == pytest.approx(K25[8] / 1000, abs=1e-6)
    assert float(tonnes[5].replace(",", ".")) == pytest.approx(K24[8] / 1000 * (1 - 0.30 / 6), abs=1e-6)
    assert (tonnes[4], tonnes[6]) == ("2030", "På sporet")
    assert rows["Andel av innkjøpene på avtale"][6] == "Ingen data ennå"

    client.force_login(make_user("leser", shared_targets.value["kongsvinger"], "reader"))
    _html, tree = page(client, f"/org/{KONGSVINGER}/?periode=2025Q3")
    (section,) = [s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "kpis-heading"]
    cells = [squash(c) for c in table_cells(section.find_all("table")[0])]
    on_page = cells[cells.index("Utslipp fra innkjøp"):][:7]
    assert on_page[1] == f"{K25[8] / 1000:.1f}".replace(".", ",")  # the page rounds to one decimal
    assert on_page[5] == f"{K24[8] / 1000 * (1 - 0.30 / 6):.1f}".replace(".", ",")


def test_a_region_administrator_adopts_the_steering_documents_targets_on_the_page(shared_targets, client):
    from klimainnkjop.storage.models import Target
    from tests.factories import make_user, page

    client.force_login(make_user("regionadmin", shared_targets.value["kongsvinger"], "region-admin"))
    response = client.post("/mal/", {"baseline_year": 2024, "target_year": 2030})
    assert response.status_code == 302
    assert sorted(Target.objects.values_list("template", flat=True)) == [
        "agreements_cut", "climate_neutral_2025", "construction_minus_50", "requirements_90"]
    html, tree = page(client, "/mal/")
    assert "Klima-/miljøkrav i 90 % av alle enkeltanskaffelser i regionen." in html
    assert "100 % under 2024" in html and "fastsettes senere" in html
    assert "90,0\u00a0%" in html and "90,00" not in html  # a share as the KPI panels write it
    client.force_login(shared_targets.value["leader"])  # a unit leader sees the region's targets, may not adopt
    assert "100 % under 2024" in page(client, "/mal/")[0]
    assert client.post("/mal/", {"baseline_year": 2024, "target_year": 2030}).status_code == 403


def test_a_region_funder_report_labels_a_baseline_year_without_every_organisation_partial(shared_targets):
    from klimainnkjop.access import system_scope
    from klimainnkjop.reports import data as report_data
    from klimainnkjop.reports import rows as report_rows
    from klimainnkjop.reports.periods import parse_period

    data = report_data.build(system_scope(), scope_kind="region", period=parse_period("2025"), layout="funder",
                             texts={"baseline_year": "2024"})
    assert [c.label for c in data.comparisons] == ["2024 (basisår, ufullstendig)"]
    assert ("2024 er ufullstendig: én organisasjon har ingen tall for året (Grue kommune), så endringen mot 2024 "
            "sammenligner ikke det samme.") in data.notes
    (results,) = [t for t in report_rows.tables(data) if t.key == "resultater"]
    assert "2024 (basisår, ufullstendig)" in [c.label for c in results.columns]
    complete = report_data.build(system_scope(), scope_kind="region", period=parse_period("2026"), layout="funder",
                                 texts={"baseline_year": "2025"})
    assert not any("ufullstendig" in c.label for c in complete.comparisons)


def test_a_target_is_only_held_against_figures_of_its_whole_subject(shared_targets):
    from klimainnkjop.access import scope_for
    from klimainnkjop.selectors import kpis
    from tests.factories import make_user

    _cut_target()  # the region's
    _cut_target(organisation=shared_targets.value["kongsvinger"])
    reader = scope_for(make_user("grue-leser", shared_targets.value["grue"], "reader"))
    region_for_grue = {r.key: r for r in kpis.follow_up(reader, kpis.Subject(), _period("2025"))}
    assert region_for_grue["tonnes_co2e"].value == pytest.approx(G25 / 1000)  # what Grue's reader sees
    assert region_for_grue["tonnes_co2e"].status == "no_target"
    leader = scope_for(shared_targets.value["leader"])
    own = {r.key: r for r in kpis.follow_up(leader, kpis.Subject(org=KONGSVINGER), _period("2025"))}
    assert own["tonnes_co2e"].value == pytest.approx((K25[2] + K25[8]) / 1000)  # unit 1100 only
    assert own["tonnes_co2e"].target is None


def test_the_region_page_labels_a_year_without_every_organisations_figures_partial(shared_targets, client):
    from tests.factories import make_user, page, squash, table_cells

    client.force_login(make_user("regionadmin", shared_targets.value["kongsvinger"], "region-admin"))
    html, tree = page(client, "/?periode=2025")
    (section,) = [s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "per-year-heading"]
    headers = [squash(c.text()) for c in section.find_all("th") if c.attrs.get("scope") == "row"]
    assert headers == ["2024 (ufullstendig)", "2025", "2026 (ufullstendig)"]  # Grue has figures for 2025 only
    assert "2024 er ufullstendig: mangler tall for Grue kommune." in squash(section.text())
    assert "2025" in [squash(c) for c in table_cells(section.find_all("table")[0])]


def test_a_unit_leader_sees_their_units_budget_on_the_unit_page(shared_targets, client):
    from tests.factories import page, squash, table_cells

    _budget(organisation=shared_targets.value["kongsvinger"], unit_code="1100", tonnes=1.2)
    client.force_login(shared_targets.value["leader"])
    _html, tree = page(client, f"/org/{KONGSVINGER}/enhet/1100/?periode=2025Q1")
    (section,) = [s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "budget-heading"]
    cells = [squash(c) for c in table_cells(section.find_all("table")[0])]
    # 1.2 t spread by unit 1100's 2024: January 10 000 and August 20 000 kroner of office supplies, so a third in Q1
    assert cells[-6:-3] == ["1. kvartal 2025", "0,4", f"{K25[2] / 1000:.1f}".replace(".", ",")]
