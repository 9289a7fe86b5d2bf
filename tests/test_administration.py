"""The region administrators' area (issue 16 item 9, issue 18 items 2 and 4): publishing a year of the region and its
organisations in one form, supplier factors and exchange rates that queue a compute like any other change, retraining
the text model in the background with its status, each with audit entries; and the public page that shows the
published years as a chart with its table, the categories and the organisations' figures."""
from __future__ import annotations

import pytest
from django.test import override_settings

from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.services import administration
from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.models import (AuditEntry, ComputeRun, ExchangeRate, Membership, ModelVersion,
                                         Publication, SupplierFactor, TrainingJob)
from tests.factories import (DATABASE_QUEUE, GRUE, GRUE_CSV, GRUE_KG, KONGSVINGER, KONGSVINGER_CSV,
                             KONGSVINGER_INVESTMENT_KG, KONGSVINGER_KG, KONGSVINGER_OPERATING_KG, WEB_HEADER,
                             WEB_PROFILE, assert_no_inline_script, chart_payload, chart_value_labels,
                             import_ledger, kg, make_user, norwegian, page, parse, squash, table_cells)

pytestmark = pytest.mark.django_db

# Kongsvinger also bought office supplies in 2023 (Grue has no 2023): the trend has two years.
KONGSVINGER_2023_CSV = WEB_HEADER + "15.03.2023;10000;1100;982463718;Kontorgiganten AS;100 000,00;Papir;9;1;1\n"
KONGSVINGER_2023_KG = kg(100_000, "goods.office", 2023)


@pytest.fixture
def region(reference, org, other_org):
    import_ledger(org, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
    import_ledger(org, KONGSVINGER_2023_CSV, "kongsvinger-2023.csv", profile=WEB_PROFILE)
    import_ledger(other_org, GRUE_CSV, "grue-2024.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    return org, other_org


@pytest.fixture
def admin(client, region):
    org, _ = region
    client.force_login(make_user("regionadmin", org, "region-admin"))
    return client


def tonnes(kg_co2e: float) -> str:
    return norwegian(kg_co2e / 1000, 1)


# ---------------------------------------------------------------- publishing: one form (issue 18 item 2)

def test_the_publish_form_offers_the_computed_years_and_a_checkbox_per_organisation(admin):
    _, tree = page(admin, "/administrasjon/publiser/")
    years = [o.attrs["value"] for o in tree.find_all("option")]
    assert years == ["2024", "2023"]  # newest first, the newest chosen
    boxes = {i.attrs["value"]: "checked" in i.attrs for i in tree.find_all("input", type="checkbox")
             if i.attrs.get("name") == "organisations"}
    assert boxes == {KONGSVINGER: True, GRUE: True}  # every organisation ticked by default
    assert "checked" in tree.find_all("input", name="region")[0].attrs


def test_one_form_publishes_the_region_and_the_chosen_organisations_with_an_audit_entry_each(admin):
    response = admin.post("/administrasjon/publiser/", {"year": "2024", "region": "on",
                                                        "organisations": [KONGSVINGER, GRUE]})
    assert response.status_code == 302 and response["Location"] == "/administrasjon/publiser/"
    published = {(p.organisation.orgnr if p.organisation else None): p for p in Publication.objects.all()}
    assert set(published) == {None, KONGSVINGER, GRUE}
    assert published[None].figures["total"]["kg_co2e"] == pytest.approx(KONGSVINGER_KG + GRUE_KG, abs=1e-3)
    assert published[KONGSVINGER].figures["total"]["kg_co2e"] == pytest.approx(KONGSVINGER_KG, abs=1e-3)
    assert published[GRUE].figures["total"]["kg_co2e"] == pytest.approx(GRUE_KG, abs=1e-3)
    entries = AuditEntry.objects.filter(action="publish_figures")
    assert entries.count() == 3 and {e.actor_label for e in entries} == {"regionadmin"}
    html, tree = page(admin, "/administrasjon/publiser/")
    assert "Publiserte 3 sett med tall for 2024." in html  # the message, in bokmål with its plural
    cells = table_cells(tree.find_all("table")[0])
    assert tonnes(KONGSVINGER_KG + GRUE_KG) in cells and tonnes(GRUE_KG) in cells


def test_a_chosen_organisation_without_figures_in_the_year_refuses_the_whole_form(admin):
    response = admin.post("/administrasjon/publiser/", {"year": "2023", "region": "on",
                                                        "organisations": [KONGSVINGER, GRUE]})
    assert response.status_code == 400
    assert "Grue kommune (964950113)" in response.content.decode() and "fjern krysset" in response.content.decode()
    assert not Publication.objects.exists() and not AuditEntry.objects.filter(action="publish_figures").exists()
    # unticked, the rest is published
    assert admin.post("/administrasjon/publiser/", {"year": "2023", "region": "on",
                                                    "organisations": [KONGSVINGER]}).status_code == 302
    assert sorted(str(p.organisation_id and p.organisation.orgnr) for p in Publication.objects.all()) == \
        [KONGSVINGER, "None"]


def test_nothing_chosen_is_a_message_and_the_service_refuses_others_than_region_administrators(admin, region):
    response = admin.post("/administrasjon/publiser/", {"year": "2024"})
    assert response.status_code == 400 and "velg regionen eller minst én organisasjon" in \
        response.content.decode()
    org, _ = region
    with pytest.raises(PermissionError):
        administration.do_publish_region_figures(year=2024, region=False, orgnrs=[KONGSVINGER],
                                                 actor=make_user("k-admin", org, "org-admin"))
    assert not Publication.objects.exists()


# ---------------------------------------------------------------- the public page (issue 18 item 4)

def test_the_public_page_shows_the_published_years_as_a_chart_with_a_table_and_the_organisations(admin, client):
    admin.post("/administrasjon/publiser/", {"year": "2023", "region": "on", "organisations": [KONGSVINGER]})
    admin.post("/administrasjon/publiser/", {"year": "2024", "region": "on", "organisations": [KONGSVINGER, GRUE]})
    admin.logout()
    html, tree = page(client, "/offentlig/")  # no sign-in
    assert_no_inline_script(tree, "/offentlig/")
    figures = {f.parent.attrs.get("aria-labelledby"): f for f in tree.find_all("figure", class_="chart")}
    assert set(figures) == {"trend-heading", "categories-heading", "organisations-heading"}
    trend = figures["trend-heading"]
    # the bars print each year's total, oldest first; the stacked parts are operating and investment tonnes
    assert chart_value_labels(trend) == [tonnes(KONGSVINGER_2023_KG), tonnes(KONGSVINGER_KG + GRUE_KG)]
    parts = {(v["name"], v["series"]): v["value"] for v in chart_payload(trend)["spec"]["layer"][0]["data"]["values"]}
    # (published figures are kept to the gram)
    assert parts[("2024", "Drift")] == pytest.approx((KONGSVINGER_OPERATING_KG + GRUE_KG) / 1000, abs=1e-6)
    assert parts[("2024", "Investering")] == pytest.approx(KONGSVINGER_INVESTMENT_KG / 1000, abs=1e-6)
    table = tree.find_all("table", id="trend-table")[0]  # the table alternative with the same numbers
    rows = [squash(r.text()) for r in table.find_all("tr")[1:]]
    assert rows[0].startswith("2023") and tonnes(KONGSVINGER_2023_KG) in rows[0]
    assert rows[1].startswith("2024") and tonnes(KONGSVINGER_KG + GRUE_KG) in rows[1]
    # the organisations' latest published year, largest first, linked to their pages
    orgs = tree.find_all("table", id="organisations-table")[0]
    assert [squash(r.text()) for r in orgs.find_all("th", scope="row")] == ["Kongsvinger kommune", "Grue kommune"]
    assert tonnes(GRUE_KG) in table_cells(orgs) and f'href="/offentlig/{GRUE}/"' in html
    # the categories of the latest year: the largest is construction works (Kongsvinger's school)
    categories = tree.find_all("table", id="categories-table")[0]
    assert "(2024)" not in squash(categories.text()) and tonnes(KONGSVINGER_INVESTMENT_KG) in table_cells(categories)
    assert 'href="/metode/"' in html and 'href="/offentlig/data.csv"' in html and 'href="/offentlig/data.json"' in html


def test_the_front_page_and_the_login_page_link_to_the_public_page(admin, client):
    html, _ = page(admin, "/")
    assert 'href="/offentlig/"' in html
    admin.logout()
    html, _ = page(client, "/logg-inn/")
    assert 'href="/offentlig/"' in html


def test_the_demo_publishing_publishes_each_whole_year_of_each_organisation_and_the_region_where_complete(region):
    from klimainnkjop.demo.load import publish_demo_figures

    # 2023: Kongsvinger only (Grue has no 2023, so the region's 2023 would be partial); 2024: all three
    assert publish_demo_figures(last_year=2024, actor="demo") == 1 + 3
    assert sorted((p.year, p.organisation.orgnr if p.organisation else "region") for p in Publication.objects.all()) \
        == [(2023, KONGSVINGER), (2024, KONGSVINGER), (2024, GRUE), (2024, "region")]
    assert publish_demo_figures(last_year=2023, actor="demo") == 1  # a running year is not published


# ---------------------------------------------------------------- supplier factors and rates: audited, recomputed

@pytest.fixture
def auto(settings):
    settings.KLIMAINNKJOP_AUTO_COMPUTE = True
    return settings


def test_a_supplier_factor_added_on_the_web_is_audited_and_recomputes_the_account(admin, auto,
                                                                                  django_capture_on_commit_callbacks):
    runs = ComputeRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/administrasjon/leverandorfaktorer/", {
            "supplier_orgnr": "982 463 718", "value": "0.1", "low": "", "high": "", "price_year": "2024",
            "valid_from_year": "2024", "valid_to_year": "2025", "evidence": "Klimaregnskap 2024, verifisert"})
    assert response.status_code == 302
    made = SupplierFactor.objects.get()
    assert (made.supplier_orgnr, made.value, made.low, made.high) == ("982463718", 0.1, pytest.approx(0.08),
                                                                      pytest.approx(0.12))
    assert AuditEntry.objects.get(action="add_supplier_factor").actor_label == "regionadmin"
    run = ComputeRun.objects.order_by("-id").first()
    assert ComputeRun.objects.count() == runs + 1  # the audit entry's data_changed queued a compute (immediate here)
    # Kontorgiganten's 123 456 NOK of 2024 now at its own 0.1 kg per NOK (price year 2024): 12 345,6 kg
    expected = 123_456 * 0.1 + kg(250_000, "energy.electricity", 2024) + KONGSVINGER_INVESTMENT_KG \
        + 77_777 * 0.1 + KONGSVINGER_2023_KG
    assert run.kg_co2e == pytest.approx(expected, rel=1e-9)
    html, _ = page(admin, "/administrasjon/leverandorfaktorer/")
    assert "Klimaregnskap 2024, verifisert" in html


def test_a_bad_supplier_factor_names_the_field_and_adds_nothing(admin):
    response = admin.post("/administrasjon/leverandorfaktorer/", {
        "supplier_orgnr": "12345", "value": "0.1", "price_year": "2024", "valid_from_year": "2025",
        "valid_to_year": "2024", "evidence": "x"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Et organisasjonsnummer har ni sifre." in text and "Det siste året kommer før det første." in text
    assert not SupplierFactor.objects.exists() and not AuditEntry.objects.filter(action="add_supplier_factor").exists()


def test_a_rate_added_on_the_web_is_the_rate_imports_use_and_is_audited(admin, region, auto,
                                                                       django_capture_on_commit_callbacks):
    from klimainnkjop.selectors.factors import exchange_rates

    org, _ = region
    header = WEB_HEADER.replace("Kontoklasse", "Kontoklasse;Valuta")  # Icelandic krónur: no shipped rate
    ledger = header + "15.03.2019;10000;1100;982463718;Kontorgiganten AS;1 000,00;Papir;7;1;1;ISK\n"
    profile = {**WEB_PROFILE, "name": "isk", "columns": {**WEB_PROFILE["columns"], "currency": "Valuta"}}
    with pytest.raises(Exception) as missing:  # no rate for 2016 yet: a clear error naming the page
        import_ledger(org, ledger, "reykjavik.csv", profile=profile)
    assert "no exchange rate ISK→NOK for 2019; add it on /administrasjon/valutakurser/" in str(missing.value)
    runs = ComputeRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/administrasjon/valutakurser/", {"year": "2019", "currency": "isk",
                                                                "nok_per_unit": "0,0715", "source": "Norges Bank"})
    assert response.status_code == 302
    assert exchange_rates()[(2019, "ISK")] == 0.0715
    entry = AuditEntry.objects.get(action="set_exchange_rate")
    assert entry.before is None and entry.after["nok_per_unit"] == 0.0715 and entry.actor_label == "regionadmin"
    assert ComputeRun.objects.count() == runs + 1  # a rate is a data change: the account is recomputed
    result = import_ledger(org, ledger, "reykjavik.csv", profile=profile)
    assert result.batch.amount_ore == round(1_000 * 100 * 0.0715)  # 1 000 ISK = 71,50 NOK
    # a second save replaces the rate, keeping the earlier value in the audit entry
    admin.post("/administrasjon/valutakurser/", {"year": "2019", "currency": "ISK", "nok_per_unit": "0.07",
                                                 "source": "Norges Bank, rettet"})
    assert ExchangeRate.objects.get(year=2019, currency="ISK").nok_per_unit == 0.07
    for absurd in ("1e308", "20000", "inf"):  # refused by the form (1e308 was saved)
        response = admin.post("/administrasjon/valutakurser/", {"year": "2019", "currency": "ISK",
                                                                "nok_per_unit": absurd, "source": "feil"})
        assert response.status_code == 400, absurd
    assert ExchangeRate.objects.get(year=2019, currency="ISK").nok_per_unit == 0.07
    with pytest.raises(InvalidInput, match="at most 10,000"):
        administration.do_set_exchange_rate(year=2019, currency="ISK", nok_per_unit=1e308, source="feil")
    assert AuditEntry.objects.filter(action="set_exchange_rate").first().before["nok_per_unit"] == 0.0715


@pytest.mark.parametrize("posted,message", [
    ({"year": "2016", "currency": "NOK", "nok_per_unit": "1", "source": "x"}, "NOK er regnskapets egen valuta"),
    ({"year": "2016", "currency": "E1R", "nok_per_unit": "1", "source": "x"}, "tre bokstaver etter ISO 4217"),
    ({"year": "2016", "currency": "EUR", "nok_per_unit": "0", "source": "x"}, "id_nok_per_unit"),
    ({"year": "16", "currency": "EUR", "nok_per_unit": "10", "source": "x"}, "id_year"),
])
def test_a_bad_rate_is_a_message_and_changes_nothing(admin, posted, message):
    before = ExchangeRate.objects.count()
    response = admin.post("/administrasjon/valutakurser/", posted)
    assert response.status_code == 400 and message in response.content.decode()
    assert ExchangeRate.objects.count() == before and not AuditEntry.objects.filter(action="set_exchange_rate").exists()


# ---------------------------------------------------------------- retraining in the background

def test_retraining_is_queued_shown_while_it_waits_and_done_by_the_worker(admin, settings):
    settings.TASKS = DATABASE_QUEUE  # the production set-up: the job waits for `klimainnkjop worker`
    versions = ModelVersion.objects.count()
    response = admin.post("/administrasjon/klassifisering/start/")
    assert response.status_code == 302 and response["Location"] == "/administrasjon/klassifisering/"
    job = TrainingJob.objects.get()
    assert job.status == "queued" and job.requested_by.username == "regionadmin"
    html, tree = page(admin, "/administrasjon/klassifisering/")
    status = tree.find_all("section", id="training-status")[0]
    assert status.attrs["data-pending"] == "1" and status.attrs.get("aria-busy") == "true"
    assert tree.find_all("progress", id="training-progress") and "Venter på tur" in html
    # asking again while one waits queues no second one
    admin.post("/administrasjon/klassifisering/start/")
    assert TrainingJob.objects.count() == 1
    from django_tasks_db.models import DBTaskResult

    [queued] = DBTaskResult.objects.filter(task_path="klimainnkjop.services.administration.train_text_model_job")
    assert queued.args_kwargs["kwargs"] == {"job_id": job.pk, "user_id": job.requested_by_id}
    assert administration.train_text_model_job.call(job_id=job.pk, user_id=job.requested_by_id) == "done"
    job.refresh_from_db()
    assert job.status == "done" and job.version is not None and ModelVersion.objects.count() == versions + 1
    assert [e.action for e in AuditEntry.objects.filter(action__contains="text_model").order_by("id")] == \
        ["request_text_model_training", "train_text_model", "complete_text_model_training"]
    _, tree = page(admin, "/administrasjon/klassifisering/status/")
    status = tree.find_all("section", id="training-status")[0]
    assert status.attrs["data-pending"] == "0" and "aria-busy" not in status.attrs
    accuracy = tree.find_all("td", id=f"accuracy-{job.version.pk}")[0]
    assert squash(accuracy.text()) == f"{job.version.accuracy:.3f}".replace(".", ",")


def test_a_retraining_that_fails_says_so_and_leaves_the_model_in_use(admin, monkeypatch):
    from klimainnkjop.services import training

    def broken(**kwargs):
        raise ValueError("items.csv: categories not in the taxonomy: goods.nothing")

    monkeypatch.setattr(training, "do_train_text_model", broken)
    versions = ModelVersion.objects.count()
    admin.post("/administrasjon/klassifisering/start/")  # the tests' immediate backend runs it at once
    job = TrainingJob.objects.get()
    assert job.status == "failed" and "goods.nothing" in job.error and ModelVersion.objects.count() == versions
    html, _ = page(admin, "/administrasjon/klassifisering/")
    assert "goods.nothing" in html and AuditEntry.objects.filter(action="fail_text_model_training").exists()


def test_a_queued_retraining_of_someone_no_longer_a_region_administrator_fails(region, settings):
    org, _ = region
    settings.TASKS = DATABASE_QUEUE
    person = make_user("was-admin", org, "region-admin")
    job = administration.do_request_training(actor=person)
    Membership.objects.filter(user=person).delete()
    assert administration.train_text_model_job.call(job_id=job.pk, user_id=person.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "no longer" in job.error


@override_settings(LANGUAGE_CODE="nb")
def test_the_administration_index_links_every_action(admin):
    _, tree = page(admin, "/administrasjon/")
    links = {a.attrs["href"] for a in tree.find_all("a")}
    assert {"/administrasjon/publiser/", "/administrasjon/leverandorfaktorer/", "/administrasjon/valutakurser/",
            "/administrasjon/klassifisering/", "/offentlig/"} <= links
    assert parse(admin.get("/organisasjoner/").content.decode()).find_all("a", href="/administrasjon/")


def test_a_retraining_left_pending_by_a_stopped_worker_does_not_block_the_next(region, settings):
    import datetime as dt

    org, _ = region
    settings.TASKS = DATABASE_QUEUE
    person = make_user("regionadmin", org, "region-admin")
    stuck = administration.do_request_training(actor=person)
    TrainingJob.objects.filter(pk=stuck.pk).update(created_at=stuck.created_at - dt.timedelta(hours=3))
    fresh = administration.do_request_training(actor=person)
    stuck.refresh_from_db()
    assert fresh.pk != stuck.pk and fresh.status == "queued"
    assert stuck.status == "failed" and "interrupted" in stuck.error
