"""The agreement register: import of an agreement list, each agreement's spend and kg CO2e from the account
(hand-computed from the reports' ledgers in tests/factories.py), scope, the renewal pipeline and the CLI.

One computed account for the module (shared_agreements); each test runs in a savepoint inside it.
"""
import datetime as dt
import io
import json

import pytest
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import Workbook

from klimainnkjop.access import scope_for, system_scope
from klimainnkjop.core.errors import InvalidInput as InvalidInputError
from klimainnkjop.selectors import agreements as selectors
from klimainnkjop.services.agreements import do_import_agreements, do_save_agreement, do_save_agreement_profile
from klimainnkjop.storage.models import Agreement, AuditEntry
from tests.conftest import Shared, run_cli, shared_state
from tests.factories import GRUE, KONGSVINGER, agreement_list, kg, make_user, norwegian, page, squash, table_cells

OFFICE, POWER, BUILDER = "982463718", "987654325", "974760673"
# Kontorrekvisita (K and G, March 2024 - August 2025): Kongsvinger's paper of 20.08.2024 and 15.02.2025 and
# Grue's of 10.03.2025; not Kongsvinger's of 15.01.2024 (before) or 20.09.2025 (after).
OFFICE_NOK = 20_000 + 12_345.67 + 33_333.33
OFFICE_KG = (kg(20_000, "goods.office", 2024) + kg(12_345.67, "goods.office", 2025)
             + kg(33_333.33, "goods.office", 2025))
# Strøm (Kongsvinger only, 2024-2026, one option left): not Grue's electricity of 10.08.2025.
POWER_NOK = 40_000 + 55_555.55
POWER_KG = kg(40_000, "energy.electricity", 2024) + kg(55_555.55, "energy.electricity", 2025)
# Skolebygg (Kongsvinger, 2025 - June 2028): the school building of 01.07.2025 (investment).
BUILD_KG = kg(300_000, "construction.works", 2025)

pytestmark = pytest.mark.django_db

LIST = agreement_list(
    ("2023-101", "Kontorrekvisita", OFFICE, "goods.office", f"{KONGSVINGER}, {GRUE}", KONGSVINGER, "01.03.2024",
     "31.08.2025", "0", "0", "150 000"),
    ("2024-007", "Strøm", POWER, "energy.electricity", KONGSVINGER, KONGSVINGER, "01.01.2024", "31.12.2026", "1", "1",
     "100 000"),
    ("2025-003", "Skolebygg Vinger", BUILDER, "", KONGSVINGER, KONGSVINGER, "01.01.2025", "30.06.2028", "0", "0",
     "2 000 000"),
)


@pytest.fixture(scope="module")
def shared_agreements(request):
    from tests.factories import make_reports_region

    with shared_state(request, "agreements") as path:
        make_reports_region()
        result = do_import_agreements(data=LIST.encode(), file_name="avtaler.csv", actor="test")
        yield Shared(path, result)


def by_number(rows):
    return {r["number"]: r for r in rows}


def test_an_agreement_list_is_imported_with_its_suppliers_participants_and_options(shared_agreements):
    result = shared_agreements.value
    assert (result.rows_read, result.created, result.updated) == (3, 3, 0)
    power = Agreement.objects.get(number="2024-007")
    assert power.suppliers == [POWER] and power.categories == ["energy.electricity"]
    assert [o.orgnr for o in power.participants.all()] == [KONGSVINGER]
    assert (power.options_used, power.options_left, power.estimated_yearly_ore) == (1, 1, 10_000_000)
    assert selectors.final_end(power) == dt.date(2027, 12, 31)
    assert AuditEntry.objects.filter(action="import_agreement").count() == 3


def test_each_agreement_has_the_spend_and_kg_of_its_suppliers_participants_and_period(shared_agreements):
    rows = by_number(selectors.ranked(system_scope()))
    assert rows["2023-101"]["spend_nok"] == pytest.approx(OFFICE_NOK)
    assert rows["2023-101"]["kg_co2e"] == pytest.approx(OFFICE_KG)
    assert rows["2024-007"]["spend_nok"] == pytest.approx(POWER_NOK)
    assert rows["2024-007"]["kg_co2e"] == pytest.approx(POWER_KG)
    assert rows["2025-003"]["kg_co2e"] == pytest.approx(BUILD_KG)
    ranked = [r["number"] for r in selectors.ranked(system_scope())]
    assert ranked == sorted(rows, key=lambda n: -rows[n]["kg_co2e"])  # most kg first


def test_a_year_s_figures_are_the_purchases_of_that_year(shared_agreements):
    rows = by_number(selectors.ranked(system_scope(), year=2025))
    assert rows["2023-101"]["spend_nok"] == pytest.approx(12_345.67 + 33_333.33)
    assert rows["2024-007"]["kg_co2e"] == pytest.approx(kg(55_555.55, "energy.electricity", 2025))
    per_year = selectors.figures(system_scope(), list(Agreement.objects.all()), by_year=True)
    office = Agreement.objects.get(number="2023-101").pk
    assert per_year[(office, 2024)].kg + per_year[(office, 2025)].kg == pytest.approx(OFFICE_KG)
    # the dashboards' and reports' figures type: the money in whole øre
    assert per_year[(office, 2025)].ore_total == 1_234_567 + 3_333_333


def test_a_reader_of_grue_sees_only_grue_s_agreements_and_purchases(shared_agreements):
    reader = make_user("grue-reader", Agreement.objects.get(number="2023-101").participants.get(orgnr=GRUE), "reader")
    rows = by_number(selectors.ranked(scope_for(reader)))
    assert list(rows) == ["2023-101"]
    assert rows["2023-101"]["spend_nok"] == pytest.approx(33_333.33)
    with pytest.raises(selectors.NotFound):
        selectors.agreement(scope_for(reader), "2024-007")


def test_the_renewal_pipeline_lists_what_ends_within_the_months_ranked_by_last_year_s_tonnes(shared_agreements):
    today = dt.date(2026, 11, 15)
    within_12 = selectors.renewals(system_scope(), months=12, today=today)
    assert [r["number"] for r in within_12] == ["2024-007"]
    assert within_12[0]["event"] == "option" and within_12[0]["kg_co2e"] == pytest.approx(
        kg(55_555.55, "energy.electricity", 2025))
    within_24 = selectors.renewals(system_scope(), months=24, today=today)
    assert [r["number"] for r in within_24] == ["2025-003", "2024-007"]  # 2028-06-30 is within 24 months
    assert BUILD_KG > within_24[1]["kg_co2e"] and within_24[0]["event"] == "end"
    assert selectors.renewals(system_scope(), months=1, today=today) == []  # 2026-12-31 is after 12-15


def test_the_cli_lists_agreements_and_renewals_as_json(shared_agreements):
    listed = run_cli("agreements", "list", "--year", "2025", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = by_number(json.loads(listed.stdout))
    assert set(rows["2023-101"]) == {"number", "name", "suppliers", "end", "spend_nok", "kg_co2e"}
    assert rows["2023-101"] == {"number": "2023-101", "name": "Kontorrekvisita", "suppliers": [OFFICE],
                                "end": "2025-08-31", "spend_nok": pytest.approx(45_679.0),
                                "kg_co2e": pytest.approx(kg(45_679.0, "goods.office", 2025))}
    grue = json.loads(run_cli("agreements", "list", "--org", GRUE, "--format", "json").stdout)
    assert [r["number"] for r in grue] == ["2023-101"]
    renewals = run_cli("agreements", "renewals", "--months", "12", "--today", "2026-11-15", "--format", "json")
    assert [r["number"] for r in json.loads(renewals.stdout)] == ["2024-007"]


def test_a_list_with_errors_is_refused_whole_with_file_row_and_column(shared_agreements, tmp_path):
    bad = agreement_list(
        ("2026-001", "Ny avtale", "12345", "goods.office", KONGSVINGER, "", "01.01.2026", "31.12.2027", "0", "0", ""),
        ("2026-002", "", OFFICE, "goods.nothing", "999999999", "", "01.01.2026", "31.12.2025", "x", "0", ""),
        ("2023-101", "Kontorrekvisita", OFFICE, "goods.office", KONGSVINGER, "", "01.03.2024", "31.08.2025", "0", "0",
         ""),
    )
    path = tmp_path / "avtaler.csv"
    path.write_text(bad, encoding="utf-8")
    before = (Agreement.objects.count(), AuditEntry.objects.count())
    result = run_cli("agreements", "import", path)
    assert result.returncode == 2
    assert "avtaler.csv, row 2, column 'Leverandører': not a 9-digit organisation number: '12345'" in result.stderr
    assert "avtaler.csv, row 3, column 'Avtalenavn': must not be empty" in result.stderr
    assert "avtaler.csv, row 3, column 'Slutt': ends (2025-12-31) before it starts (2026-01-01)" in result.stderr
    assert "avtaler.csv, row 3, column 'Opsjoner brukt'" in result.stderr
    assert (Agreement.objects.count(), AuditEntry.objects.count()) == before
    # formats right, but an unknown organisation and category: refused by the service, same file, row and column
    unknown = agreement_list(("2026-002", "Ny", OFFICE, "goods.nothing", "999999999", "", "01.01.2026", "31.12.2027",
                              "0", "0", ""))
    path.write_text(unknown, encoding="utf-8")
    result = run_cli("agreements", "import", path)
    assert result.returncode == 2
    assert "row 2, column 'Deltakere': not an organisation of the region: 999999999" in result.stderr
    assert "row 2, column 'Kategorier': unknown category 'goods.nothing'" in result.stderr
    assert Agreement.objects.count() == before[0]


def test_an_updated_list_in_xlsx_through_a_saved_profile_updates_by_number(shared_agreements, tmp_path):
    do_save_agreement_profile(spec={"name": "innkjøpskontoret", "columns": {
        "number": "Nr", "name": "Navn", "suppliers": "Orgnr leverandør", "start": "Fra", "end": "Til",
        "options_left": "Opsjoner"}}, actor="test")
    book = Workbook()
    sheet = book.active
    sheet.append(["Nr", "Navn", "Orgnr leverandør", "Fra", "Til", "Opsjoner"])
    sheet.append(["2024-007", "Strøm og nett", POWER, dt.datetime(2024, 1, 1), dt.datetime(2027, 12, 31), 0])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "avtaler.xlsx"
    path.write_bytes(buffer.getvalue())
    result = run_cli("agreements", "import", path, "--profile", "innkjøpskontoret")
    assert result.returncode == 0, result.stderr
    assert "1 agreements read: 0 new, 1 updated" in result.stdout
    power = Agreement.objects.get(number="2024-007")
    assert (power.name, power.end, power.options_left) == ("Strøm og nett", dt.date(2027, 12, 31), 0)
    entry = AuditEntry.objects.filter(action="update_agreement").first()
    assert entry.before["end"] == "2026-12-31" and entry.after["end"] == "2027-12-31"
    assert run_cli("agreements", "import", path, "--profile", "no-such").returncode == 2


def test_an_agreement_saved_by_hand_is_checked_and_audited(shared_agreements):
    from klimainnkjop.services.organisations import InvalidInput

    saved = do_save_agreement(number="2026-010", name="Renhold", suppliers=[OFFICE], start=dt.date(2026, 1, 1),
                              end=dt.date(2027, 12, 31), participants=[GRUE], actor="test")
    assert AuditEntry.objects.filter(action="create_agreement", object_id=str(saved.pk)).exists()
    with pytest.raises(InvalidInput, match="end"):
        do_save_agreement(number="2026-011", name="X", suppliers=[OFFICE], start=dt.date(2026, 1, 1),
                          end=dt.date(2025, 1, 1), actor="test")


# --- the pages ------------------------------------------------------------------------------------------------

def test_the_agreements_page_ranks_them_by_tonnes_with_hand_computed_figures(shared_agreements, client):
    from klimainnkjop.storage.models import Organisation

    client.force_login(make_user("k-purchaser", Organisation.objects.get(orgnr=KONGSVINGER), "purchaser"))
    html, tree = page(client, "/avtaler/")
    table = tree.find_all("table", id="agreements-table")[0]
    headers = [squash(th.text()) for th in table.find_all("th") if th.attrs.get("scope") == "row"]
    assert headers == ["2025-003 Skolebygg Vinger", "2024-007 Strøm", "2023-101 Kontorrekvisita"]
    cells = table_cells(table)
    kongsvinger_office_kg = kg(20_000, "goods.office", 2024) + kg(12_345.67, "goods.office", 2025)  # not Grue's
    assert norwegian(kongsvinger_office_kg / 1000) in cells and norwegian(POWER_KG / 1000) in cells
    total = kongsvinger_office_kg + POWER_KG + BUILD_KG
    assert norwegian(100 * POWER_KG / total) + "\u00a0%" in cells
    assert 'aria-current="page"' in html and "Avtaler" in html  # the nav link, in bokmål
    _, detail = page(client, f"/avtaler/{Agreement.objects.get(number='2023-101').pk}/")
    years = table_cells(detail.find_all("table", id="agreement-years")[0])
    assert norwegian(kg(20_000, "goods.office", 2024) / 1000) in years
    assert norwegian(kongsvinger_office_kg / 1000) in years  # the total


def test_a_reader_of_grue_sees_grue_s_share_and_not_kongsvinger_s_agreements(shared_agreements, client):
    from klimainnkjop.storage.models import Organisation

    client.force_login(make_user("g-reader", Organisation.objects.get(orgnr=GRUE), "reader"))
    _, tree = page(client, "/avtaler/")
    cells = table_cells(tree.find_all("table", id="agreements-table")[0])
    assert "2023-101 Kontorrekvisita" in cells and "2024-007 Strøm" not in cells
    assert norwegian(kg(33_333.33, "goods.office", 2025) / 1000) in cells
    assert client.get(f"/avtaler/{Agreement.objects.get(number='2024-007').pk}/").status_code == 404


def test_the_renewals_page_and_the_requirement_library_show_their_rows(shared_agreements, client):
    from klimainnkjop.storage.models import Organisation

    client.force_login(make_user("k-reader", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    _, tree = page(client, "/avtaler/fornyelser/?maaneder=36")
    renewals = [r["number"] for r in selectors.renewals(system_scope(), months=36)]
    if renewals:
        cells = table_cells(tree.find_all("table", id="renewals-table")[0])
        assert all(any(c.startswith(number) for c in cells) for number in renewals)
    html, tree = page(client, "/kravbibliotek/?kategori=goods.building_materials.concrete&type=specification")
    assert "BYG-01 Lavkarbonbetong klasse B" in squash(html)
    html, _ = page(client, "/kravbibliotek/BYG-01/")
    assert "lavkarbonklasse B" in html and "Norsk Betongforening" in html


def test_a_purchaser_of_the_owner_edits_an_agreement_and_others_may_not(shared_agreements, client):
    from klimainnkjop.storage.models import Organisation

    kongsvinger, grue = Organisation.objects.get(orgnr=KONGSVINGER), Organisation.objects.get(orgnr=GRUE)
    office = Agreement.objects.get(number="2023-101")
    client.force_login(make_user("g-admin", grue, "org-admin"))
    assert client.get(f"/avtaler/{office.pk}/endre/").status_code == 403  # sees it, Kongsvinger owns it
    power = Agreement.objects.get(number="2024-007")
    assert client.get(f"/avtaler/{power.pk}/endre/").status_code == 404  # Grue does not take part
    purchaser = make_user("k-buyer", kongsvinger, "purchaser")
    client.force_login(purchaser)
    form = {"number": "2024-007", "name": "Strøm og nett", "suppliers": POWER, "categories": "energy.electricity",
            "participants": [KONGSVINGER, GRUE], "owner": KONGSVINGER, "contact": "Kari", "start": "01.01.2024",
            "end": "31.12.2026", "options_used": "1", "options_left": "1", "option_months": "12",
            "estimated_yearly_nok": "100000", "note": ""}
    response = client.post(f"/avtaler/{power.pk}/endre/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    power.refresh_from_db()
    assert power.name == "Strøm og nett" and {o.orgnr for o in power.participants.all()} == {KONGSVINGER, GRUE}
    entry = AuditEntry.objects.filter(action="update_agreement", object_id=str(power.pk)).first()
    assert entry.actor == purchaser and entry.before["participants"] == [KONGSVINGER]
    bad = client.post(f"/avtaler/{power.pk}/endre/", {**form, "end": "31.12.2020"})
    assert bad.status_code == 400 and "2020-12-31" in bad.content.decode()
    created = client.post("/avtaler/ny/", {**form, "number": "2026-050", "name": "Nytt"})
    assert created.status_code == 302 and Agreement.objects.filter(number="2026-050").exists()
    # an open-ended agreement, as ERPs write it (its page was a 500 for good: a month after 31.12.9999)
    endless = client.post("/avtaler/ny/", {**form, "number": "2026-051", "name": "Uten slutt", "end": "31.12.9999"})
    assert endless.status_code == 302
    item = Agreement.objects.get(number="2026-051")
    assert selectors.final_end(item) == dt.date.max
    assert client.get(f"/avtaler/{item.pk}/").status_code == 200
    assert client.get("/avtaler/").status_code == 200 and client.get("/avtaler/fornyelser/").status_code == 200


# --- procurement cases (services/cases.py): the routine walked by a purchaser and an approver -----------------

OFFICE_ALL_NOK = 10_000 + 20_000 + 12_345.67 + 7_777.77 + 33_333.33  # every office purchase of the region
OFFICE_ALL_KG = (kg(10_000, "goods.office", 2024) + kg(20_000, "goods.office", 2024) + kg(12_345.67, "goods.office", 2025)
                 + kg(7_777.77, "goods.office", 2025) + kg(33_333.33, "goods.office", 2025))


def test_a_case_is_walked_from_opened_to_closed_by_a_purchaser_and_the_approver(shared_agreements):
    from klimainnkjop.selectors import cases as case_selectors
    from tests.factories import operator_cases as cases
    from klimainnkjop.storage.models import Organisation

    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    purchaser, approver = make_user("k-innkjop", kongsvinger, "purchaser"), make_user("k-leder", kongsvinger,
                                                                                       "org-admin")
    case = cases.do_open_case(organisation=kongsvinger, title="Kontorrekvisita 2026", category="goods.office",
                              estimated_value_nok=500_000, procedure="åpen anbudskonkurranse",
                              agreement=Agreement.objects.get(number="2023-101"), actor=purchaser)
    assert not cases.has_climate_requirements(case)
    cases.do_screen_case(case=case, actor=purchaser)
    intensity = OFFICE_ALL_KG / OFFICE_ALL_NOK
    expected = 500_000 * intensity / 1000
    assert case.screening["intensity_kg_per_nok"] == pytest.approx(intensity)
    assert case.screening["expected_tonnes"] == pytest.approx(expected)
    assert case.relevance == ("high" if expected >= 20 else "medium" if expected >= 2 else "low")
    # 500 000 NOK: the second default rule if medium or high, else the third
    assert (case.assess_role, case.approve_role) == (
        ("purchaser", "org-admin") if case.relevance != "low" else ("purchaser", "purchaser"))
    cases.do_propose_ambition(case=case, ambition="advanced", reason="stor avtale", actor=purchaser)
    if case.approve_role == "org-admin":
        with pytest.raises(PermissionError):
            cases.do_decide_ambition(case=case, ambition="advanced", actor=purchaser)
    cases.do_decide_ambition(case=case, ambition="advanced", actor=approver)
    with pytest.raises(InvalidInputError, match="weight"):
        cases.do_set_case_requirements(case=case, requirements=[{"code": "KON-02"}, {"code": "GEN-02"}],
                                       actor=purchaser)
    cases.do_set_case_requirements(case=case, requirements=[{"code": "KON-02"}, {"code": "GEN-02",
                                                                                   "weight_percent": 30}],
                                   actor=purchaser)
    with pytest.raises(InvalidInputError, match="at least 30"):
        cases.do_record_considerations(case=case, option="award_weight", weight_percent=20, actor=purchaser)
    cases.do_record_considerations(case=case, option="award_weight", weight_percent=30, actor=purchaser)
    cases.do_announce_case(case=case, actor=purchaser)
    with pytest.raises(InvalidInputError, match="were not among"):
        cases.do_award_case(case=case, supplier_orgnr=OFFICE, requirements=["MAT-01"], actor=purchaser)
    cases.do_award_case(case=case, supplier_orgnr=OFFICE, requirements=["KON-02", "GEN-02"],
                        climate_weight_percent=30, actor=purchaser)
    cases.do_close_case(case=case, actor=approver)
    assert case.state == "closed" and cases.has_climate_requirements(case)
    # a step out of turn names the states it needs, joined in the asker's language
    with pytest.raises(InvalidInputError, match="is closed; this step needs ambition_decided or requirements_set$"):
        cases.do_set_case_requirements(case=case, requirements=[{"code": "KON-02"}], actor=purchaser)
    with translation.override("nb"):
        with pytest.raises(InvalidInputError) as refused:
            cases.do_set_case_requirements(case=case, requirements=[{"code": "KON-02"}], actor=purchaser)
        needs = " eller ".join(translation.gettext(w) for w in ("ambition_decided", "requirements_set"))
    assert refused.value.text.endswith(needs) and "ambition_decided" not in needs
    with scopes_disabled():  # the test reads as the operator
        log = case_selectors.events(case)
    assert [e.step for e in log] == ["open", "screen", "propose_ambition", "decide_ambition", "set_requirements",
                                     "record_considerations", "announce", "award", "close"]
    assert log[3].actor == approver and log[2].reason == "stor avtale"
    assert AuditEntry.objects.filter(object_type="ProcurementCase", object_id=str(case.pk)).count() == 9
    with pytest.raises(InvalidInputError, match="state"):
        cases.do_cancel_case(case=case, reason="for sent", actor=approver)
    # nobody of another organisation sees it; the CLI lists it
    grue_reader = make_user("g-leser", Organisation.objects.get(orgnr=GRUE), "reader")
    assert list(case_selectors.cases(scope_for(grue_reader))) == []
    listed = json.loads(run_cli("cases", "list", "--org", KONGSVINGER, "--format", "json").stdout)
    assert listed == [{"id": case.pk, "org": KONGSVINGER, "title": "Kontorrekvisita 2026", "state": "closed",
                       "relevance": case.relevance, "ambition": "advanced", "has_climate_requirements": True}]


def test_an_exempt_case_records_its_reason_and_counts_without_climate_requirements(shared_agreements):
    from tests.factories import operator_cases as cases
    from klimainnkjop.storage.models import Organisation

    grue = Organisation.objects.get(orgnr=GRUE)
    cases.do_set_approval_rules(organisation=grue, rules=[{"min_value_nok": 0, "relevances": ["high", "medium",
                                                                                              "low"],
                                                           "assess_role": "purchaser", "approve_role": "purchaser"}],
                                actor="test")
    case = cases.do_open_case(organisation=grue, title="Kurs", category="services.training",
                              estimated_value_nok=80_000, actor="test")
    cases.do_screen_case(case=case, actor="test")
    assert case.relevance == "medium" and "no purchases" in case.screening["rule"]  # none in the account
    assert case.approve_role == "purchaser"  # Grue's own rule
    cases.do_propose_ambition(case=case, ambition="basic", actor="cli")
    cases.do_decide_ambition(case=case, ambition="basic", actor="cli")
    with pytest.raises(InvalidInputError, match="reason"):
        cases.do_record_considerations(case=case, option="exempt", actor="test")
    cases.do_record_considerations(case=case, option="exempt", reason="Ingen vesentlig klimapåvirkning",
                                   actor="test")
    assert not cases.has_climate_requirements(case)
    assert case.considerations["regulation"] == "anskaffelsesforskriften § 7-9"
    cases.do_cancel_case(case=case, reason="Behovet falt bort", actor="test")
    assert case.state == "cancelled"


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """A DOCX's paragraphs (outside tables) and its tables as rows of cell texts."""
    from docx import Document

    document = Document(io.BytesIO(data))
    return ([p.text for p in document.paragraphs],
            [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables])


def test_a_superscript_or_other_scripts_digit_in_a_number_parameter_is_refused_not_a_500(shared_agreements, client):
    """str.isdigit() takes '²', which int() refuses (a 500): numbers from outsiders are read with isdecimal()."""
    from klimainnkjop.storage.models import Organisation

    client.force_login(make_user("p2", Organisation.objects.get(orgnr=KONGSVINGER), "purchaser"))
    for url in ("/avtaler/?ar=202²", "/avtaler/fornyelser/?maaneder=²"):
        assert client.get(url).status_code == 400, url


def test_a_case_is_walked_in_the_browser_pages_by_a_purchaser_and_an_approver(shared_agreements, client, tmp_path):
    from klimainnkjop.storage.models import Organisation, ProcurementCase

    kongsvinger, grue = Organisation.objects.get(orgnr=KONGSVINGER), Organisation.objects.get(orgnr=GRUE)
    purchaser, approver = make_user("p1", kongsvinger, "purchaser"), make_user("a1", kongsvinger, "org-admin")
    client.force_login(purchaser)
    renewal = client.get(f"/saker/ny/?avtale={Agreement.objects.get(number='2024-007').pk}").content.decode()
    assert 'value="Fornyelse av Strøm"' in renewal and 'value="energy.electricity" selected' in renewal
    for value in ("²", "9" * 20, "-5", "1,5"):  # refused with the form's words (² and 20 digits were a 500)
        refused = client.post("/saker/ny/", {"org": KONGSVINGER, "title": "Feil verdi", "category": "goods.furniture",
                                             "value": value})
        assert refused.status_code == 400 and "et helt antall kroner" in refused.content.decode(), value
    assert not ProcurementCase.objects.with_scopes_disabled().filter(title="Feil verdi").exists()
    opened = client.post("/saker/ny/", {"org": KONGSVINGER, "title": "Møbler til ny skole", "category":
                                        "goods.furniture", "value": "2 000 000", "procedure": "konkurranse"})
    assert opened.status_code == 302
    case = ProcurementCase.objects.with_scopes_disabled().get(title="Møbler til ny skole")
    url, step = f"/saker/{case.pk}/", f"/saker/{case.pk}/steg/"

    def post(data, expected=302):
        response = client.post(step, data)
        assert response.status_code == expected, response.content.decode()[:3000]
        return response

    post({"step": "screen"})
    post({"step": "propose", "ambition": "leading", "reason": "ny skole"})
    assert "(foreslått: Ledende)" in squash(client.get(url).content.decode())  # the label, not the code "leading"
    post({"step": "decide", "ambition": "leading"}, expected=403)  # 2 mill.: the org-admin approves
    client.force_login(approver)
    post({"step": "decide", "ambition": "leading"})
    client.force_login(purchaser)
    bad = post({"step": "requirements", "requirement": ["MOB-02"]}, expected=400)  # an award criterion: weight
    assert "MOB-02" in bad.content.decode()
    post({"step": "requirements", "requirement": ["MOB-01", "MOB-02", "MOB-03"], "weight-MOB-02": "30"})
    post({"step": "considerations", "option": "award_weight", "weight_percent": "30"})
    post({"step": "announce"})
    post({"step": "award", "supplier": "912345678", "requirement": ["MOB-01", "MOB-02"], "climate_weight": "30"})
    post({"step": "close"})
    case.refresh_from_db()
    assert case.state == "closed" and case.ambition == "leading" and case.award["requirements"] == ["MOB-01", "MOB-02"]
    html, tree = page(client, url)
    log = table_cells(tree.find_all("table", id="case-log")[0])
    assert "a1" in log and "p1" in log and "ny skole" in log
    _, listing = page(client, "/saker/")
    assert f"{case.pk} Møbler til ny skole" in table_cells(listing.find_all("table", id="cases-table")[0])
    annex = client.get(f"/saker/{case.pk}/vedlegg.pdf")
    assert annex.status_code == 200 and annex["Content-Type"] == "application/pdf"
    text = pdf_text(annex.content)
    assert "Klima- og miljøkrav" in text and "MOB-02" in text and "Ombrukte og restaurerte møbler" in text
    assert f'href="/saker/{case.pk}/vedlegg.docx"' in html and f'href="/saker/{case.pk}/protokoll.docx"' in html
    annex_docx = client.get(f"/saker/{case.pk}/vedlegg.docx")
    assert annex_docx.status_code == 200 and annex_docx["Content-Type"].endswith("wordprocessingml.document")
    assert f'sak-{case.pk}-klima-og-miljokrav.docx' in annex_docx["Content-Disposition"]
    paragraphs, tables = docx_text(annex_docx.content)
    assert paragraphs[0] == "Vedlegg: Klima- og miljøkrav"
    # the summary table: the three chosen requirements in the order chosen, the award criterion with its weight
    assert [row[0] for row in tables[0][1:]] == ["MOB-01", "MOB-02", "MOB-03"]
    assert tables[0][2][3] == "30\u00a0%" and tables[0][1][3] == "–"
    assert "Tildelingskriteriene for klima og miljø vektes til sammen 30\u00a0%." in paragraphs
    assert "MOB-02 Ombrukte og restaurerte møbler" in paragraphs and "Dokumentasjon og verifisering" in paragraphs
    record_docx = client.get(f"/saker/{case.pk}/protokoll.docx")
    paragraphs, tables = docx_text(record_docx.content)
    assert paragraphs[0] == "Protokoll over klima- og miljøhensyn" and "Beslutningslogg" in paragraphs
    assert [row[1:3] for row in tables[-1][1:]][:4] == [["Åpnet", "p1"], ["Screenet", "p1"],
                                                          ["Ambisjon foreslått", "p1"], ["Ambisjon besluttet", "a1"]]
    assert ["Ambisjonsnivå", "Ledende"] in tables[0]
    docx_file = tmp_path / "vedlegg.docx"
    exported = run_cli("cases", "export", case.pk, "--format", "docx", "--language", "en", "-o", docx_file)
    assert exported.returncode == 0, exported.stderr
    paragraphs, tables = docx_text(docx_file.read_bytes())
    assert paragraphs[0] == "Annex: Climate and environmental requirements"
    assert tables[0][0] == ["Code", "Requirement", "Kind", "Weight"] and tables[0][2][2] == "Award criterion"
    record_file = tmp_path / "protokoll.pdf"
    exported = run_cli("cases", "export", case.pk, "--document", "record", "-o", record_file)
    assert exported.returncode == 0, exported.stderr
    record = pdf_text(record_file.read_bytes())
    assert "Protokoll over klima- og miljøhensyn" in record and "anskaffelsesforskriften § 7-9" in record
    assert "a1" in record and "ny skole" in record  # the decision log
    assert run_cli("cases", "export", 999999, "-o", record_file).returncode == 2
    client.force_login(make_user("k-reader2", kongsvinger, "reader"))
    assert client.get(url).status_code == 200 and client.post(step, {"step": "close"}).status_code == 403
    client.force_login(make_user("g-reader2", grue, "reader"))
    assert client.get(url).status_code == 404 and client.post(step, {"step": "close"}).status_code == 404
    for document in ("vedlegg.pdf", "vedlegg.docx", "protokoll.pdf", "protokoll.docx"):
        assert client.get(f"/saker/{case.pk}/{document}").status_code == 404
    client.logout()
    assert client.get(f"/saker/{case.pk}/vedlegg.docx").status_code == 302  # to the sign-in page


def test_the_checklist_names_the_roles_of_the_person_s_organisation_and_the_7_9_options(shared_agreements, client):
    from tests.factories import operator_cases as cases
    from klimainnkjop.storage.models import Organisation

    grue = Organisation.objects.get(orgnr=GRUE)
    cases.do_set_approval_rules(organisation=grue, rules=[{"min_value_nok": 500_000, "relevances": ["high"],
                                                           "assess_role": "purchaser", "approve_role": "org-admin"}],
                                actor="test")
    client.force_login(make_user("g-buyer", grue, "purchaser"))
    html, tree = page(client, "/saker/sjekkliste/")
    assert table_cells(tree.find_all("table", id="approval-rules")[0])[4:] == [
        norwegian(500_000, 0), "Høy", "Innkjøpsansvarlig", "Organisasjonsadministrator"]
    assert "minst 30 % vekt" in html.replace("\u00a0", " ") and "anskaffelsesforskriften § 7-9" in html



def test_the_cli_sets_approval_rules_and_counts_the_kpi(shared_agreements, tmp_path):
    from tests.factories import operator_cases as cases
    from klimainnkjop.storage.models import Organisation

    rules = tmp_path / "regler.json"
    rules.write_text(json.dumps([{"min_value_nok": 0, "relevances": ["high", "medium", "low"],
                                  "assess_role": "purchaser", "approve_role": "finance"}]), encoding="utf-8")
    result = run_cli("cases", "approval-rules", "--org", KONGSVINGER, "--set", rules, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["approve_role"] == "finance"
    rules.write_text(json.dumps([{"min_value_nok": 0, "relevances": ["huge"], "assess_role": "purchaser",
                                  "approve_role": "finance"}]), encoding="utf-8")
    bad = run_cli("cases", "approval-rules", "--set", rules)
    assert bad.returncode == 2 and "relevances" in bad.stderr
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    for title, option in (("A", "award_weight"), ("B", "exempt"), ("C", "exempt")):
        case = cases.do_open_case(organisation=kongsvinger, title=title, category="goods.office",
                                  estimated_value_nok=50_000, actor="test")
        cases.do_screen_case(case=case, actor="test")
        assert case.approve_role == "finance"
        cases.do_propose_ambition(case=case, ambition="basic", actor="cli")
        cases.do_decide_ambition(case=case, ambition="basic", actor="cli")
        cases.do_set_case_requirements(case=case, requirements=[], actor="cli")
        cases.do_record_considerations(case=case, option=option, weight_percent=30 if option == "award_weight" else None,
                                       reason="liten" if option == "exempt" else "", actor="test")
        cases.do_announce_case(case=case, actor="test")
    kpi = json.loads(run_cli("cases", "kpi", "--by", "org,value_band", "--format", "json").stdout)
    assert kpi == [{"org": KONGSVINGER, "value_band": "under-100k", "cases": 3, "with_requirements": 1,
                    "share": pytest.approx(1 / 3)}]
    assert run_cli("cases", "kpi", "--by", "colour").returncode == 2
