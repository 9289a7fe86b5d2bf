"""Pages. Thin: access via access.scope_for, reads via selectors, charts via reports.charts."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.template.loader import render_to_string

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext as _

from klimainnkjop.access import OutsideScope, Scope, scope_for
from klimainnkjop.core.figures import Figures
from klimainnkjop.paths import data_dir
from klimainnkjop.selectors import audit, budgets, changes, dashboard, kpis, results
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.reports import charts
from klimainnkjop.web import formatting, labels


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
    chart: dict | None = None  # charts.chart_payload, drawn in the browser
    chart_summary: str = ""
    intro: str = ""
    empty: str = field(default="")
    more_href: str = ""  # a link below the table (to the lines behind it)
    more_text: str = ""
    html: str = field(default="", repr=False)  # the rendered section (render_panels)


def render_panels(panels: list[Panel]) -> list[Panel]:
    """Renders each panel's section once per content: cached by a hash of everything the panel shows (its
    repr: texts, cells, links, chart) and the language, so a cached section is always the same section."""
    language = get_language() or "nb"
    for panel in panels:
        key = "panel-html:" + hashlib.sha256(f"{language}|{panel!r}".encode()).hexdigest()
        html = cache.get_or_set(key, lambda panel=panel: render_to_string("web/_panel.html", {"panel": panel}),
                                results.CACHE_SECONDS)
        panel.html = mark_safe(html)  # noqa: S308 - our template's output, escaped there
    return panels



def cached_content(request, scope: Scope, run, template: str, build) -> str:
    """A dashboard page's main content, rendered once per (page and query, language, scope, compute run, last
    change of the data) and shared by every server process through Django's cache (a file cache in the data
    directory by default, Redis when configured); build() makes its context only on a miss.

    The content holds nothing of the user beyond their scope: their name and the CSRF tokens are in the frame
    around it (web/base.html), rendered for every request. It cannot go stale: a compute run changes the run's key,
    and every other change of what the pages show (an import, a renamed unit, new reference data) writes an audit
    entry, which changes selectors.audit.last_change(). The caller checks the scope before asking."""
    language = get_language() or "nb"
    parts = (template, request.get_full_path(), language, results.scope_key(scope),
             results.run_key(run) if run is not None else "", audit.last_change(), str(data_dir()))
    key = "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()

    def render_content() -> str:
        context = build()
        render_panels(context.get("panels", []))
        return render_to_string(template, context, request)

    return mark_safe(cache.get_or_set(key, render_content, results.CACHE_SECONDS))  # noqa: S308 - our template


def _tonnes(value: float) -> str:
    return formatting.number(value, 1)


def _nok(value: float) -> str:
    return formatting.number(value, 0)


def _chart(bars: list[charts.Bar], *, series: list[str], horizontal: bool) -> dict | None:
    if not bars:
        return None
    return charts.bar_chart(bars, series=series, value_title=str(_("Tonnes CO2e")), horizontal=horizontal,
                            language=get_language() or "nb")


def _figure_columns(first: str) -> list[Column]:
    return [Column(first), Column(_("Operating, tonnes CO2e"), True), Column(_("Investment, tonnes CO2e"), True),
            Column(_("Total, tonnes CO2e"), True), Column(_("Purchases, NOK"), True),
            Column(_("Spend with a factor"), True)]


def _figure_cells(head: Cell, f: Figures) -> list[Cell]:
    return [head, Cell(_tonnes(f.tonnes_operating), True), Cell(_tonnes(f.tonnes_investment), True),
            Cell(_tonnes(f.tonnes), True), Cell(_nok(f.spend_nok), True),
            Cell(formatting.percent(f.covered_percent), True)]


def _range(f: Figures) -> str:
    return f"{_tonnes(f.tonnes_low)}–{_tonnes(f.tonnes_high)}"


def _series() -> list[str]:
    return [str(labels.OPERATING), str(labels.INVESTMENT)]


def _bars(figures: list[Figures], names: dict) -> list[charts.Bar]:
    operating, investment = _series()
    return [charts.Bar(str(names.get(f.key, f.key)), {operating: f.tonnes_operating, investment: f.tonnes_investment},
                       _tonnes(f.tonnes)) for f in figures]


def _highest(figures: list[Figures], names: dict) -> tuple[str, str]:
    top = max(figures, key=lambda f: f.kg)
    return str(names.get(top.key, top.key)), _tonnes(top.tonnes)


# --- periods ---------------------------------------------------------------------------------------------------

def period_label(period: dashboard.Period) -> str:
    if period.kind == "H":
        return _("Half-year %(n)s %(year)s") % {"n": period.number, "year": period.year}
    if period.kind == "T":
        return _("Tertial %(n)s %(year)s") % {"n": period.number, "year": period.year}
    if period.kind == "Q":
        return _("Quarter %(n)s %(year)s") % {"n": period.number, "year": period.year}
    return str(period.year)


class BadPeriod(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def requested_period(request) -> dashboard.Period | None:
    """?periode=2025, 2025H1, 2025T2 or 2025Q3 (also the older ?year=2025); None: the latest year.
    BadPeriod for anything else (the view answers 400 with a message)."""
    text = request.GET.get("periode", "").strip()
    if not text:
        text = request.GET.get("year", "").strip()
    if not text:
        return None
    try:
        return dashboard.parse_period(text)
    except dashboard.PeriodError:
        raise BadPeriod(text)


def period_choices(years, monthly=None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The periods that exist, for a select (grouped by year, newest first): each year with figures and, when it
    has purchases dated to a month (`monthly`, dashboard.monthly_years; every year when None), its half-years,
    tertials and quarters (dashboard.Period.siblings), labelled as the dashboards' period_nav."""
    def parts(year: int) -> list[dashboard.Period]:
        return dashboard.Period(year).siblings() if monthly is None or year in monthly else [dashboard.Period(year)]

    return [(str(year), [(p.code, period_label(p)) for p in parts(year)])
            for year in sorted({y for y in years if y}, reverse=True)]


def period_codes(choices) -> set[str]:
    return {code for _year, group in choices for code, _label in group}


def existing_years(scope, org: str | None = None) -> list[int]:
    """The years with figures in the latest compute run (dashboard.period_overview's years)."""
    overview = dashboard.period_overview(scope, org=org)
    return list(overview.years) if overview is not None else []


def bad_period_response(request, text: str):
    return render(request, "web/_period_invalid.html", {"text": text}, status=400)


def lines_href(orgnr: str, period: dashboard.Period | None, **filters) -> str:
    """The drill-down list of the lines behind a figure, with the same period and filters."""
    query = {"periode": period.code} if period is not None else {}
    query.update({k: v for k, v in filters.items() if v is not None})
    return reverse("lines", args=[orgnr]) + ("?" + urlencode(query) if query else "")


def _key_value(key) -> str:
    return "-" if key in ("", None) else str(key)


def period_nav(request, overview: dashboard.PeriodOverview, monthly: set[int]) -> dict:
    """Links to every year with data and to the parts of the chosen year (none for a year without purchases dated
    to a month, `monthly`: dashboard.monthly_years)."""
    def link(p: dashboard.Period) -> dict:
        return {"label": period_label(p), "code": p.code, "href": f"{request.path}?periode={p.code}",
                "current": p == overview.period}

    parts = overview.period.siblings() if overview.period.year in monthly else []
    return {"years": [link(dashboard.Period(y)) for y in overview.years],
            "halves": [link(p) for p in parts if p.kind == "H"],
            "tertials": [link(p) for p in parts if p.kind == "T"],
            "quarters": [link(p) for p in parts if p.kind == "Q"]}


def key_figures(overview: dashboard.PeriodOverview) -> dict:
    total, previous = overview.total, overview.previous
    diff_percent = overview.difference_percent
    label, previous_label = period_label(overview.period), period_label(overview.period.previous())
    if overview.through_month:  # the year under way, compared with the same months of the year before
        months = formatting.months_so_far(overview.through_month)
        label = formatting.year_so_far(label, overview.through_month)
        previous_label = _("%(months)s %(year)s") % {"months": months, "year": previous_label}
    return {
        "label": label,
        "previous_label": previous_label,
        "range": _range(total) if overview.combined_range is None else
        f"{_tonnes(overview.combined_range[0] / 1000)}–{_tonnes(overview.combined_range[1] / 1000)}",
        "combined": overview.combined_range is not None,
        "intensity": formatting.kpi_value(total.intensity, "kg CO2e/kr"),  # as the KPI table writes it
        "previous_tonnes": _tonnes(previous.tonnes),
        "difference_tonnes": ("+" if overview.difference_kg > 0 else "") + _tonnes(overview.difference_kg / 1000),
        "difference_percent": ("+" if diff_percent and diff_percent > 0 else "") + formatting.percent(diff_percent)
        if diff_percent is not None else "–",
        "has_previous": bool(previous.lines),
        # market-based (electricity at the residual mix); "" for a run made before the figure
        "market_tonnes": "" if total.tonnes_market is None else _tonnes(total.tonnes_market),
    }


# --- panels --------------------------------------------------------------------------------------------------

def year_panel(overview, request=None, partial: dict[int, list[str]] | None = None) -> Panel:
    """Per year; `partial` (the region): years in which some organisations have no figures, labelled as such."""
    figures = overview.per_year
    partial = partial or {}
    names = {f.key: str(f.key) + (" " + _("(partial)") if f.key in partial else "") for f in figures}
    intro = " ".join(_("%(year)s is partial: no figures for %(names)s.") % {
        "year": year, "names": ", ".join(missing)} for year, missing in sorted(partial.items())
        if any(f.key == year for f in figures))
    summary = ""
    if figures:
        year, tonnes = _highest(figures, names)
        summary = _("Emissions per year: highest in %(year)s with %(tonnes)s tonnes CO2e.") % {
            "year": year, "tonnes": tonnes}
    path = request.path if request is not None else ""
    return Panel(
        id="per-year", title=_("Emissions per year"), caption=_("Emissions and purchases per year"),
        columns=_figure_columns(_("Year")),
        rows=[_figure_cells(Cell(names[f.key], header=True, href=f"{path}?periode={f.key}" if path else ""), f)
              for f in figures],
        chart=_chart(_bars(figures, names), series=_series(), horizontal=False), chart_summary=summary, intro=intro,
    )


def org_panel(overview, org_names: dict[str, str]) -> Panel:
    figures = overview.per_org
    label = period_label(overview.period)
    summary = ""
    if figures:
        name, tonnes = _highest(figures, org_names)
        summary = _("Emissions per organisation in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": label, "name": name, "tonnes": tonnes}
    rows = [_figure_cells(Cell(org_names.get(f.key, f.key), header=True,
                               href=reverse("organisation", args=[f.key]) + f"?periode={overview.period.code}"), f)
            for f in figures]
    return Panel(
        id="per-organisation", title=_("Emissions per organisation"),
        # the region is consolidated: a row differs from the organisation's own page by its purchases from members
        intro=_("Purchases from another organisation of the region are left out here: the seller's own purchases "
                "count them once. An organisation's own page includes them, so its figures can be higher than its "
                "row here.") if len(figures) > 1 else "",
        caption=_("Emissions and purchases per organisation in %(year)s") % {"year": label},
        columns=_figure_columns(_("Organisation")), rows=rows,
        chart=_chart(_bars(figures, org_names), series=_series(), horizontal=True), chart_summary=summary,
    )


def category_panel(overview, category_names: dict[str, str], orgnr: str | None = None,
                   unit: str | None = None) -> Panel:
    figures = overview.per_category
    label = period_label(overview.period)
    names = dict(category_names)
    names[""] = _("Without category")
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Emissions per category in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": label, "name": name, "tonnes": tonnes}
    unit_filter = {"enhet": unit, "underenheter": "1"} if unit else {}
    rows = [_figure_cells(Cell(names.get(f.key, f.key), header=True,
                               href=lines_href(orgnr, overview.period, kategori=_key_value(f.key), **unit_filter)
                               if orgnr else ""), f) for f in figures]
    return Panel(
        id="per-category", title=_("Emissions per category"),
        intro=_("Largest first. Each category leads to the invoice lines behind it.") if orgnr else "",
        caption=_("Emissions and purchases per category in %(year)s") % {"year": label},
        columns=_figure_columns(_("Category")), rows=rows,
        chart=_chart(_bars(figures, names), series=_series(), horizontal=True), chart_summary=summary,
        more_href=lines_href(orgnr, overview.period, **unit_filter) if orgnr else "",
        more_text=_("All lines of the period") if orgnr else "",
    )


def method_label(method: str) -> str:
    return str({"supplier": _("Supplier-specific factor"), "activity": _("Activity-based factor"),
                "spend": _("Spend-based factor"), "": _("Not covered by a factor")}.get(method, method))


def method_panel(overview, orgnr: str | None = None, unit: str | None = None) -> Panel:
    figures = overview.per_method
    total = overview.total
    names = {f.key: method_label(f.key) for f in figures}
    unit_filter = {"enhet": unit, "underenheter": "1"} if unit else {}
    rows = []
    for f in figures:
        href = lines_href(orgnr, overview.period, metode=_key_value(f.key), **unit_filter) if orgnr else ""
        rows.append([Cell(names[f.key], header=True, href=href), Cell(_tonnes(f.tonnes), True),
                     Cell(formatting.percent(100.0 * f.kg / total.kg if total.kg else None), True),
                     Cell(_nok(f.spend_nok), True),
                     Cell(formatting.percent(100.0 * f.ore_total / total.ore_total if total.ore_total else None), True),
                     Cell(formatting.number(f.lines, 0), True)])
    bars = [charts.Bar(names[f.key], {str(_("Tonnes CO2e")): f.tonnes}, _tonnes(f.tonnes)) for f in figures]
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Emissions by method: most with %(name)s, %(tonnes)s tonnes CO2e.") % {"name": name,
                                                                                            "tonnes": tonnes}
    return Panel(
        id="per-method", title=_("Methods"),
        intro=_("Which kind of emission factor each purchase got: supplier-specific, activity-based (quantity "
                "× factor), spend-based, or none."),
        caption=_("Emissions and purchases by method in %(period)s") % {"period": period_label(overview.period)},
        columns=[Column(_("Method")), Column(_("Tonnes CO2e"), True), Column(_("Share of emissions"), True),
                 Column(_("Purchases, NOK"), True), Column(_("Share of purchases"), True), Column(_("Lines"), True)],
        rows=rows, chart=_chart(bars, series=[str(_("Tonnes CO2e"))], horizontal=True),
        chart_summary=summary, empty=_("No purchases in this period."),
    )


def quality_panel(overview) -> Panel:
    figures = overview.per_quality
    total = overview.total
    rows = [[Cell(str(f.key), header=True), Cell(_tonnes(f.tonnes), True),
             Cell(formatting.percent(100.0 * f.kg / total.kg if total.kg else None), True),
             Cell(_nok(f.spend_nok), True),
             Cell(formatting.number(f.lines, 0), True)] for f in figures]
    return Panel(
        id="per-quality", title=_("Data quality"),
        intro=_("Quality of the emission factors, from 1 (best: measured, specific) to 5 (weakest: broad "
                "averages)."),
        caption=_("Emissions by data quality in %(period)s") % {"period": period_label(overview.period)},
        columns=[Column(_("Quality (1–5)")), Column(_("Tonnes CO2e"), True), Column(_("Share of emissions"), True),
                 Column(_("Purchases, NOK"), True), Column(_("Lines"), True)],
        rows=rows, empty=_("No purchases with an emission factor in this period."),
    )


def excluded_panel(overview) -> Panel:
    label = period_label(overview.period)
    rows = [[Cell(labels.exclusion_label(r["exclusion"]), header=True), Cell(_nok(r["spend_nok"]), True),
             Cell(formatting.number(r["lines"], 0), True)] for r in overview.excluded]
    return Panel(
        id="excluded", title=_("Not included in the account"),
        intro=_("Spend that is not a purchase of goods or services is left out, by KOSTRA art."),
        caption=_("Spend left out in %(year)s, by reason") % {"year": label},
        columns=[Column(_("Reason")), Column(_("Amount, NOK"), True), Column(_("Lines"), True)], rows=rows,
        empty=_("Nothing was left out."),
    )


def unit_panel(scope: Scope, orgnr: str, period: dashboard.Period, units: list[str] | None = None,
               subtree_of: str | None = None, run=None) -> Panel:
    figures = dashboard.per_unit(scope, orgnr, year=period.year, months=period.months, units=units, run=run)
    label = period_label(period)
    names = {code: (f"{code} {name}".strip() if name else code)
             for code, name in dashboard.unit_names(scope, orgnr).items()}
    names[""] = _("Without unit")
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Emissions per unit in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": label, "name": name, "tonnes": tonnes}
    rows = []
    for f in figures:
        cells = _figure_cells(Cell(names.get(f.key, f.key), header=True,
                                   href=lines_href(orgnr, period, enhet=_key_value(f.key))), f)
        dashboard_href = (reverse("unit", args=[orgnr, f.key]) + f"?periode={period.code}"
                          if f.key and f.key != subtree_of else "")
        cells.append(Cell(_("Dashboard") if dashboard_href else "", href=dashboard_href))
        rows.append(cells)
    return Panel(
        id="per-unit", title=_("Emissions per unit"),
        intro=_("Each unit leads to its lines; the last column to the unit's own dashboard with its sub-units."),
        caption=_("Emissions and purchases per unit in %(year)s") % {"year": label},
        columns=_figure_columns(_("Unit")) + [Column(_("Unit dashboard"))], rows=rows,
        chart=_chart(_bars(figures, names), series=_series(), horizontal=True), chart_summary=summary,
        empty=_("No purchases by unit this year."),
    )


def supplier_panel(scope: Scope, orgnr: str, period: dashboard.Period, units: list[str] | None = None,
                   unit: str | None = None, run=None) -> Panel:
    figures = dashboard.top_suppliers(scope, orgnr, year=period.year, limit=10, months=period.months, units=units,
                                      run=run)
    label = period_label(period)
    names = dashboard.supplier_names(scope, orgnr, [f.key for f in figures])
    names[""] = _("Without supplier")
    unit_filter = {"enhet": unit, "underenheter": "1"} if unit else {}
    rows = [_figure_cells(Cell(names.get(f.key, f.key), header=True,
                               href=lines_href(orgnr, period, leverandor=_key_value(f.key), **unit_filter)), f)
            for f in figures]
    summary = ""
    if figures:
        name, tonnes = _highest(figures, names)
        summary = _("Top suppliers in %(year)s: highest for %(name)s with %(tonnes)s tonnes CO2e.") % {
            "year": label, "name": name, "tonnes": tonnes}
    return Panel(
        id="top-suppliers", title=_("Top suppliers"),
        caption=_("The ten suppliers with the highest emissions in %(year)s") % {"year": label},
        columns=_figure_columns(_("Supplier")), rows=rows,
        chart=_chart(_bars(figures, names), series=_series(), horizontal=True), chart_summary=summary,
        empty=_("No purchases with a supplier this year."),
    )


# --- KPIs and targets (issue 11) ------------------------------------------------------------------------------

def kpi_panel(scope: Scope, subject: kpis.Subject, period: dashboard.Period, run=None) -> Panel:
    """Every KPI of the subject for the period against its target and the straight path (selectors/kpis.py)."""
    rows = []
    names = None
    for row in kpis.follow_up(scope, subject, period, run):
        name = row.name
        if row.category:
            names = names or dashboard.category_names(scope, get_language() or "nb")
            name = f"{name}: {names.get(row.category, row.category)}"
        status = row.status_label
        if row.missing_in_baseline:
            status += " " + _("(partial baseline %(year)s: no figures for %(names)s)") % {
                "year": row.baseline_year, "names": ", ".join(row.missing_in_baseline)}
        rows.append([Cell(name, header=True), Cell(formatting.kpi_value(row.value, row.unit), True), Cell(row.unit),
                     Cell(formatting.kpi_value(row.target, row.unit), True), Cell(str(row.target_year or "–"), True),
                     Cell(formatting.kpi_value(row.expected_now, row.unit), True), Cell(status)])
    return Panel(
        id="kpis", title=_("KPIs and targets"),
        caption=_("KPIs in %(period)s against their targets") % {"period": period_label(period)},
        columns=[Column(_("KPI")), Column(_("Value"), True), Column(_("Unit of measure")), Column(_("Target"), True),
                 Column(_("Target year"), True), Column(_("Expected now"), True), Column(_("Status"))],
        rows=rows, intro=str(kpis.STATUS_RULE))


def budget_panel(scope: Scope, orgnr: str, unit_code: str | None, period: dashboard.Period, run=None) -> Panel | None:
    """The unit's (or organisation's) climate budget against the actual in the period; None without a budget."""
    status = budgets.budget_status(scope, orgnr=orgnr, unit_code=unit_code, period=period, run=run)
    if status is None:
        return None
    deviation = ("+" if status.deviation_t > 0.05 else "") + _tonnes(status.deviation_t)
    return Panel(
        id="budget", title=_("Climate budget"),
        caption=_("Tonnes CO2e in %(period)s against the budget (version %(version)s)") % {
            "period": period_label(period), "version": status.version},
        columns=[Column(_("Period")), Column(_("Budget in the period"), True), Column(_("Actual in the period"), True),
                 Column(_("Deviation"), True), Column(_("Budget for the year"), True),
                 Column(_("Forecast for the year"), True)],
        rows=[[Cell(period_label(period), header=True), Cell(_tonnes(status.budget_t), True),
               Cell(_tonnes(status.actual_t), True), Cell(deviation, True), Cell(_tonnes(status.year_budget_t), True),
               Cell(_tonnes(status.forecast_t), True)]],
        more_href=reverse("budgets", args=[orgnr]) + f"?periode={period.code}",
        more_text=_("Climate budgets and what drives the deviation"))


# --- what changed since the previous computation (issue 16 item 4) ----------------------------------------------

def cause_label(cause: str) -> str:
    return str({"new_lines": _("new lines"), "removed_lines": _("removed lines"),
                "reclassified": _("reclassified lines"), "method": _("method changes"), "factors": _("new factors"),
                "other": _("other changes (price index, exchange rates, purchases between members)")}.get(cause, cause))


def change_notice(scope: Scope, orgnr: str | None, period: dashboard.Period, units: list[str] | None,
                  run) -> dict | None:
    """The dashboard's notice when its total for the period moved more than the set share since the previous
    computation, naming the main causes; None otherwise."""
    notice = changes.change_notice(scope, org=orgnr, year=period.year, months=period.months, units=units, run=run)
    if notice is None:
        return None
    causes = ", ".join(f"{cause_label(c)} ({'+' if kg > 0 else ''}{_tonnes(kg / 1000)} {_('tonnes')})"
                       for c, kg in notice.causes)
    return {
        "text": _("The total for %(period)s moved by %(tonnes)s tonnes CO2e (%(percent)s) since computation "
                  "%(base)s, more than %(threshold)s.") % {
            "period": period_label(period), "tonnes": ("+" if notice.change_kg > 0 else "") + _tonnes(
                notice.change_kg / 1000),
            "percent": ("+" if notice.share > 0 else "") + formatting.percent(100.0 * notice.share),
            "base": notice.base, "threshold": formatting.percent(100.0 * notice.threshold)},
        "causes": _("Mainly: %(causes)s.") % {"causes": causes} if causes else "",
        "href": reverse("comparison") + "?" + urlencode({"a": notice.base, "b": notice.run}),
    }


# --- views ----------------------------------------------------------------------------------------------------

def _dashboard_context(request, overview, monthly: set[int]) -> dict:
    if overview is None or not overview.years:
        return {}
    return {"period_nav": period_nav(request, overview, monthly), "figures": key_figures(overview),
            "period_label": period_label(overview.period)}


@login_required
def region(request):
    scope = scope_for(request.user)
    try:
        period = requested_period(request)
    except BadPeriod as bad:
        return bad_period_response(request, bad.text)
    run = dashboard.current_run()  # looked up once for the page's reads

    def build() -> dict:
        org_names = dashboard.organisation_names(scope)
        overview = dashboard.period_overview(scope, period=period, run=run)
        monthly = dashboard.monthly_years(scope, run=run)
        context = {"organisations": org_names, "overview": overview, "panels": []}
        if overview is not None and overview.years:
            context.update(_dashboard_context(request, overview, monthly))
            partial = kpis.partial_years(scope) if len(org_names) > 1 else {}
            context["panels"] = [year_panel(overview, request, partial), org_panel(overview, org_names),
                                 category_panel(overview, dashboard.category_names(scope, get_language() or "nb")),
                                 method_panel(overview), quality_panel(overview), excluded_panel(overview)]
            context["panels"].insert(1, kpi_panel(scope, kpis.Subject(), overview.period))
            context["change_notice"] = change_notice(scope, None, overview.period, None, run)
        return context

    content = cached_content(request, scope, run, "web/_region_content.html", build)
    return render(request, "web/region.html", {"content": content, "compute_status": results.compute_status()})


@login_required
def organisation(request, orgnr):
    scope = scope_for(request.user)
    try:
        org = org_selectors.organisation(scope, orgnr)
    except (OutsideScope, org_selectors.NotFound):
        raise Http404
    try:
        period = requested_period(request)
    except BadPeriod as bad:
        return bad_period_response(request, bad.text)
    run = dashboard.current_run()  # looked up once for the page's reads

    def build() -> dict:
        overview = dashboard.period_overview(scope, org=org.orgnr, period=period, run=run)
        monthly = dashboard.monthly_years(scope, org=org.orgnr, run=run)
        try:
            batches = list(org_selectors.import_batches(scope, org.orgnr))
        except OutsideScope:  # a unit leader: the imports are the whole organisation's
            batches = []
        # no silent zero (method v2): imports whose spend mostly has no KOSTRA art, as their warning was kept
        warned = [b for b in batches if b.status == "done"
                  and any(isinstance(e, dict) and e.get("warning") for e in (b.errors or []))]
        context = {"org": org, "overview": overview, "panels": [], "batches": batches, "warned_batches": warned}
        if overview is not None and overview.years:
            context.update(_dashboard_context(request, overview, monthly))
            names = dashboard.category_names(scope, get_language() or "nb")
            context["panels"] = [
                year_panel(overview, request), category_panel(overview, names, org.orgnr),
                unit_panel(scope, org.orgnr, overview.period, run=run),
                supplier_panel(scope, org.orgnr, overview.period, run=run),
                method_panel(overview, org.orgnr), quality_panel(overview), excluded_panel(overview)]
            context["panels"].insert(1, kpi_panel(scope, kpis.Subject(org=org.orgnr), overview.period, run))
            budget = budget_panel(scope, org.orgnr, None, overview.period, run) \
                if scope.unit_filter(org.orgnr) is None else None
            if budget is not None:
                context["panels"].insert(2, budget)
            context["change_notice"] = change_notice(scope, org.orgnr, overview.period, None, run)
        return context

    content = cached_content(request, scope, run, "web/_organisation_content.html", build)
    return render(request, "web/organisation.html",
                  {"org": org, "content": content, "compute_status": results.compute_status()})


@login_required
def unit(request, orgnr, unit):
    """One unit and its sub-units (a unit leader: only their own units)."""
    scope = scope_for(request.user)
    try:
        org = org_selectors.organisation(scope, orgnr)
        codes = dashboard.unit_subtree(scope, org.orgnr, unit)
    except (OutsideScope, org_selectors.NotFound, LookupError):
        raise Http404
    try:
        period = requested_period(request)
    except BadPeriod as bad:
        return bad_period_response(request, bad.text)
    run = dashboard.current_run()  # looked up once for the page's reads
    unit_title = f"{unit} {dashboard.unit_name(scope, org.orgnr, unit)}".strip()

    def build() -> dict:
        overview = dashboard.period_overview(scope, org=org.orgnr, period=period, units=codes, run=run)
        monthly = dashboard.monthly_years(scope, org=org.orgnr, units=codes, run=run)
        context = {"org": org, "overview": overview, "panels": [], "unit": unit, "unit_title": unit_title,
                   "sub_units": [c for c in codes if c != unit]}
        if overview is not None and overview.years:
            context.update(_dashboard_context(request, overview, monthly))
            names = dashboard.category_names(scope, get_language() or "nb")
            context["panels"] = [
                year_panel(overview, request), category_panel(overview, names, org.orgnr, unit),
                unit_panel(scope, org.orgnr, overview.period, units=codes, subtree_of=unit, run=run),
                supplier_panel(scope, org.orgnr, overview.period, units=codes, unit=unit, run=run),
                method_panel(overview, org.orgnr, unit), quality_panel(overview), excluded_panel(overview)]
            context["panels"].insert(1, kpi_panel(scope, kpis.Subject(org=org.orgnr, unit=unit), overview.period,
                                                  run))
            budget = budget_panel(scope, org.orgnr, unit, overview.period, run)
            if budget is not None:
                context["panels"].insert(2, budget)
            context["change_notice"] = change_notice(scope, org.orgnr, overview.period, codes, run)
        return context

    content = cached_content(request, scope, run, "web/_organisation_content.html", build)
    return render(request, "web/organisation.html",
                  {"org": org, "unit": unit, "unit_title": unit_title, "content": content,
                   "compute_status": results.compute_status()})
