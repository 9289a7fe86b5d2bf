"""The user guide at /hjelp/ (issue 18 item 6): in bokmål (English when chosen), the main tasks, linked from every
page, open to anyone (the permission table's row is in tests/factories.py)."""
from __future__ import annotations

import pytest

from tests.factories import page, parse, squash
from tests.test_words import findings, visible_text

TASKS_NB = ["Les oversikten", "Finn linjene bak et tall", "Rett kategorien på en linje", "Bestill en rapport",
            "Last opp en fil fra regnskapet"]


@pytest.mark.django_db
def test_the_guide_is_in_bokmal_with_a_section_for_each_main_task_and_no_english_word(client):
    html, tree = page(client, "/hjelp/")
    headings = [squash(h.text()) for h in tree.find_all("h2")]
    assert headings[1:6] == TASKS_NB
    assert [squash(h.text()) for h in tree.find_all("h1")] == ["Brukerveiledning"]
    assert findings(visible_text(html)) == []
    # the table of contents points at the sections
    anchors = [a.attrs["href"] for a in tree.find_all("nav", class_="toc")[0].find_all("a")]
    assert all(tree.find_all("h2", id=a.lstrip("#")) for a in anchors) and len(anchors) == 6


@pytest.mark.django_db
def test_the_guide_is_in_english_when_english_is_chosen(client):
    client.cookies["django_language"] = "en"
    _, tree = page(client, "/hjelp/")
    assert [squash(h.text()) for h in tree.find_all("h1")] == ["User guide"]
    assert tree.find_all("html")[0].attrs["lang"] == "en"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/hjelp/", "/metode/", "/logg-inn/"])
def test_every_page_links_to_the_guide_in_the_menu_and_the_footer_signed_in_or_not(client, url):
    _, tree = page(client, url)
    links = [a for a in tree.find_all("a") if a.attrs.get("href") == "/hjelp/"]
    assert len(links) == 2
    assert squash(links[0].text()) == "Hjelp"
    assert [a.parent.parent.tag for a in links[1:]] == ["div"]  # the footer's paragraph
    if url == "/hjelp/":
        assert links[0].attrs.get("aria-current") == "page"


@pytest.mark.django_db
def test_a_signed_in_page_links_to_the_guide_too(client, org):
    from tests.factories import make_user

    client.force_login(make_user("leser", org, "reader"))
    html = client.get("/").content.decode()
    assert html.count('href="/hjelp/"') == 2
    assert parse(html).find_all("footer")
