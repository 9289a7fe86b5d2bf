"""Pages. Thin: access via access.scope_for, reads via selectors, charts via web.charts."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext as _

from klimainnkjop.access import OutsideScope, Scope, scope_for
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.storage.models import Organisation
from klimainnkjop.web import charts, formatting, labels


# --- page building blocks: a table, optionally shown as a chart with the same numbers -------------------

@dataclass
class Cell:
    text: str
    numeric: bool = False
    href: str = ""
    header: bool = False  # the row's header cell (<th scope="row">)


@dataclass
class Column:
    label: str
    numeric: bool = False


@dataclass
class Panel:
    """A section with a heading, a table, and (when there is something to draw) a chart of the table's numbers."""

    id: str
    title: str
    caption: str
    columns: list[Column]
    rows: list[list[Cell]]
    footer: list[Cell] | None = None
    chart_svg: str = ""
    chart_summary: str = ""
    intro: str = ""
    empty: str = field(default="")


def _tonnes(value: float) -> str:
    return formatting.number(value, 1)


def _nok(value: float) -> str:
    return formatting.number(value, 0)


def _chart(bars: list[charts.Bar], *, series: list[str], horizontal: bool) -> str:
    if not bars:
        return ""
    svg = charts.bar_chart_svg(bars, series=series, value_title=_("Tonnes CO2e"), horizontal=horizontal,
                               language=get_language() or "nb")
    return mark_safe(svg)  # noqa: S308 - produced by vl-convert from our own spec, no user markup


def _figure_columns(first: str) -> list[Column]:
    return [Column(first), Column(_("Operating, tonnes CO2e"), True), Column(_("Investment, tonnes CO2e"), True),
            Column(_("Total, tonnes CO2e"), True), Column(_("Purchases, NOK"), True),
            Column(_("Spend with a factor"), True)]


def _figure_cells(head: Cell, f: dashboard.Figures) -> list[Cell]:
    return [head, Cell(_tonnes(f.tonnes_operating), True), Cell(_tonnes(f.tonnes_investment), True),
            Cell(_tonnes(f.tonnes), True), Cell(_nok(f.spend), True),
            Cell(formatting.percent(f.covered_percent), True)]


def _series() -> list[str]:
    return [str(labels.OPERATING), str(labels.INVESTMENT)]


def _bars(figures: list[dashboard.Figures], names: dict) -> list[charts.Bar]:
    operating, investment = _series()
    return [charts.Bar(str(names.get(f.key, f.key)), {operating: f.tonnes_operating, investment: f.tonnes_investment},
                       _tonnes(f.tonnes)) for f in figures]


def _highest(figures: list[dashboard.Figures], names: dict) -> tuple[str, str]:
    top = max(figures, key=lambda f: f.kg)
    return str(names.get(top.key, top.key)), _tonnes(top.tonnes)


def year_panel(overview: dashboard.Overview) -> Panel:
    figures = overview.per_year
    names = {f.key: str(f.key) for f in figures}
    summary = ""
    if figures:
        year, tonnes = _highest(figures, names)
        summary = _("Emissions per year: highest in %(year)s with %(tonnes)s tonnes CO2e.") % {
            "year": year, "tonnes": tonnes}
    return Panel(
        id="per-year", title=_("Emissions per year"), caption=_("Emissions and purchases per year"),
        columns=_figure_columns(_("Year")),
        rows=[_figure_cells(Cell(str(f.key), header=True), f) for f in figures],
        chart_svg=_chart(_bars(figures, names), series=_series(), horizontal=False), chart_summary=summary,
    )


def org_panel(overview: dashboard.Overview, org_names: dict[str, str]) -> Panel:
    figures = overview.per_org
    summary = ""
    if figures:
        name, tonnes = _highest(figures, org_names)
        summary = _("Emissions per organisation in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": overview.year, "name": name, "tonnes": tonnes}
    rows = [_figure_cells(Cell(org_names.get(f.key, f.key), header=True,
                               href=reverse("organisation", args=[f.key])), f) for f in figures]
    return Panel(
        id="per-organisation", title=_("Emissions per organisation"),
        caption=_("Emissions and purchases per organisation in %(year)s") % {"year": overview.year},
        columns=_figure_columns(_("Organisation")), rows=rows,
        chart_svg=_chart(_bars(figures, org_names), series=_series(), horizontal=True), chart_summary=summary,
    )


def category_panel(overview: dashboard.Overview, category_names: dict[str, str]) -> Panel:
    figures = overview.per_category
    names = dict(category_names)
    names[""] = _("Without category")
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Emissions per category in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": overview.year, "name": name, "tonnes": tonnes}
    rows = [_figure_cells(Cell(names.get(f.key, f.key), header=True), f) for f in figures]
    return Panel(
        id="per-category", title=_("Emissions per category"),
        caption=_("Emissions and purchases per category in %(year)s") % {"year": overview.year},
        columns=_figure_columns(_("Category")), rows=rows,
        chart_svg=_chart(_bars(figures, names), series=_series(), horizontal=True), chart_summary=summary,
    )


def excluded_panel(overview: dashboard.Overview) -> Panel:
    rows = [[Cell(labels.exclusion_label(r["exclusion"]), header=True), Cell(_nok(r["spend_nok"]), True),
             Cell(formatting.number(r["lines"], 0), True)] for r in overview.excluded]
    return Panel(
        id="excluded", title=_("Not included in the account"),
        intro=_("Spend that is not a purchase of goods or services is left out, by KOSTRA art."),
        caption=_("Spend left out in %(year)s, by reason") % {"year": overview.year},
        columns=[Column(_("Reason")), Column(_("Amount, NOK"), True), Column(_("Lines"), True)], rows=rows,
        empty=_("Nothing was left out."),
    )


def unit_panel(scope: Scope, orgnr: str, year: int) -> Panel:
    figures = dashboard.per_unit(scope, orgnr, year=year)
    names = {code: (f"{code} {name}".strip() if name else code)
             for code, name in dashboard.unit_names(scope, orgnr).items()}
    names[""] = _("Without unit")
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Emissions per unit in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": year, "name": name, "tonnes": tonnes}
    rows = [_figure_cells(Cell(names.get(f.key, f.key), header=True), f) for f in figures]
    return Panel(
        id="per-unit", title=_("Emissions per unit"),
        caption=_("Emissions and purchases per unit in %(year)s") % {"year": year},
        columns=_figure_columns(_("Unit")), rows=rows,
        chart_svg=_chart(_bars(figures, names), series=_series(), horizontal=True), chart_summary=summary,
        empty=_("No purchases by unit this year."),
    )


def supplier_panel(scope: Scope, orgnr: str, year: int) -> Panel:
    figures = dashboard.top_suppliers(scope, orgnr, year=year, limit=10)
    names = dashboard.supplier_names(scope, orgnr, [f.key for f in figures])
    names[""] = _("Without supplier")
    rows = [_figure_cells(Cell(names.get(f.key, f.key), header=True), f) for f in figures]
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Top suppliers in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": year, "name": name, "tonnes": tonnes}
    return Panel(
        id="top-suppliers", title=_("Top suppliers"),
        caption=_("The ten suppliers with the highest emissions in %(year)s") % {"year": year},
        columns=_figure_columns(_("Supplier")), rows=rows,
        chart_svg=_chart(_bars(figures, names), series=_series(), horizontal=True), chart_summary=summary,
        empty=_("No purchases with a supplier this year."),
    )


def _year(request) -> int | None:
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return None


def _year_links(request, overview: dashboard.Overview) -> list[dict]:
    return [{"year": y, "href": f"{request.path}?year={y}", "current": y == overview.year} for y in overview.years]


# --- views ----------------------------------------------------------------------------------------------------

@login_required
def region(request):
    scope = scope_for(request.user)
    org_names = dashboard.organisation_names(scope)
    overview = dashboard.overview(scope, year=_year(request))
    context = {"organisations": org_names, "overview": overview, "panels": []}
    if overview is not None and overview.years:
        context.update(
            year_links=_year_links(request, overview),
            panels=[year_panel(overview), org_panel(overview, org_names),
                    category_panel(overview, dashboard.category_names(scope, get_language() or "nb")),
                    excluded_panel(overview)],
        )
    return render(request, "web/region.html", context)


@login_required
def organisation(request, orgnr):
    scope = scope_for(request.user)
    try:
        org = org_selectors.organisation(scope, orgnr)
    except (OutsideScope, Organisation.DoesNotExist):
        raise Http404
    overview = dashboard.overview(scope, org=org.orgnr, year=_year(request))
    batches = list(org_selectors.import_batches(scope, org.orgnr))
    context = {"org": org, "overview": overview, "panels": [], "batches": batches}
    if overview is not None and overview.years:
        context.update(
            year_links=_year_links(request, overview),
            panels=[year_panel(overview),
                    category_panel(overview, dashboard.category_names(scope, get_language() or "nb")),
                    unit_panel(scope, org.orgnr, overview.year), supplier_panel(scope, org.orgnr, overview.year),
                    excluded_panel(overview)],
        )
    return render(request, "web/organisation.html", context)
