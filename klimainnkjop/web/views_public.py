"""The public page (no sign-in): only figures an administrator published (a Publication), and the same figures
as open data (CSV and JSON). Nothing published: 404 (the demo publishes its region: demo/load.py).

The region's page (issue 18 item 4) has the published years as a trend chart with its table, the latest year's
categories, each organisation's latest published figures, every year's detail, the method and the open data; the
charts are the dashboards' (reports/charts.py through web/views.Panel), each with a table of the same numbers."""
from __future__ import annotations


from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext as _

from klimainnkjop.selectors import dashboard
from klimainnkjop.access import system_scope
from klimainnkjop.core import cells
from klimainnkjop.selectors import reports as report_selectors
from klimainnkjop.selectors.documents import published_baselines
from klimainnkjop.reports import charts
from klimainnkjop.web import formatting, labels
from klimainnkjop.web.views import Cell, Column, Panel, render_panels


def _publications(orgnr: str | None) -> list:
    # published figures are public: read with the system's scope
    return report_selectors.publications(system_scope(), orgnr, region=orgnr is None)


def _category_names() -> dict[str, str]:
    return dashboard.category_names(system_scope(), get_language() or "nb")


def _view(publication, names: dict[str, str]) -> dict:
    f = publication.figures
    total = f["total"]
    return {
        "year": publication.year, "published_at": publication.published_at, "run": publication.run_id,
        "factor_sets": f.get("factor_sets", []), "consolidated": f.get("consolidated"),
        "tonnes": formatting.number(total["kg_co2e"] / 1000, 1),
        "tonnes_operating": formatting.number(total["kg_co2e_operating"] / 1000, 1),
        "tonnes_investment": formatting.number(total["kg_co2e_investment"] / 1000, 1),
        "tonnes_low": formatting.number(total["kg_co2e_low"] / 1000, 1),
        "tonnes_high": formatting.number(total["kg_co2e_high"] / 1000, 1),
        "spend": formatting.number(total["spend_nok"], 0),
        "categories": [{"name": names.get(c["category"], c["category"] or "–"),
                        "tonnes": formatting.number(c["kg_co2e"] / 1000, 1),
                        "spend": formatting.number(c["spend_nok"], 0)} for c in f["categories"]],
    }


def _tonnes(kg: float) -> str:
    return formatting.number(kg / 1000, 1)


def _language() -> str:
    return get_language() or "nb"


def trend_panel(publications: list) -> Panel | None:
    """The published years, oldest first: operating and investment tonnes as stacked bars, and the same numbers
    with the range and the purchases in a table."""
    if not publications:
        return None
    ordered = sorted(publications, key=lambda p: p.year)
    operating, investment = str(labels.OPERATING), str(labels.INVESTMENT)
    bars = [charts.Bar(str(p.year), {operating: p.figures["total"]["kg_co2e_operating"] / 1000,
                                     investment: p.figures["total"]["kg_co2e_investment"] / 1000},
                       _tonnes(p.figures["total"]["kg_co2e"])) for p in ordered]
    first, last = ordered[0], ordered[-1]
    summary = _("Emissions from purchases per published year, from %(first)s (%(first_tonnes)s tonnes CO2e) to "
                "%(last)s (%(last_tonnes)s tonnes CO2e).") % {
        "first": first.year, "first_tonnes": _tonnes(first.figures["total"]["kg_co2e"]),
        "last": last.year, "last_tonnes": _tonnes(last.figures["total"]["kg_co2e"])}
    rows = []
    for p in ordered:
        t = p.figures["total"]
        rows.append([Cell(str(p.year), header=True, href=f"#year-{p.year}-heading"),
                     Cell(_tonnes(t["kg_co2e_operating"]), True), Cell(_tonnes(t["kg_co2e_investment"]), True),
                     Cell(_tonnes(t["kg_co2e"]), True),
                     Cell(f"{_tonnes(t['kg_co2e_low'])}–{_tonnes(t['kg_co2e_high'])}", True),
                     Cell(formatting.number(t["spend_nok"], 0), True)])
    return Panel(
        id="trend", title=_("Emissions per year"), caption=_("Published emissions and purchases per year"),
        columns=[Column(_("Year")), Column(_("Operating, tonnes CO2e"), True),
                 Column(_("Investment, tonnes CO2e"), True), Column(_("Total, tonnes CO2e"), True),
                 Column(_("Range, tonnes CO2e"), True), Column(_("Purchases, NOK"), True)],
        rows=rows, chart=charts.bar_chart(bars, series=[operating, investment], value_title=str(_("Tonnes CO2e")),
                                          language=_language()),
        chart_summary=summary)


def category_panel(publication, names: dict[str, str]) -> Panel:
    """The categories of one published year, largest first, as horizontal bars and a table."""
    categories = publication.figures["categories"]
    bars = [charts.Bar(names.get(c["category"], c["category"] or "–"), {str(_("Tonnes CO2e")): c["kg_co2e"] / 1000},
                       _tonnes(c["kg_co2e"])) for c in categories[:12]]
    summary = ""
    if categories:
        top = categories[0]
        summary = _("The twelve largest categories in %(year)s; the largest is %(name)s with %(tonnes)s tonnes CO2e.") \
            % {"year": publication.year, "name": names.get(top["category"], top["category"] or "–"),
               "tonnes": _tonnes(top["kg_co2e"])}
    return Panel(
        id="categories", title=_("Categories in %(year)s") % {"year": publication.year},
        caption=_("Emissions and purchases per category in %(year)s") % {"year": publication.year},
        columns=[Column(_("Category")), Column(_("Tonnes CO2e"), True), Column(_("Purchases, NOK"), True)],
        rows=[[Cell(names.get(c["category"], c["category"] or "–"), header=True), Cell(_tonnes(c["kg_co2e"]), True),
               Cell(formatting.number(c["spend_nok"], 0), True)] for c in categories],
        chart=charts.bar_chart(bars, series=[str(_("Tonnes CO2e"))], value_title=str(_("Tonnes CO2e")),
                               horizontal=True, language=_language()) if bars else None,
        chart_summary=summary)


def organisation_panel(organisations: list) -> Panel | None:
    """Each organisation's latest published year: tonnes and purchases, linked to its page."""
    latest = []
    for org in organisations:
        published = _publications(org.orgnr)
        if published:
            latest.append((org, published[0]))  # newest year first
    if not latest:
        return None
    latest.sort(key=lambda item: -item[1].figures["total"]["kg_co2e"])
    bars = [charts.Bar(f"{org.name} ({p.year})", {str(_("Tonnes CO2e")): p.figures["total"]["kg_co2e"] / 1000},
                       _tonnes(p.figures["total"]["kg_co2e"])) for org, p in latest]
    top_org, top = latest[0]
    summary = _("Each organisation's latest published year; the largest is %(name)s with %(tonnes)s tonnes CO2e.") % {
        "name": top_org.name, "tonnes": _tonnes(top.figures["total"]["kg_co2e"])}
    return Panel(
        id="organisations", title=_("The organisations"),
        caption=_("Each organisation's latest published emissions and purchases"),
        columns=[Column(_("Organisation")), Column(_("Year"), True), Column(_("Tonnes CO2e"), True),
                 Column(_("Purchases, NOK"), True)],
        rows=[[Cell(org.name, header=True, href=reverse("public_organisation", args=[org.orgnr])),
               Cell(str(p.year), True),
               Cell(_tonnes(p.figures["total"]["kg_co2e"]), True),
               Cell(formatting.number(p.figures["total"]["spend_nok"], 0), True)] for org, p in latest],
        chart=charts.bar_chart(bars, series=[str(_("Tonnes CO2e"))], value_title=str(_("Tonnes CO2e")),
                               horizontal=True, language=_language()),
        chart_summary=summary)


def _panels(publications: list, names: dict[str, str], organisations: list | None = None) -> list[Panel]:
    panels = [trend_panel(publications), category_panel(publications[0], names) if publications else None,
              organisation_panel(organisations) if organisations else None]
    return render_panels([p for p in panels if p is not None])


def public_region(request):
    region = _publications(None)
    organisations = list(report_selectors.published_organisations(system_scope()))
    baselines = published_baselines()  # the region's published baseline reports (issue 13)
    if not region and not organisations and not baselines:
        raise Http404
    names = _category_names()
    return render(request, "web/public.html", {"subject": None, "publications": [_view(p, names) for p in region],
                                               "panels": _panels(region, names, organisations),
                                               "organisations": organisations, "baselines": baselines})


def public_organisation(request, orgnr: str):
    publications = _publications(orgnr)
    if not publications:
        raise Http404
    names = _category_names()
    return render(request, "web/public.html", {"subject": publications[0].organisation,
                                               "publications": [_view(p, names) for p in publications],
                                               "panels": _panels(publications, names)})


# --- open data: exactly the published figures ---------------------------------------------------------------

def open_data(publications: list) -> list[dict]:
    """One row per published year and category, and a row per year with category 'total'."""
    rows = []
    for p in sorted(publications, key=lambda p: p.year):
        f = p.figures
        base = {"orgnr": f.get("orgnr") or "", "year": p.year, "consolidated": bool(f.get("consolidated")),
                "run": f.get("run"), "published_at": p.published_at.isoformat()}
        total = f["total"]
        rows.append({**base, "category": "total", "kg_co2e": total["kg_co2e"], "spend_nok": total["spend_nok"],
                     "kg_co2e_operating": total["kg_co2e_operating"],
                     "kg_co2e_investment": total["kg_co2e_investment"], "kg_co2e_low": total["kg_co2e_low"],
                     "kg_co2e_high": total["kg_co2e_high"],
                     # market-based (electricity at the residual mix); absent from figures published before it
                     "kg_co2e_market": total.get("kg_co2e_market")})
        for c in f["categories"]:
            rows.append({**base, "category": c["category"], "kg_co2e": c["kg_co2e"], "spend_nok": c["spend_nok"],
                         "kg_co2e_operating": None, "kg_co2e_investment": None, "kg_co2e_low": None,
                         "kg_co2e_high": None, "kg_co2e_market": None})
    return rows


def _document(publications: list) -> dict:
    factor_sets = sorted({fs for p in publications for fs in p.figures.get("factor_sets", [])})
    return {"description": "Klimagassutslipp fra innkjøp (kg CO2e) og innkjøp (NOK), publisert av administrator",
            "factor_sets": factor_sets,
            "publications": [p.figures | {"published_at": p.published_at.isoformat()}
                             for p in sorted(publications, key=lambda p: p.year)],
            "rows": open_data(publications)}


def _csv(publications: list, name: str) -> HttpResponse:
    rows = open_data(publications)  # through the product's export writer (core/cells.py), for Norwegian Excel
    response = HttpResponse(cells.csv_records(rows, list(rows[0])).encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _json(publications: list) -> JsonResponse:
    return JsonResponse(_document(publications), json_dumps_params={"ensure_ascii": False, "indent": 2})


def region_csv(request):
    publications = _publications(None)
    if not publications:
        raise Http404
    return _csv(publications, "klimainnkjop-region")


def region_json(request):
    publications = _publications(None)
    if not publications:
        raise Http404
    return _json(publications)


def organisation_csv(request, orgnr: str):
    publications = _publications(orgnr)
    if not publications:
        raise Http404
    return _csv(publications, f"klimainnkjop-{orgnr}")


def organisation_json(request, orgnr: str):
    publications = _publications(orgnr)
    if not publications:
        raise Http404
    return _json(publications)
