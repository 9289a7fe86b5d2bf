"""Every page in a real browser (Debian's Chromium driven by Playwright) with axe-core: no WCAG 2.1 A/AA
violations, and the keyboard reaches the content."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.access import operator
from klimainnkjop.storage.models import Factor, Membership

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "en-lang-og-god-passfrase"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop next to pytest-django; only while these tests run (a
    # process-wide setting would leak into the production deploy check of tests/test_auth.py).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def signed_in(browser, live_server, region_data):  # noqa: F811
    org, _ = region_data
    user = get_user_model().objects.create_user("admin@region.no", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role="region-admin")
    page = browser.new_page(locale="nb-NO")
    page.goto(f"{live_server.url}/logg-inn/")
    page.get_by_label("Brukernavn").fill("admin@region.no")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(f"{live_server.url}/")
    yield page, live_server.url, region_data
    page.close()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return result


def wait_for_charts(page) -> None:
    """The dashboards' charts are drawn in the browser after the page has loaded (web/static/web/charts.js)."""
    page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn)")


def pages(base: str, org, other) -> list[str]:
    factor = Factor.objects.filter(factor_set__name="dfo-klimaintensiteter", category__code="goods.office").first()
    return [
        "/", f"/org/{org.orgnr}/", f"/org/{other.orgnr}/", "/faktorer/", "/faktorer/?q=mat",
        f"/faktorer/{factor.pk}/", "/metode/", "/sammenligning/", "/hjelp/",  # the user guide (issue 18)
        # dashboards by period, a unit dashboard and the drill-down to lines (web/views.py, web/views_lines.py)
        "/?periode=2024H1", f"/org/{org.orgnr}/?periode=2024Q2", f"/org/{org.orgnr}/enhet/1200/?periode=2024",
        f"/org/{org.orgnr}/linjer/?periode=2024", f"/org/{org.orgnr}/linjer/?periode=2024&sortering=belop",
        "/?periode=2024Q9",
        # agreements, renewals and the requirement library (web/views_agreements.py)
        "/avtaler/", "/avtaler/fornyelser/", "/avtaler/ny/", "/kravbibliotek/", "/kravbibliotek/BYG-01/",
        "/kravbibliotek/BYG-01/endre/", "/saker/", "/saker/ny/", "/saker/sjekkliste/",
        "/dokumenter/",  # the baseline report and the case documents (issue 13)
    ]


def test_no_page_has_wcag_a_or_aa_violations(signed_in):
    page, base, (org, other) = signed_in
    problems = {}
    for path in pages(base, org, other):
        response = page.goto(base + path)
        assert response.status == (400 if path.endswith("Q9") else 200), path
        wait_for_charts(page)
        violations = axe_violations(page)
        if violations:
            problems[path] = violations
    assert not problems, problems


def test_the_charts_are_drawn_in_the_browser_as_svg_with_the_tables_numbers_and_no_csp_violation(signed_in):
    page, base, (org, _) = signed_in
    console = []
    page.on("console", lambda message: console.append(message.text))
    for path in ["/", f"/org/{org.orgnr}/", f"/org/{org.orgnr}/?periode=2024Q2"]:
        page.goto(base + path)
        wait_for_charts(page)
        wrappers = page.locator("[data-chart]")
        assert wrappers.count() >= 2, path
        for i in range(wrappers.count()):
            wrapper = wrappers.nth(i)
            assert wrapper.get_attribute("data-drawn") == "true", path
            assert wrapper.get_attribute("role") == "img" and wrapper.get_attribute("aria-labelledby")
            svg = wrapper.locator("svg")
            assert svg.count() == 1 and svg.get_attribute("aria-hidden") == "true"
            # the values printed by the bars (Vega's text marks) are the numbers of the panel's table
            printed = [t.strip() for t in wrapper.locator("g.mark-text.role-mark text").all_text_contents()]
            assert printed, path
            section = wrapper.locator("xpath=ancestor::section[1]")
            cells = [c.strip() for c in section.locator("table td, table th").all_text_contents()]
            for label in printed:
                assert label in cells, (path, label)
    # the Content Security Policy (report-only outside production) would name any eval or inline style
    assert not [m for m in console if "Content Security Policy" in m or "chart" in m.lower()], console


OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const wide = document.documentElement.scrollWidth > width;
    const tables = [...document.querySelectorAll('main table')].map(t => {
        const wrap = t.closest('.table-wrap');
        const right = (wrap || t).getBoundingClientRect().right;
        const scrolls = wrap !== null && wrap.scrollWidth > wrap.clientWidth;
        return {id: t.id || t.caption?.textContent.trim().slice(0, 40), past: right > width + 0.5,
                scrolls: scrolls, focusable: wrap !== null && wrap.tabIndex >= 0,
                scrollable: wrap !== null && ['auto', 'scroll'].includes(getComputedStyle(wrap).overflowX)};
    });
    return {width: width, wide: wide, tables: tables};
}"""


def test_at_1366_pixels_no_table_runs_past_the_window_and_one_too_wide_scrolls_in_a_focusable_box(signed_in):
    """Issue 18: the unit table overflowed at 1366 px. Each table stays within the window, or its box scrolls
    sideways and takes keyboard focus, so that it can be scrolled without a mouse."""
    page, base, (org, _) = signed_in
    page.set_viewport_size({"width": 1366, "height": 768})
    for path in [f"/org/{org.orgnr}/", f"/org/{org.orgnr}/?periode=2024Q2", f"/org/{org.orgnr}/enhet/1200/?periode=2024",
                 "/", f"/org/{org.orgnr}/linjer/?periode=2024"]:
        page.goto(base + path)
        found = page.evaluate(OVERFLOW)
        assert 1300 < found["width"] <= 1366, path  # the window less any scroll bar
        assert not found["wide"], (path, "the page scrolls sideways")
        assert found["tables"], path
        for table in found["tables"]:
            assert not table["past"], (path, table)
            if table["scrolls"]:
                assert table["scrollable"] and table["focusable"], (path, table)
    # the unit table itself: within the window, and its box a focusable region should it ever need to scroll
    page.goto(base + f"/org/{org.orgnr}/?periode=2024")
    wrap = page.locator("#per-unit-table").locator("xpath=ancestor::div[contains(@class, 'table-wrap')][1]")
    assert wrap.get_attribute("tabindex") == "0" and wrap.get_attribute("role") == "region"
    box = wrap.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366


def test_the_login_page_has_no_wcag_violations(browser, live_server):
    page = browser.new_page(locale="nb-NO")
    page.goto(f"{live_server.url}/logg-inn/")
    assert axe_violations(page) == []
    page.close()


def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(signed_in):
    page, base, _ = signed_in
    page.goto(base + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused and focused.startswith("#")
    page.keyboard.press("Enter")
    target = focused[1:]
    assert page.evaluate("location.hash") == f"#{target}"
    page.keyboard.press("Tab")
    inside = page.evaluate(f"document.getElementById('{target}').contains(document.activeElement)")
    assert inside


def test_the_organisations_emissions_per_category_are_one_click_from_the_region_page(signed_in):
    page, base, (org, _) = signed_in
    page.goto(base + "/")
    page.get_by_role("link", name=org.name).first.click()
    # the URL changes when the navigation commits, before the page is parsed: wait for it to load
    page.wait_for_url(f"**/org/{org.orgnr}/**", wait_until="load")
    assert page.url.split("?")[0].rstrip("/").endswith(org.orgnr)  # the link keeps the period (?periode=)
    table = page.get_by_role("table", name="kategori").first
    table.wait_for(state="visible")
    assert table.is_visible()
    assert table.get_by_role("row").count() > 1


def test_the_largest_category_and_the_lines_behind_it_are_three_clicks_from_the_region_page(signed_in):
    page, base, (org, _) = signed_in
    page.goto(base + "/")
    page.get_by_role("table", name="organisasjon").get_by_role("link", name=org.name).click()  # 1
    page.wait_for_url(f"**/org/{org.orgnr}/**")
    categories = page.locator("#per-category-table")
    categories.locator("tbody tr").first.get_by_role("link").click()  # 2: the largest category
    page.wait_for_url("**/linjer/**")
    assert "kategori=" in page.url
    table = page.get_by_role("table", name="Innkjøpslinjer")
    assert table.locator("tbody tr").count() >= 1
    kg = [float(t.replace("\u00a0", "").replace(" ", "").replace(",", "."))
          for t in table.locator("tbody td.num:nth-child(8)").all_inner_texts()]
    assert kg == sorted(kg, reverse=True)
    table.locator("tbody tr").first.get_by_role("link").click()  # 3: the line's explanation
    assert "/linje/" in page.url


def administration_pages(org) -> list[str]:
    """The pages behind sign-in that are not dashboards: administration, audit, account, reports, review and
    a line's explanation (web/views_admin.py, views_account.py, views_reports.py, views_review.py)."""
    from klimainnkjop.selectors import lines as line_selectors
    from klimainnkjop.access import system_scope
    from klimainnkjop.storage.models import ImportBatch, Unit

    unit = Unit.objects.filter(organisation=org).first()
    batch = ImportBatch.objects.with_scopes_disabled().filter(organisation=org).first()
    line_key = line_selectors.lines(system_scope(), org=org.orgnr, limit=1)[0]["line_key"]
    return [
        "/organisasjoner/", "/organisasjoner/ny/", f"/org/{org.orgnr}/endre/", f"/org/{org.orgnr}/enheter/",
        f"/org/{org.orgnr}/enheter/{unit.pk}/endre/", f"/org/{org.orgnr}/personer/",
        f"/org/{org.orgnr}/invitasjoner/", f"/org/{org.orgnr}/importer/",
        f"/org/{org.orgnr}/importer/{batch.pk}/slett/", "/revisjonslogg/", f"/org/{org.orgnr}/revisjonslogg/",
        "/meg/", "/rapporter/", f"/org/{org.orgnr}/gjennomgang/", f"/org/{org.orgnr}/linje/{line_key}/",
        f"/org/{org.orgnr}/klimabudsjett/?periode=2024", "/mal/",  # climate budgets and targets (issue 11)
        f"/org/{org.orgnr}/api-nokler/",  # the organisation's API tokens (issue 16 item 8)
    ]


def test_no_administration_account_report_or_review_page_has_wcag_a_or_aa_violations(signed_in):
    page, base, (org, _) = signed_in
    problems = {}
    for path in administration_pages(org):
        response = page.goto(base + path)
        assert response.status == 200, path
        violations = axe_violations(page)
        if violations:
            problems[path] = violations
    assert not problems, problems


def test_the_public_pages_have_no_wcag_violations_without_sign_in(browser, live_server, region_data):  # noqa: F811
    from klimainnkjop.services.reports import do_publish_figures

    org, _ = region_data
    do_publish_figures(year=2024, orgnr=org.orgnr)
    do_publish_figures(year=2024)
    page = browser.new_page(locale="nb-NO")
    problems = {}
    for path in ("/offentlig/", f"/offentlig/{org.orgnr}/"):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        if violations := axe_violations(page):
            problems[path] = violations
    page.close()
    assert not problems, problems


def test_no_measures_page_has_wcag_a_or_aa_violations_and_their_charts_are_drawn(signed_in):
    """The measures' pages (issue 10) with a measure, a package and an adoption of the region's account."""
    import datetime as dt

    from klimainnkjop.services.measures import do_adopt_package, do_create_measure, do_create_package

    page, base, (org, _) = signed_in
    measure = do_create_measure(name="Mindre kontorrekvisita", kind=2, mechanism="quantity", percent=20,
                                categories=["goods.office"], baseline_year=2024, cost_yearly_nok=1_000,
                                effective_date=dt.date(2025, 1, 1), actor="test")
    package = do_create_package(name="Basis", measures=[measure], baseline_year=2024, actor="test")
    with operator():  # as the command line adopts it (adoptions are scoped by organisation)
        do_adopt_package(package=package, organisation=org, adopted_on=dt.date(2025, 1, 1), case_number="25/1",
                         actor="test")
    problems = {}
    for path in ["/tiltak/", f"/tiltak/{measure.pk}/", "/tiltak/pakker/", "/tiltak/kurve/",
                 f"/tiltak/bane/?org={org.orgnr}&til=2027"]:
        response = page.goto(base + path)
        assert response.status == 200, path
        wait_for_charts(page)
        assert all(w.get_attribute("data-drawn") == "true" for w in page.locator("[data-chart]").all()), path
        violations = axe_violations(page)
        if violations:
            problems[path] = violations
    assert not problems, problems
# --- a procurement case walked in the browser (issue 12): a purchaser and the approver of the same organisation --

def _sign_in(browser, base: str, username: str):
    page = browser.new_page(locale="nb-NO")  # a context of its own: its own session
    page.goto(f"{base}/logg-inn/")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(f"{base}/")
    return page


def test_a_case_is_walked_from_opened_to_awarded_by_a_purchaser_and_the_approver(browser, live_server, region_data):
    org, other = region_data
    users = get_user_model().objects
    for name, organisation, role in (("innkjoper@kongsvinger.no", org, "purchaser"),
                                     ("leder@kongsvinger.no", org, "org-admin"), ("leser@grue.no", other, "reader")):
        Membership.objects.create(user=users.create_user(name, password=PASSWORD), organisation=organisation,
                                  role=role)
    base = live_server.url
    buyer = _sign_in(browser, base, "innkjoper@kongsvinger.no")
    buyer.goto(f"{base}/saker/ny/")
    buyer.get_by_label("Tittel").fill("Kontorrekvisita 2027")
    buyer.get_by_label("Kategori").select_option("goods.office")
    buyer.get_by_label("Estimert verdi, kr").fill("2000000")
    buyer.get_by_role("button", name="Åpne saken").click()
    buyer.get_by_role("button", name="Vurder klimarelevansen").click()
    buyer.locator("#id_propose_ambition").select_option("advanced")
    buyer.locator("#id_propose_reason").fill("Stor avtale for hele kommunen")
    buyer.get_by_role("button", name="Foreslå").click()
    case_url = buyer.url
    approver = _sign_in(browser, base, "leder@kongsvinger.no")
    approver.goto(case_url)
    approver.get_by_role("button", name="Beslutt").click()
    assert approver.locator("#case-state").inner_text() == "Ambisjon besluttet"
    buyer.goto(case_url)
    buyer.locator("#req-KON-02").check()
    buyer.get_by_role("button", name="Sett kravene").click()
    buyer.locator("#option-specification").check()
    buyer.get_by_label("Beskrivelse").fill("Fast ukentlig levering")
    buyer.get_by_role("button", name="Før protokoll").click()
    buyer.get_by_role("button", name="Kunngjør konkurransen").click()
    buyer.get_by_label("Leverandørens organisasjonsnummer").fill("982463718")
    buyer.get_by_role("button", name="Tildel", exact=True).click()
    assert buyer.locator("#case-state").inner_text() == "Tildelt"
    log = buyer.locator("#case-log").inner_text()
    assert "leder@kongsvinger.no" in log and "Stor avtale for hele kommunen" in log
    assert not axe_violations(buyer)
    # the tender annex downloaded from the case's page as Word holds the chosen requirement
    with buyer.expect_download() as download:
        buyer.locator("#case-documents").get_by_role("link", name="Word (DOCX)").first.click()
    assert download.value.suggested_filename.endswith("-klima-og-miljokrav.docx")
    import docx

    annex = docx.Document(download.value.path())
    assert annex.paragraphs[0].text == "Vedlegg: Klima- og miljøkrav"
    assert [row.cells[0].text for row in annex.tables[0].rows[1:]] == ["KON-02"]
    stranger = _sign_in(browser, base, "leser@grue.no")
    assert stranger.goto(case_url).status == 404
    assert stranger.request.get(f"{case_url}vedlegg.docx").status == 404
    assert stranger.request.get(f"{case_url}protokoll.pdf").status == 404
    for page in (buyer, approver, stranger):
        page.close()


def test_the_measured_effect_page_has_no_wcag_a_or_aa_violations_and_its_chart_is_drawn(signed_in):
    """The effect split (issue 10, item 6) of the region's account: the first half of 2024 against the second."""
    page, base, (org, _) = signed_in
    problems = {}
    for path in ["/tiltak/effekt/?fra=2024H1&til=2024H2", f"/tiltak/effekt/?org={org.orgnr}&fra=2024H1&til=2024H2"]:
        response = page.goto(base + path)
        assert response.status == 200, path
        wait_for_charts(page)
        wrappers = page.locator("[data-chart]").all()
        assert wrappers and all(w.get_attribute("data-drawn") == "true" for w in wrappers), path
        if violations := axe_violations(page):
            problems[path] = violations
    assert not problems, problems


def test_the_construction_pages_have_no_wcag_a_or_aa_violations(signed_in):
    """Building and construction against FutureBuilt (issue 11 item 5): the list, and a project with a climate
    calculation with its forms (a region administrator may edit and upload)."""
    from klimainnkjop.services.construction import do_add_construction_project, do_import_climate_calculation

    from klimainnkjop.access import operator

    page, base, (org, _) = signed_in
    with operator():  # the test's data, as the command line makes it
        project = do_add_construction_project(organisation=org, name="Ny skole", project_code="S1", area_m2=1000,
                                              building_type="school", actor="test")
        do_import_climate_calculation(project=project, file_name="skole.csv", actor="test",
                                      data="bygningsdel;navn;A1-A3;A4\n21;Grunn;1000;10\n".encode())
    problems = {}
    for path in [f"/org/{org.orgnr}/bygg/", f"/org/{org.orgnr}/bygg/{project.pk}/"]:
        response = page.goto(base + path)
        assert response.status == 200, path
        if violations := axe_violations(page):
            problems[path] = violations
    assert not problems, problems


def test_the_region_administration_pages_and_the_public_pages_charts_have_no_wcag_violations(signed_in):
    """Issue 16 item 9 and issue 18 item 4: the administrators' area, then the public page (published through the
    administrators' form) with its charts drawn as SVG, printing the numbers of their tables."""
    page, base, (org, other) = signed_in
    problems = {}
    for path in ("/administrasjon/", "/administrasjon/publiser/", "/administrasjon/leverandorfaktorer/",
                 "/administrasjon/valutakurser/", "/administrasjon/klassifisering/"):
        assert page.goto(base + path).status == 200, path
        if violations := axe_violations(page):
            problems[path] = violations
    page.goto(base + "/administrasjon/publiser/")
    page.get_by_role("button", name="Publiser").click()  # the year, the region and every organisation ticked
    page.wait_for_url(base + "/administrasjon/publiser/")
    assert page.get_by_role("status").inner_text().startswith("Publiserte 3 sett med tall for 2024")
    public = page.context.browser.new_page(locale="nb-NO")  # without sign-in
    for path in ("/offentlig/", f"/offentlig/{org.orgnr}/"):
        assert public.goto(base + path).status == 200, path
        wait_for_charts(public)
        wrappers = public.locator("[data-chart]")
        assert wrappers.count() == (3 if path == "/offentlig/" else 2), path
        for i in range(wrappers.count()):
            wrapper = wrappers.nth(i)
            assert wrapper.locator("svg").count() == 1 and wrapper.get_attribute("role") == "img"
            printed = [t.strip() for t in wrapper.locator("g.mark-text.role-mark text").all_text_contents()]
            cells = [c.strip() for c in wrapper.locator("xpath=ancestor::section[1]").locator(
                "table td, table th").all_text_contents()]
            assert printed and all(label in cells for label in printed), (path, printed)
        if violations := axe_violations(public):
            problems[path] = violations
    public.close()
    assert not problems, problems


def test_the_reports_page_polls_a_queued_report_swaps_its_row_and_announces_when_it_fails(signed_in, settings):
    """web/poller.js with web/reports.js: the row changes in place and the live region says what happened."""
    from klimainnkjop.access import system_scope
    from klimainnkjop.services.reports import do_request_report
    from klimainnkjop.storage.models import Report
    from tests.factories import DATABASE_QUEUE

    settings.TASKS = DATABASE_QUEUE  # the report waits for a worker that never comes
    page, base, (org, _) = signed_in
    report = do_request_report(system_scope(), scope_kind="org", orgnr=org.orgnr, period="2024", fmt="csv",
                               actor="test")
    page.goto(base + "/rapporter/")
    row = page.locator(f"#report-{report.pk}")
    assert row.get_attribute("data-status") == "queued"
    Report.objects.filter(pk=report.pk).update(status=Report.STATUS_FAILED, error="the disk is full")
    page.wait_for_function(f"() => document.getElementById('report-{report.pk}').dataset.status === 'failed'",
                           timeout=15000)
    page.wait_for_function("() => document.getElementById('report-announcer').textContent.includes('disk')",
                           timeout=5000)
    assert "feilet" in page.locator("#report-announcer").inner_text()
    assert page.locator("#report-archive").get_attribute("aria-busy") is None
