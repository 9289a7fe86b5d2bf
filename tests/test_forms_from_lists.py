"""Issue 18, forms: periods, years and units are chosen from lists of what exists (the periods of the years with
figures, as the dashboards' period links; the organisation's units), and a value that is not in the list gets a
clear message in bokmål and a 400."""
from __future__ import annotations

import re

import pytest

from tests.factories import GRUE, KONGSVINGER, make_user

ALL_2024 = ["2024", "2024H1", "2024H2", "2024T1", "2024T2", "2024T3", "2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def options(html: str, name: str) -> list[str]:
    """The option values of the (first) select named `name`."""
    match = re.search(r'<select[^>]*name="%s"[^>]*>(.*?)</select>' % re.escape(name), html, re.S)
    assert match, f"no select named {name}"
    return re.findall(r'<option value="([^"]*)"', match.group(1))


def periods(*years: int) -> list[str]:
    return [code.replace("2024", str(year)) for year in years for code in ALL_2024]


# --- the climate budget page -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_budget_pages_period_is_a_list_of_the_years_with_figures_and_budgets_and_their_parts(region_data, client):
    from klimainnkjop.access import operator
    from klimainnkjop.services.budgets import do_set_budget

    org, _ = region_data
    client.force_login(make_user("okonomi", org, "finance"))
    html = client.get(f"/org/{KONGSVINGER}/klimabudsjett/").content.decode()
    assert options(html, "periode") == periods(2024)  # the ledger has 2024 only
    assert 'name="periode" value=' not in html  # no free-text period
    assert re.search(r'<option value="2024" selected>2024</option>', html)
    with operator():  # as the command line sets it
        do_set_budget(organisation=org, unit_code="", year=2026, tonnes=5.0, cut_percent=0.0, actor="test")
    html = client.get(f"/org/{KONGSVINGER}/klimabudsjett/?periode=2024Q3").content.decode()
    assert options(html, "periode") == periods(2026, 2024)  # a year with a budget counts too, newest first
    assert re.search(r'<option value="2024Q3" selected>3. kvartal 2024</option>', html)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2019", "2024Q9", "tjuetjuefire"])
def test_a_period_not_in_the_budget_pages_list_is_refused_with_a_message_in_bokmal(region_data, client, value):
    org, _ = region_data
    client.force_login(make_user("leser", org, "reader"))
    response = client.get(f"/org/{KONGSVINGER}/klimabudsjett/?periode={value}")
    html = response.content.decode()
    assert response.status_code == 400
    assert f"«{value}» er ikke en av periodene med tall eller budsjett. Velg en periode i lista." in html
    assert 'aria-invalid="true"' in html and options(html, "periode") == periods(2024)


# --- the report form, the schedule form and publishing on the reports page ------------------------------------

@pytest.mark.django_db
def test_the_report_forms_period_and_unit_are_lists_of_what_exists(report_people, client):
    client.force_login(report_people["region_admin"])
    html = client.get("/rapporter/").content.decode()
    # the ledgers 2024-2025 with their parts; 2023 has KOSTRA's annual lines only, so no half-year or quarter
    assert options(html, "period") == periods(2025, 2024) + ["2023"]
    assert options(html, "unit") == ["", "2100", "1100", "1200"]  # Grue's units, then Kongsvinger's (by name)
    assert options(html, "plan-unit") == ["", "2100", "1100", "1200"]
    assert options(html, "year") == ["2025", "2024", "2023"]  # publishing: the years with figures
    client.force_login(report_people["unit_leader"])
    html = client.get("/rapporter/").content.decode()
    assert options(html, "unit") == ["1100"]  # a unit leader: their own unit only (no whole organisation)


@pytest.mark.django_db
@pytest.mark.parametrize("data, message", [
    ({"period": "2019"}, "«2019» er ikke en av periodene med tall. Velg en periode i lista."),
    ({"period": "2025Q9"}, "«2025Q9» er ikke en av periodene med tall. Velg en periode i lista."),
    ({"unit": "9999"}, "«9999» er ikke en enhet du kan velge. Velg en enhet i lista."),
    ({"unit": "2100"}, "Enheten 2100 hører ikke til den valgte organisasjonen."),  # Grue's unit
])
def test_a_report_asked_for_with_a_period_or_unit_not_in_the_lists_is_refused_in_bokmal(report_people, client, data,
                                                                                       message):
    from klimainnkjop.storage.models import Report

    client.force_login(report_people["region_admin"])
    response = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2025", "format": "csv", "unit": "",
                                           **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_a_schedule_with_a_unit_not_in_the_list_is_refused_in_bokmal(report_people, client):
    from klimainnkjop.storage.models import ReportSchedule

    client.force_login(report_people["region_admin"])
    for unit, message in (("9999", "«9999» er ikke en enhet du kan velge. Velg en enhet i lista."),
                          ("1100", "Enheten 1100 hører ikke til den valgte organisasjonen.")):
        response = client.post("/rapporter/planer/", {"plan-subject": GRUE, "plan-unit": unit,
                                                         "plan-cadence": "year", "plan-format": "pdf"})
        assert response.status_code == 400 and message in response.content.decode()
    assert not ReportSchedule.objects.exists()
    response = client.post("/rapporter/planer/", {"plan-subject": GRUE, "plan-unit": "2100",
                                                     "plan-cadence": "year", "plan-format": "pdf"})
    assert response.status_code == 302 and ReportSchedule.objects.get().unit_code == "2100"


@pytest.mark.django_db
def test_publishing_a_year_without_figures_is_refused_in_bokmal(report_people, client):
    from klimainnkjop.storage.models import Publication

    client.force_login(report_people["org_admin"])
    response = client.post(f"/org/{KONGSVINGER}/publiser/", {"year": "2019"})
    assert response.status_code == 400
    assert "«2019» er ikke et år med tall. Velg et år i lista." in response.content.decode()
    assert not Publication.objects.exists()


# --- the documents page --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_documents_pages_years_are_the_years_with_figures_and_another_is_refused_in_bokmal(report_people, client):
    from klimainnkjop.storage.models import Report

    client.force_login(report_people["region_admin"])
    html = client.get("/dokumenter/").content.decode()
    assert options(html, "year") == ["2025", "2024", "2023"]
    assert 'name="year" inputmode' not in html
    response = client.post("/dokumenter/", {"document": "baseline", "subject": "region", "year": "2019",
                                            "format": "docx"})
    assert response.status_code == 400
    assert "«2019» er ikke et år med tall. Velg et år i lista." in response.content.decode()
    response = client.post("/dokumenter/publiser/", {"year": "1999"})
    assert response.status_code == 400
    assert "«1999» er ikke et år med tall. Velg et år i lista." in response.content.decode()
    assert not Report.objects.exists()


# --- the measured effect page ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_effect_pages_periods_are_lists_of_what_exists_and_others_are_refused_in_bokmal(report_people, client):
    client.force_login(report_people["region_admin"])
    html = client.get(f"/tiltak/effekt/?org={KONGSVINGER}").content.decode()
    assert options(html, "fra") == options(html, "til") == periods(2025, 2024) + ["2023"]  # 2023: KOSTRA only
    assert client.get(f"/tiltak/effekt/?org={KONGSVINGER}&fra=2023H1&til=2024H1").status_code == 400
    assert options(html, "enhet") == ["", "1100", "1200"]
    response = client.get(f"/tiltak/effekt/?org={KONGSVINGER}&fra=2019&til=2025")
    assert response.status_code == 400
    assert "«2019» er ikke en av periodene med tall. Velg en periode i lista." in response.content.decode()
    response = client.get(f"/tiltak/effekt/?org={KONGSVINGER}&enhet=9999")
    assert response.status_code == 400
    assert "«9999» er ikke en enhet du kan velge. Velg en enhet i lista." in response.content.decode()
    assert client.get(f"/tiltak/effekt/?org={KONGSVINGER}&fra=2024H1&til=2025H1").status_code == 200


@pytest.mark.django_db
def test_the_dashboards_period_links_offer_the_parts_of_a_year_only_when_it_has_months(report_people, client):
    from tests.factories import parse

    client.force_login(report_people["region_admin"])
    for period, parts in (("2024", ["2024H1", "2024H2", "2024T1", "2024T2", "2024T3", "2024Q1", "2024Q2", "2024Q3",
                                    "2024Q4"]), ("2023", [])):  # 2023: KOSTRA's annual lines only
        response = client.get(f"/org/{KONGSVINGER}/?periode={period}")
        assert response.status_code == 200
        (nav,) = parse(response.content.decode()).find_all("nav", class_="period-nav")
        codes = [a.attrs["href"].rpartition("=")[2] for a in nav.find_all("a")]
        assert codes == ["2023", "2024", "2025"] + parts
        assert ("Kvartaler" in nav.text()) == bool(parts)


# --- the agreements' year ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_agreements_year_is_a_list_of_the_years_with_figures_and_a_bad_one_is_refused_in_bokmal(report_people,
                                                                                                    client):
    client.force_login(report_people["reader"])
    html = client.get("/avtaler/").content.decode()
    assert options(html, "ar") == ["", "2025", "2024", "2023"]
    response = client.get("/avtaler/?ar=tjue")
    assert response.status_code == 400
    assert "Året må være et årstall, for eksempel 2025." in response.content.decode()


# --- the requirement library's category --------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_requirement_librarys_category_is_a_list_of_the_categories_and_another_is_refused_in_bokmal(
        reference, client, org):
    from klimainnkjop.storage.models import Category

    client.force_login(make_user("leser", org, "reader"))
    html = client.get("/kravbibliotek/?kategori=goods.food").content.decode()
    assert options(html, "kategori") == [""] + sorted(Category.objects.values_list("code", flat=True))
    assert '<option value="goods.food" selected>' in html
    response = client.get("/kravbibliotek/?kategori=mat")
    assert response.status_code == 400
    assert "«mat» er ikke en kategori. Velg en kategori i lista." in response.content.decode()
