"""Building and construction against FutureBuilt (issue 11 item 5): construction projects, their NS 3720 climate
calculations and kg CO2e per m² against the reference, on a small account computed twice for the module (before and
after the calculation is imported) whose figures are worked out by hand here (factories.kg: spend × CPI ratio × the
shipped factor)."""
from __future__ import annotations

import json

import pytest
from django_scopes import scopes_disabled

from tests.conftest import Shared, run_cli, shared_state
from tests.factories import (
    GRUE,
    KONGSVINGER,
    WEB_PROFILE,
    import_ledger,
    kg,
    make_grue,
    make_kongsvinger,
    make_user,
    page,
)

WORKS, OFFICE = "construction.works", "goods.office"
PROFILE = {**WEB_PROFILE, "name": "visma-prosjekt", "columns": {**WEB_PROFILE["columns"], "project": "Prosjekt"}}
HEADER = "Bilagsdato;Konto;Ansvar;Lev.orgnr;Leverandør;Beløp;Tekst;Bilagsnr;Linje;Kontoklasse;Prosjekt\n"
# Kongsvinger: the school (project 100) on investment in March and September 2024, an operating line that carries
# the same project number (not the project's: operating), the office building (project 200) in 2025, and an
# investment without a project.
LEDGER = HEADER + (
    "15.03.2024;23000;4200;974760673;Byggmester Hansen AS;600 000,00;Skolebygg;1;1;0;100\n"
    "15.09.2024;23000;4200;974760673;Byggmester Hansen AS;400 000,00;Skolebygg;2;1;0;100\n"
    "20.09.2024;10000;4200;982463718;Kontorgiganten AS;10 000,00;Papir til byggemøter;3;1;1;100\n"
    "10.04.2025;23000;4200;974760673;Byggmester Hansen AS;300 000,00;Kontorbygg;4;1;0;200\n"
    "10.06.2025;23000;4200;974760673;Byggmester Hansen AS;200 000,00;Veg;5;1;0;\n"
)
SCHOOL_ESTIMATE = kg(600_000, WORKS, 2024) + kg(400_000, WORKS, 2024)  # the lines' spend-based kg
OFFICE_KG = kg(300_000, WORKS, 2025)
SCHOOL_AREA, OFFICE_AREA, OFFICE_REFERENCE = 1_000.0, 500.0, 300.0
# the contractor's calculation of the school: 250 000 kg CO2e (module D not counted)
CALCULATION = (
    "Bygningsdel;Navn;Materiale;A1-A3;A4;A5;D\n"
    "21;Grunn og fundamenter;Betong;100 000;5 000;5 000;\n"
    "22;Bæresystemer;Limtre;80 000;2 000;3 000;-10 000\n"
    "26 Yttertak;;Takelementer;50 000;3 000;2 000;\n"
)
CALCULATION_KG = 250_000.0

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared_construction(request):
    """The ledger above; the school (with a calculation after the first run) and the office building (without);
    run 1 computed before the calculation, run 2 after."""
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.construction import do_add_construction_project, do_import_climate_calculation

    with shared_state(request, "construction") as path:
        kongsvinger, grue = make_kongsvinger(), make_grue()
        import_ledger(kongsvinger, LEDGER, "kongsvinger.csv", profile=PROFILE)
        school = do_add_construction_project(organisation=kongsvinger, name="Ny skole", project_code="100",
                                             area_m2=SCHOOL_AREA, building_type="school", phase="construction",
                                             actor="test")
        office = do_add_construction_project(organisation=kongsvinger, name="Nytt kontorbygg", project_code="200",
                                             area_m2=OFFICE_AREA, building_type="office",
                                             reference_kg_per_m2=OFFICE_REFERENCE, reference_source="own reference",
                                             actor="test")
        before = do_compute(actor="test")
        calculation = do_import_climate_calculation(project=school, data=CALCULATION.encode(),
                                                    file_name="skole.csv", actor="test")
        after = do_compute(actor="test")
        yield Shared(path, {"kongsvinger": kongsvinger, "grue": grue, "school": school, "office": office,
                            "before": before, "after": after, "calculation": calculation})


def _figures(project, run=None):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import construction
    from klimainnkjop.selectors.results import Run

    return construction.figures(system_scope(), [project], Run(run) if run is not None else None)[0]


# --- the project and its reference ------------------------------------------------------------------------------

def test_a_project_without_a_reference_takes_its_building_types_default_and_a_50_percent_target(shared_construction):
    school = shared_construction.value["school"]
    assert school.reference_kg_per_m2 == 400.0  # data/construction_references.csv, school
    assert "placeholder" in school.reference_source
    assert school.target_cut_percent == 50.0
    office = shared_construction.value["office"]
    assert (office.reference_kg_per_m2, office.reference_source) == (OFFICE_REFERENCE, "own reference")


def test_kg_per_m2_without_a_calculation_is_the_spend_estimate_of_the_projects_investment_lines(
        shared_construction):
    f = _figures(shared_construction.value["school"], shared_construction.value["before"])
    # the operating line with the same project number is not the project's
    assert f.lines == 2 and f.spend_nok == 1_000_000
    assert f.kg_co2e == pytest.approx(SCHOOL_ESTIMATE)
    assert f.kg_per_m2 == pytest.approx(SCHOOL_ESTIMATE / SCHOOL_AREA)
    assert f.target_kg_per_m2 == 200.0
    assert f.cut_percent == pytest.approx(100 * (1 - SCHOOL_ESTIMATE / SCHOOL_AREA / 400))
    office = _figures(shared_construction.value["office"])
    assert office.kg_per_m2 == pytest.approx(OFFICE_KG / OFFICE_AREA)
    assert office.target_kg_per_m2 == 150.0 and office.calculation is None


def test_with_a_calculation_the_project_has_the_calculations_kg_and_the_lines_keep_their_spend(shared_construction):
    f = _figures(shared_construction.value["school"], shared_construction.value["after"])
    assert f.spend_nok == 1_000_000 and f.lines == 2
    assert f.kg_co2e == pytest.approx(CALCULATION_KG)
    assert f.kg_per_m2 == pytest.approx(250.0)
    assert f.cut_percent == pytest.approx(37.5)
    assert f.meets_target is False
    assert f.replaced_kg == pytest.approx(SCHOOL_ESTIMATE)  # shown beside it
    assert f.estimate_kg_per_m2 == pytest.approx(SCHOOL_ESTIMATE / SCHOOL_AREA)


def test_the_calculation_is_shared_by_the_lines_in_proportion_to_their_spend_as_supplier_specific_data(
        shared_construction):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import construction

    lines = construction.project_lines(system_scope(), org=KONGSVINGER, code="100")
    assert sorted(round(line["kg_co2e"]) for line in lines) == [100_000, 150_000]  # 400 000 and 600 000 NOK
    assert {line["method"] for line in lines} == {"supplier"}
    assert sum(line["replaced_kg"] for line in lines) == pytest.approx(SCHOOL_ESTIMATE)


def test_nothing_is_counted_twice_the_org_total_loses_the_replaced_estimate_and_gains_the_calculation(
        shared_construction):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import Run, totals

    before = totals(system_scope(), org=KONGSVINGER, run=Run(shared_construction.value["before"]))["rows"][0]
    after = totals(system_scope(), org=KONGSVINGER, run=Run(shared_construction.value["after"]))["rows"][0]
    assert after["spend_nok"] == before["spend_nok"] == 1_510_000
    assert after["kg_co2e"] == pytest.approx(before["kg_co2e"] - SCHOOL_ESTIMATE + CALCULATION_KG)
    by_hand = SCHOOL_ESTIMATE + OFFICE_KG + kg(10_000, OFFICE, 2024) + kg(200_000, WORKS, 2025)
    assert before["kg_co2e"] == pytest.approx(by_hand)


def test_the_calculation_keeps_its_building_parts_and_modules_and_leaves_module_d_out(shared_construction):
    from klimainnkjop.selectors import construction

    calculation = shared_construction.value["calculation"]
    assert calculation.kg_co2e == CALCULATION_KG and calculation.rows == 3
    assert calculation.modules == {"A1-A3": 230_000.0, "A4": 10_000.0, "A5": 10_000.0, "D": -10_000.0}
    with scopes_disabled():  # the test reads as the operator
        parts = construction.calculation_parts(calculation)
    assert [(p.building_part, p.building_part_name, p.kg_co2e) for p in parts] == [
        ("21", "Grunn og fundamenter", 110_000.0), ("22", "Bæresystemer", 85_000.0), ("26", "Yttertak", 55_000.0)]


def test_a_new_calculation_replaces_the_one_in_use_and_the_old_one_is_kept(shared_construction):
    from klimainnkjop.selectors import construction
    from klimainnkjop.services.construction import do_import_climate_calculation
    from klimainnkjop.storage.models import AuditEntry

    school = shared_construction.value["school"]
    with scopes_disabled():  # the test acts as the operator
        newer = do_import_climate_calculation(project=school, data=b"bygningsdel;A1-A3\n2;1000\n",
                                              file_name="ny.csv", phase="in_use", actor="test")
        assert construction.active_calculation(school) == newer and newer.phase == "in_use"
        assert [c.active for c in construction.calculations(school)] == [True, False]
    entry = AuditEntry.objects.filter(action="import_climate_calculation").latest("id")
    assert entry.after["kg_co2e"] == 1000.0 and entry.before == {"active_calculations": [
        shared_construction.value["calculation"].pk]}


# --- bad input --------------------------------------------------------------------------------------------------

def test_a_bad_calculation_file_is_refused_whole_with_file_row_and_column_named(shared_construction):
    from klimainnkjop.core.errors import ImportRejected
    from klimainnkjop.services.construction import do_import_climate_calculation
    from klimainnkjop.storage.models import ClimateCalculation

    school = shared_construction.value["school"]
    count = ClimateCalculation.objects.with_scopes_disabled().count()
    bad = ("Bygningsdel;Materiale;A1-A3;A4\n"
           "21;Betong;100 000;1 000\n"
           "99;Stål;5 000;\n"
           "22;Limtre;mye;2 000\n"
           ";Glass;1 000;\n"
           "23;Tre;;\n")
    with pytest.raises(ImportRejected) as refused, scopes_disabled():
        do_import_climate_calculation(project=school, data=bad.encode(), file_name="feil.csv", actor="test")
    shown = [str(e) for e in refused.value.errors]
    assert shown[0].startswith("feil.csv, row 3, column 'Bygningsdel': '99' is not an NS 3451 building part")
    assert shown[1] == "feil.csv, row 4, column 'A1-A3': not a number: 'mye' (kg CO2e)"
    assert shown[2] == "feil.csv, row 5, column 'Bygningsdel': must not be empty"
    assert shown[3] == "feil.csv, row 6: no kg CO2e in any module column"
    assert len(shown) == 4
    assert ClimateCalculation.objects.with_scopes_disabled().count() == count  # nothing stored


def test_a_calculation_without_building_parts_or_modules_names_the_missing_columns():
    from klimainnkjop.core.errors import ImportRejected
    from klimainnkjop.importers.climate_calculation import parse_calculation

    with pytest.raises(ImportRejected) as refused:
        parse_calculation("Materiale;Vekt\nBetong;12\n".encode(), "beregning.csv")
    shown = [str(e) for e in refused.value.errors]
    assert shown[0] == ("beregning.csv, row 1, column 'building_part': required column is missing (the NS 3451 "
                        "building part: 'bygningsdel')")
    assert shown[1].startswith("beregning.csv, row 1: no module column with kg CO2e")
    assert shown[2].startswith("beregning.csv, row 1: unknown column(s) Vekt")


def test_an_xlsx_calculation_is_read_like_a_csv(tmp_path):
    import openpyxl

    from klimainnkjop.importers.climate_calculation import parse_calculation

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Bygningsdel", "Materiale", "A1–A3", "A4", "A5"])
    sheet.append(["21", "Betong", 1200.5, 30, None])
    sheet.append([25, "Hulldekker", 800, None, 19.5])
    book.save(tmp_path / "b.xlsx")
    parsed = parse_calculation((tmp_path / "b.xlsx").read_bytes(), "b.xlsx")
    assert parsed.kg_co2e == pytest.approx(2050.0)
    assert [r.building_part for r in parsed.rows] == ["21", "25"]


def test_a_project_needs_a_floor_area_a_known_type_and_its_own_project_number(shared_construction):
    from klimainnkjop.core.errors import InvalidInput
    from klimainnkjop.services.construction import do_add_construction_project

    org = shared_construction.value["kongsvinger"]
    with scopes_disabled(), pytest.raises(InvalidInput, match="--area: 0 m² must be above 0"):
        do_add_construction_project(organisation=org, name="X", area_m2=0, building_type="school", actor="test")
    with scopes_disabled(), pytest.raises(InvalidInput, match="--type: 'castle' is not one of"):
        do_add_construction_project(organisation=org, name="X", area_m2=10, building_type="castle", actor="test")
    with scopes_disabled(), pytest.raises(InvalidInput, match="has a construction project with code '100' already"):
        do_add_construction_project(organisation=org, name="X", area_m2=10, project_code="100", actor="test")


def test_editing_a_project_keeps_its_references_source_or_says_where_a_new_one_came_from(shared_construction):
    from klimainnkjop.services.construction import do_update_construction_project
    from klimainnkjop.storage.models import AuditEntry

    office = shared_construction.value["office"]
    fields = dict(name=office.name, area_m2=600, building_type="office", phase="design", project_code="200")
    with scopes_disabled():  # the test acts as the operator
        do_update_construction_project(project=office, reference_kg_per_m2=300, actor="test", **fields)
        assert (office.area_m2, office.reference_source) == (600.0, "own reference")
        do_update_construction_project(project=office, reference_kg_per_m2=320, actor="test", **fields)
        assert office.reference_source == "given"
        do_update_construction_project(project=office, reference_kg_per_m2=None, actor="test", **fields)
    assert office.reference_kg_per_m2 == 400.0 and "placeholder" in office.reference_source
    entry = AuditEntry.objects.filter(action="update_construction_project").latest("id")
    assert entry.before["reference_kg_per_m2"] == 320.0 and entry.after["reference_kg_per_m2"] == 400.0


# --- the KPI ------------------------------------------------------------------------------------------------------

def _kpi(subject, code, scope=None):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import kpis
    from klimainnkjop.selectors.dashboard import parse_period

    return kpis.kpi_values(scope or system_scope(), kpis.Subject(**subject), parse_period(code))["construction_cut"]


def test_the_kpi_cut_in_building_and_construction_is_computed_from_the_projects_active_in_the_period(
        shared_construction):
    # 2024: the school only (250 kg/m² against 400): 37.5 %; 2025: the office building only
    assert _kpi({"org": KONGSVINGER}, "2024") == pytest.approx(37.5)
    assert _kpi({"org": KONGSVINGER}, "2024Q3") == pytest.approx(37.5)  # September
    assert _kpi({"org": KONGSVINGER}, "2024Q2") is None  # no project line in April-June 2024
    assert _kpi({"org": KONGSVINGER}, "2025") == pytest.approx(100 * (1 - OFFICE_KG / (OFFICE_REFERENCE * 500)))
    assert _kpi({}, "2024") == pytest.approx(37.5)  # the region: Grue has no projects
    assert _kpi({"org": GRUE}, "2024") is None
    assert _kpi({"org": KONGSVINGER, "unit": "4200"}, "2024") is None  # projects are the organisation's


def test_the_kpi_follows_the_steering_documents_50_percent_target(shared_construction):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import kpis
    from klimainnkjop.selectors.dashboard import parse_period
    from klimainnkjop.services.targets import do_set_target

    do_set_target(organisation=shared_construction.value["kongsvinger"], kpi="construction_cut", kind="level",
                  value=50.0, baseline_year=2024, target_year=2025, actor="test")
    rows = {r.key: r for r in kpis.follow_up(system_scope(), kpis.Subject(org=KONGSVINGER), parse_period("2025"))}
    row = rows["construction_cut"]
    office_cut = 100 * (1 - OFFICE_KG / (OFFICE_REFERENCE * 500))
    assert row.baseline_value == pytest.approx(37.5) and row.target == 50.0 and row.expected_now == 50.0
    assert row.value == pytest.approx(office_cut)
    assert row.status == ("on_track" if office_cut >= 50 else "at_risk" if office_cut >= 47.5 else "off_track")


# --- the command line ---------------------------------------------------------------------------------------------

def test_the_cli_adds_a_project_imports_its_calculation_and_lists_kg_per_m2_reference_and_target(
        shared_construction, tmp_path):
    added = run_cli("construction", "add", "--org", GRUE, "--name", "Grue barnehage", "--area", "800",
                    "--type", "kindergarten", "--project-code", "B1")
    assert added.returncode == 0, added.stderr
    listed = json.loads(run_cli("construction", "list", "--org", GRUE, "--format", "json").stdout)
    assert len(listed) == 1 and listed[0]["reference"] == 380.0 and listed[0]["target"] == 190.0
    assert listed[0]["kg_per_m2"] is None  # no lines of B1
    path = tmp_path / "barnehage.csv"
    path.write_text("bygningsdel;A1-A3\n2;80000\n", encoding="utf-8")
    imported = run_cli("construction", "import-calculation", str(listed[0]["id"]), str(path))
    assert imported.returncode == 0, imported.stderr
    assert "80 000 kg CO2e" in imported.stdout
    school = next(r for r in json.loads(run_cli("construction", "list", "--org", KONGSVINGER, "--format",
                                                "json").stdout) if r["project_code"] == "100")
    assert school["kg_per_m2"] == pytest.approx(250.0) and school["reference"] == 400.0
    assert school["target"] == 200.0 and school["calculation_kg_co2e"] == CALCULATION_KG


def test_the_cli_refuses_a_bad_calculation_with_exit_status_2_and_the_row_named(shared_construction, tmp_path):
    path = tmp_path / "feil.csv"
    path.write_text("bygningsdel;A4\n2;x\n", encoding="utf-8")
    school = shared_construction.value["school"]
    result = run_cli("construction", "import-calculation", str(school.pk), str(path))
    assert result.returncode == 2
    assert "feil.csv, row 2, column 'A4': not a number: 'x'" in result.stderr
    missing = run_cli("construction", "import-calculation", "999999", str(path))
    assert missing.returncode == 2 and "no construction project 999999" in missing.stderr


# --- the pages ----------------------------------------------------------------------------------------------------

def test_the_page_shows_kg_per_m2_against_the_reference_and_the_target_and_the_lines_behind_it(
        shared_construction, client):
    from klimainnkjop.storage.models import Membership

    reader = make_user("leser-bygg")
    Membership.objects.create(user=reader, organisation=shared_construction.value["kongsvinger"], role="reader")
    client.force_login(reader)
    html, tree = page(client, f"/org/{KONGSVINGER}/bygg/")
    rows = {r.find_all("th")[0].text().strip(): [c.text().strip() for c in r.find_all("td")]
            for r in tree.find_all("tr") if r.find_all("th") and r.find_all("td")}
    school = rows["Ny skole"]
    assert school[:3] == ["100", "Skole", "Bygging"]
    assert school[5:9] == ["250", "400", "200", "37,5"]
    assert "Legg til et byggeprosjekt" not in html  # a reader reads only
    pk = shared_construction.value["school"].pk
    html, tree = page(client, f"/org/{KONGSVINGER}/bygg/{pk}/")
    assert f"/org/{KONGSVINGER}/linjer/?prosjekt=100" in html
    assert "Grunn og fundamenter" in html and "Bæresystemer" in html
    assert html.count(f"/org/{KONGSVINGER}/linje/") == 2  # the two lines behind it
    assert "Last opp en klimagassberegning" not in html
    assert client.post(f"/org/{KONGSVINGER}/bygg/{pk}/", {"action": "edit"}).status_code == 403


def test_the_drill_down_shows_the_projects_investment_lines(shared_construction, client):
    from klimainnkjop.storage.models import Membership

    reader = make_user("leser-linjer")
    Membership.objects.create(user=reader, organisation=shared_construction.value["kongsvinger"], role="reader")
    client.force_login(reader)
    html, _tree = page(client, f"/org/{KONGSVINGER}/linjer/?prosjekt=100")
    assert "Skolebygg" in html and "Papir til byggemøter" not in html


def test_a_purchaser_adds_a_project_and_uploads_a_calculation_and_a_bad_file_is_listed_by_row(
        shared_construction, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from klimainnkjop.storage.models import ConstructionProject, Membership

    purchaser = make_user("innkjoper-bygg")
    Membership.objects.create(user=purchaser, organisation=shared_construction.value["kongsvinger"], role="purchaser")
    client.force_login(purchaser)
    response = client.post(f"/org/{KONGSVINGER}/bygg/", {
        "name": "Nytt sykehjem", "project_code": "300", "area_m2": "2000", "building_type": "nursing_home",
        "phase": "design", "reference_kg_per_m2": "", "reference_source": "", "target_cut_percent": "50"})
    assert response.status_code == 302
    project = ConstructionProject.objects.with_scopes_disabled().get(name="Nytt sykehjem")
    assert project.reference_kg_per_m2 == 450.0
    url = f"/org/{KONGSVINGER}/bygg/{project.pk}/"
    bad = client.post(url, {"action": "calculation", "calc-phase": "design",
                            "calc-file": SimpleUploadedFile("feil.csv", b"bygningsdel;A1-A3\n8;100\n")})
    assert bad.status_code == 400
    # the row's reason in bokmål on the page (kept in English for the CLI and the API: web/reasons.py)
    assert "feil.csv, rad 2, kolonne &#x27;bygningsdel&#x27;: &#x27;8&#x27; er ikke en bygningsdel etter NS 3451" \
        in bad.content.decode()
    good = client.post(url, {"action": "calculation", "calc-phase": "design",
                             "calc-file": SimpleUploadedFile("ok.csv", b"bygningsdel;A1-A3\n2;500000\n")})
    assert good.status_code == 302
    assert project.calculations.with_scopes_disabled().get(active=True).kg_co2e == 500_000.0
    taken = client.post(url, {"action": "edit", "name": "Nytt sykehjem", "project_code": "100", "area_m2": "2000",
                              "building_type": "nursing_home", "phase": "design", "reference_kg_per_m2": "420",
                              "target_cut_percent": "50"})
    assert taken.status_code == 400
    # the service's refusal, in bokmål, at the field it names (its --project-code), without the field's English name
    from tests.factories import parse

    (field_error,) = parse(taken.content.decode()).find_all("p", id="project_code-error")
    assert field_error.text().strip() == f"{KONGSVINGER} har allerede et byggeprosjekt med koden '100'"
    other = make_user("leser-grue")
    Membership.objects.create(user=other, organisation=shared_construction.value["grue"], role="org-admin")
    client.force_login(other)
    assert client.get(url).status_code == 404


# --- the engine's rule on its own ------------------------------------------------------------------------------

def test_apply_calculations_shares_the_kg_by_spend_and_leaves_operating_lines_and_spendless_projects_alone():
    import ibis
    import pandas as pd

    from klimainnkjop.engine import pipeline, runner

    rows = [  # line_key, org, project, investment, exclusion, amount_ore, kg
        ("a", "1", "P", True, "", 300_00, 10.0), ("b", "1", "P", True, "", 100_00, 5.0),
        ("c", "1", "P", False, "", 50_00, 1.0),    # operating: not the project's
        ("d", "1", "P", True, "wages", 70_00, 0.0),  # left out of the account: not a purchase
        ("e", "2", "P", True, "", 100_00, 4.0),    # another organisation's project P: no calculation
        ("f", "1", "Q", True, "", -10_00, -1.0),   # project Q: no positive spend to share on
    ]
    names = ["line_key", "org", "project", "investment", "exclusion", "amount_ore", "kg_co2e"]
    table = ibis.memtable({n: [r[i] for r in rows] for i, n in enumerate(names)}).mutate(
        method=ibis.literal("spend"), factor_ref=ibis.literal("dfo#1"), factor_value=ibis.literal(0.5),
        quality=ibis.literal(4).cast("int32"), deflator=ibis.literal(1.0), sigma_ln=ibis.literal(0.6),
        factor_rank=ibis.literal(4).cast("int32"), factor_basis=ibis.literal("spend"),
        factor_category=ibis.literal("construction.works"), covered=ibis.literal(True),
        kg_low=_kg_times(0.5), kg_high=_kg_times(2.0), kg_co2e_market=_kg_times(1.0))
    calculations = ibis.memtable({"org": ["1", "1"], "project": ["P", "Q"], "kg_co2e": [1000.0, 50.0],
                                  "ref": ["ns3720#1", "ns3720#2"]})
    out = runner.connect().execute(pipeline.apply_calculations(table, calculations).order_by("line_key"))
    by_key = {r["line_key"]: r for r in out.to_dict("records")}
    assert by_key["a"]["kg_co2e"] == pytest.approx(750.0) and by_key["b"]["kg_co2e"] == pytest.approx(250.0)
    assert by_key["a"]["replaced_kg"] == 10.0 and by_key["a"]["method"] == "supplier"
    assert by_key["a"]["factor_basis"] == "supplier_product" and by_key["a"]["factor_ref"] == "ns3720#1"
    assert by_key["a"]["factor_value"] == pytest.approx(1000.0 / 400.0)  # kg per NOK of the project
    assert by_key["a"]["kg_low"] < 750.0 < by_key["a"]["kg_high"]
    assert by_key["a"]["kg_co2e_market"] == pytest.approx(750.0)  # the calculation counts alike in both totals
    for key in "cdef":
        assert by_key[key]["method"] == "spend" and pd.isna(by_key[key]["replaced_kg"])
    assert by_key["f"]["kg_co2e"] == -1.0


def _kg_times(factor):
    from ibis import _

    return _.kg_co2e * factor


def test_a_unit_leader_sees_only_their_units_part_of_a_project_and_is_told_so(shared_construction, client):
    from klimainnkjop.services.organisations import do_ensure_units
    from klimainnkjop.storage.models import Membership, Unit

    org = shared_construction.value["kongsvinger"]
    do_ensure_units(organisation=org, units={"1100": "Skole"}, actor="test")
    leader = make_user("leder-1100-bygg")
    Membership.objects.create(user=leader, organisation=org, role="unit-leader",
                              unit=Unit.objects.get(organisation=org, code="1100"))
    client.force_login(leader)
    html, tree = page(client, f"/org/{KONGSVINGER}/bygg/")
    assert "Du ser bare linjene til dine egne enheter" in html
    school = next(r for r in tree.find_all("tr") if r.find_all("th") and "Ny skole" in r.find_all("th")[0].text())
    assert [c.text().strip() for c in school.find_all("td")][5] == "–"  # none of the project's lines is in 1100
    from klimainnkjop.storage.models import ConstructionProject

    project = ConstructionProject.objects.with_scopes_disabled().get(name="Ny skole")
    html, _ = page(client, f"/org/{KONGSVINGER}/bygg/{project.pk}/")
    assert "ikke regnet inn i regnskapet ennå" not in html  # it is: only not in the leader's units
    assert "Ingen av linjene du har tilgang til, hører til dette prosjektet" in html  # the school has a calculation
