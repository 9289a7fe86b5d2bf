"""The factor library, the method page and the comparison of two computations (issue 3, the pages)."""
from __future__ import annotations

import re

import pytest

from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.factors import do_set_category_mapping
from klimainnkjop.services.reference import shipped_factor_set_files
from klimainnkjop.storage.models import ComputeRun, Factor, FactorSet, Membership, Unit
from tests.factories import (EXPECTATIONS, GRUE_KG, WEB_HEADER, WEB_PROFILE, cpi, import_ledger, kg, make_user,
                             norwegian, page, squash, table_cells)

KONGSVINGER, GRUE = "944117784", "964950113"
OFFICE_KONGSVINGER, OFFICE_GRUE = 123_456, 77_777  # the office-supplies purchases of tests.test_web


def office_factor() -> Factor:
    return Factor.objects.get(factor_set__name="dfo-klimaintensiteter", category__code="goods.office", basis="spend")


def rows_of(table) -> list[list[str]]:
    body = table.find_all("tbody")[0]
    return [[squash(c.text()) for c in tr.iter() if c.tag in ("td", "th")] for tr in body.find_all("tr")]


def shipped_metadata() -> list[dict[str, str]]:
    sets = []
    for path in shipped_factor_set_files():
        meta = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
        sets.append(meta)
    return sets


@pytest.fixture
def reader_client(client, reference, org):
    client.force_login(make_user("leser", org, "reader"))
    return client


# --- the factor library ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_searching_for_a_norwegian_category_name_finds_its_factor(reader_client):
    _, tree = page(reader_client, "/faktorer/?q=kontorrekvisita")
    rows = rows_of(tree.find_all("table", id="factors-table")[0])
    assert rows and all("Kontorrekvisita" in row[0] for row in rows)
    assert any("goods.office" in row[0] for row in rows)
    assert not any("Strøm" in row[0] for row in rows)
    # the set filter narrows the search to one set
    _, tree = page(reader_client, "/faktorer/?q=kontorrekvisita&sett=dfo-klimaintensiteter:2026.1")
    rows = rows_of(tree.find_all("table", id="factors-table")[0])
    assert len(rows) == 1 and "dfo-klimaintensiteter 2026.1" in rows[0][9]


@pytest.mark.django_db
def test_every_factor_row_on_the_library_page_shows_its_sets_licence_and_its_source(reader_client):
    licences = {f"{fs.name} {fs.version}": fs.licence for fs in FactorSet.objects.all()}
    total = Factor.objects.count()
    assert total > 50, "the shipped factors fill more than one page"
    seen, number = 0, 1
    while True:
        html, tree = page(reader_client, f"/faktorer/?side={number}")
        table = tree.find_all("table", id="factors-table")[0]
        body_rows = table.find_all("tbody")[0].find_all("tr")
        assert 0 < len(body_rows) <= 50
        for tr in body_rows:
            licence = squash(tr.find_all("td", class_="factor-licence")[0].text())
            source = squash(tr.find_all("td", class_="factor-source")[0].text())
            set_label, _, source_ref = source.partition(": ")
            assert licence and licence == licences[set_label], source
            assert source_ref.strip(), tr.text()
        seen += len(body_rows)
        if 'rel="next"' not in html:
            break
        number += 1
    assert seen == total and number == -(-total // 50)


@pytest.mark.django_db
def test_the_library_lists_every_factor_set_with_its_licence_attribution_and_number_of_factors(reader_client):
    html, tree = page(reader_client, "/faktorer/")
    text = squash(tree.text())
    for fs in FactorSet.objects.all():
        assert fs.name in text and fs.licence in text and fs.attribution in text
        assert f"<dd>{fs.factors.count()}</dd>" in html


@pytest.mark.django_db
def test_an_unknown_factor_set_in_the_search_is_a_form_error_not_a_server_error(reader_client):
    response = reader_client.get("/faktorer/?sett=finnes-ikke:1")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "Det finnes ikke noe faktorsett" in html
    assert 'aria-invalid="true"' in html


@pytest.mark.django_db
def test_the_factor_detail_shows_usage_counts_that_match_the_hand_made_data(region_data, client):
    client.force_login(make_user("regionadmin", region_data[0], "region-admin"))
    factor = office_factor()
    html, tree = page(client, f"/faktorer/{factor.pk}/")
    assert factor.source_ref in html and "CC BY 4.0" in html
    assert factor.factor_set.attribution in html
    assert squash(tree.find_all("dd", id="usage-lines")[0].text()) == "2"
    office_kg = kg(OFFICE_KONGSVINGER, "goods.office", 2024) + kg(OFFICE_GRUE, "goods.office", 2024)
    assert norwegian(office_kg) in squash(tree.find_all("dd", id="usage-kg")[0].text())
    assert norwegian(OFFICE_KONGSVINGER + OFFICE_GRUE, 0) in tree.find_all("dd", id="usage-spend")[0].text()
    rows = rows_of(tree.find_all("table", id="usage-table")[0])
    assert [r[0] for r in rows] == ["Kongsvinger kommune", "Grue kommune"]  # highest emissions first
    kongsvinger = rows[0]
    assert kongsvinger[1:6] == ["2024", "3", "1100", "100", "Kontorgiganten AS (982463718)"]
    assert kongsvinger[6] == norwegian(OFFICE_KONGSVINGER, 0)
    assert kongsvinger[7] == norwegian(kg(OFFICE_KONGSVINGER, "goods.office", 2024))
    assert kongsvinger[8] == "Kostnadsbasert"


@pytest.mark.django_db
def test_a_reader_of_grue_sees_only_grues_lines_for_a_factor_kongsvinger_also_uses(region_data, client):
    kongsvinger, grue = region_data
    client.force_login(make_user("grue-leser", grue, "reader"))
    html, tree = page(client, f"/faktorer/{office_factor().pk}/")
    assert squash(tree.find_all("dd", id="usage-lines")[0].text()) == "1"
    assert norwegian(GRUE_KG) in tree.find_all("dd", id="usage-kg")[0].text()
    rows = rows_of(tree.find_all("table", id="usage-table")[0])
    assert [r[0] for r in rows] == ["Grue kommune"]
    assert "Kongsvinger" not in html and norwegian(OFFICE_KONGSVINGER, 0) not in html


@pytest.mark.django_db
def test_a_unit_leader_sees_only_the_lines_of_their_own_unit(region_data, client):
    kongsvinger, _ = region_data
    user = make_user("enhetsleder")
    Membership.objects.create(user=user, organisation=kongsvinger, role="unit-leader",
                              unit=Unit.objects.get(organisation=kongsvinger, code="1200"))
    client.force_login(user)
    _, tree = page(client, f"/faktorer/{office_factor().pk}/")  # office supplies were bought by unit 1100
    assert squash(tree.find_all("dd", id="usage-lines")[0].text()) == "0"
    assert not tree.find_all("table", id="usage-table")
    works = spend_factor("dfo-klimaintensiteter", "construction.works")
    _, tree = page(client, f"/faktorer/{works.pk}/")  # construction works were bought by unit 1200
    assert squash(tree.find_all("dd", id="usage-lines")[0].text()) == "1"
    assert [r[3] for r in rows_of(tree.find_all("table", id="usage-table")[0])] == ["1200"]


@pytest.mark.django_db
def test_a_factor_that_does_not_exist_is_not_found(reader_client):
    assert reader_client.get("/faktorer/999999999/").status_code == 404


# --- the method page ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_method_page_lists_every_shipped_factor_set_by_name_and_licence(reference, client):
    html, tree = page(client, "/metode/")  # public: no login
    rows = {r[0]: r for r in rows_of(tree.find_all("table", id="factor-sets-table")[0])}
    shipped = shipped_metadata()
    assert len(shipped) >= 4
    for meta in shipped:
        assert meta["name"] in rows, meta["name"]
        row = rows[meta["name"]]
        assert row[1] == meta["version"] and row[3] == meta["licence"] and row[4] == meta["attribution"]


@pytest.mark.django_db
def test_the_method_page_explains_exclusions_method_order_ranges_and_limits_in_norwegian(reference, client):
    html, tree = page(client, "/metode/")
    text = squash(html)
    for phrase in ["Lønn og sosiale utgifter (art 010–099 og 165)", "merverdiavgift er art 429", "(art 500–599)",
                   "(art 600–999)", "(art 380–399 og 290)", "(art 280–285)", "artskode som ikke finnes",
                   "Leverandørens utslipp per krone for hele selskapet.", "Aktivitetsbasert.",
                   "Norsk kostnadsbasert.", "konsumprisindeksen",
                   "Norges Banks", "kategori 1", "kategori 2", "KOSTRA-linjene for det året tas ut",
                   "holder kjøp mellom dem utenfor", "EPA", "avfallsforbrenning", "melkekubesetninger",
                   "elektriske norske jernbanen", "2025 og 2026 er et foreløpig anslag"]:
        assert phrase in text, phrase
    ranges = table_cells(tree.find_all("table", id="default-ranges")[0])
    assert ranges[2:] == ["1", "± 20 %", "2", "± 20 %", "3", "± 30 %", "4", "± 50 %", "5", "± 70 %"]


# --- comparison ---------------------------------------------------------------------------------------------

PAPER_NOK = 1_000_000


def spend_factor(set_name: str, category: str) -> Factor:
    return Factor.objects.get(factor_set__name=set_name, category__code=category, basis="spend")


@pytest.fixture
def two_runs(reference, org, other_org):
    """Kongsvinger buys paper (art 120 mapped to goods.paper) in 2024. The DFØ set has a paper factor;
    the provisional set has none, so its computation takes the provisional set's factor for the parent, office
    supplies (method v2: the chosen set anywhere on the category's path before the EPA fallback's paper factor)."""
    do_set_category_mapping(scheme="kostra_art", code="120", category_code="goods.paper", actor="test")
    import_ledger(org, WEB_HEADER + "15.03.2024;12000;1100;982463718;Kontorgiganten AS;1 000 000,00;Papir;1;1;1\n"
                               "15.03.2024;10000;1100;982463718;Kontorgiganten AS;200 000,00;Penner;1;2;1\n",
                  "kongsvinger.csv", profile=WEB_PROFILE)
    import_ledger(other_org, WEB_HEADER + "15.03.2024;12000;2100;982463718;Kontorgiganten AS;500 000,00;Papir;1;1;1\n",
                  "grue.csv", profile=WEB_PROFILE)
    default = do_compute(actor="test")
    provisional = do_compute(factor_set_name="provisional-dfo", actor="test")
    return default, provisional


def paper_kg(nok: float, set_name: str, category: str = "goods.paper") -> float:
    f = spend_factor(set_name, category)
    return nok * cpi(f.price_year) / cpi(2024) * f.value


def signed(value: float) -> str:
    text = norwegian(value)
    return f"+{text}" if round(value, 1) > 0 else text


@pytest.mark.django_db
def test_the_comparison_shows_the_difference_per_category_for_two_factor_sets(two_runs, client, org):
    default, provisional = two_runs
    client.force_login(make_user("regionadmin", org, "region-admin"))
    html, tree = page(client, f"/sammenligning/?a={default.pk}&b={provisional.pk}")
    rows = rows_of(tree.find_all("table", id="difference-table")[0])
    assert rows[0][0] == "Papir og trykksaker"  # the largest change first
    base = paper_kg(PAPER_NOK + 500_000, "dfo-klimaintensiteter")
    other = paper_kg(PAPER_NOK + 500_000, "provisional-dfo", "goods.office")
    assert rows[0][1:4] == [norwegian(base / 1000), norwegian(other / 1000), signed((other - base) / 1000)]
    office = [r for r in rows if r[0] == "Kontorrekvisita"][0]
    assert office[3] == "0,0"  # both sets have the same office-supplies factor
    assert "provisional-dfo:2026.1" in html and "dfo-klimaintensiteter:2026.1" in html


@pytest.mark.django_db
def test_a_reader_of_grue_compares_only_grues_purchases(two_runs, client, other_org):
    default, provisional = two_runs
    client.force_login(make_user("grue-leser", other_org, "reader"))
    _, tree = page(client, f"/sammenligning/?a={default.pk}&b={provisional.pk}")
    rows = rows_of(tree.find_all("table", id="difference-table")[0])
    assert [r[0] for r in rows] == ["Papir og trykksaker"]
    base, other = paper_kg(500_000, "dfo-klimaintensiteter"), paper_kg(500_000, "provisional-dfo", "goods.office")
    assert rows[0][1:3] == [norwegian(base / 1000), norwegian(other / 1000)]


@pytest.mark.django_db
def test_the_comparison_offers_the_runs_by_number_factor_sets_and_date(two_runs, reader_client):
    default, provisional = two_runs
    html, tree = page(reader_client, "/sammenligning/")
    options = [squash(o.text()) for o in tree.find_all("select", name="a")[0].find_all("option")]
    assert len(options) == 2
    assert options[0].startswith(f"Beregning {provisional.pk} – provisional-dfo:2026.1, ")
    assert options[1].startswith(f"Beregning {default.pk} – dfo-klimaintensiteter:2026.1, ")
    assert re.search(r" – \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$", options[0]), options[0]
    assert not tree.find_all("table", id="difference-table")


@pytest.mark.django_db
@pytest.mark.parametrize("query,message", [
    ("?a=abc&b=ONE", "Det finnes ingen ferdig beregning med nummer abc"),
    ("?a=999999&b=ONE", "Det finnes ingen ferdig beregning med nummer 999999"),
    ("?a=1", "Velg en beregning."),
    ("?b=", "Velg en beregning."),
    ("?a=SAME&b=SAME", "Velg to ulike beregninger."),
])
def test_bad_or_missing_run_ids_give_a_clear_message_and_no_server_error(two_runs, reader_client, query, message):
    default, _ = two_runs
    query = query.replace("SAME", str(default.pk)).replace("ONE", str(default.pk))
    response = reader_client.get(f"/sammenligning/{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and message in html
    assert 'id="difference-table"' not in html


@pytest.mark.django_db
def test_the_comparison_says_so_when_there_is_nothing_to_compare(reader_client):
    html, _ = page(reader_client, "/sammenligning/")
    assert "For få beregninger å sammenligne" in html
    assert ComputeRun.objects.count() == 0


# --- accessibility, navigation and permissions ----------------------------------------------------------------

@pytest.mark.django_db
def test_the_new_pages_have_one_h1_headings_in_order_labelled_fields_and_no_inline_script_or_style(two_runs, client,
                                                                                                   org):
    default, provisional = two_runs
    client.force_login(make_user("regionadmin", org, "region-admin"))
    urls = ["/faktorer/", "/faktorer/?q=mat", f"/faktorer/{office_factor().pk}/", "/metode/", "/sammenligning/",
            f"/sammenligning/?a={default.pk}&b={provisional.pk}"]
    for url in urls:
        html, tree = page(client, url)
        assert "<script" not in html.lower() and " style=" not in html.lower(), url
        levels = [int(n.tag[1]) for n in tree.iter() if re.fullmatch(r"h[1-6]", n.tag)]
        assert levels[0] == 1 and levels.count(1) == 1, url
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"{url}: heading h{after} after h{before}"
        for table in tree.find_all("table"):
            assert table.find_all("caption"), url
        for th in tree.find_all("th"):
            assert th.attrs.get("scope") in ("col", "row"), url
        labelled = {n.attrs.get("for") for n in tree.find_all("label")}
        for control in [n for n in tree.iter() if n.tag in ("input", "select", "textarea")]:
            if control.attrs.get("type") in ("hidden", "submit"):
                continue
            assert control.attrs.get("id") in labelled, (url, control.attrs)


@pytest.mark.django_db
def test_the_navigation_links_to_the_library_the_comparison_and_the_method(reader_client, client):
    _, tree = page(reader_client, "/metode/")
    nav = tree.find_all("nav", class_="site-nav")[0]
    links = {a.attrs["href"]: a for a in nav.find_all("a")}
    assert {"/faktorer/", "/sammenligning/", "/metode/"} <= set(links)
    assert links["/metode/"].attrs.get("aria-current") == "page"
    client.logout()
    _, tree = page(client, "/metode/")
    hrefs = {a.attrs["href"] for a in tree.find_all("nav", class_="site-nav")[0].find_all("a")}
    assert "/metode/" in hrefs and "/faktorer/" not in hrefs  # the library needs a login, the method does not


def test_the_permission_table_has_rows_for_the_library_the_method_and_the_comparison():
    for route in ["faktorer/", "faktorer/<int:pk>/", "metode/", "sammenligning/"]:
        assert EXPECTATIONS.get(route), route
    assert all(expected == 200 for _, _, row in EXPECTATIONS["metode/"] for expected in row.values())

