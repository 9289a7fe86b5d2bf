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

from klimainnkjop import paths
from klimainnkjop.access import Scope
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
KIND_NAMES = {1: "Gjenbruk og sirkularitet", 2: "Endret behov eller type innkjøp",
              3: "Strengere produkt- og tjenestekrav", 4: "Klimakrav i anskaffelser"}
STATUS_NAMES = {"proposed": "Foreslått", "recommended": "Anbefalt", "adopted": "Vedtatt",
                "implemented": "Gjennomført", "verified": "Verifisert"}
KPI_STATUS_NAMES = {"on_track": "På sporet", "at_risk": "I faresonen", "off_track": "Ikke på sporet",
                    "no_target": "Uten mål", "no_data": "Ingen data ennå"}
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
    bars = [charts.Bar(name, {"Tonn CO2e": t}, number(t, R.TONNES)) for name, t in items]
    spec = charts.bar_chart_spec(bars, series=["Tonn CO2e"], value_title="Tonn CO2e", horizontal=True)
    top = max(items, key=lambda i: i[1])
    alt = (f"Stolpediagram: {caption}. Høyest er {top[0]} med {number(top[1], R.TONNES)} tonn CO2e. "
           f"Tallene står i tabellen.")
    return Figure(spec, alt, caption)


# --- shared ------------------------------------------------------------------------------------------------------

def region_name() -> str:
    names = list(Region.objects.values_list("name", flat=True)[:2])
    return names[0] if len(names) == 1 else "Regionen"


def _organisation(orgnr: str) -> Organisation:
    org = Organisation.objects.filter(orgnr=orgnr).first()
    if org is None:
        raise InvalidInput(f"--org: no organisation with orgnr {orgnr}")
    return org


def _run() -> results.Run:
    run = results.latest_run()
    if run is None:
        raise results.NoResults("nothing computed yet; run `klimainnkjop compute`")
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
        return f"sparer {kroner(-cost_nok)} kr per år" + (
            f" ({kroner(-per_tonne)} kr spart per tonn)" if per_tonne is not None else "")
    return f"koster {kroner(cost_nok)} kr per år" + (
        f" ({kroner(per_tonne)} kr per tonn)" if per_tonne is not None else "")


def recommendation_text(subject: str, pkg: dict | None, base_kg: float, year: int) -> str:
    if pkg is None:
        return (f"Det er ennå ikke satt sammen en tiltakspakke med beregnet effekt for {subject}. Anbefalingen er å "
                f"vedta tiltak fra tiltakslisten i kapittel 4.")
    share = pkg["expected_kg_per_year"] / base_kg if base_kg else None
    return (f"Anbefaling: {subject} bør vedta tiltakspakken «{pkg['name']}». Den er beregnet å kutte "
            f"{tonnes(pkg['expected_kg_per_year'])} tonn CO2e per år"
            + (f" ({number(share, R.SHARE)} av utslippene fra innkjøp i {pkg['baseline_year']})" if share else "")
            + f", og {_cost_phrase(pkg['cost_nok_per_year'], pkg['nok_per_tonne'])}.")


def _base_kg(scope: Scope, year: int, orgnr: str | None) -> float:
    c = measure_selectors.cells(scope, year, org=orgnr)
    return float(c.kg.sum()) if c.run is not None else 0.0


# --- the baseline report -----------------------------------------------------------------------------------------

def baseline(scope: Scope, *, year: int, orgnr: str | None = None, package_name: str | None = None,
             to_year: int = TRAJECTORY_TO) -> Document:
    """The baseline report of the region (orgnr None) or an organisation for `year`."""
    if not 1990 <= int(year) <= 2100:
        raise InvalidInput(f"--year: {year} is not a year")
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
        raise InvalidInput(f"--year: {subject} has no purchases in {year} in the computed account (run {run.run.pk})")
    package_rows = measure_selectors.package_rows(scope, org=orgnr)
    pkg = recommended_package(package_rows, package_name)
    base_kg = _base_kg(scope, pkg["baseline_year"], orgnr) if pkg else total.kg
    doc = Document("baseline", f"Kartlegging av klimagassutslipp fra innkjøp: {subject}",
                   f"Basisår {year}. Dagens situasjon, forslag til tiltak, effekt og måleindikatorer.",
                   run_id=run.run.pk, subject=subject, orgnr=orgnr)
    doc.figures = {"total_kg": total.kg, "total_ore": total.ore_total, "package": pkg["name"] if pkg else None,
                   "package_kg": pkg["expected_kg_per_year"] if pkg else None,
                   "package_cost_nok": pkg["cost_nok_per_year"] if pkg else None}

    # 1 summary, the recommendation first
    doc.add(Heading(1, "1 Sammendrag og anbefaling"),
            Para(recommendation_text(subject, pkg, base_kg, year), "lead"))
    if pkg:
        doc.add(Para(f"Pakken består av {len(pkg['measures'])} tiltak: {'; '.join(pkg['measures'])}. Tiltakene er "
                     f"regnet i rekkefølge på de samme innkjøpene, så effekten er ikke telt dobbelt."))
    doc.add(Para(f"I {year} kjøpte {subject} varer og tjenester for {kroner(total.ore_total / 100)} kr. Utslippene "
                 f"fra disse innkjøpene er anslått til {tonnes(total.kg)} tonn CO2e (usikkerhet "
                 f"{tonnes(total.kg_low)}–{tonnes(total.kg_high)} tonn), "
                 f"{number(total.intensity, R.INTENSITY)} kg CO2e per krone."))
    top = data.top_categories[:3]
    if top and total.kg:
        doc.add(Para("De største kildene er " + ", ".join(f"{s.name} ({tonnes(s.kg)} tonn)" for s in top)
                     + f", til sammen {number(sum(s.kg for s in top) / total.kg, R.SHARE)} av utslippene."))
    doc.add(Para(f"Alle tall i rapporten er fra beregning nr. {run.run.pk} av klimaregnskapet "
                 f"({run.run.created_at:%d.%m.%Y %H:%M}, faktorsett {', '.join(run.run.factor_sets)}). "
                 f"Rapporten er laget {dt.date.today():%d.%m.%Y}.", "note"))
    if package_rows:
        doc.add(table("Tiltakspakkene sammenlignet",
                      ["Pakke", "Antall tiltak", "Kutt, tonn CO2e per år", "Kostnad, kr per år", "Kr per tonn"],
                      [R.TEXT, R.INT, R.TONNES, R.NOK, R.NOK],
                      [[r["name"] + (" (anbefalt)" if pkg and r["name"] == pkg["name"] else ""), len(r["measures"]),
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
    doc.add(Heading(1, "2 Metode og datagrunnlag"),
            Para("Utslippene er beregnet fra regnskapet: hver innkjøpslinje (fra regnskapsuttrekk, KOSTRA-filer, "
                 "e-fakturaer og leverandørstatistikk) får en kategori og en utslippsfaktor. Der vi kjenner mengden "
                 "(liter, kg, kWh) brukes en aktivitetsbasert faktor, der leverandøren har egne tall brukes de, "
                 "ellers brukes en utgiftsbasert faktor (kg CO2e per krone). Tallene er anslag; intervallet lav–høy "
                 "er summen av faktorenes usikkerhet."),
            Para(f"Andel av innkjøpene med utslippsfaktor: {number(total.covered_share, R.SHARE)}. "
                 f"Antall linjer: {number(total.lines, R.INT)}."))
    source_names = {"ledger": "Regnskapsuttrekk", "saft": "SAF-T", "kostra": "KOSTRA-fil", "ehf": "E-faktura (EHF)",
                    "supplier_stats": "Leverandørstatistikk"}
    sources = [r for r in results.totals(scope, org=orgnr, year=year, by=["source"])["rows"] if r["lines"]]
    if sources:
        doc.add(table("Datagrunnlaget: innkjøp og utslipp etter kilde", ["Kilde", "Linjer", "Innkjøp, kr", "Tonn CO2e"],
                      [R.TEXT, R.INT, R.NOK, R.TONNES],
                      [[source_names.get(r["source"], r["source"] or "–"), r["lines"], r["spend_nok"],
                        r["kg_co2e"] / 1000] for r in sorted(sources, key=lambda r: -r["spend_nok"])]))
    if data.by_method:
        doc.add(table("Utslipp etter metode", ["Metode", "Tonn CO2e", "Innkjøp, kr", "Andel av utslippene"],
                      [R.TEXT, R.TONNES, R.NOK, R.SHARE],
                      [[s.name, s.kg / 1000, s.ore_total / 100, s.kg / total.kg if total.kg else None]
                       for s in data.by_method]))
    if data.by_quality:
        doc.add(table("Utslipp etter datakvalitet (1 best, 5 svakest)", ["Datakvalitet", "Tonn CO2e", "Innkjøp, kr"],
                      [R.TEXT, R.TONNES, R.NOK], [[s.name, s.kg / 1000, s.ore_total / 100] for s in data.by_quality]))
    excluded = results.excluded_spend(scope, org=orgnr, year=year, run=run)
    if excluded:
        names = {"wages": "Lønn", "transfers": "Overføringer", "financial": "Finansposter", "income": "Inntekter",
                 "internal": "Interne kjøp"}
        doc.add(Para("Dette er holdt utenfor fordi det ikke er innkjøp av varer og tjenester (etter KOSTRA-art):"),
                table("Holdt utenfor regnskapet", ["Hva", "Beløp, kr", "Linjer"], [R.TEXT, R.NOK, R.INT],
                      [[names.get(r["exclusion"], r["exclusion"]), r["spend_nok"], r["lines"]] for r in excluded]))
    doc.add(Bullets(data.notes))


def _figures(doc: Document, scope: Scope, data: report_data.ReportData, orgnr: str | None, year: int) -> None:
    total = data.total

    def share(kg: float) -> float | None:
        return kg / total.kg if total.kg else None

    doc.add(Heading(1, "3 Innkjøp og utslipp"),
            Heading(2, "3.1 Etter kategori"))
    cats = [s for s in data.by_category if s.lines]
    if fig := bar_figure(f"Utslipp etter kategori, {year}", [(s.name, s.kg / 1000) for s in cats]):
        doc.add(fig)
    doc.add(table(f"Innkjøp og utslipp etter kategori, {year}",
                  ["Kategori", "Tonn CO2e", "Innkjøp, kr", "kg CO2e per krone", "Andel av utslippene"],
                  [R.TEXT, R.TONNES, R.NOK, R.INTENSITY, R.SHARE],
                  [[s.name, s.kg / 1000, s.ore_total / 100, s.intensity, share(s.kg)] for s in cats],
                  total=["Sum", total.kg / 1000, total.ore_total / 100, total.intensity, 1.0 if total.kg else None]))
    # agreements
    doc.add(Heading(2, "3.2 Etter avtale"))
    rows = [r for r in agreement_selectors.ranked(scope, org=orgnr, year=year) if r["lines"]]
    if rows:
        if fig := bar_figure(f"Utslipp etter avtale, {year}", [(r["name"], r["kg_co2e"] / 1000) for r in rows]):
            doc.add(fig)
        under = sum(r["kg_co2e"] for r in rows)
        doc.add(table(f"Innkjøp og utslipp etter avtale, {year}",
                      ["Avtale", "Nummer", "Tonn CO2e", "Innkjøp, kr", "Utløper"],
                      [R.TEXT, R.TEXT, R.TONNES, R.NOK, R.TEXT],
                      [[r["name"], r["number"], r["kg_co2e"] / 1000, r["spend_nok"], f"{r['end']:%d.%m.%Y}"]
                       for r in rows[:20]]),
                Para(f"Innkjøp under avtale står for {number(share(under), R.SHARE)} av utslippene "
                     f"({tonnes(under)} tonn CO2e)."))
    else:
        doc.add(Para("Ingen innkjøp dette året er knyttet til registrerte avtaler."))
    # organisations (region) or units (organisation)
    label = "organisasjon" if orgnr is None else "enhet"
    doc.add(Heading(2, f"3.3 Etter {label}"))
    parts = [s for s in data.by_part if s.lines]
    if fig := bar_figure(f"Utslipp etter {label}, {year}", [(s.name, s.kg / 1000) for s in parts]):
        doc.add(fig)
    doc.add(table(f"Innkjøp og utslipp etter {label}, {year}", [label.capitalize(), "Tonn CO2e", "Innkjøp, kr",
                                                                "Andel av utslippene"],
                  [R.TEXT, R.TONNES, R.NOK, R.SHARE],
                  [[s.name, s.kg / 1000, s.ore_total / 100, share(s.kg)] for s in parts],
                  total=["Sum", total.kg / 1000, total.ore_total / 100, 1.0 if total.kg else None]))
    # suppliers
    doc.add(Heading(2, "3.4 Etter leverandør"))
    supplier_rows = results.totals(scope, org=orgnr, year=year, by=["supplier"])["rows"]
    supplier_rows = sorted((r for r in supplier_rows if r["lines"]), key=lambda r: -r["kg_co2e"])[:15]
    names = agreement_selectors.supplier_names([r["supplier"] for r in supplier_rows if r["supplier"]])
    srows = [[names.get(r["supplier"]) or r["supplier"] or "Uten leverandør", r["supplier"] or "",
              r["kg_co2e"] / 1000, r["spend_nok"], share(r["kg_co2e"])] for r in supplier_rows]
    doc.add(table(f"De 15 leverandørene med størst utslipp, {year}",
                  ["Leverandør", "Org.nr.", "Tonn CO2e", "Innkjøp, kr", "Andel av utslippene"],
                  [R.TEXT, R.TEXT, R.TONNES, R.NOK, R.SHARE], srows))
    # hotspots
    doc.add(Heading(2, "3.5 Hvor utslippene er størst"))
    hot = [f"Kategori: {s.name}, {tonnes(s.kg)} tonn CO2e ({number(share(s.kg), R.SHARE)})"
           for s in data.top_categories]
    hot += [f"Leverandør: {row[0]}, {number(row[2], R.TONNES)} tonn CO2e" for row in srows[:3]]
    hot += [f"Avtale: {r['name']}, {tonnes(r['kg_co2e'])} tonn CO2e" for r in rows[:3]]
    doc.add(Para("Tiltak bør rettes dit utslippene er størst:"), Bullets(hot))


def _measures(doc: Document, data: report_data.ReportData, package_rows: list[dict], pkg: dict | None) -> None:
    doc.add(Heading(1, "4 Tiltak, effekt og kostnad"),
            Para("Effekten er beregnet fra regnskapet i tiltakets basisår, ikke skrevet inn: en andel av utslippene "
                 "i kategoriene tiltaket gjelder. Kostnaden er årlig kostnad pluss engangskostnaden fordelt over "
                 "levetiden (negativ: en besparelse). Kr per tonn er kostnaden delt på kuttet."))
    ms = data.measures
    if ms:
        doc.add(table("Tiltakene, rangert etter kr per tonn",
                      ["Tiltak", "Type", "Status", "Kutt, tonn CO2e per år", "Kostnad, kr per år", "Kr per tonn"],
                      [R.TEXT, R.TEXT, R.TEXT, R.TONNES, R.NOK, R.NOK],
                      [[m["name"], KIND_NAMES.get(m["kind"], str(m["kind"])),
                        STATUS_NAMES.get(m["status"], m["status"]),
                        None if m["expected_kg_per_year"] is None else m["expected_kg_per_year"] / 1000,
                        m["cost_nok_per_year"], m["nok_per_tonne"]]
                       for m in sorted(ms, key=lambda m: (m["nok_per_tonne"] is None, m["nok_per_tonne"] or 0))]))
        curve = measure_selectors.abatement_curve(ms)
        if curve:
            spec = measure_charts.abatement_curve_spec(curve, x_title="Kutt, tonn CO2e per år (samlet)",
                                                       y_title="Kr per tonn", kind_title="Type tiltak",
                                                       kind_labels=KIND_NAMES)
            cheapest = curve[0]
            doc.add(Heading(2, "4.1 Tiltakskurven"),
                    Figure(spec, f"Tiltakskurve: {len(curve)} tiltak, billigste tonn først. Bredden er tonn kuttet "
                                 f"per år, høyden kr per tonn. Billigst er {cheapest['name']} med "
                                 f"{kroner(cheapest['nok_per_tonne'])} kr per tonn; til sammen "
                                 f"{number(curve[-1]['x1'], R.TONNES)} tonn per år. Tallene står i tabellen over.",
                           "Tiltakskurve (marginal tiltakskostnad)"))
    else:
        doc.add(Para("Ingen tiltak er registrert ennå."))
    doc.add(Heading(2, "4.2 Ambisjonsnivåer: tiltakspakkene"))
    for row in package_rows:
        doc.add(Heading(3, f"{row['name']}" + (" (anbefalt)" if pkg and row["name"] == pkg["name"] else "")),
                Para(f"Kutt {tonnes(row['expected_kg_per_year'])} tonn CO2e per år (usikkerhet "
                     f"{tonnes(row['expected_kg_low'])}–{tonnes(row['expected_kg_high'])}), "
                     f"{_cost_phrase(row['cost_nok_per_year'], row['nok_per_tonne'])}. Tiltak: "
                     f"{'; '.join(row['measures'])}."))
    if not package_rows:
        doc.add(Para("Ingen tiltakspakker er satt sammen ennå."))


def _kpis(doc: Document, data: report_data.ReportData) -> None:
    doc.add(Heading(1, "5 Måleindikatorer og mål"),
            Para("Indikatorene beregnes fra det samme regnskapet for hver periode. Status sammenligner verdien med "
                 "den rette linjen fra basisåret til målet."))
    doc.add(table("Måleindikatorer og mål", ["Indikator", "Verdi", "Enhet", "Mål", "Målår", "Status"],
                  [R.TEXT, R.TEXT, R.TEXT, R.TEXT, R.TEXT, R.TEXT],
                  [[str(k.name), number(k.value, R.TONNES) if k.value is not None else "–", k.unit,
                    number(k.target, R.TONNES) if k.target is not None else "–",
                    str(k.target_year or "–"), KPI_STATUS_NAMES.get(k.status, k.status_label)] for k in data.kpis]))


def _trajectory(doc: Document, scope: Scope, orgnr: str | None, pkg: dict | None, to_year: int) -> None:
    doc.add(Heading(1, "6 Utviklingsbane"))
    if pkg is None:
        doc.add(Para("Uten en tiltakspakke er det ingen bane å vise."))
        return
    path = measure_selectors.trajectory(scope, to_year=max(to_year, pkg["baseline_year"] + 1), org=orgnr,
                                        package_name=pkg["name"])
    labels = {"bau": "Uten tiltak", "package": f"Med pakken {pkg['name']}"}
    rows = path["rows"]
    last = [r for r in rows if r["year"] == path["to_year"]]
    bau = next(r for r in last if r["scenario"] == "bau")
    with_pkg = next(r for r in last if r["scenario"] == "package")
    doc.add(Para(f"Fra basisåret {path['baseline_year']} til {path['to_year']} med uendret innkjøp: uten tiltak "
                 f"{tonnes(bau['kg_co2e'])} tonn CO2e i {path['to_year']}, med pakken «{pkg['name']}» "
                 f"{tonnes(with_pkg['kg_co2e'])} tonn. Hvert tiltak virker fra sin dato eller når avtalen fornyes."),
            Figure(measure_charts.trajectory_spec(rows, y_title="Tonn CO2e", scenario_labels=labels),
                   f"Linjediagram: utslipp per år fra {path['baseline_year']} til {path['to_year']}, uten tiltak og "
                   f"med pakken {pkg['name']}. I {path['to_year']}: {tonnes(bau['kg_co2e'])} mot "
                   f"{tonnes(with_pkg['kg_co2e'])} tonn. Tallene står i tabellen.", "Utviklingsbane"))
    years = sorted({r["year"] for r in rows})
    by = {(r["year"], r["scenario"]): r for r in rows}
    doc.add(table("Utviklingsbane, tonn CO2e", ["År", "Uten tiltak", "Med pakken", "Kutt"],
                  [R.TEXT, R.TONNES, R.TONNES, R.TONNES],
                  [[str(y), by[(y, "bau")]["kg_co2e"] / 1000, by[(y, "package")]["kg_co2e"] / 1000,
                    by[(y, "package")]["reduction_kg"] / 1000] for y in years]))


def _appendices(doc: Document, data: report_data.ReportData, run: results.Run) -> None:
    doc.add(Heading(1, "Vedlegg A: Faktorsett"),
            table(f"Faktorsettene beregning nr. {run.run.pk} brukte", ["Faktorsett", "Utgiver", "Lisens", "Rolle"],
                  [R.TEXT] * 4, [[f.label, f.publisher, f.licence, f.role] for f in data.factor_sets]))
    by_code = {s.key: s for s in data.by_category}
    cats = list(Category.objects.order_by("code").values_list("code", "name_nb"))
    doc.add(Heading(1, "Vedlegg B: Kategoritabell"),
            table("Alle kategorier med årets utslipp", ["Kode", "Kategori", "Tonn CO2e", "Innkjøp, kr"],
                  [R.TEXT, R.TEXT, R.TONNES, R.NOK],
                  [[code, name, by_code[code].kg / 1000 if code in by_code else 0.0,
                    by_code[code].ore_total / 100 if code in by_code else 0.0] for code, name in cats]))


# --- the saksfremlegg --------------------------------------------------------------------------------------------

SECTIONS = ("saksopplysninger", "prosjektet", "vurdering", "okonomi", "klima", "vedtak")
PLACEHOLDERS = ("organisasjon", "region", "pakke", "pakke_beskrivelse", "basisaar", "tonn", "kroner", "tonn_region",
                "andel_av_regionen", "kutt_tonn", "kutt_andel", "kutt_tonn_region", "kostnad", "kostnad_region",
                "kr_per_tonn", "antall_tiltak", "tiltak", "maal", "beregning", "maalaar")


def shipped_texts() -> dict:
    return json.loads(SHIPPED_TEXTS.read_text(encoding="utf-8"))


def texts_path() -> Path:
    return paths.data_dir() / TEXTS_FILE


def document_texts() -> dict:
    """The saksfremlegg's shared texts: the administrator's edited copy, else the shipped one."""
    path = texts_path()
    texts = shipped_texts()
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
        whose = "" if t.organisation_id else " (regionens mål)"
        if t.value is None:
            items.append(f"{name}: nivå fastsettes senere, målår {t.target_year}{whose}")
        elif t.kind == "cut":
            items.append(f"{name}: {number(t.value, R.INT)} % kutt fra {t.baseline_year} til {t.target_year}{whose}")
        else:
            items.append(f"{name}: {number(t.value, R.TONNES)} {kpi.unit if kpi else ''} i {t.target_year}{whose}")
    return "; ".join(items) if items else "målene regionen har satt", own


def saksfremlegg(scope: Scope, *, orgnr: str, package_name: str, texts: dict | None = None) -> Document:
    """The council case document of one organisation: the shared texts with its own names and figures."""
    run = _run()
    org = _organisation(orgnr)
    scope.check(orgnr)
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
    doc = Document("saksfremlegg", f"Saksfremlegg: Klimagassutslipp fra innkjøp – tiltakspakke «{pkg.name}»",
                   f"{org.name}. Utvalg: kommunestyret / styret. Saksnummer: ______",
                   run_id=run.run.pk, subject=org.name, orgnr=orgnr)
    doc.figures = {"kg": kg, "nok": nok, "kg_region": kg_region, "package_kg": effect.kg,
                   "package_cost_nok": region_effect.cost_nok_per_year, "own_cost_nok": own_total,
                   "region_package_kg": region_effect.kg}
    doc.add(Heading(1, "Forslag til vedtak"))
    doc.add(Bullets([_fill(p, values) for p in shared.get("vedtak", [])], numbered=True))
    doc.add(Heading(1, "Saksopplysninger"))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("saksopplysninger", [])])
    doc.add(Heading(2, "Prosjektet i regionen"))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("prosjektet", [])])
    doc.add(table(f"{org.name} og {values['region']}, {year}", ["", org.name, values["region"]],
                  [R.TEXT, R.TEXT, R.TEXT],
                  [["Utslipp fra innkjøp, tonn CO2e", tonnes(kg), tonnes(kg_region)],
                   [f"Kutt med pakken «{pkg.name}», tonn CO2e per år", tonnes(effect.kg), tonnes(region_effect.kg)],
                   ["Kostnad, kr per år (organisasjonens del)", kroner(own_total),
                    kroner(region_effect.cost_nok_per_year)],
                   ["Kr per tonn", kroner(measure_selectors.nok_per_tonne(own_total, effect.kg)),
                    kroner(region_effect.nok_per_tonne)]]))
    doc.add(Heading(1, "Vurdering"))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("vurdering", [])])
    doc.add(Heading(1, "Økonomiske konsekvenser"))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("okonomi", [])])
    doc.add(table(f"Tiltakene i pakken «{pkg.name}» for {org.name}",
                  ["Tiltak", "Kutt, tonn CO2e per år", "Kostnad for regionen, kr per år",
                   f"Del for {org.name}, kr per år"],
                  [R.TEXT, R.TONNES, R.NOK, R.NOK],
                  [[r["name"], None if r["kg_per_year"] is None else r["kg_per_year"] / 1000, r["cost_nok_per_year"],
                    own_cost[r["id"]]] for r in effect.rows],
                  total=["Sum", effect.kg / 1000, region_effect.cost_nok_per_year, own_total]),
            Para("Kostnaden for regionen er tiltakenes årlige kostnad (engangskostnad fordelt over levetiden). "
                 "Organisasjonens del er fordelt etter dens andel av hvert tiltaks kutt i regionen.", "note"))
    doc.add(Heading(1, "Klima- og miljømessige konsekvenser"))
    doc.add(*[Para(_fill(p, values)) for p in shared.get("klima", [])])
    doc.add(Para(f"Tallene er fra beregning nr. {run.run.pk} av klimaregnskapet "
                 f"({run.run.created_at:%d.%m.%Y}).", "note"))
    _same_run(run)
    return doc
