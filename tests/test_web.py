"""The web pages: figures as imported and computed, charts with their tables, language, scope."""
from __future__ import annotations

import re

import pytest

from tests.factories import (GRUE_KG, KONGSVINGER_INVESTMENT_KG, KONGSVINGER_KG, KONGSVINGER_OPERATING_KG, NBSP,
                             assert_no_inline_script, chart_payload, chart_value_labels, make_user, norwegian, page,
                             squash, table_cells)


# --- tests -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_region_page_shows_the_hand_computed_total_for_the_imported_ledgers(region_data, admin_client):
    html, _ = page(admin_client, "/")
    total_tonnes = (KONGSVINGER_KG + GRUE_KG) / 1000
    assert norwegian(total_tonnes) in html
    assert norwegian(KONGSVINGER_KG / 1000) in html
    assert norwegian(GRUE_KG / 1000) in html
    # operating and investment kept apart
    assert norwegian(KONGSVINGER_INVESTMENT_KG / 1000) in html
    assert norwegian((KONGSVINGER_OPERATING_KG + GRUE_KG) / 1000) in html
    # purchases in whole kroner: everything but the wages
    assert norwegian(123_456 + 250_000 + 1_000_000 + 77_777, 0) in html


@pytest.mark.django_db
def test_the_region_page_names_the_factor_set_the_coverage_and_what_was_left_out(region_data, admin_client):
    html, tree = page(admin_client, "/")
    assert "dfo-klimaintensiteter 2026.1" in html
    assert f"100,0{NBSP}%" in html  # every purchase had a factor
    excluded = tree.find_all("table", id="excluded-table")[0]
    cells = table_cells(excluded)
    assert "Lønn" in cells
    assert norwegian(500_000, 0) in cells


@pytest.mark.django_db
def test_the_region_page_shows_category_names_in_the_active_language(region_data, admin_client):
    html, _ = page(admin_client, "/")
    assert "Kontorrekvisita" in html and "Strøm" in html
    admin_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html, _ = page(admin_client, "/")
    assert "Office supplies" in html and "Electricity" in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/org/944117784/"])
def test_every_chart_is_accompanied_by_a_table_with_the_same_numbers(region_data, admin_client, url):
    html, tree = page(admin_client, url)
    figures = tree.find_all("figure")
    assert figures, "the page has charts"
    for figure in figures:
        image = [n for n in figure.iter() if n.attrs.get("role") == "img"]
        assert len(image) == 1, "the chart is one image for assistive technology"
        label_id = image[0].attrs["aria-labelledby"]
        summary = tree.find_all("span", id=label_id)[0].text()
        assert summary.strip() and "tonn" in summary
        assert not [n for n in figure.iter() if n.tag == "svg"], "the browser draws the chart (web/charts.js)"
        assert chart_payload(figure)["locale"]["decimal"] == ","
        link = [n for n in figure.iter() if n.tag == "a" and n.attrs.get("href", "").startswith("#")][0]
        table = tree.find_all("table", id=link.attrs["href"][1:])[0]
        assert table.find_all("caption") and table.find_all("th", scope="col") and table.find_all("th", scope="row")
        labels = chart_value_labels(figure)
        assert labels, "the chart prints its values"
        cells = table_cells(table)
        for label in labels:
            assert label in cells, f"chart value {label!r} is not in table {table.attrs['id']}"
        row_heads = [squash(th.text()) for th in table.find_all("th", scope="row")]
        assert len(labels) == len(row_heads), "one bar per table row"


@pytest.mark.django_db
def test_the_organisation_page_shows_units_suppliers_and_import_batches(region_data, admin_client):
    html, tree = page(admin_client, "/org/944117784/")
    assert "Kongsvinger kommune" in html
    assert norwegian(KONGSVINGER_KG / 1000) in html
    supplier_cells = table_cells(tree.find_all("table", id="top-suppliers-table")[0])
    assert "Byggmester Hansen AS" in supplier_cells and "Nettkraft AS" in supplier_cells
    assert norwegian(KONGSVINGER_INVESTMENT_KG / 1000) in supplier_cells
    unit_cells = table_cells(tree.find_all("table", id="per-unit-table")[0])
    assert "1100" in unit_cells and "1200" in unit_cells
    assert "kongsvinger-2024.csv" in html and "grue-2024.csv" not in html


@pytest.mark.django_db
def test_norwegian_is_the_default_and_english_appears_when_the_language_is_switched(region_data, admin_client):
    html, tree = page(admin_client, "/")
    assert tree.find_all("html")[0].attrs["lang"] == "nb"
    assert "Utslipp per år" in html and "Emissions per year" not in html
    assert "Hopp til hovedinnhold" in html
    response = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html, tree = page(admin_client, "/")
    assert tree.find_all("html")[0].attrs["lang"] == "en"
    assert "Emissions per year" in html and "Utslipp per år" not in html
    assert "Wages" in html
    # numbers follow the language too
    assert f"{(KONGSVINGER_KG + GRUE_KG) / 1000:,.1f}" in html


@pytest.mark.django_db
def test_the_login_page_is_norwegian_and_carries_a_csrf_token(client):
    html, tree = page(client, "/logg-inn/")
    assert "Logg inn" in html and "Brukernavn" in html and "Passord" in html
    assert "csrfmiddlewaretoken" in html
    assert tree.find_all("main") and tree.find_all("a", class_="ds-skip-link")


@pytest.mark.django_db
def test_a_person_can_log_in_and_out_with_forms(region_data, client):
    make_user("ola", region_data[1], "reader")
    response = client.post("/logg-inn/", {"username": "ola", "password": "a-long-test-password"})
    assert response.status_code == 302 and response["Location"] == "/"
    html, tree = page(client, "/")
    logout = [f for f in tree.find_all("form") if f.attrs.get("action") == "/logg-ut/"][0]
    assert logout.attrs["method"] == "post" and logout.find_all("input", name="csrfmiddlewaretoken")
    response = client.post("/logg-ut/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_wrong_password_shows_an_error_in_norwegian(client, db):
    make_user("kari")
    response = client.post("/logg-inn/", {"username": "kari", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


@pytest.mark.django_db
def test_pages_have_one_h1_headings_in_order_and_no_inline_script(region_data, admin_client):
    for url in ["/", "/org/944117784/", "/logg-inn/"]:
        html, tree = page(admin_client, url)
        assert_no_inline_script(tree, url)
        levels = [int(n.tag[1]) for n in tree.iter() if re.fullmatch(r"h[1-6]", n.tag)]
        assert levels[0] == 1 and levels.count(1) == 1, url
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"{url}: heading h{after} after h{before}"
        for th in tree.find_all("th"):
            assert th.attrs.get("scope") in ("col", "row"), url


@pytest.mark.django_db
def test_numbers_in_tables_are_right_aligned(region_data, admin_client):
    _, tree = page(admin_client, "/")
    table = tree.find_all("table", id="per-year-table")[0]
    numeric = [td for td in table.find_all("td")]
    assert numeric and all("num" in (td.attrs.get("class") or "").split() for td in numeric)


@pytest.mark.django_db
def test_the_region_page_explains_when_nothing_is_computed_yet(reference, admin_client):
    response = admin_client.get("/")
    assert response.status_code == 200
    assert "Ingenting er beregnet ennå" in response.content.decode()


@pytest.mark.django_db
def test_a_reader_of_one_municipality_gets_404_for_another(region_data, client):
    kongsvinger, grue = region_data
    client.force_login(make_user("grue-leser", grue, "reader"))
    assert client.get(f"/org/{kongsvinger.orgnr}/").status_code == 404
    assert client.get(f"/org/{grue.orgnr}/").status_code == 200


@pytest.mark.django_db
def test_the_region_page_of_a_reader_of_grue_lists_only_grues_figures(region_data, client):
    kongsvinger, grue = region_data
    client.force_login(make_user("grue-leser", grue, "reader"))
    html, tree = page(client, "/")
    assert norwegian(GRUE_KG / 1000) in html
    assert norwegian(KONGSVINGER_KG / 1000) not in html
    assert norwegian((KONGSVINGER_KG + GRUE_KG) / 1000) not in html
    assert "Kongsvinger kommune" not in html
    assert "Lønn" not in html  # Kongsvinger's wages are not Grue's
    org_rows = [squash(th.text()) for th in tree.find_all("table", id="per-organisation-table")[0]
                .find_all("th", scope="row")]
    assert org_rows == ["Grue kommune"]


@pytest.mark.django_db
def test_an_english_browser_still_gets_bokmal_until_the_person_switches(region_data, admin_client, settings):
    middleware = "klimainnkjop.web.middleware.DefaultLanguageMiddleware"
    if middleware not in settings.MIDDLEWARE:
        at = settings.MIDDLEWARE.index("django.middleware.locale.LocaleMiddleware")
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:at], middleware, *settings.MIDDLEWARE[at:]]
    response = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Utslipp per år" in response.content.decode()
    admin_client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en-US")
    response = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="nb-NO")
    assert "Emissions per year" in response.content.decode()


@pytest.mark.django_db
def test_the_trajectory_before_anything_is_computed_says_so_in_bokmal_without_the_cli_command(reference, org, client):
    from klimainnkjop.services import measures as services
    from tests.conftest import run_cli

    measure = services.do_create_measure(name="Mindre", kind=2, mechanism="quantity", percent=20.0,
                                         categories=["goods.office"], baseline_year=2024, actor="test")
    package = services.do_create_package(name="Tidlig", measures=[measure], baseline_year=2024, actor="test")
    client.force_login(make_user("admin", org, "region-admin"))
    html = client.get(f"/tiltak/bane/?org={org.orgnr}&pakke={package.pk}&til=2028").content.decode()
    assert "Utslippsbanen kan ikke vises: Ingenting er beregnet ennå." in html
    assert "klimainnkjop compute" not in html and "nothing computed" not in html
    result = run_cli("trajectory", "--org", org.orgnr, "--package", "Tidlig", "--to", "2028")
    assert result.returncode != 0 and "nothing computed yet; run `klimainnkjop compute`" in result.stderr
