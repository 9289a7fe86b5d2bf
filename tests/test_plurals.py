"""Issue 18, words: a count in a message takes the singular for 1 and the plural for 2, in bokmål and in English
(ngettext and {% blocktranslate count %} with both forms in the .po file)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

TEMPLATES = Path(__file__).resolve().parents[1] / "klimainnkjop" / "web" / "templates" / "web"


def rendered(template: str, marker: str, language: str, **context) -> str:
    """The line of the page's template that holds `marker`, rendered on its own (the page's own words)."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if marker in line]
    block = re.search(r"{% blocktranslate.*?{% endblocktranslate %}", line).group(0)
    loads = "".join(re.findall(r"{% load [^%]*%}", text))
    with translation.override(language):
        return Template(loads + block).render(Context(context))


@pytest.mark.parametrize("language, one, two", [
    ("nb", "side 1 av 1 (1 oppføring)", "side 1 av 1 (2 oppføringer)"),
    ("en", "page 1 of 1 (1 entry)", "page 1 of 1 (2 entries)"),
])
def test_the_audit_logs_caption_counts_one_entry_and_two_entries(language, one, two):
    class Paginator:
        def __init__(self, count):
            self.count, self.num_pages = count, 1

    def caption(count):
        page = type("Page", (), {"number": 1, "paginator": Paginator(count)})()
        return rendered("audit.html", "Audit entries, newest first", language, page=page)

    assert caption(1).endswith(one) and caption(2).endswith(two)


@pytest.mark.parametrize("language, one, two", [
    ("nb", "1 tiltak kutter 3,5 tonn CO2e per år.", "2 tiltak kutter til sammen 3,5 tonn CO2e per år."),
    ("en", "1 measure cuts 3,5 tonnes CO2e per year.", "2 measures cut 3,5 tonnes CO2e per year together."),
])
def test_the_abatement_curves_summary_counts_one_measure_and_two_measures(language, one, two):
    assert rendered("measure_curve.html", "id=\"curve-summary\"", language, total="3,5", table=["a"]) == one
    assert rendered("measure_curve.html", "id=\"curve-summary\"", language, total="3,5", table=["a", "b"]) == two


@pytest.mark.parametrize("template, marker, context, one, two", [
    ("account_totp_login.html", "Sign-in with a code is locked", "lockout_minutes",
     "Prøv igjen om 1 minutt.", "Prøv igjen om 2 minutter."),
    ("construction_project.html", "imported {{ date }}", "rows", "(1 rad)", "(2 rader)"),
    ("cases.html", "procurements carried out", "cases",
     "1 av 1 gjennomført anskaffelse (kunngjort", "1 av 2 gjennomførte anskaffelser (kunngjort"),
])
def test_the_pages_other_counts_take_the_singular_for_one_in_bokmal(template, marker, context, one, two):
    def words(n):
        values = {"lockout_minutes": n,
                  "calculation": {"file_name": "b.csv", "rows": n, "created_at": None},
                  "kpi": {"with_requirements": 1, "cases": n, "percent": 50.0}}
        return rendered(template, marker, "nb", **values)

    assert one in words(1) and one not in words(2) and two in words(2)


@pytest.mark.parametrize("singular, plural, nb_one, nb_two", [
    ("Too many failed sign-ins. This username is locked for a while from your address; try again in %(minutes)d "
     "minute.",
     "Too many failed sign-ins. This username is locked for a while from your address; try again in %(minutes)d "
     "minutes.", "prøv igjen om 1 minutt.", "prøv igjen om 2 minutter."),
    ("The file was not imported: %(count)s error, listed below.",
     "The file was not imported: %(count)s errors, listed below.", "1 feil, listet under", "2 feil, listet under"),
    ("Climate calculation imported: %(rows)s row, %(kg)s kg CO2e. It replaces the spend estimate of the project's "
     "lines from the next computation.",
     "Climate calculation imported: %(rows)s rows, %(kg)s kg CO2e. It replaces the spend estimate of the project's "
     "lines from the next computation.", "importert: 1 rad,", "importert: 2 rader,"),
    ("The package has %(count)s measure: %(measures)s.",
     "The package has %(count)s measures: %(measures)s. The measures are computed in order on the same purchases, "
     "so the effect is not counted twice.", "Pakken består av 1 tiltak: m.", "regnet i rekkefølge"),
])
def test_the_codes_counted_messages_have_a_singular_and_a_plural_in_bokmal_and_english(singular, plural, nb_one,
                                                                                      nb_two):
    values = {"minutes": 0, "count": 0, "rows": 0, "kg": "7", "measures": "m"}
    for language, one, two in (("nb", nb_one, nb_two), ("en", singular, plural)):
        with translation.override(language):
            first = translation.ngettext(singular, plural, 1) % {**values, "minutes": 1, "count": 1, "rows": 1}
            second = translation.ngettext(singular, plural, 2) % {**values, "minutes": 2, "count": 2, "rows": 2}
        if language == "en":
            one, two = one % {**values, "minutes": 1, "count": 1, "rows": 1}, two % {**values, "minutes": 2,
                                                                                      "count": 2, "rows": 2}
        assert one in first and two in second and first != second


def test_the_abatement_curves_chart_text_counts_one_measure_in_the_singular():
    singular = ("Abatement curve: %(count)s measure, the cheapest tonne first. The width is tonnes cut per year, the "
                "height kr per tonne. Cheapest is %(name)s at %(nok)s kr per tonne; in all %(tonnes)s tonnes per "
                "year. The figures are in the table above.")
    plural = singular.replace("%(count)s measure,", "%(count)s measures,")
    values = {"name": "x", "nok": "1", "tonnes": "2"}
    with translation.override("en"):
        assert translation.ngettext(singular, plural, 1) % {"count": 1, **values} == singular % {"count": 1, **values}
        assert translation.ngettext(singular, plural, 2) % {"count": 2, **values} == plural % {"count": 2, **values}
    with translation.override("nb"):
        assert (translation.ngettext(singular, plural, 1) % {"count": 1, **values}).startswith("Tiltakskurve: 1 tiltak,")
