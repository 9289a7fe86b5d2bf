"""Issue 16's walk in a real browser (Debian's Chromium driven by Playwright, axe-core on every step): a finance
officer uploads a ledger export in a layout the product has never seen, maps its columns in the wizard, previews
the lines with their category and factor, saves the profile and sees the lines added."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.storage.models import ImportBatch, Membership, Upload

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "en-lang-og-god-passfrase"
NEW_LAYOUT = (
    "Bokført;Hovedbokskonto;Beløp NOK;Leverandørnavn;Org.nr;Beskrivelse;Ansvarssted\n"
    "2025-02-03;10010;1234.50;Kontorgiganten AS;982463718;Papir og penner;1100\n"
    "2025-03-14;18000;20000.00;Nettkraft AS;987654325;Strøm februar;1200\n"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # only while these tests run (see test_accessibility.py)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def axe_violations(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def test_a_finance_officer_uploads_a_new_layout_maps_it_in_the_browser_and_sees_the_lines_added(
        browser, live_server, reference, org, tmp_path):
    user = get_user_model().objects.create_user("okonomi@kongsvinger.no", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role="finance")
    file = tmp_path / "ny-erp.csv"
    file.write_text(NEW_LAYOUT, encoding="utf-8")
    page = browser.new_page(locale="nb-NO")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/logg-inn/")
    page.get_by_label("Brukernavn").fill("okonomi@kongsvinger.no")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/org/{org.orgnr}/last-opp/")
    assert axe_violations(page) == []
    page.get_by_label("Hva filen er").select_option("ledger")
    page.get_by_label("Fil", exact=True).set_input_files(str(file))
    page.get_by_role("button", name="Last opp og kontroller").click()
    page.wait_for_url("**/kolonner/")
    assert page.locator("#id_col_posting_date").input_value() == "Bokført"
    assert page.locator("#id_col_amount").input_value() == "Beløp NOK"
    assert axe_violations(page) == []

    page.get_by_label("Beskrivelse (valgfritt)").select_option("Beskrivelse")
    page.get_by_role("button", name="Forhåndsvis linjene").click()
    preview = page.locator("#preview-lines tbody tr")
    assert preview.count() == 2 and "Papir og penner" in preview.first.inner_text()
    assert axe_violations(page) == []

    page.get_by_role("button", name="Lagre profilen og importer").click()
    page.wait_for_url(f"**/last-opp/{Upload.objects.with_scopes_disabled().get().pk}/")
    assert page.locator("#lines-added").inner_text() == "2"
    assert axe_violations(page) == []
    assert ImportBatch.objects.with_scopes_disabled().get().lines_added == 2
    assert [e for e in errors if "Content Security Policy" in e or "Uncaught" in e] == []  # (the favicon is 404)
    page.close()
