"""Dashboards by period (year, half-year, tertial, quarter), the comparison with the year before, unit
dashboards, and the drill-down from a figure to the lines behind it (page, sums, sorting, CSV)."""
from __future__ import annotations

import csv
import io

import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import lines as line_selectors
from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.models import Membership, Organisation, Unit
from tests.conftest import Shared, shared_state
from tests.factories import (
    GRUE_CSV,
    KONGSVINGER_CSV,
    WEB_HEADER,
    WEB_PROFILE,
    assert_no_inline_script,
    import_ledger,
    kg,
    make_grue,
    make_kongsvinger,
    make_user,
    norwegian,
    page,
    squash,
    table_cells,
)

# 2023 for the comparison (office supplies in the second quarter), and 2024 pens bought by unit 1110,
# a sub-unit of 1100, in November.
KONGSVINGER_2023_CSV = WEB_HEADER + "10.04.2023;10000;1100;982463718;Kontorgiganten AS;50 000,00;Papir;5;1;1\n"
KONGSVINGER_PENS_CSV = WEB_HEADER + "05.11.2024;10000;1110;982463718;Kontorgiganten AS;10 000,00;Penner;6;1;1\n"

OFFICE_MARCH = kg(123_456, "goods.office", 2024)
ELECTRICITY_JUNE = kg(250_000, "energy.electricity", 2024)
WORKS_SEPTEMBER = kg(1_000_000, "construction.works", 2024)
PENS_NOVEMBER = kg(10_000, "goods.office", 2024)
OFFICE_APRIL_2023 = kg(50_000, "goods.office", 2023)
BY_MONTH_2024 = {3: OFFICE_MARCH, 6: ELECTRICITY_JUNE, 9: WORKS_SEPTEMBER, 11: PENS_NOVEMBER}
SPEND_BY_MONTH_2024 = {3: 123_456, 6: 250_000, 9: 1_000_000, 11: 10_000}
KONGSVINGER, GRUE = "944117784", "964950113"


def by_hand(months: range, table: dict = BY_MONTH_2024) -> float:
    return sum(v for m, v in table.items() if m in months)


@pytest.fixture(scope="module")
def shared_dashboards(request):
    """Kongsvinger's ledgers of 2023 and 2024 (unit 1110 under 1100) and Grue's of 2024, computed once for the
    module (tests/conftest.py shared_state); each test in its own savepoint."""
    with shared_state(request, "dashboards") as path:
        org, other_org = make_kongsvinger(), make_grue()
        import_ledger(org, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
        import_ledger(org, KONGSVINGER_2023_CSV, "kongsvinger-2023.csv", profile=WEB_PROFILE)
        import_ledger(org, KONGSVINGER_PENS_CSV, "kongsvinger-2024-penner.csv", profile=WEB_PROFILE)
        import_ledger(other_org, GRUE_CSV, "grue-2024.csv", profile=WEB_PROFILE)
        Unit.objects.filter(organisation=org, code="1110").update(
            parent=Unit.objects.get(organisation=org, code="1100"))
        do_compute(actor="test")
        yield Shared(path, None)


@pytest.fixture
def kongsvinger(shared_dashboards, reference):
    return Organisation.objects.get(orgnr=KONGSVINGER)


@pytest.fixture
def admin(client, kongsvinger):
    client.force_login(make_user("regionadmin", kongsvinger, "region-admin"))
    return client


def key_total(tree) -> str:
    """The total sentence under the key figures."""
    section = tree.find_all("section", class_="key-figures")[0]
    return squash(section.text())


# --- periods ------------------------------------------------------------------------------------------------

def test_a_period_is_a_year_a_half_year_a_tertial_or_a_quarter_with_its_months():
    assert dashboard.parse_period("2025").months is None
    assert dashboard.parse_period("2025H1").months == [1, 2, 3, 4, 5, 6]
    assert dashboard.parse_period("2025h2").months == [7, 8, 9, 10, 11, 12]
    assert dashboard.parse_period("2025T2").months == [5, 6, 7, 8]
    assert dashboard.parse_period("2025Q3").months == [7, 8, 9]
    assert dashboard.parse_period("2025Q3").previous() == dashboard.parse_period("2024Q3")
    assert dashboard.parse_period("2025T3").code == "2025T3"


@pytest.mark.parametrize("text", ["", "25", "2025Q5", "2025H0", "2025T4", "2025X1", "2025Q", "Q3-2025", "2025 Q3x"])
def test_anything_else_is_not_a_period(text):
    with pytest.raises(dashboard.PeriodError):
        dashboard.parse_period(text)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/?periode=2025Q5", "/org/944117784/?periode=halvår", "/org/944117784/linjer/?periode=2024T9",
                                 "/org/944117784/enhet/1100/?periode=x"])
def test_a_bad_period_is_a_400_page_that_says_how_to_write_one(admin, url):
    response = admin.get(url)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ukjent periode" in html and "2025Q3" in html and 'role="alert"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("code,months", [("2024", range(0, 13)), ("2024H1", range(1, 7)), ("2024H2", range(7, 13)),
                                         ("2024T1", range(1, 5)), ("2024T2", range(5, 9)), ("2024T3", range(9, 13)),
                                         ("2024Q1", range(1, 4)), ("2024Q2", range(4, 7)), ("2024Q3", range(7, 10)),
                                         ("2024Q4", range(10, 13))])
def test_the_total_of_a_period_is_the_sum_of_its_months_computed_by_hand(admin, code, months):
    expected = by_hand(months)
    overview = dashboard.period_overview(system_scope(), org=KONGSVINGER, period=dashboard.parse_period(code))
    assert overview.total.kg == pytest.approx(expected, rel=1e-9)
    assert overview.total.spend_nok == pytest.approx(by_hand(months, SPEND_BY_MONTH_2024))
    assert overview.total.kg_low <= overview.total.kg <= overview.total.kg_high
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode={code}")
    assert f"Totalt {norwegian(expected / 1000)} tonn CO2e" in key_total(tree)


@pytest.mark.django_db
def test_a_quarter_says_that_kostra_year_lines_count_only_in_the_full_year(admin):
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024Q2")
    assert "KOSTRA" in squash(tree.find_all("p", id="kostra-note")[0].text())
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024")
    assert not tree.find_all("p", id="kostra-note")


@pytest.mark.django_db
def test_a_period_is_compared_with_the_same_period_the_year_before(admin):
    overview = dashboard.period_overview(system_scope(), org=KONGSVINGER, period=dashboard.parse_period("2024Q2"))
    assert overview.previous.kg == pytest.approx(OFFICE_APRIL_2023)
    difference = ELECTRICITY_JUNE - OFFICE_APRIL_2023
    assert overview.difference_kg == pytest.approx(difference)
    assert overview.difference_percent == pytest.approx(100 * difference / OFFICE_APRIL_2023)
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024Q2")
    change = squash(tree.find_all("dd", id="change")[0].text())
    assert f"+{norwegian(difference / 1000)}" in change
    assert f"+{norwegian(100 * difference / OFFICE_APRIL_2023)}\u00a0%" in change
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024Q3")  # nothing in the third quarter of 2023
    assert "Ingen innkjøp i den perioden" in squash(tree.find_all("dd", id="change")[0].text())


@pytest.mark.django_db
def test_the_dashboard_shows_methods_quality_intensity_and_the_range(admin):
    html, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024")
    method_cells = table_cells(tree.find_all("table", id="per-method-table")[0])
    assert "Utgiftsbasert faktor" in method_cells
    assert tree.find_all("table", id="per-quality-table")
    total = by_hand(range(0, 13))
    intensity = total / sum(SPEND_BY_MONTH_2024.values())
    assert norwegian(intensity, 3) in squash(tree.find_all("dd", id="intensity")[0].text())
    overview = dashboard.period_overview(system_scope(), org=KONGSVINGER, period=dashboard.parse_period("2024"))
    # the combined 95 % range of the lines' spreads (method v2; wider than the summed ranges where DFØ and EPA disagree)
    low, high = overview.combined_range
    assert low < overview.total.kg < high and (low, high) != (overview.total.kg_low, overview.total.kg_high)
    assert f"{norwegian(low / 1000)}–{norwegian(high / 1000)}" in key_total(tree)


@pytest.mark.django_db
def test_the_region_page_takes_a_period_and_links_each_organisation_with_it(admin):
    _, tree = page(admin, "/?periode=2024H1")
    assert f"Totalt {norwegian((OFFICE_MARCH + ELECTRICITY_JUNE + kg(77_777, 'goods.office', 2024)) / 1000)}" \
        in key_total(tree)
    links = [a.attrs["href"] for a in tree.find_all("table", id="per-organisation-table")[0].find_all("a")]
    assert f"/org/{KONGSVINGER}/?periode=2024H1" in links
    # the rows are the consolidated region's: the panel says why a row can be lower than the organisation's page
    heading = tree.find_all("h2", id="per-organisation-heading")[0]
    assert "Kjøp fra en annen organisasjon i regionen er holdt utenfor her" in squash(heading.parent.text())


# --- drill-down -----------------------------------------------------------------------------------------------

def row_link(tree, table_id: str, name: str) -> tuple[str, list[str]]:
    for tr in tree.find_all("table", id=table_id)[0].find_all("tr"):
        th = tr.find_all("th", scope="row")
        if th and squash(th[0].text()) == name:
            return th[0].find_all("a")[0].attrs["href"], [squash(td.text()) for td in tr.find_all("td")]
    raise AssertionError(f"no row {name} in {table_id}")


def drill(client, href: str) -> dict:
    _, tree = page(client, href)
    return {"lines": squash(tree.find_all("dd", id="total-lines")[0].text()),
            "amount": squash(tree.find_all("dd", id="total-amount")[0].text()),
            "tonnes": squash(tree.find_all("dd", id="total-tonnes")[0].text()),
            "keys": [a.attrs["href"] for a in tree.find_all("table", id="lines-table")[0].find_all("a")]}


@pytest.mark.django_db
@pytest.mark.parametrize("table,name", [("per-category-table", "Kontorrekvisita"), ("per-unit-table", "1100"),
                                        ("top-suppliers-table", "Kontorgiganten AS"),
                                        ("per-method-table", "Utgiftsbasert faktor")])
def test_the_lines_behind_a_dashboard_row_add_up_to_the_rows_figures(admin, table, name):
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024")
    href, cells = row_link(tree, table, name)
    # the row's cells: operating, investment, total tonnes, purchases NOK, ... (methods: tonnes, share, NOK)
    tonnes, spend = (cells[0], cells[2]) if table == "per-method-table" else (cells[2], cells[3])
    found = drill(admin, href)
    assert found["tonnes"] == tonnes and found["amount"] == spend


@pytest.mark.django_db
def test_the_drill_down_sums_equal_the_dashboard_figures_exactly_and_the_csv_has_the_same_rows(admin):
    scope = system_scope()
    period = dashboard.parse_period("2024H2")
    overview = dashboard.period_overview(scope, org=KONGSVINGER, period=period)
    office = next(f for f in overview.per_category if f.key == "goods.office")
    total = line_selectors.lines_total(scope, org=KONGSVINGER, year=2024, months=period.months,
                                       category="goods.office")
    assert total["kg_co2e"] == pytest.approx(office.kg, rel=1e-12) == pytest.approx(PENS_NOVEMBER)
    assert total["amount_nok"] == pytest.approx(office.spend_nok) == 10_000
    assert total["lines"] == office.lines == 1
    html_rows = drill(admin, f"/org/{KONGSVINGER}/linjer/?periode=2024")["keys"]
    response = admin.get(f"/org/{KONGSVINGER}/linjer/?periode=2024&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [f"/org/{KONGSVINGER}/linje/{r['Linjenøkkel']}/" for r in rows] == html_rows  # headers in bokmål
    assert sum(float(r["Beløp, kr"].replace(",", ".")) for r in rows) == pytest.approx(sum(SPEND_BY_MONTH_2024.values()))
    assert sum(float(r["kg CO2e"].replace(",", ".")) for r in rows) == pytest.approx(by_hand(range(13)), rel=1e-6)
    assert {r["Metode"] for r in rows} == {"Kostnadsbasert"}


@pytest.mark.django_db
def test_the_lines_are_sorted_by_emissions_or_by_amount(admin):
    by_kg = line_selectors.lines(system_scope(), org=KONGSVINGER, year=2024)
    assert [r["kg_co2e"] for r in by_kg] == sorted((r["kg_co2e"] for r in by_kg), reverse=True)
    by_amount = line_selectors.lines(system_scope(), org=KONGSVINGER, year=2024, order="amount")
    assert [r["amount_ore"] for r in by_amount] == sorted((r["amount_ore"] for r in by_amount), reverse=True)
    _, tree = page(admin, f"/org/{KONGSVINGER}/linjer/?periode=2024&sortering=belop")
    amounts = [squash(td.text()) for tr in tree.find_all("table", id="lines-table")[0].find_all("tr")
               for td in tr.find_all("td", class_="num")][0::2]
    assert amounts[0] == norwegian(1_000_000, 2)
    assert admin.get(f"/org/{KONGSVINGER}/linjer/?sortering=størst").status_code == 400


# --- units ----------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_unit_dashboard_shows_the_unit_with_its_sub_units(admin):
    html, tree = page(admin, f"/org/{KONGSVINGER}/enhet/1100/?periode=2024")
    assert f"Totalt {norwegian((OFFICE_MARCH + PENS_NOVEMBER) / 1000)} tonn CO2e" in key_total(tree)
    unit_rows = [squash(th.text()) for th in tree.find_all("table", id="per-unit-table")[0].find_all("th", scope="row")]
    assert sorted(unit_rows) == ["1100", "1110"]
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2024")
    href, _ = row_link(tree, "per-unit-table", "1200")
    assert href == f"/org/{KONGSVINGER}/linjer/?periode=2024&enhet=1200"


@pytest.mark.django_db
def test_a_unit_leader_sees_only_their_units_on_the_unit_dashboard_and_in_the_lines(kongsvinger, client):
    user = make_user("enhetsleder")
    Membership.objects.create(user=user, organisation=kongsvinger, role="unit-leader",
                              unit=Unit.objects.get(organisation=kongsvinger, code="1100"))
    client.force_login(user)
    assert client.get(f"/org/{KONGSVINGER}/enhet/1200/").status_code == 404
    assert client.get(f"/org/{KONGSVINGER}/enhet/1110/").status_code == 200
    assert client.get(f"/org/{KONGSVINGER}/linjer/?enhet=1200").status_code == 404
    assert client.get(f"/org/{GRUE}/linjer/").status_code == 404
    _, tree = page(client, f"/org/{KONGSVINGER}/enhet/1100/?periode=2024")
    assert f"Totalt {norwegian((OFFICE_MARCH + PENS_NOVEMBER) / 1000)} tonn CO2e" in key_total(tree)
    response = client.get(f"/org/{KONGSVINGER}/linjer/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")),
                               delimiter=";"))
    assert sorted({r["Ansvar"] for r in rows}) == ["1100", "1110"]
    found = drill(client, f"/org/{KONGSVINGER}/linjer/")
    assert found["lines"] == "3"  # office supplies 2024 and 2023, pens; not 1200's electricity and works
    html, tree = page(client, f"/org/{KONGSVINGER}/")
    cells = table_cells(tree.find_all("table", id="per-unit-table")[0])
    assert "1200" not in cells and "1100" in cells
    assert "kongsvinger-2024.csv" not in html  # the organisation's imported files are not the leader's
    assert client.get(f"/org/{KONGSVINGER}/importer/").status_code == 403


@pytest.mark.django_db
def test_dashboards_have_one_h1_ordered_headings_and_no_inline_script_or_style(admin):
    import re

    for url in ["/?periode=2024Q2", f"/org/{KONGSVINGER}/?periode=2024T1", f"/org/{KONGSVINGER}/enhet/1100/",
                f"/org/{KONGSVINGER}/linjer/?periode=2024"]:
        html, tree = page(admin, url)
        assert " style=" not in html.lower()
        assert_no_inline_script(tree, url)
        levels = [int(n.tag[1]) for n in tree.iter() if re.fullmatch(r"h[1-6]", n.tag)]
        assert levels[0] == 1 and levels.count(1) == 1, url
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"{url}: heading h{after} after h{before}"


# --- speed without wrong figures: one grouped read, cached per run and scope, charts without Altair ----------

@pytest.mark.django_db
def test_a_warm_cache_gives_a_unit_leader_and_an_administrator_their_own_figures(kongsvinger, client):
    """The figures are cached per compute run and scope: after the administrator's visit warmed the cache,
    the unit leader of 1100 still sees only 1100 and 1110, and the administrator still sees every unit."""
    from django.core.cache import cache

    cache.clear()
    admin_user = make_user("regionadmin", kongsvinger, "region-admin")
    leader = make_user("enhetsleder")
    Membership.objects.create(user=leader, organisation=kongsvinger, role="unit-leader",
                              unit=Unit.objects.get(organisation=kongsvinger, code="1100"))
    everything = norwegian((OFFICE_MARCH + ELECTRICITY_JUNE + WORKS_SEPTEMBER + PENS_NOVEMBER) / 1000)
    own = norwegian((OFFICE_MARCH + PENS_NOVEMBER) / 1000)
    for _ in range(2):  # the second round is served from the cache
        client.force_login(admin_user)
        _, tree = page(client, f"/org/{KONGSVINGER}/?periode=2024")
        assert f"Totalt {everything} tonn CO2e" in key_total(tree)
        admin_units = table_cells(tree.find_all("table", id="per-unit-table")[0])
        assert "1200" in admin_units
        client.force_login(leader)
        _, tree = page(client, f"/org/{KONGSVINGER}/?periode=2024")
        assert f"Totalt {own} tonn CO2e" in key_total(tree)
        leader_units = table_cells(tree.find_all("table", id="per-unit-table")[0])
        assert "1200" not in leader_units and "1100" in leader_units
        assert everything != own


@pytest.mark.django_db
def test_a_new_compute_run_is_not_answered_from_the_cache_of_the_previous_one(admin, kongsvinger):
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2023")
    assert f"Totalt {norwegian(OFFICE_APRIL_2023 / 1000)} tonn CO2e" in key_total(tree)
    import_ledger(kongsvinger, WEB_HEADER + "12.05.2023;10000;1100;982463718;Kontorgiganten AS;20 000,00;Papir;7;1;1\n",
                  "kongsvinger-2023-mer.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    _, tree = page(admin, f"/org/{KONGSVINGER}/?periode=2023")
    assert f"Totalt {norwegian(kg(70_000, 'goods.office', 2023) / 1000)} tonn CO2e" in key_total(tree)


@pytest.mark.django_db
def test_a_renamed_unit_shows_at_once_on_a_page_served_from_the_cache(admin, kongsvinger):
    """The page's content is cached per compute run and last change: a rename writes an audit entry, so the next
    visit shows the new name without a compute run."""
    from klimainnkjop.services.users import do_update_unit

    html, _ = page(admin, f"/org/{KONGSVINGER}/?periode=2024")
    assert "Nytt skolebygg" not in html
    do_update_unit(unit=Unit.objects.get(organisation=kongsvinger, code="1100"), name="Nytt skolebygg", actor="test")
    html, _ = page(admin, f"/org/{KONGSVINGER}/?periode=2024")
    assert "Nytt skolebygg" in html


@pytest.mark.django_db
def test_a_page_served_from_the_cache_names_its_own_visitor_and_carries_their_own_sign_out_token(kongsvinger,
                                                                                                   client):
    """The cached part is the content only: the frame with the visitor's name and the CSRF token of their session
    is rendered for every request, so the second administrator is named and can sign out with the page's token."""
    from django.test import Client

    first, second = (make_user(name, kongsvinger, "region-admin") for name in ("forste-admin", "andre-admin"))
    client.force_login(first)
    html_first, _ = page(client, "/")
    client.logout()
    client.force_login(second)
    html_second, _ = page(client, "/")
    assert "Logget inn som forste-admin." in html_first and "Logget inn som andre-admin." in html_second
    assert "forste-admin" not in html_second
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(second)
    html_third, _ = page(csrf_client, "/")
    token = html_third.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = csrf_client.post("/logg-ut/", {"csrfmiddlewaretoken": token})
    assert response.status_code in (302, 303), response.status_code


@pytest.mark.django_db
def test_a_sign_in_is_not_a_change_of_the_data_but_an_import_is(kongsvinger):
    from klimainnkjop.selectors import audit
    from klimainnkjop.services.auth import record_sign_in

    before = audit.last_change()
    record_sign_in(user=make_user("noen", kongsvinger, "reader"), ip="127.0.0.1", method="password")
    assert audit.last_change() == before
    import_ledger(kongsvinger, KONGSVINGER_2023_CSV.replace("Papir", "Konvolutter"), "mer.csv", profile=WEB_PROFILE)
    assert audit.last_change() != before


@pytest.mark.django_db
@pytest.mark.parametrize("org_code, code, units", [
    (None, "2024", None), (None, "2024Q2", None), ("944117784", "2024", None), ("944117784", "2024H2", None),
    ("944117784", "2024T3", ["1100", "1110"]), ("944117784", "2024Q4", ["1110"])])
def test_the_one_grouped_read_gives_what_the_separate_reads_give(kongsvinger, org_code, code, units):
    """results.period_totals (one read) against totals / excluded_spend (five reads), figure by figure."""
    from klimainnkjop.selectors import results

    scope = system_scope()
    period = dashboard.parse_period(code)
    months = period.months
    one = results.period_totals(scope, org=org_code, year=period.year, months=months, units=units)

    def sums(rows, key):
        out = {}
        for r in rows:
            k = key(r)
            s = out.setdefault(k, [0.0, 0.0, 0.0, 0.0, 0, 0.0])
            for i, f in enumerate(["kg_co2e", "spend_nok", "kg_co2e_low", "kg_co2e_high", "lines",
                                   "covered_spend_nok"]):
                s[i] += r[f]
        return {k: [round(v, 6) for v in s] for k, s in out.items()}

    keys = ["org", "category", "method", "quality", "investment"]
    period_rows = results.totals(scope, org=org_code, year=period.year, by=keys, months=months, units=units)["rows"]
    assert period_rows and sums(one["period"], lambda r: tuple(r[k] for k in keys)) == sums(
        period_rows, lambda r: tuple(r[k] for k in keys))
    by_year = results.totals(scope, org=org_code, by=["year", "investment"], units=units)["rows"]
    assert sums(one["per_year"], lambda r: (r["year"], r["investment"])) == sums(
        by_year, lambda r: (r["year"], r["investment"]))
    previous = results.totals(scope, org=org_code, year=period.year - 1, by=["investment"], months=months,
                              units=units)["rows"]
    assert sums(one["previous"], lambda r: r["investment"]) == sums(previous, lambda r: r["investment"])
    if months is not None:
        kostra = results.totals(scope, org=org_code, year=period.year, by=["investment"], months=[0], units=units)
        assert sums(one["kostra"], lambda r: r["investment"]) == sums(kostra["rows"], lambda r: r["investment"])
    assert one["excluded"] == results.excluded_spend(scope, org=org_code, year=period.year, months=months,
                                                     units=units)


def test_the_chart_spec_is_the_one_altair_would_write():
    alt = pytest.importorskip("altair")
    from klimainnkjop.reports import charts

    bars = [charts.Bar("Kontor", {"Drift": 1.5, "Investering": 0.5}, "2,0"), charts.Bar("Bygg", {"Drift": 1.0}, "1,0")]
    for series in (["Drift", "Investering"], ["Tonn CO2e"]):
        for horizontal in (True, False):
            for legend in ("", "Art"):
                expected = _altair_spec(alt, bars, series=series, value_title="Tonn CO2e", horizontal=horizontal,
                                        legend_title=legend)
                assert charts.bar_chart_spec(bars, series=series, value_title="Tonn CO2e", horizontal=horizontal,
                                             legend_title=legend) == expected
    assert charts.bar_chart_spec([], series=["Tonn"], value_title="Tonn") == _altair_spec(
        alt, [], series=["Tonn"], value_title="Tonn")


def _altair_spec(alt, bars, *, series, value_title, horizontal=False, legend_title=""):
    """The chart as web.charts wrote it with Altair (with schema validation) before it wrote the dict."""
    from klimainnkjop.reports.charts import FONT, PALETTE

    names = [b.name for b in bars]
    parts = [{"name": b.name, "series": s, "value": float(b.values.get(s, 0.0)), "order": i}
             for b in bars for i, s in enumerate(series)]
    totals = [{"name": b.name, "total": float(sum(b.values.get(s, 0.0) for s in series)), "label": b.label}
              for b in bars]
    highest = max([t["total"] for t in totals] + [0.0])
    lowest = min([t["total"] for t in totals] + [0.0])
    value_scale = alt.Scale(domain=[lowest * 1.15, highest * (1.25 if horizontal else 1.12) or 1.0], nice=True)
    category = alt.X if not horizontal else alt.Y
    value = alt.Y if not horizontal else alt.X
    cat_axis = alt.Axis(title=None, labelLimit=260, labelFontSize=12, **({} if horizontal else {"labelAngle": 0}))
    val_axis = alt.Axis(title=value_title, format=",~r", grid=True, labelFontSize=11, tickCount=5)
    color = alt.Color("series:N", scale=alt.Scale(domain=series, range=PALETTE[:len(series)]),
                      sort=series, legend=alt.Legend(title=legend_title or None, orient="top", labelFontSize=12)
                      if len(series) > 1 else None)
    bar_layer = alt.Chart(alt.Data(values=parts)).mark_bar().encode(
        category("name:N", sort=names, axis=cat_axis), value("value:Q", stack="zero", axis=val_axis,
                                                             scale=value_scale),
        color, order=alt.Order("order:Q"))
    text_layer = alt.Chart(alt.Data(values=totals)).mark_text(
        align="left" if horizontal else "center", baseline="middle" if horizontal else "bottom",
        dx=4 if horizontal else 0, dy=0 if horizontal else -3, fontSize=12, color="#1a1a1a",
    ).encode(category("name:N", sort=names), value("total:Q"), text="label:N")
    chart = alt.layer(bar_layer, text_layer)
    if horizontal:
        chart = chart.properties(width=480, height=max(60, 26 * len(bars)))
    else:
        chart = chart.properties(width=max(420, min(720, 90 * len(bars))), height=260)
    spec = chart.configure(font=FONT, aria=False).configure_view(stroke=None).to_dict()
    spec.pop("$schema", None)
    return spec


@pytest.mark.django_db
def test_cached_line_reads_stay_within_each_scope_and_follow_a_new_compute_run(kongsvinger):
    """A page of the drill-down list and its total are cached per run and scope: after the whole organisation's
    read, a unit leader's same read gives only their units; another organisation's scope is refused before any
    cache is asked; a new compute run is read afresh."""
    from django.core.cache import cache

    from klimainnkjop.access import OutsideScope, Scope

    cache.clear()
    everything = system_scope()
    leader = Scope(orgnrs=frozenset({KONGSVINGER}), units={KONGSVINGER: frozenset({"1100", "1110"})},
                   label="unit leader")
    stranger = Scope(orgnrs=frozenset({GRUE}), label="Grue")
    for _ in range(2):  # the second round is served from the cache
        all_lines = line_selectors.lines(everything, org=KONGSVINGER, year=2024)
        own_lines = line_selectors.lines(leader, org=KONGSVINGER, year=2024)
        assert {r["unit"] for r in all_lines} >= {"1100", "1200"}
        assert {r["unit"] for r in own_lines} <= {"1100", "1110"} and own_lines
        own_total = line_selectors.lines_total(leader, org=KONGSVINGER, year=2024)
        assert own_total["lines"] == len(own_lines) < line_selectors.lines_total(everything, org=KONGSVINGER,
                                                                                 year=2024)["lines"]
        assert own_total["kg_co2e"] == pytest.approx(sum(r["kg_co2e"] for r in own_lines))
        with pytest.raises(OutsideScope):
            line_selectors.lines(stranger, org=KONGSVINGER, year=2024)
        with pytest.raises(OutsideScope):
            line_selectors.lines_total(stranger, org=KONGSVINGER, year=2024)
    before = line_selectors.lines_total(everything, org=KONGSVINGER, year=2023)
    import_ledger(kongsvinger, WEB_HEADER + "12.05.2023;10000;1100;982463718;Kontorgiganten AS;20 000,00;Papir;7;1;1\n",
                  "kongsvinger-2023-mer.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    after = line_selectors.lines_total(everything, org=KONGSVINGER, year=2023)
    assert after["lines"] == before["lines"] + 1 and after["amount_nok"] == before["amount_nok"] + 20_000
    assert len(line_selectors.lines(everything, org=KONGSVINGER, year=2023)) == after["lines"]


# --- the year under way --------------------------------------------------------------------------------------

def test_a_year_is_under_way_in_its_calendar_year_until_its_purchases_reach_december():
    import datetime as dt

    today = dt.date(2026, 12, 1)
    assert dashboard.under_way_through(2026, 11, today) == 11
    assert dashboard.under_way_through(2026, 12, today) is None  # December reached: the whole year
    assert dashboard.under_way_through(2025, 11, today) is None  # a past year is compared whole
    assert dashboard.under_way_through(2026, 0, today) is None  # KOSTRA's annual lines only
