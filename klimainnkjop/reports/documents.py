"""The baseline report (kartleggingsrapport) and the council case document (saksfremlegg), issue 13.

Both are built as one list of blocks (headings, paragraphs, tables, figures with alt text), and the writers
(reports/documents_docx.py, reports/documents_pdf.py) only lay the blocks out, so DOCX and PDF cannot disagree.
Every figure is read through the selectors (reports.data.build as the standard report, selectors.measures as the
measure pages, selectors.kpis as the KPI panels, selectors.agreements as the agreement list) from ONE compute run:
the latest when the document starts; should another run finish while it is being built, building fails rather
than mixing two runs. The run is named on the first page.

The saksfremlegg's shared texts (the same for every organisation, only names and figures change) are kept once:
the shipped defaults in data/document_texts.json, an administrator's edited copy in the data directory
(services/documents.do_save_document_texts, audited). Placeholders in braces are filled per organisation.
"""
from __future__ import annotations

import datetime as dt
import json
import string
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _, gettext_lazy, ngettext, pgettext, pgettext_lazy

from klimainnkjop import paths
from klimainnkjop.access import Scope, check_report_subject
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.reports import charts
from klimainnkjop.reports import data as report_data
from klimainnkjop.reports import measure_charts
from klimainnkjop.reports import rows as R
from klimainnkjop.reports.periods import Period
from klimainnkjop.selectors import agreements as agreement_selectors
from klimainnkjop.selectors import kpis as kpi_selectors
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.selectors import results
from klimainnkjop.storage.models import Category, MeasurePackage, Organisation, Region

NBSP = "\u00a0"
DECIMALS = {R.INT: 0, R.NOK: 0, R.KG: 0, R.TONNES: 1, R.INTENSITY: 4, R.SHARE: 1}
KIND_NAMES = {1: gettext_lazy("Reuse and circularity"), 2: gettext_lazy("Changed need or kind of purchase"),
              3: gettext_lazy("Stricter product and service requirements"),
              4: gettext_lazy("Climate requirements in procurements")}
STATUS_NAMES = {"proposed": pgettext_lazy("measure", "Proposed"),
                "recommended": pgettext_lazy("measure", "Recommended"),
                "adopted": pgettext_lazy("measure", "Adopted"),
                "implemented": pgettext_lazy("measure", "Implemented"),
                "verified": pgettext_lazy("measure", "Verified")}
KPI_STATUS_NAMES = {"on_track": pgettext_lazy("document", "On track"), "at_risk": pgettext_lazy("document", "At risk"),
                    "off_track": pgettext_lazy("document", "Off track"),
                    "no_target": pgettext_lazy("document", "No target"),
                    "no_data": pgettext_lazy("document", "No data yet")}
TRAJECTORY_TO = 2030
TEXTS_FILE = "document_texts.json"
SHIPPED_TEXTS = Path(__file__).resolve().parent.parent / "data" / TEXTS_FILE


def number(value, kind: str = R.TONNES) -> str:
    """12 345,6 (non-breaking space for thousands, decimal comma, a real minus); shares as percent."""
    if value is None or value == "":
        return "–"
    n = float(value) * (100 if kind == R.SHARE else 1)
    decimals = DECIMALS.get(kind, 1)
    if round(n, decimals) == 0:
        n = 0.0
    text = f"{n:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", NBSP).replace("-", "\u2212")
    return f"{text}{NBSP}%" if kind == R.SHARE else text


def tonnes(kg: float | None) -> str:
    return number(None if kg is None else kg / 1000, R.TONNES)


def kroner(nok: float | None) -> str:
    return number(nok, R.NOK)


# --- blocks --------------------------------------------------------------------------------------------------------

@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str
    style: str = ""  # "lead": the recommendation, in bold; "note": small print


@dataclass
class Bullets:
    items: list[str]
    numbered: bool = False


@dataclass
class TableBlock:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    total_row: bool = False  # the last row is a sum


@dataclass
class Figure:
    spec: dict
    alt: str
    caption: str

    def png(self) -> bytes:
        import vl_convert as vlc

        return vlc.vegalite_to_png(self.spec, scale=2, format_locale=charts.FORMAT_LOCALES["nb"])


@dataclass
class Document:
    kind: str  # "baseline" or "saksfremlegg"
    title: str
    subtitle: str
    blocks: list = field(default_factory=list)
    run_id: int | None = None
    subject: str = ""
    orgnr: str | None = None
    figures: dict = field(default_factory=dict)  # the key numbers, as computed (for the tests and the audit)
    language: str = "nb"  # the language of the text: nb or en

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)


def table(caption: str, headers: list[str], kinds: list[str], rows: list[list], total: list | None = None
          ) -> TableBlock:
    cells = [[number(v, k) if k != R.TEXT and not isinstance(v, str) else (v if v not in (None, "") else "–")
              for v, k in zip(row, kinds)] for row in rows]
    if total is not None:
        cells.append([number(v, k) if k != R.TEXT and not isinstance(v, str) else (v or "")
                      for v, k in zip(total, kinds)])
    return TableBlock(caption, headers, cells, [k != R.TEXT for k in kinds], total_row=total is not None)


def bar_figure(caption: str, items: list[tuple[str, float]]) -> Figure | None:
    """A horizontal bar chart of tonnes (at most 12 bars), with alt text naming the largest."""
    items = [(name, t) for name, t in items if t][:12]
    if not items:
        return None
    series = _("Tonnes CO2e")
    bars = [charts.Bar(name, {series: t}, number(t, R.TONNES)) for name, t in items]
    spec = charts.bar_chart_spec(bars, series=[series], value_title=series, horizontal=True)
    top = max(items, key=lambda i: i[1])
    alt = _("Bar chart: %(caption)s. Highest is %(name)s with %(tonnes)s tonnes CO2e. The figures are in the "
            "table.") % {"caption": caption, "name": top[0], "tonnes": number(top[1], R.TONNES)}
    return Figure(spec, alt, caption)


# --- shared ------------------------------------------------------------------------------------------------------

def region_name() -> str:
    names = list(Region.objects.values_list("name", flat=True)[:2])
    return names[0] if len(names) == 1 else _("The region")


def _organisation(orgnr: str) -> Organisation:
    org = Organisation.objects.filter(orgnr=orgnr).first()
    if org is None:
        raise InvalidInput(f"--org: no organisation with orgnr {orgnr}")
    return org


def _run() -> results.Run:
    run = results.latest_run()
    if run is None:
        raise results.NoResults()
    return run


def _same_run(run: results.Run) -> None:
    latest = results.latest_run()
    if latest is None or latest.run.pk != run.run.pk:
        raise RuntimeError(f"the account was computed again (run {latest.run.pk if latest else '–'}) while the "
                           f"document was being built on run {run.run.pk}; make it again")


def find_package(scope: Scope, name: str | None):
    if not name:
        raise InvalidInput("--package: name the package")
    try:
        return measure_selectors.package(scope, name)
    except MeasurePackage.DoesNotExist:
        raise InvalidInput(f"--package: no package named {name!r}; see `klimainnkjop packages list`") from None


def recommended_package(package_rows: list[dict], name: str | None = None) -> dict | None:
    """The named package, else the one that cuts most per year (ties: the cheaper)."""
    if name:
        for row in package_rows:
            if row["name"] == name:
                return row
        raise InvalidInput(f"--package: no package named {name!r}; see `klimainnkjop packages list`")
    candidates = [r for r in package_rows if r["expected_kg_per_year"]]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r["expected_kg_per_year"], -r["cost_nok_per_year"]))


def _cost_phrase(cost_nok: float, per_tonne: float | None) -> str:
    if cost_nok < 0:
        return _("saves %(nok)s kr per year") % {"nok": kroner(-cost_nok)} + (
            " (" + _("%(nok)s kr saved per tonne") % {"nok": kroner(-per_tonne)} + ")" if per_tonne is not None
            else "")
    return _("costs %(nok)s kr per year") % {"nok": kroner(cost_nok)} + (
        " (" + _("%(nok)s kr per tonne") % {"nok": kroner(per_tonne)} + ")" if per_tonne is not None else "")


def recommendation_text(subject: str, pkg: dict | None, base_kg: float, year: int) -> str:
    if pkg is None:
        return _("No package of measures with a computed effect has been put together for %(subject)s yet. The "
                 "recommendation is to adopt measures from the list of measures in chapter 4.") % {"subject": subject}
    share = pkg["expected_kg_per_year"] / base_kg if base_kg else None
    return (_("Recommendation: %(subject)s should adopt the package of measures «%(package)s». It is computed to cut "
              "%(tonnes)s tonnes CO2e per year") % {"subject": subject, "package": pkg["name"],
                                                      "tonnes": tonnes(pkg["expected_kg_per_year"])}
            + (" (" + _("%(share)s of the emissions from purchases in %(year)s") % {
                "share": number(share, R.SHARE), "year": pkg["baseline_year"]} + ")" if share else "")
            + ", " + _("and") + " " + _cost_phrase(pkg["cost_nok_per_year"], pkg["nok_per_tonne"]) + ".")


def _base_kg(scope: Scope, year: int, orgnr: str | None) -> float:
    c = measure_selectors.cells(scope, year, org=orgnr)
    return float(c.kg.sum()) if c.run is not None else 0.0


# --- the baseline report -----------------------------------------------------------------------------------------

def baseline(scope: Scope, *, year: int, orgnr: str | None = None, package_name: str | None = None,
             to_year: int = TRAJECTORY_TO) -> Document:
    """The baseline report of the region (orgnr None) or an organisation for `year`."""
    if not 1990 <= int(year) <= 2100:
        raise InvalidInput.at("--year", _("%(year)s is not a year"), year=year)
    run = _run()
    kind = report_data.SCOPE_REGION if orgnr is None else report_data.SCOPE_ORG
    if orgnr is not None:
        _organisation(orgnr)
    data = report_data.build(scope, scope_kind=kind, period=Period(int(year), "Y", 0), orgnr=orgnr)
    if data.run_id != run.run.pk:
        raise RuntimeError("the account was computed again while the document was being built; make it again")
    subject = data.subject
    total = data.total
    if not total.lines:
        raise InvalidInput.at("--year", _("%(subject)s has no purchases in %(year)s in the computed account (run "
                                          "%(run)s)"), subject=subject, year=year, run=run.run.pk)
    recommended = pgettext("package", "recommended")
    package_rows = measure_selectors.package_rows(scope, org=orgnr)
    pkg = recommended_package(package_rows, package_name)
    base_kg = _base_kg(scope, pkg["baseline_year"], orgnr) if pkg else total.kg
    doc = Document("baseline", _("Survey of greenhouse gas emissions from purchases: %(subject)s") % {
                       "subject": subject},
                   _("Baseline year %(year)s. The situation today, proposed measures, their effect and indicators.")
                   % {"year": year}, run_id=run.run.pk, subject=subject, orgnr=orgnr)
    doc.figures = {"total_kg": total.kg, "total_ore": total.ore_total, "package": pkg["name"] if pkg else None,
                   "package_kg": pkg["expected_kg_per_year"] if pkg else None,
                   "package_cost_nok": pkg["cost_nok_per_year"] if pkg else None}

    # 1 summary, the recommendation first
    doc.add(Heading(1, _("1 Summary and recommendation")),
            Para(recommendation_text(subject, pkg, base_kg, year), "lead"))
    if pkg:
        doc.add(Para(ngettext("The package has %(count)s measure: %(measures)s.",
                              "The package has %(count)s measures: %(measures)s. The measures are computed in order "
                              "on the same purchases, so the effect is not counted twice.", len(pkg["measures"])) % {
                           "count": len(pkg["measures"]), "measures": "; ".join(pkg["measures"])}))
    doc.add(Para(_("In %(year)s %(subject)s bought goods and services for %(nok)s kr. The emissions from these "
                   "purchases are estimated at %(tonnes)s tonnes CO2e (uncertainty %(low)s–%(high)s tonnes), "
                   "%(intensity)s kg CO2e per krone.") % {
                       "year": year, "subject": subject, "nok": kroner(total.ore_total / 100),
                       "tonnes": tonnes(total.kg), "low": tonnes(total.kg_low), "high": tonnes(total.kg_high),
                       "intensity": number(total.intensity, R.INTENSITY)}))
    top = data.top_categories[:3]
    if top and total.kg:
        doc.add(Para(_("The largest sources are %(sources)s, together %(share)s of the emissions.") % {
            "sources": ", ".join(f"{s.name} ({tonnes(s.kg)} {_('tonnes')})" for s in top),
            "share": number(sum(s.kg for s in top) / total.kg, R.SHARE)}))
    doc.add(Para(_("Every figure in the report is from computation no. %(run)s of the climate account (%(when)s, "
                   "factor sets %(sets)s). The report was made %(today)s.") % {
                       "run": run.run.pk, "when": f"{run.run.created_at:%d.%m.%Y %H:%M}",
                       "sets": ", ".join(run.run.factor_sets), "today": f"{dt.date.today():%d.%m.%Y}"}, "note"))
    if package_rows:
        doc.add(table(_("The packages of measures compared"),
                      [_("Package"), _("Number of measures"), _("Cut, tonnes CO2e per year"),
                       _("Cost, kr per year"), _("Kr per tonne")],
                      [R.TEXT, R.INT, R.TONNES, R.NOK, R.NOK],
                      [[r["name"] + (f" ({recommended})" if pkg and r["name"] == pkg["name"] else ""),
                        len(r["measures"]),
                        r["expected_kg_per_year"] / 1000, r["cost_nok_per_year"], r["nok_per_tonne"]]
                       for r in package_rows]))

    # 2 method and data basis
    _method(doc, scope, data, orgnr, year, run)
    # 3 purchases and emissions
    _figures(doc, scope, data, orgnr, year)
    # 4 measures, curve, packages
    _measures(doc, data, package_rows, pkg)
    # 5 KPIs and targets
    _kpis(doc, data)
    # 6 trajectory
    _trajectory(doc, scope, orgnr, pkg, to_year)
    # appendices
    _appendices(doc, data, run)
    _same_run(run)
    return doc


def _method(doc: Document, scope: Scope, data: report_data.ReportData, orgnr: str | None, year: int,
            run: results.Run) -> None:
    total = data.total
    doc.add(Heading(1, _("2 Method and data basis")),
            Para(_("The emissions are computed from the accounts: every purchase line (from ledger exports, KOSTRA "
                   "files, e-invoices and supplier statistics) gets a category and an emission factor. Where we know "
                   "the quantity (litres, kg, kWh) an activity-based factor is used, where the supplier has its own "
                   "figures they are used, else a spend-based factor (kg CO2e per krone). The figures are estimates; "
                   "the range low–high is the sum of the factors' uncertainty.")),
            Para(_("Share of the purchases with an emission factor: %(share)s. Number of lines: %(lines)s.") % {
                "share": number(total.covered_share, R.SHARE), "lines": number(total.lines, R.INT)}))
    source_names = {"ledger": _("Ledger export"), "saft": "SAF-T", "kostra": _("KOSTRA file"),
                    "ehf": _("E-invoice (EHF)"), "supplier_stats": _("Supplier statistics")}
    sources = [r for r in results.totals(scope, org=orgnr, year=year, by=["source"])["rows"] if r["lines"]]
    if sources:
        doc.add(table(_("The data basis: purchases and emissions by source"),
                      [_("Source"), _("Lines"), _("Purchases, kr"), _("Tonnes CO2e")],
                      [R.TEXT, R.INT, R.NOK, R.TONNES],
                      [[source_names.get(r["source"], r["source"] or "–"), r["lines"], r["spend_nok"],
                        r["kg_co2e"] / 1000] for r in sorted(sources, key=lambda r: -r["spend_nok"])]))
    if data.by_method:
        doc.add(table(_("Emissions by method"), [_("Method"), _("Tonnes CO2e"), _("Purchases, kr"),
                                                  _("Share of the emissions")],
                      [R.TEXT, R.TONNES, R.NOK, R.SHARE],
                      [[s.name, s.kg / 1000, s.ore_total / 100, s.kg / total.kg if total.kg else None]
                       for s in data.by_method]))
    if data.by_quality:
        doc.add(table(_("Emissions by data quality (1 best, 5 weakest)"),
                      [_("Data quality"), _("Tonnes CO2e"), _("Purchases, kr")],
                      [R.TEXT, R.TONNES, R.NOK], [[s.name, s.kg / 1000, s.ore_total / 100] for s in data.by_quality]))
    excluded = results.excluded_spend(scope, org=orgnr, year=year, run=run)
    if excluded:
        names = {"wages": _("Wages"), "transfers": _("Transfers"), "financial": _("Financial items"),
                 "income": _("Income"), "internal": _("Internal purchases")}
        doc.add(Para(_("This is left out because it is not purchases of goods and services (by KOSTRA art):")),
                table(_("Left out of the account"), [_("What"), _("Amount, kr"), _("Lines")],
                      [R.TEXT, R.NOK, R.INT],
                      [[names.get(r["exclusion"], r["exclusion"]), r["spend_nok"], r["lines"]] for r in excluded]))
    doc.add(Bullets(data.notes))


def _figures(doc: Document, scope: Scope, data: report_data.ReportData, orgnr: str | None, year: int) -> None:
    total = data.total

    def share(kg: float) -> float | None:
        return kg / total.kg if total.kg else None

    total_label = pgettext("table", "Total")
    doc.add(Heading(1, _("3 Purchases and emissions")),
            Heading(2, _("3.1 By category")))
    cats = [s for s in data.by_category if s.lines]
    if fig := bar_figure(_("Emissions by category, %(year)s") % {"year": year}, [(s.name, s.kg / 1000) for s in cats]):
        doc.add(fig)
    doc.add(table(_("Purchases and emissions by category, %(year)s") % {"year": year},
                  [_("Category"), _("Tonnes CO2e"), _("Purchases, kr"), _("kg CO2e per krone"),
                   _("Share of the emissions")],
                  [R.TEXT, R.TONNES, R.NOK, R.INTENSITY, R.SHARE],
                  [[s.name, s.kg / 1000, s.ore_total / 100, s.intensity, share(s.kg)] for s in cats],
                  total=[total_label, total.kg / 1000, total.ore_total / 100, total.intensity,
                         1.0 if total.kg else None]))
    # agreements
    doc.add(Heading(2, _("3.2 By agreement")))
    rows = [r for r in agreement_selectors.ranked(scope, org=orgnr, year=year) if r["lines"]]
    if rows:
        if fig := bar_figure(_("Emissions by agreement, %(year)s") % {"year": year},
                             [(r["name"], r["kg_co2e"] / 1000) for r in rows]):
            doc.add(fig)
        under = sum(r["kg_co2e"] for r in rows)
        doc.add(table(_("Purchases and emissions by agreement, %(year)s") % {"year": year},
                      [_("Agreement"), _("Number"), _("Tonnes CO2e"), _("Purchases, kr"), _("Ends")],
                      [R.TEXT, R.TEXT, R.TONNES, R.NOK, R.TEXT],
                      [[r["name"], r["number"], r["kg_co2e"] / 1000, r["spend_nok"], f"{r['end']:%d.%m.%Y}"]
                       for r in rows[:20]]),
                Para(_("Purchases under agreement account for %(share)s of the emissions (%(tonnes)s tonnes CO2e).")
                     % {"share": number(share(under), R.SHARE), "tonnes": tonnes(under)}))
    else:
        doc.add(Para(_("No purchases this year are linked to registered agreements.")))
    # organisations (region) or units (organisation)
    label = pgettext("document", "organisation") if orgnr is None else pgettext("document", "unit")
    doc.add(Heading(2, _("3.3 By %(part)s") % {"part": label}))
    parts = [s for s in data.by_part if s.lines]
    if fig := bar_figure(_("Emissions by %(part)s, %(year)s") % {"part": label, "year": year},
                         [(s.name, s.kg / 1000) for s in parts]):
        doc.add(fig)
    doc.add(table(_("Purchases and emissions by %(part)s, %(year)s") % {"part": label, "year": year},
                  [label.capitalize(), _("Tonnes CO2e"), _("Purchases, kr"), _("Share of the emissions")],
                  [R.TEXT, R.TONNES, R.NOK, R.SHARE],
                  [[s.name, s.kg / 1000, s.ore_total / 100, share(s.kg)] for s in parts],
                  total=[total_label, total.kg / 1000, total.ore_total / 100, 1.0 if total.kg else None]))
    # suppliers
    doc.add(Heading(2, _("3.4 By supplier")))
    supplier_rows = results.totals(scope, org=orgnr, year=year, by=["supplier"])["rows"]
    supplier_rows = sorted((r for r in supplier_rows if r["lines"]), key=lambda r: -r["kg_co2e"])[:15]
    names = agreement_selectors.supplier_names([r["supplier"] for r in supplier_rows if r["supplier"]])
    srows = [[names.get(r["supplier"]) or r["supplier"] or _("No supplier"), r["supplier"] or "",
              r["kg_co2e"] / 1000, r["spend_nok"], share(r["kg_co2e"])] for r in supplier_rows]
    doc.add(table(_("The 15 suppliers with the largest emissions, %(year)s") % {"year": year},
                  [_("Supplier"), _("Org. no."), _("Tonnes CO2e"), _("Purchases, kr"), _("Share of the emissions")],
                  [R.TEXT, R.TEXT, R.TONNES, R.NOK, R.SHARE], srows))
    # hotspots
    doc.add(Heading(2, _("3.5 Where the emissions are largest")))
    co2e = _("tonnes CO2e")
    hot = [f"{_('Category')}: {s.name}, {tonnes(s.kg)} {co2e} ({number(share(s.kg), R.SHARE)})"
           for s in data.top_categories]
    hot += [f"{_('Supplier')}: {row[0]}, {number(row[2], R.TONNES)} {co2e}" for row in srows[:3]]
    hot += [f"{_('Agreement')}: {r['name']}, {tonnes(r['kg_co2e'])} {co2e}" for r in rows[:3]]
    doc.add(Para(_("Measures should be aimed where the emissions are largest:")), Bullets(hot))


def _measures(doc: Document, data: report_data.ReportData, package_rows: list[dict], pkg: dict | None) -> None:
    doc.add(Heading(1, _("4 Measures, effect and cost")),
            Para(_("The effect is computed from the account in the measure's baseline year, not typed in: a share of "
                   "the emissions in the categories the measure applies to. The cost is the yearly cost plus the "
                   "one-off cost spread over the lifetime (negative: a saving). Kr per tonne is the cost divided by "
                   "the cut.")))
    ms = data.measures
    recommended = pgettext("package", "recommended")
    if ms:
        doc.add(table(_("The measures, ranked by kr per tonne"),
                      [_("Measure"), pgettext("document", "Kind"), pgettext("document", "Status"),
                       _("Cut, tonnes CO2e per year"), _("Cost, kr per year"), _("Kr per tonne")],
                      [R.TEXT, R.TEXT, R.TEXT, R.TONNES, R.NOK, R.NOK],
                      [[m["name"], str(KIND_NAMES.get(m["kind"], m["kind"])),
                        str(STATUS_NAMES.get(m["status"], m["status"])),
                        None if m["expected_kg_per_year"] is None else m["expected_kg_per_year"] / 1000,
                        m["cost_nok_per_year"], m["nok_per_tonne"]]
                       for m in sorted(ms, key=lambda m: (m["nok_per_tonne"] is None, m["nok_per_tonne"] or 0))]))
        curve = measure_selectors.abatement_curve(ms)
        if curve:
            spec = measure_charts.abatement_curve_spec(curve, x_title=_("Cut, tonnes CO2e per year (cumulative)"),
                                                       y_title=_("Kr per tonne"), kind_title=_("Kind of measure"),
                                                       kind_labels={k: str(v) for k, v in KIND_NAMES.items()})
            cheapest = curve[0]
            doc.add(Heading(2, _("4.1 The abatement curve")),
                    Figure(spec, ngettext(
                        "Abatement curve: %(count)s measure, the cheapest tonne first. The width is tonnes cut per "
                        "year, the height kr per tonne. Cheapest is %(name)s at %(nok)s kr per tonne; in all "
                        "%(tonnes)s tonnes per year. The figures are in the table above.",
                        "Abatement curve: %(count)s measures, the cheapest tonne first. The width is tonnes cut per "
                        "year, the height kr per tonne. Cheapest is %(name)s at %(nok)s kr per tonne; in all "
                        "%(tonnes)s tonnes per year. The figures are in the table above.", len(curve)) % {
                            "count": len(curve), "name": cheapest["name"], "nok": kroner(cheapest["nok_per_tonne"]),
                            "tonnes": number(curve[-1]["x1"], R.TONNES)},
                           _("Abatement curve (marginal abatement cost)")))
    else:
        doc.add(Para(_("No measures are registered yet.")))
    doc.add(Heading(2, _("4.2 Levels of ambition: the packages of measures")))
    for row in package_rows:
        doc.add(Heading(3, f"{row['name']}" + (f" ({recommended})" if pkg and row["name"] == pkg["name"] else "")),
                Para(_("Cut %(tonnes)s tonnes CO2e per year (uncertainty %(low)s–%(high)s), %(cost)s. Measures: "
                       "%(measures)s.") % {"tonnes": tonnes(row["expected_kg_per_year"]),
                                           "low": tonnes(row["expected_kg_low"]),
                                           "high": tonnes(row["expected_kg_high"]),
                                           "cost": _cost_phrase(row["cost_nok_per_year"], row["nok_per_tonne"]),
                                           "measures": "; ".join(row["measures"])}))
    if not package_rows:
        doc.add(Para(_("No packages of measures have been put together yet.")))


def _kpis(doc: Document, data: report_data.ReportData) -> None:
    doc.add(Heading(1, _("5 Indicators and targets")),
            Para(_("The indicators are computed from the same account for every period. The status compares the value "
                   "with the straight line from the baseline year to the target.")))
    doc.add(table(_("Indicators and targets"), [_("Indicator"), _("Value"), pgettext("document", "Unit"),
                                                _("Target"), _("Target year"), pgettext("document", "Status")],
                  [R.TEXT, R.TEXT, R.TEXT, R.TEXT, R.TEXT, R.TEXT],
                  [[str(k.name), number(k.value, R.TONNES) if k.value is not None else "–", k.unit,
                    number(k.target, R.TONNES) if k.target is not None else "–",
                    str(k.target_year or "–"), str(KPI_STATUS_NAMES.get(k.status, k.status_label))]
                   for k in data.kpis]))


def _trajectory(doc: Document, scope: Scope, orgnr: str | None, pkg: dict | None, to_year: int) -> None:
    doc.add(Heading(1, _("6 Trajectory")))
    if pkg is None:
        doc.add(Para(_("Without a package of measures there is no trajectory to show.")))
        return
    path = measure_selectors.trajectory(scope, to_year=max(to_year, pkg["baseline_year"] + 1), org=orgnr,
                                        package_name=pkg["name"])
    labels = {"bau": _("Without measures"), "package": _("With the package %(package)s") % {"package": pkg["name"]}}
    rows = path["rows"]
    last = [r for r in rows if r["year"] == path["to_year"]]
    bau = next(r for r in last if r["scenario"] == "bau")
    with_pkg = next(r for r in last if r["scenario"] == "package")
    values = {"from": path["baseline_year"], "to": path["to_year"], "package": pkg["name"],
              "bau": tonnes(bau["kg_co2e"]), "with": tonnes(with_pkg["kg_co2e"])}
    doc.add(Para(_("From the baseline year %(from)s to %(to)s with unchanged purchases: without measures %(bau)s "
                   "tonnes CO2e in %(to)s, with the package «%(package)s» %(with)s tonnes. Each measure works from "
                   "its date or when the agreement is renewed.") % values),
            Figure(measure_charts.trajectory_spec(rows, y_title=_("Tonnes CO2e"), scenario_labels=labels),
                   _("Line chart: emissions per year from %(from)s to %(to)s, without measures and with the package "
                     "%(package)s. In %(to)s: %(bau)s against %(with)s tonnes. The figures are in the table.")
                   % values, pgettext("document", "Trajectory")))
    years = sorted({r["year"] for r in rows})
    by = {(r["year"], r["scenario"]): r for r in rows}
    doc.add(table(_("Trajectory, tonnes CO2e"), [_("Year"), _("Without measures"), _("With the package"),
                                                 pgettext("document", "Cut")],
                  [R.TEXT, R.TONNES, R.TONNES, R.TONNES],
                  [[str(y), by[(y, "bau")]["kg_co2e"] / 1000, by[(y, "package")]["kg_co2e"] / 1000,
                    by[(y, "package")]["reduction_kg"] / 1000] for y in years]))


def _appendices(doc: Document, data: report_data.ReportData, run: results.Run) -> None:
    doc.add(Heading(1, _("Appendix A: Factor sets")),
            table(_("The factor sets computation no. %(run)s used") % {"run": run.run.pk},
                  [_("Factor set"), _("Publisher"), _("Licence"), _("Role")],
                  [R.TEXT] * 4, [[f.label, f.publisher, f.licence, f.role] for f in data.factor_sets]))
    by_code = {s.key: s for s in data.by_category}
    cats = list(Category.objects.order_by("code").values_list("code", "name_nb"))
    doc.add(Heading(1, _("Appendix B: Category table")),
            table(_("Every category with the year's emissions"),
                  [_("Code"), _("Category"), _("Tonnes CO2e"), _("Purchases, kr")],
                  [R.TEXT, R.TEXT, R.TONNES, R.NOK],
                  [[code, name, by_code[code].kg / 1000 if code in by_code else 0.0,
                    by_code[code].ore_total / 100 if code in by_code else 0.0] for code, name in cats]))


# --- the saksfremlegg --------------------------------------------------------------------------------------------

SECTIONS = ("saksopplysninger", "prosjektet", "vurdering", "okonomi", "klima", "vedtak")
PLACEHOLDERS = ("organisasjon", "region", "pakke", "pakke_beskrivelse", "basisaar", "tonn", "kroner", "tonn_region",
                "andel_av_regionen", "kutt_tonn", "kutt_andel", "kutt_tonn_region", "kostnad", "kostnad_region",
                "kr_per_tonn", "antall_tiltak", "tiltak", "maal", "beregning", "maalaar")


def _language_suffix(language: str | None) -> str:
    return ".en" if (language or "nb").startswith("en") else ""


def shipped_texts(language: str | None = None) -> dict:
    """The shipped shared texts: bokmål, or English (data/document_texts.en.json) for language en."""
    return json.loads(SHIPPED_TEXTS.with_name(TEXTS_FILE.replace(".json", _language_suffix(language) + ".json"))
                      .read_text(encoding="utf-8"))


def texts_path(language: str | None = None) -> Path:
    return paths.data_dir() / TEXTS_FILE.replace(".json", _language_suffix(language) + ".json")


def document_texts(language: str | None = None) -> dict:
    """The saksfremlegg's shared texts in `language` (default bokmål): the administrator's edited copy, else the
    shipped one. The edited copy is per language; an English document uses the English texts."""
    path = texts_path(language)
    texts = shipped_texts(language)
    if path.exists():
        texts.update(json.loads(path.read_text(encoding="utf-8")))
    return texts


def check_texts(texts: dict) -> dict:
    """Every section a list of paragraphs (strings) whose placeholders are known. Raises InvalidInput."""
    if not isinstance(texts, dict):
        raise InvalidInput("texts: must be a mapping of section to paragraphs")
    out = {}
    for key, value in texts.items():
        if key not in SECTIONS:
            raise InvalidInput(f"texts: unknown section {key!r}; the sections are {', '.join(SECTIONS)}")
        if isinstance(value, str):
            value = [p.strip() for p in value.replace("\r\n", "\n").split("\n\n") if p.strip()]
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise InvalidInput(f"texts: {key!r} must be a list of paragraphs")
        for number_, paragraph in enumerate(value, start=1):
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(paragraph) if f is not None]
            except ValueError as exc:
                raise InvalidInput(f"texts: {key!r} paragraph {number_}: {exc}") from None
            unknown = [f for f in fields if f not in PLACEHOLDERS]
            if unknown:
                raise InvalidInput(f"texts: {key!r} paragraph {number_}: unknown placeholder {{{unknown[0]}}}; "
                                   f"known: {', '.join(PLACEHOLDERS)}")
        out[key] = value
    return out


def _fill(paragraph: str, values: dict) -> str:
    return paragraph.format_map(values)


def allocated_costs(own: measure_selectors.PackageEffect, region: measure_selectors.PackageEffect) -> dict:
    """Each measure's yearly cost (NOK) shared by the organisation's part of its cut in the region's package."""
    region_kg = {r["id"]: r["kg_per_year"] or 0.0 for r in region.rows}
    out = {}
    for r in own.rows:
        whole = region_kg.get(r["id"], 0.0)
        out[r["id"]] = r["cost_nok_per_year"] * (r["kg_per_year"] or 0.0) / whole if whole > 0 else 0.0
    return out


def _target_phrase(scope: Scope, orgnr: str) -> tuple[str, list]:
    own = list(kpi_selectors.targets(scope, org=orgnr))
    region = list(kpi_selectors.targets(scope, org=None))
    items = []
    for t in own + region:
        kpi = kpi_selectors.KPIS.get(t.kpi)
        name = str(kpi.name) if kpi else t.kpi
        whose = "" if t.organisation_id else " (" + _("the region's target") + ")"
        if t.value is None:
            items.append(f"{name}: " + _("level set later, target year %(year)s") % {"year": t.target_year} + whose)
        elif t.kind == "cut":
            items.append(f"{name}: " + _("%(value)s %% cut from %(from)s to %(to)s") % {
                "value": number(t.value, R.INT), "from": t.baseline_year, "to": t.target_year} + whose)
        else:
            items.append(f"{name}: " + _("%(value)s %(unit)s in %(year)s") % {
                "value": number(t.value, R.TONNES), "unit": kpi.unit if kpi else "", "year": t.target_year} + whose)
    return "; ".join(items) if items else _("the targets the region has set"), own


def saksfremlegg(scope: Scope, *, orgnr: str, package_name: str, texts: dict | None = None) -> Document:
    """The council case document of one organisation: the shared texts with its own names and figures."""
    run = _run()
    org = _organisation(orgnr)
    # the organisation's document, like its baseline report: for scopes that see every unit of it (a unit leader
    # would get an organisation's document of their units' figures)
    check_report_subject(scope, scope_kind=report_data.SCOPE_ORG, orgnr=orgnr, unit_code=None)
    pkg = find_package(scope, package_name)
    effect = measure_selectors.package_effect(scope, pkg, org=orgnr)
    region_effect = measure_selectors.package_effect(scope, pkg)
    own_cost = allocated_costs(effect, region_effect)
    own_total = sum(own_cost.values())
    year = pkg.baseline_year
    org_total = results.totals(scope, org=orgnr, year=year, by=["year"])["rows"]
    region_total = results.totals(scope, year=year, by=["year"])["rows"]
    kg = sum(r["kg_co2e"] for r in org_total)
    nok = sum(r["spend_nok"] for r in org_total)
    kg_region = sum(r["kg_co2e"] for r in region_total)
    members = [r["name"] for r in effect.rows]
    target_text, own_targets = _target_phrase(scope, orgnr)
    values = {
        "organisasjon": org.name, "region": region_name(), "pakke": pkg.name,
        "pakke_beskrivelse": pkg.description or "", "basisaar": str(year), "tonn": tonnes(kg), "kroner": kroner(nok),
        "tonn_region": tonnes(kg_region), "andel_av_regionen": number(kg / kg_region if kg_region else None, R.SHARE),
        "kutt_tonn": tonnes(effect.kg), "kutt_andel": number(effect.kg / kg if kg else None, R.SHARE),
        "kutt_tonn_region": tonnes(region_effect.kg),
        "kostnad": _cost_phrase(own_total, measure_selectors.nok_per_tonne(own_total, effect.kg)),
        "kostnad_region": _cost_phrase(region_effect.cost_nok_per_year, region_effect.nok_per_tonne),
        "kr_per_tonn": kroner(effect.nok_per_tonne), "antall_tiltak": str(len(members)),
        "tiltak": "; ".join(members), "maal": target_text, "beregning": str(run.run.pk),
        "maalaar": str(TRAJECTORY_TO),
    }
    shared = check_texts(texts if texts is not None else document_texts())
    doc = Document("saksfremlegg", _("Case document: Greenhouse gas emissions from purchases – package of measures "
                                     "«%(package)s»") % {"package": pkg.name},
                   _("%(org)s. Body: the council / the board. Case number: ______") % {"org": org.name},
                   run_id=run.run.pk, subject=org.name, orgnr=orgnr)
    doc.figures = {"kg": kg, "nok": nok, "kg_region": kg_region, "package_kg": effect.kg,
                   "package_cost_nok": region_effect.cost_nok_per_year, "own_cost_nok": own_total,
                   "region_package_kg": region_effect.kg}
    doc.add(Heading(1, _("Proposed resolution")))
    doc.add(Bullets([_fill(p, values) for p in shared.get("vedtak", [])], numbered=True))
    doc.add(Heading(1, _("Case information")))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("saksopplysninger", [])])
    doc.add(Heading(2, _("The project in the region")))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("prosjektet", [])])
    doc.add(table(_("%(org)s and %(region)s, %(year)s") % {"org": org.name, "region": values["region"], "year": year},
                  ["", org.name, values["region"]],
                  [R.TEXT, R.TEXT, R.TEXT],
                  [[_("Emissions from purchases, tonnes CO2e"), tonnes(kg), tonnes(kg_region)],
                   [_("Cut with the package «%(package)s», tonnes CO2e per year") % {"package": pkg.name},
                    tonnes(effect.kg), tonnes(region_effect.kg)],
                   [_("Cost, kr per year (the organisation's part)"), kroner(own_total),
                    kroner(region_effect.cost_nok_per_year)],
                   [_("Kr per tonne"), kroner(measure_selectors.nok_per_tonne(own_total, effect.kg)),
                    kroner(region_effect.nok_per_tonne)]]))
    doc.add(Heading(1, _("Assessment")))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("vurdering", [])])
    doc.add(Heading(1, _("Financial consequences")))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("okonomi", [])])
    doc.add(table(_("The measures in the package «%(package)s» for %(org)s") % {"package": pkg.name, "org": org.name},
                  [_("Measure"), _("Cut, tonnes CO2e per year"), _("Cost for the region, kr per year"),
                   _("Part for %(org)s, kr per year") % {"org": org.name}],
                  [R.TEXT, R.TONNES, R.NOK, R.NOK],
                  [[r["name"], None if r["kg_per_year"] is None else r["kg_per_year"] / 1000, r["cost_nok_per_year"],
                    own_cost[r["id"]]] for r in effect.rows],
                  total=[pgettext("table", "Total"), effect.kg / 1000, region_effect.cost_nok_per_year, own_total]),
            Para(_("The cost for the region is the measures' yearly cost (the one-off cost spread over the "
                   "lifetime). The organisation's part is shared by its part of each measure's cut in the region."),
                 "note"))
    doc.add(Heading(1, _("Climate and environmental consequences")))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("klima", [])])
    doc.add(Para(_("The figures are from computation no. %(run)s of the climate account (%(when)s).") % {
        "run": run.run.pk, "when": f"{run.run.created_at:%d.%m.%Y}"}, "note"))
    _same_run(run)
    return doc
