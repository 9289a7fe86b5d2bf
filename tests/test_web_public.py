"""Publishing and the public page: only administrators publish; the public page and the open data show exactly
the published figures and nothing else; report downloads are scoped."""
from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.reports import do_generate_report, do_publish_figures
from klimainnkjop.storage.models import AuditEntry, Membership, Publication, Report
from tests.conftest import Shared, shared_state
from tests.factories import GRUE_CSV, KONGSVINGER_CSV, WEB_PROFILE, import_ledger, make_grue, make_kongsvinger

KONGSVINGER, GRUE = "944117784", "964950113"


PEOPLE = {"region_admin": "admin", "org_admin": "k-admin", "reader_own": "k-reader", "reader_other": "g-reader",
          "org_admin_other": "g-admin"}


@pytest.fixture(scope="module")
def shared_public(request):
    """Kongsvinger's and Grue's 2024 ledgers computed, and a person of each kind (PEOPLE), made once for the module
    (tests/conftest.py shared_state); each test in its own savepoint."""
    with shared_state(request, "public") as path:
        org, other_org = make_kongsvinger(), make_grue()
        import_ledger(org, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
        import_ledger(other_org, GRUE_CSV, "grue-2024.csv", profile=WEB_PROFILE)
        do_compute(actor="test")
        users = get_user_model().objects
        for name, organisation, role in [(PEOPLE["region_admin"], org, "region-admin"),
                                         (PEOPLE["org_admin"], org, "org-admin"), (PEOPLE["reader_own"], org, "reader"),
                                         (PEOPLE["reader_other"], other_org, "reader"),
                                         (PEOPLE["org_admin_other"], other_org, "org-admin")]:
            user = users.create_user(username=name, password="a-long-test-password")
            Membership.objects.create(user=user, organisation=organisation, role=role)
        yield Shared(path, None)


@pytest.fixture
def people(shared_public, reference):
    users = get_user_model().objects
    return {kind: users.get(username=name) for kind, name in PEOPLE.items()}


def as_user(client, user):
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("kind,expected", [("region_admin", 302), ("org_admin", 302), ("reader_own", 403),
                                           ("reader_other", 404), ("org_admin_other", 404)])
def test_only_the_organisations_or_the_regions_administrators_may_publish(people, client, kind, expected):
    response = as_user(client, people[kind]).post(f"/org/{KONGSVINGER}/publiser/", {"year": "2024"})
    assert response.status_code == expected
    assert Publication.objects.filter(organisation__orgnr=KONGSVINGER).exists() == (expected == 302)
    if expected == 302:
        assert response["Location"] == f"/offentlig/{KONGSVINGER}/"
        assert AuditEntry.objects.filter(action="publish_figures").count() == 1


@pytest.mark.django_db
def test_the_service_refuses_a_person_who_may_not_publish(people):
    with pytest.raises(PermissionError):
        do_publish_figures(year=2024, orgnr=KONGSVINGER, actor=people["reader_own"])
    with pytest.raises(PermissionError):
        do_publish_figures(year=2024, orgnr=None, actor=people["org_admin"])  # the region: region admins only
    do_publish_figures(year=2024, orgnr=None, actor=people["region_admin"])


@pytest.mark.django_db
def test_unpublished_figures_are_not_on_the_public_page(people, client):
    for path in ("/offentlig/", f"/offentlig/{KONGSVINGER}/", f"/offentlig/{KONGSVINGER}/data.csv",
                 f"/offentlig/{KONGSVINGER}/data.json", "/offentlig/data.json"):
        assert client.get(path).status_code == 404, path
    do_publish_figures(year=2024, orgnr=GRUE, actor=people["region_admin"])
    assert client.get(f"/offentlig/{KONGSVINGER}/").status_code == 404
    assert client.get(f"/offentlig/{KONGSVINGER}/data.json").status_code == 404
    page = client.get("/offentlig/")  # lists Grue, shows no region figures
    assert page.status_code == 200 and "Grue kommune" in page.content.decode()
    assert client.get("/offentlig/data.json").status_code == 404


@pytest.mark.django_db
def test_the_public_page_shows_the_published_year_without_sign_in(people, client):
    do_publish_figures(year=2024, orgnr=KONGSVINGER, actor=people["org_admin"])
    page = client.get(f"/offentlig/{KONGSVINGER}/")
    assert page.status_code == 200
    text = page.content.decode()
    total = results.totals(system_scope(), org=KONGSVINGER, year=2024)["rows"][0]
    tonnes = f"{total['kg_co2e'] / 1000:,.1f}".replace(",", "\u00a0").replace(".", ",")
    assert tonnes in text and "Kongsvinger kommune" in text
    assert 'lang="nb"' in text


@pytest.mark.django_db
def test_open_data_json_and_csv_are_exactly_the_published_figures(people, client):
    publication = do_publish_figures(year=2024, orgnr=KONGSVINGER, actor=people["org_admin"])
    document = client.get(f"/offentlig/{KONGSVINGER}/data.json").json()
    assert document["publications"][0]["total"] == publication.figures["total"]
    assert document["publications"][0]["categories"] == publication.figures["categories"]
    selectors_total = results.totals(system_scope(), org=KONGSVINGER, year=2024)["rows"][0]
    assert publication.figures["total"]["spend_nok"] == selectors_total["spend_nok"]
    assert publication.figures["total"]["kg_co2e"] == pytest.approx(selectors_total["kg_co2e"], abs=1e-3)
    response = client.get(f"/offentlig/{KONGSVINGER}/data.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    by_category = {r["category"]: r for r in rows}
    assert float(by_category["total"]["kg_co2e"].replace(",", ".")) == publication.figures["total"]["kg_co2e"]
    assert {r["category"] for r in rows} == {"total"} | {c["category"] for c in publication.figures["categories"]}
    for c in publication.figures["categories"]:
        assert float(by_category[c["category"]]["spend_nok"].replace(",", ".")) == c["spend_nok"]
    # published figures stay as published: a new computation does not change them until republished
    do_compute(actor="test")
    assert client.get(f"/offentlig/{KONGSVINGER}/data.json").json() == document


@pytest.mark.django_db
def test_the_region_publication_is_consolidated_and_served_as_open_data(people, client):
    do_publish_figures(year=2024, orgnr=None, actor=people["region_admin"])
    document = client.get("/offentlig/data.json").json()
    region = results.totals(system_scope(), year=2024)
    assert document["publications"][0]["consolidated"] is True
    assert document["publications"][0]["total"]["spend_nok"] == region["rows"][0]["spend_nok"]
    assert client.get("/offentlig/data.csv").status_code == 200
    # the total's range is the dashboard's: combined from the lines' spreads, not their low and high added up
    overview = dashboard.period_overview(system_scope(), period=dashboard.Period(2024))
    total = document["publications"][0]["total"]
    assert overview.combined_range is not None
    assert (total["kg_co2e_low"], total["kg_co2e_high"]) == pytest.approx(overview.combined_range, abs=1e-3)
    assert total["kg_co2e_low"] > region["rows"][0]["kg_co2e_low"]  # narrower than the summed range


@pytest.mark.django_db
def test_the_report_page_generates_archives_and_lists_reports_in_scope(people, client):
    as_user(client, people["reader_own"])
    response = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2024", "format": "csv", "unit": ""})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == Report.STATUS_DONE and report.created_by == people["reader_own"]
    page = client.get(response["Location"]).content.decode()
    assert "Ferdig" in page and f"/rapporter/{report.pk}/last-ned/" in page
    download = client.get(f"/rapporter/{report.pk}/last-ned/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith("\ufeffSammendrag".encode("utf-8"))
    # a reader may not make a region report, nor one of another organisation
    assert client.post("/rapporter/", {"subject": "region", "period": "2024", "format": "csv"}).status_code == 400
    assert client.post("/rapporter/", {"subject": GRUE, "period": "2024", "format": "csv"}).status_code == 400
    bad = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2024Q7", "format": "csv"})
    assert bad.status_code == 400 and "«2024Q7» er ikke en av periodene" in bad.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind,org_report,region_report", [
    ("region_admin", 200, 200), ("org_admin", 200, 404), ("reader_own", 200, 404), ("reader_other", 404, 404),
    (None, "login", "login")])
def test_downloads_are_scoped(people, client, kind, org_report, region_report):
    mine = do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2024", fmt="csv",
                              actor="test")
    region = do_generate_report(system_scope(), scope_kind="region", period="2024", fmt="xlsx", actor="test")
    as_user(client, people.get(kind) if kind else None)
    for report, expected in ((mine, org_report), (region, region_report)):
        response = client.get(f"/rapporter/{report.pk}/last-ned/")
        if expected == "login":
            assert response.status_code == 302 and response["Location"].startswith("/logg-inn/")
        else:
            assert response.status_code == expected
    listing = client.get("/rapporter/")
    if kind == "reader_other":
        assert f"/rapporter/{mine.pk}/last-ned/" not in listing.content.decode()
