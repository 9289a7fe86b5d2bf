"""The report form makes the funder's progress or final report with the author's texts."""
from __future__ import annotations

from html import unescape

import pytest

from klimainnkjop.storage.models import AuditEntry, Report
from tests.shared_accounts import accounts, org, other_org  # noqa: F401 - one load of the region for the module
from tests.factories import KONGSVINGER

FORM = {"subject": KONGSVINGER, "period": "2025H2", "format": "xlsx", "unit": ""}


@pytest.mark.django_db
def test_the_form_makes_a_final_report_to_the_funder_with_the_texts_and_baseline_year(report_people, client):  # noqa: F811
    client.force_login(report_people["org_admin"])
    response = client.post("/rapporter/", {**FORM, "layout": "funder", "final": "on", "baseline_year": "2024",
                                           "project": "Klimakutt i innkjøp", "activities": "Kartla innkjøpene.",
                                           "deviations": "", "experiences": "Fakturadata hjelper.",
                                           "next_steps": "Flere leverandører."})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == Report.STATUS_DONE and report.layout == Report.LAYOUT_FUNDER
    assert report.texts == {"kind": "final", "baseline_year": "2024", "project": "Klimakutt i innkjøp",
                            "activities": "Kartla innkjøpene.", "experiences": "Fakturadata hjelper.",
                            "next_steps": "Flere leverandører."}
    assert AuditEntry.objects.filter(action="generate_report", object_id=str(report.pk)).exists()


@pytest.mark.django_db
def test_without_a_report_type_the_form_makes_the_climate_account_and_ignores_funder_texts(report_people, client):  # noqa: F811
    client.force_login(report_people["reader"])
    response = client.post("/rapporter/", {**FORM, "activities": "ignored"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.layout == Report.LAYOUT_STANDARD and report.texts == {}


@pytest.mark.django_db
def test_a_too_long_text_is_refused_on_its_field_and_no_report_is_made(report_people, client):  # noqa: F811
    client.force_login(report_people["org_admin"])
    response = client.post("/rapporter/", {**FORM, "layout": "funder", "activities": "x" * 5001})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_activities-error"' in html
    assert not Report.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fields, shown", [
    ({"baseline_year": "2026"}, "2026 er etter rapportens periode 2025H2"),
    ({"activities": "Kartla\x0binnkjøpene."}, "Gjennomførte aktiviteter ('activities') inneholder et kontrolltegn"),
])
def test_a_refused_baseline_year_or_text_is_told_in_bokmal_and_no_report_is_made(report_people, client, fields,  # noqa: F811
                                                                                  shown):
    client.force_login(report_people["org_admin"])
    response = client.post("/rapporter/", {**FORM, "layout": "funder", **fields}, HTTP_ACCEPT_LANGUAGE="nb")
    html = unescape(response.content.decode())
    assert response.status_code == 400 and shown in html
    assert "is after" not in html and "control character" not in html
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_the_form_shows_the_funder_fields_in_their_own_group(report_people, client):  # noqa: F811
    client.force_login(report_people["reader"])
    html = client.get("/rapporter/").content.decode()
    assert "<fieldset" in html and "Gjennomførte aktiviteter" in html and "Rapporttype" in html
