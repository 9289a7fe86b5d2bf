"""The links between measures, agreements, procurement cases and KPIs (issues 10, 11 and 12 together): a measure
bound to an agreement of the register takes effect from its renewal, a measure naming a library requirement uses its
expected effect, the renewal pipeline lists the measures that target each agreement, a renewal's case brings them in,
and the KPIs of agreements, cases and measures are computed from them (hand-computed from the reports' ledgers in
tests/factories.py).

One computed account and agreement list for the module (shared_links); each test runs in a savepoint inside it.
"""
import datetime as dt
import json

import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import agreements as agreement_selectors
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.selectors.dashboard import Period
from klimainnkjop.selectors.kpis import Subject, kpi_values
from klimainnkjop.services.measures import do_change_measure_status, do_create_measure, do_create_package
from tests.conftest import Shared, run_cli, shared_state
from tests.factories import GRUE, KONGSVINGER, agreement_list, kg

OFFICE, POWER, BUILDER = "982463718", "987654325", "974760673"
LIST = agreement_list(
    ("2023-101", "Kontorrekvisita", OFFICE, "goods.office", f"{KONGSVINGER}, {GRUE}", KONGSVINGER, "01.03.2024",
     "31.08.2025", "0", "0", "150 000"),
    ("2024-007", "Strøm", POWER, "energy.electricity", KONGSVINGER, KONGSVINGER, "01.01.2024", "31.12.2026", "1", "1",
     "100 000"),
    ("2025-003", "Skolebygg Vinger", BUILDER, "", KONGSVINGER, KONGSVINGER, "01.01.2025", "30.06.2028", "0", "0",
     "2 000 000"),
)
# Kongsvinger 2024: paper 15.01 (10 000, before Kontorrekvisita), power 15.05 (40 000, Strøm), paper 20.08
# (20 000, Kontorrekvisita).
K24_NOK = 10_000 + 40_000 + 20_000
K24_UNDER_NOK = 40_000 + 20_000
K24_UNDER_KG = kg(40_000, "energy.electricity", 2024) + kg(20_000, "goods.office", 2024)
K24_KG = kg(10_000, "goods.office", 2024) + K24_UNDER_KG
# The region 2025 (consolidated: Kongsvinger's purchase from Grue left out; salaries are not purchases):
# under agreements Kongsvinger's paper 15.02, power 10.05, school building 01.07 and Grue's paper 10.03; not
# Kongsvinger's paper of 20.09 (after Kontorrekvisita ended) nor Grue's power (Grue is not in Strøm).
R25_UNDER_NOK = 12_345.67 + 55_555.55 + 300_000 + 33_333.33
R25_NOK = R25_UNDER_NOK + 7_777.77 + 44_444.44

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared_links(request):
    from klimainnkjop.services.agreements import do_import_agreements
    from tests.factories import make_reports_region

    with shared_state(request, "links") as path:
        make_reports_region()
        do_import_agreements(data=LIST.encode(), file_name="avtaler.csv", actor="test")
        yield Shared(path, None)


def power_measure(**extra):
    """Kongsvinger's power measure bound to the agreement Strøm (2024-007, current end 31.12.2026, an option left),
    naming the library's award criterion GEN-02 (expected effect: a 10 % cut of the intensity)."""
    values = dict(name="Klimakrav i strømavtalen", kind=4, mechanism="quantity", percent=50.0,
                  categories=["energy.electricity"], organisations=[KONGSVINGER], baseline_year=2024,
                  agreement="2024-007", requirement="GEN-02", actor="test")
    values.update(extra)
    return do_create_measure(**values)


def values_of(org, period, category=""):
    return kpi_values(system_scope(), Subject(org=org, category=category), period)


def walk(case, requirements, contract, *, option="specification"):
    """A case from opened to awarded through the services, with the requirements set and those in the contract."""
    from tests.factories import operator_cases as cases

    cases.do_screen_case(case=case, actor="test")
    cases.do_propose_ambition(case=case, ambition="advanced", actor="cli")
    cases.do_decide_ambition(case=case, ambition="advanced", actor="cli")
    cases.do_set_case_requirements(case=case, requirements=requirements, actor="cli")
    cases.do_record_considerations(case=case, option=option, description="Kravene i kravspesifikasjonen",
                                   reason="Liten anskaffelse" if option == "exempt" else "", actor="test")
    cases.do_announce_case(case=case, actor="test")
    cases.do_award_case(case=case, supplier_orgnr=POWER, requirements=contract, actor="test")
    return case


# --- item 1 and 4: the trajectory of an agreement-bound measure, and a requirement's expected effect ------------

def test_a_measure_bound_to_an_agreement_of_the_register_takes_effect_the_day_after_its_current_end(shared_links):
    m = power_measure()
    assert measure_selectors.effective_from(m) == dt.date(2027, 1, 1)  # Strøm's option date 31.12.2026
    row = measure_selectors.measure_row(system_scope(), m)
    assert (row["agreement"], row["agreement_in_register"], row["requirement"]) == ("2024-007", True, "GEN-02")
    # an agreement that is not in the register keeps the measure's own renewal date
    other = do_create_measure(name="Krav i gammel avtale", kind=4, mechanism="intensity", percent=10.0,
                              categories=["goods.office"], baseline_year=2024, agreement="Avtale fra før",
                              agreement_renewal=dt.date(2025, 7, 1), actor="test")
    assert measure_selectors.effective_from(other) == dt.date(2025, 7, 1)
    assert not measure_selectors.measure_row(system_scope(), other)["agreement_in_register"]


def test_a_measure_naming_a_requirement_takes_the_requirement_s_expected_effect(shared_links):
    m = power_measure()
    effect = measure_selectors.expected_effect(system_scope(), m)
    # GEN-02's 10 % intensity cut replaces the measure's own 50 % less quantity
    assert effect.kg == pytest.approx(0.10 * kg(40_000, "energy.electricity", 2024))
    plain = power_measure(name="Mindre strøm", requirement="", agreement="")
    assert measure_selectors.expected_effect(system_scope(), plain).kg == pytest.approx(
        0.50 * kg(40_000, "energy.electricity", 2024))


def test_the_trajectory_takes_a_renewal_bound_measure_in_from_the_agreement_s_renewal(shared_links):
    m = power_measure()
    do_create_package(name="Avtalepakke", measures=[m], baseline_year=2024, actor="test")
    result = measure_selectors.trajectory(system_scope(), to_year=2028, org=KONGSVINGER, package_name="Avtalepakke")
    package = {r["year"]: r for r in result["rows"] if r["scenario"] == "package"}
    cut = 0.10 * kg(40_000, "energy.electricity", 2024)
    for year in (2024, 2025, 2026):
        assert package[year]["reduction_kg"] == 0.0 and package[year]["measures_in_effect"] == 0
    for year in (2027, 2028):
        assert package[year]["reduction_kg"] == pytest.approx(cut)
        assert package[year]["kg_co2e"] == pytest.approx(K24_KG - cut)
        assert package[year]["measures_in_effect"] == 1


# --- item 2: the renewal pipeline and a renewal's procurement case ------------------------------------------------

def test_the_renewal_pipeline_lists_each_agreement_with_the_measures_that_target_it(shared_links, client):
    from klimainnkjop.storage.models import Organisation
    from tests.factories import make_user

    m = power_measure()
    rows = {r["number"]: r for r in agreement_selectors.renewals(system_scope(), months=24,
                                                                 today=dt.date(2026, 11, 15))}
    assert rows["2024-007"]["measures"] == [{"id": m.pk, "name": "Klimakrav i strømavtalen", "kind": 4,
                                             "status": "proposed", "requirement": "GEN-02"}]
    assert rows["2025-003"]["measures"] == []
    listed = run_cli("agreements", "renewals", "--months", "12", "--today", "2026-11-15", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [r["measures"][0]["name"] for r in json.loads(listed.stdout)] == ["Klimakrav i strømavtalen"]
    client.force_login(make_user("k-reader", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    page = client.get("/avtaler/fornyelser/?maaneder=36")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Klimakrav i strømavtalen" in text and f"/tiltak/{m.pk}/" in text


def test_a_case_for_a_renewal_brings_in_the_measures_and_their_requirements(shared_links, client):
    from tests.factories import operator_cases as cases
    from klimainnkjop.storage.models import Agreement, CaseEvent, Organisation
    from tests.factories import make_user

    m = power_measure()
    grue_only = power_measure(name="Bare for Grue", organisations=[GRUE], requirement="KON-02")
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    case = cases.do_open_case(organisation=kongsvinger, title="Strøm 2027", category="energy.electricity",
                              estimated_value_nok=400_000, agreement=Agreement.objects.get(number="2024-007"),
                              actor="test")
    assert list(case.measures.all()) == [m]  # not Grue's measure: it does not apply to Kongsvinger
    assert grue_only not in case.measures.all()
    assert case.requirements == [{"code": "GEN-02", "kind": "award", "weight_percent": None}]
    assert CaseEvent.objects.with_scopes_disabled().get(case=case, step="open").details == {"measures": [m.pk], "requirements": ["GEN-02"]}
    client.force_login(make_user("k-reader", kongsvinger, "reader"))
    response = client.get(f"/saker/{case.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Tiltak som gjelder avtalen" in text and f'/tiltak/{m.pk}/">Klimakrav i strømavtalen</a> (GEN-02)' in text
    plain = cases.do_open_case(organisation=kongsvinger, title="Kontor", category="goods.office",
                               estimated_value_nok=100_000, actor="test")
    assert list(plain.measures.all()) == [] and plain.requirements == []


# --- item 3: the KPIs computed from data --------------------------------------------------------------------------

def test_the_share_of_spend_under_agreements_is_the_hand_counted_share_of_a_year_and_a_quarter(shared_links):
    year = values_of(KONGSVINGER, Period(2024))
    assert year["agreement_share"] == pytest.approx(100 * K24_UNDER_NOK / K24_NOK)  # 85.7 %
    assert year["agreement_tonnes_co2e"] == pytest.approx(K24_UNDER_KG / 1000)
    assert values_of(KONGSVINGER, Period(2024, "Q", 1))["agreement_share"] == 0.0  # paper of 15.01 only
    assert values_of(KONGSVINGER, Period(2024, "Q", 3))["agreement_share"] == pytest.approx(100.0)
    assert values_of(KONGSVINGER, Period(2024), "goods.office")["agreement_share"] == pytest.approx(
        100 * 20_000 / 30_000)
    region = values_of(None, Period(2025))
    assert region["agreement_share"] == pytest.approx(100 * R25_UNDER_NOK / R25_NOK)
    # the parts add up: every agreement's own figures of the year sum to the KPI's numerator
    figures = agreement_selectors.figures(system_scope(), list(agreement_selectors.agreements(system_scope())),
                                          year=2025)
    assert sum(f.spend_nok for f in figures.values()) == pytest.approx(R25_UNDER_NOK)


def test_the_kpis_of_cases_count_requirements_and_renewals_that_took_in_their_measures(shared_links):
    from tests.factories import operator_cases as cases
    from klimainnkjop.storage.models import Agreement, Organisation

    power_measure()
    do_create_measure(name="Lavkarbon i skolebygget", kind=4, mechanism="intensity", percent=10.0,
                      categories=["construction.works"], organisations=[KONGSVINGER], baseline_year=2024,
                      agreement="2025-003", requirement="BYG-02", actor="test")
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    power = cases.do_open_case(organisation=kongsvinger, title="Strøm 2027", category="energy.electricity",
                               estimated_value_nok=400_000, agreement=Agreement.objects.get(number="2024-007"),
                               actor="test")
    walk(power, [{"code": "GEN-02", "weight_percent": 30}], ["GEN-02"])  # took in its measure
    build = cases.do_open_case(organisation=kongsvinger, title="Skolebygg", category="construction.works",
                               estimated_value_nok=2_000_000, agreement=Agreement.objects.get(number="2025-003"),
                               actor="test")
    walk(build, [{"code": "BYG-02"}, {"code": "BYG-03"}], ["BYG-03"])  # BYG-02 left out of the contract
    exempt = cases.do_open_case(organisation=kongsvinger, title="Kurs", category="services.training",
                                estimated_value_nok=50_000, actor="test")
    walk(exempt, [], [], option="exempt")
    cases.do_open_case(organisation=kongsvinger, title="Ikke gjennomført", category="goods.office",
                       estimated_value_nok=50_000, actor="test")  # opened only: not carried out
    this_year = dt.date.today().year
    values = values_of(KONGSVINGER, Period(this_year))
    assert values["requirements_share"] == pytest.approx(100 * 2 / 3)  # power and build; not the exempt one
    assert values["renewed_agreements_with_measures"] == pytest.approx(100 * 1 / 2)
    assert values_of(GRUE, Period(this_year))["requirements_share"] is None  # Grue has no cases
    assert values_of(KONGSVINGER, Period(this_year - 1))["renewed_agreements_with_measures"] is None
    assert values_of(KONGSVINGER, Period(this_year), "construction")["renewed_agreements_with_measures"] == 0.0


def test_measures_implemented_against_planned_counts_what_was_adopted_and_due_by_the_period_s_end(shared_links):
    from klimainnkjop.storage.models import Organisation

    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    bound = power_measure()  # due from 1.1.2027 (Strøm's renewal)
    dated = do_create_measure(name="Mindre papir", kind=2, mechanism="quantity", percent=20.0,
                              categories=["goods.office"], organisations=[KONGSVINGER], baseline_year=2024,
                              effective_date=dt.date(2025, 6, 1), actor="test")
    done = do_create_measure(name="Videomøter", kind=2, mechanism="quantity", percent=20.0,
                             categories=["services.travel"], organisations=[KONGSVINGER], baseline_year=2024,
                             actor="test")
    for m in (bound, dated, done):
        do_change_measure_status(measure=m, status="adopted", organisation=kongsvinger, date=dt.date(2025, 3, 1),
                                 case_number="25/101", actor="test")
    do_change_measure_status(measure=done, status="implemented", date=dt.date(2025, 9, 1), actor="test")
    assert values_of(KONGSVINGER, Period(2025))["measures_implemented"] == pytest.approx(100 * 1 / 2)
    # by 30 June 2025: the paper measure was due (1 June) and not implemented; the video meetings' date became
    # that of their implementation (1 September), the power measure's is the renewal (1 January 2027)
    assert values_of(KONGSVINGER, Period(2025, "H", 1))["measures_implemented"] == 0.0
    assert values_of(None, Period(2026))["measures_implemented"] == pytest.approx(100 * 1 / 2)
    assert values_of(KONGSVINGER, Period(2027))["measures_implemented"] == pytest.approx(100 * 1 / 3)
    assert values_of(GRUE, Period(2025))["measures_implemented"] is None  # none applies to Grue


def test_a_measures_file_binds_agreements_and_requirements_and_names_an_unknown_requirement(shared_links, tmp_path):
    from klimainnkjop.storage.models import Measure

    path = tmp_path / "tiltak.csv"
    path.write_text("name;kind;mechanism;percent;categories;organisations;baseline_year;agreement;requirement\n"
                    f"Strømkrav;4;intensity;10;energy.electricity;{KONGSVINGER};2024;2024-007;GEN-02\n"
                    "Ukjent krav;4;intensity;10;goods.office;;2024;;XYZ-99\n", encoding="utf-8")
    result = run_cli("measures", "import", path)
    assert result.returncode == 2
    assert "tiltak.csv, row 3, column 'requirement': no requirement 'XYZ-99' in the library" in result.stderr
    assert not Measure.objects.exists()
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n"
                    + path.read_text(encoding="utf-8").splitlines()[1] + "\n", encoding="utf-8")
    assert run_cli("measures", "import", path).returncode == 0
    (row,) = json.loads(run_cli("measures", "list", "--format", "json").stdout)
    assert (row["agreement"], row["agreement_in_register"], row["requirement"]) == ("2024-007", True, "GEN-02")
    assert row["effective_from"] == "2027-01-01"
