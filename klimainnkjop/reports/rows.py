"""The one row generator of a report (the exporter pattern): tables of header + rows, with a kind per column.

The PDF, the XLSX and the CSV writers all take their numbers from `tables(data)`, so the three formats can
not disagree. Values are raw numbers (kg, tonnes, kroner, shares as fractions); writers format them.
The funder layout (data.layout == "funder") has tables of its own (`funder_tables`): the results compared
with the year before and the baseline year, and the author's texts as prose tables (one paragraph a row).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from klimainnkjop.core.figures import Figures
from klimainnkjop.reports.data import LAYOUT_FUNDER, TEXT_FIELDS, ReportData

TEXT, INT, NOK, KG, TONNES, SHARE, INTENSITY = "text", "int", "nok", "kg", "tonnes", "share", "intensity"


@dataclass
class Column:
    label: str
    kind: str = TEXT


@dataclass
class Table:
    key: str  # stable id (sheet name, anchors)
    title: str  # heading and XLSX sheet name (≤ 31 characters)
    caption: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    row_kinds: list[str | None] | None = None  # per-row kind overriding numeric columns (the summary)
    chart: str = ""  # "bars": the PDF draws the first column against tonnes
    kind_columns: tuple[int, ...] = (1, 2)  # the columns (0-based) that row_kinds overrides
    chart_column: int | None = None  # the tonnes column to draw, when not labelled "Tonn CO2e"
    level: int = 2  # heading level in the PDF
    prose: bool = False  # one TEXT column of paragraphs: the PDF prints them as text, not as a table


CHART_ROWS = 12  # the largest groups a chart draws (the table has them all)


def chart_columns(table: Table) -> tuple[int, int, list[int]] | None:
    """What a table's bar chart draws, for the PDF (an image) and the XLSX (a native chart): (the name column, the
    tonnes column, the indexes of the rows drawn: the first CHART_ROWS without the Sum row), or None."""
    if not table.chart:
        return None
    labels = [c.label for c in table.columns]
    name_index = 1 if labels[0] in ("Kode", "Plass") else 0
    tonnes_index = table.chart_column if table.chart_column is not None else next(
        (i for i, c in enumerate(table.columns) if c.label in ("Totalt, tonn CO2e", "Tonn CO2e")), None)
    if tonnes_index is None:
        return None
    drawn = [i for i, r in enumerate(table.rows) if r[name_index] != "Sum"][:CHART_ROWS]
    return name_index, tonnes_index, drawn


FIGURE_COLUMNS = [
    Column("Drift, tonn CO2e", TONNES), Column("Investering, tonn CO2e", TONNES),
    Column("Totalt, tonn CO2e", TONNES), Column("Totalt, kg CO2e", KG),
    Column("Lav, tonn CO2e", TONNES), Column("Høy, tonn CO2e", TONNES),
    Column("Innkjøp drift, kr", NOK), Column("Innkjøp investering, kr", NOK), Column("Innkjøp totalt, kr", NOK),
    Column("kg CO2e per krone", INTENSITY), Column("Andel av utslippene", SHARE),
]


def figure_values(s: Figures, total_kg: float) -> list:
    return [s.kg_operating / 1000, s.kg_investment / 1000, s.kg / 1000, s.kg, s.kg_low / 1000, s.kg_high / 1000,
            s.ore_operating / 100, s.ore_investment / 100, s.ore_total / 100, s.intensity,
            (s.kg / total_kg) if total_kg else None]


def change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return (now - before) / before


def key_figures(s: Figures) -> list[tuple[str, str, float | int | None]]:
    """The key figures of one total: (label, kind, value), in the summary's order."""
    return [
        ("Utslipp, tonn CO2e", TONNES, s.kg / 1000),
        ("Utslipp, kg CO2e", KG, s.kg),
        ("herav drift, tonn CO2e", TONNES, s.kg_operating / 1000),
        ("herav investering, tonn CO2e", TONNES, s.kg_investment / 1000),
        ("Markedsbasert (strøm etter restmiks), tonn CO2e", TONNES,
         None if s.kg_market is None else s.kg_market / 1000),
        ("Usikkerhet, lav, tonn CO2e", TONNES, s.kg_low / 1000),
        ("Usikkerhet, høy, tonn CO2e", TONNES, s.kg_high / 1000),
        ("Innkjøp, kr", NOK, s.ore_total / 100),
        ("herav drift, kr", NOK, s.ore_operating / 100),
        ("herav investering, kr", NOK, s.ore_investment / 100),
        ("Intensitet, kg CO2e per krone", INTENSITY, s.intensity),
        ("Andel av innkjøpene med utslippsfaktor", SHARE, s.covered_share),
        ("Linjer", INT, s.lines),
    ]


def summary(data: ReportData) -> Table:
    rows_spec = [(label, kind, now, before) for (label, kind, now), (_, _, before)
                 in zip(key_figures(data.total), key_figures(data.previous))]
    return Table(
        key="sammendrag", title="Sammendrag",
        caption=f"Nøkkeltall for {data.period.label}, sammenlignet med samme periode året før",
        columns=[Column("Nøkkeltall"), Column(data.period.code, TONNES),
                 # the year under way: "2025 (januar–november)", the months it is compared by
                 Column(data.previous.name or data.period.previous_year().code, TONNES), Column("Endring", SHARE)],
        rows=[[label, now, before, change(now, before) if kind not in (SHARE,) else None]
              for label, kind, now, before in rows_spec],
        row_kinds=[kind for _, kind, _, _ in rows_spec],
    )


def _figures(key: str, title: str, caption: str, first: str, groups: list[Figures], total: Figures, *,
             with_code: bool = False, chart: str = "") -> Table:
    columns = ([Column("Kode")] if with_code else []) + [Column(first)] + FIGURE_COLUMNS
    rows = [([s.key or ""] if with_code else []) + [s.name] + figure_values(s, total.kg) for s in groups]
    rows.append(([""] if with_code else []) + ["Sum"] + figure_values(total, total.kg))
    return Table(key=key, title=title, caption=caption, columns=columns, rows=rows, chart=chart)


def _mix(key: str, title: str, caption: str, first: str, groups: list[Figures], total: Figures) -> Table:
    columns = [Column(first), Column("Tonn CO2e", TONNES), Column("kg CO2e", KG), Column("Innkjøp, kr", NOK),
               Column("Andel av utslippene", SHARE), Column("Andel av innkjøpene", SHARE)]
    rows = [[s.name, s.kg / 1000, s.kg, s.ore_total / 100, (s.kg / total.kg) if total.kg else None,
             (s.ore_total / total.ore_total) if total.ore_total else None] for s in groups]
    rows.append(["Sum", total.kg / 1000, total.kg, total.ore_total / 100, 1.0 if total.kg else None,
                 1.0 if total.ore_total else None])
    return Table(key=key, title=title, caption=caption, columns=columns, rows=rows)


def about(data: ReportData) -> Table:
    rows = [
        ["Rapport", data.title],
        ["Gjelder", data.subject],
        ["Periode", f"{data.period.code}: {data.period.label}"],
    ]
    if data.layout == LAYOUT_FUNDER:
        rows += [["Rapporttype", ("Sluttrapport" if data.final else "Framdriftsrapport") + " til tilskuddsgiver"],
                 ["Basisår", str(data.baseline_year) if data.baseline_year else "–"]]
        if data.texts.get("project"):
            rows.append(["Prosjekt", data.texts["project"]])
    rows += [
        ["Konsolidert", "ja" if data.consolidated else "nei"],
        ["Beregning (kjøring)", f"nr. {data.run_id}, {data.run_created_at:%Y-%m-%d %H:%M} UTC"],
        ["Valgt faktorsett", data.factor_set],
        ["Data per (siste import)", f"{data.data_as_of:%Y-%m-%d %H:%M} UTC" if data.data_as_of else "–"],
        ["Laget", f"{data.generated_at:%Y-%m-%d %H:%M} UTC"],
    ]
    for fs in data.factor_sets:
        rows.append([f"Faktorsett {fs.label}", f"{fs.publisher}; lisens: {fs.licence}; {fs.gwp_basis}; "
                                               f"kreditering: {fs.attribution}"])
    for i, note in enumerate(data.notes, 1):
        rows.append([f"Merknad {i}", note])
    return Table(key="om", title="Om rapporten", caption="Periode, beregning, faktorsett og lisenser",
                 columns=[Column("Felt"), Column("Verdi")], rows=rows)


def kpi_table(data: ReportData) -> Table:
    """The KPIs against their targets (selectors/kpis.py follow_up, as on the pages). Shares are fractions here,
    as in every table; a row's kind follows its KPI's unit."""
    rows, kinds = [], []
    for r in data.kpis:
        scale = 0.01 if r.unit == "%" else 1.0
        kinds.append(SHARE if r.unit == "%" else TONNES if r.unit == "t CO2e" else INTENSITY)
        status = r.status_label
        if r.missing_in_baseline:
            status += f" (ufullstendig basisår {r.baseline_year}: mangler tall for {', '.join(r.missing_in_baseline)})"
        rows.append([r.name + (f": {r.category}" if r.category else ""),
                     None if r.value is None else r.value * scale, r.unit,
                     None if r.target is None else r.target * scale, r.target_year,
                     None if r.expected_now is None else r.expected_now * scale, status])
    return Table(key="indikatorer", title="Måleindikatorer og mål",
                 caption=f"Måleindikatorer i {data.period.code} mot målene. {STATUS_RULE_NB}",
                 columns=[Column("Indikator"), Column("Verdi", TONNES), Column("Måleenhet"), Column("Mål", TONNES),
                          Column("Målår", INT), Column("Forventet nå", TONNES), Column("Status")],
                 rows=rows, row_kinds=kinds, kind_columns=(1, 3, 5), level=3 if data.layout == LAYOUT_FUNDER else 2)


STATUS_RULE_NB = ("På sporet: minst like godt som den rette linjen fra basisåret til målet for perioden. I faresonen: "
                  "dårligere enn linjen med høyst 5 % av linjens verdi. Ikke på sporet: dårligere enn det.")


def tables(data: ReportData) -> Iterator[Table]:
    """Every table of the report, in reading order."""
    if data.layout == LAYOUT_FUNDER:
        yield from funder_tables(data)
        return
    total = data.total
    yield summary(data)
    yield Table(
        key="storste", title="Største kategorier", caption=f"De {len(data.top_categories)} kategoriene med mest "
                                                           f"utslipp i {data.period.code}",
        columns=[Column("Plass", INT), Column("Kategori"), Column("Tonn CO2e", TONNES),
                 Column("Andel av utslippene", SHARE)],
        rows=[[i, s.name, s.kg / 1000, (s.kg / total.kg) if total.kg else None]
              for i, s in enumerate(data.top_categories, 1)], chart="bars")
    yield _figures("kategori", "Per kategori", f"Utslipp og innkjøp per kategori, {data.period.code}", "Kategori",
                   data.by_category, total, with_code=True)
    part_title = "Per organisasjon" if data.part_label == "Organisasjon" else "Per enhet"
    yield _figures("del", part_title, f"Utslipp og innkjøp {part_title.lower()}, {data.period.code}"
                   + (" (konsolidert)" if data.consolidated else ""), data.part_label, data.by_part, total,
                   chart="bars")
    yield _figures("maned", "Per måned", f"Utslipp og innkjøp per måned, {data.period.code}", "Måned",
                   data.by_month, total)
    yield _mix("metode", "Metode", "Utslipp og innkjøp etter metode (hvordan faktoren er valgt)", "Metode",
               data.by_method, total)
    yield _mix("kvalitet", "Datakvalitet", "Utslipp og innkjøp etter datakvalitet (1 best – 5 svakest)",
               "Datakvalitet", data.by_quality, total)
    yield from measure_tables(data)
    yield kpi_table(data)
    yield about(data)


# --- measures (tiltak) and ambition packages (issue 10; figures from selectors.measures) ------------------------

KIND_NAMES = {1: "Gjenbruk og sirkularitet", 2: "Endret behov eller type innkjøp",
              3: "Strengere krav til produkt eller tjeneste", 4: "Klimakrav i anskaffelser"}
STATUS_NAMES = {"proposed": "Foreslått", "recommended": "Anbefalt", "adopted": "Vedtatt",
                "implemented": "Gjennomført", "verified": "Verifisert"}


def measure_tables(data: ReportData) -> Iterator[Table]:
    """The measures with their expected cut (computed from the account of their baseline year), the measured change
    of an implemented one (the intensity part, LMDI: selectors/effect.py) and the packages (without double counting);
    nothing when there are no measures."""
    if not data.measures:
        return
    ordered = sorted(data.measures, key=lambda r: (r["nok_per_tonne"] is None, r["nok_per_tonne"] or 0.0, r["id"]))
    yield Table(
        key="tiltak", title="Tiltak",
        caption="Tiltak etter kostnad per tonn, med forventet kutt beregnet fra regnskapet for basisåret",
        columns=[Column("Tiltak"), Column("Type"), Column("Status"), Column("Kategorier"), Column("Basisår"),
                 Column("Forventet kutt, tonn CO2e per år", TONNES), Column("Lav, tonn CO2e", TONNES),
                 Column("Høy, tonn CO2e", TONNES), Column("Kostnad per år, kr", NOK), Column("Kr per tonn", NOK),
                 Column("Målt endring, tonn CO2e (negativ: kutt)", TONNES), Column("Merknad")],
        rows=[[r["name"], f"{r['kind']} {KIND_NAMES.get(r['kind'], '')}", STATUS_NAMES.get(r["status"], r["status"]),
               ", ".join(r["categories"]), str(r["baseline_year"]),  # a year, not a grouped number
               None if r["expected_kg_per_year"] is None else r["expected_kg_per_year"] / 1000,
               None if r["expected_kg_low"] is None else r["expected_kg_low"] / 1000,
               None if r["expected_kg_high"] is None else r["expected_kg_high"] / 1000,
               r["cost_nok_per_year"], r["nok_per_tonne"],
               None if r.get("measured_kg_per_year") is None else r["measured_kg_per_year"] / 1000,
               "" if r["not_computed"] is None else "Kan ikke beregnes: " + r["not_computed"]] for r in ordered],
        kind_columns=())
    if data.packages:
        yield Table(
            key="tiltakspakker", title="Tiltakspakker",
            caption="Ambisjonspakker: tiltakene regnet etter hverandre, uten dobbelttelling",
            columns=[Column("Pakke"), Column("Tiltak", INT), Column("Forventet kutt, tonn CO2e per år", TONNES),
                     Column("Kostnad per år, kr", NOK), Column("Kr per tonn", NOK), Column("Vedtatt av")],
            rows=[[p["name"], len(p["measures"]), p["expected_kg_per_year"] / 1000, p["cost_nok_per_year"],
                   p["nok_per_tonne"], "; ".join(f"{a['name']} {a['adopted_on']} (sak {a['case_number']})"
                                                 for a in p["adopted_by"])] for p in data.packages],
            kind_columns=())


# --- the funder's progress or final report -------------------------------------------------------------------

def _comparison_row(name: str, now: Figures | None, earlier: list[Figures | None], total_kg: float) -> list:
    now = now or Figures()
    row = [name, now.kg / 1000]
    for before in earlier:
        before = before or Figures()
        row += [before.kg / 1000, change(now.kg, before.kg)]
    row += [now.kg_low / 1000, now.kg_high / 1000, now.ore_total / 100, now.intensity,
            (now.kg / total_kg) if total_kg else None]
    return row


def _comparison_columns(data: ReportData, first: str) -> list[Column]:
    columns = [Column(first), Column(f"{data.period.code}, tonn CO2e", TONNES)]
    for c in data.comparisons:
        columns += [Column(f"{c.label}, tonn CO2e", TONNES), Column(f"Endring fra {c.period.code}", SHARE)]
    return columns + [Column(f"{data.period.code}, lav, tonn CO2e", TONNES),
                      Column(f"{data.period.code}, høy, tonn CO2e", TONNES),
                      Column(f"{data.period.code}, innkjøp, kr", NOK), Column("kg CO2e per krone", INTENSITY),
                      Column("Andel av utslippene", SHARE)]


def _compared(key: str, title: str, caption: str, first: str, data: ReportData, now: list[Figures],
              earlier: list[dict]) -> Table:
    """One row per group of the period or of a year compared with (largest now first), then the Sum row, which
    is the report's total."""
    by_key = {s.key: s for s in now}
    keys = [s.key for s in now]
    for groups in earlier:
        keys += sorted((k for k in groups if k not in by_key and k not in keys), key=lambda k: -groups[k].kg)
    rows = []
    for k in keys:
        name = by_key[k].name if k in by_key else next(g[k].name for g in earlier if k in g)
        rows.append(_comparison_row(name, by_key.get(k), [g.get(k) for g in earlier], data.total.kg))
    rows.append(_comparison_row("Sum", data.total, [c.total for c in data.comparisons], data.total.kg))
    return Table(key=key, title=title, caption=caption, columns=_comparison_columns(data, first), rows=rows,
                 chart="bars", chart_column=1, level=3)


def results(data: ReportData) -> Table:
    """The funder's key figures: the period, the same months a year before and in the baseline year."""
    earlier = [key_figures(c.total) for c in data.comparisons]
    columns = [Column("Nøkkeltall"), Column(data.period.code, TONNES)]
    kind_columns = [1]
    for c in data.comparisons:
        kind_columns.append(len(columns))
        columns += [Column(c.label, TONNES), Column(f"Endring fra {c.period.code}", SHARE)]
    rows, kinds = [], []
    for i, (label, kind, now) in enumerate(key_figures(data.total)):
        row = [label, now]
        for figures in earlier:
            before = figures[i][2]
            row += [before, change(now, before) if kind != SHARE else None]
        rows.append(row)
        kinds.append(kind)
    compared = " og ".join(f"{c.period.code}{' (basisår)' if c.baseline else ''}" for c in data.comparisons)
    return Table(key="resultater", title="Resultater",
                 caption=f"Klimagassutslipp fra innkjøp, {data.period.label}, sammenlignet med {compared}",
                 columns=columns, rows=rows, row_kinds=kinds, kind_columns=tuple(kind_columns))


def prose(key: str, title: str, text: str, caption: str = "") -> Table:
    """A text section: one paragraph a row (paragraphs are separated by an empty line)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()] or ["Ikke fylt ut."]
    return Table(key=key, title=title, caption=caption or title, columns=[Column("Tekst")],
                 rows=[[p] for p in paragraphs], prose=True)


def funder_tables(data: ReportData) -> Iterator[Table]:
    """The funder layout, in reading order: results (key figures, per category, per organisation or unit,
    method and data quality), the author's texts, and the data lineage."""
    yield results(data)
    earlier_categories = [c.by_category for c in data.comparisons]
    yield _compared("kategori", "Resultater per kategori", f"Utslipp per kategori, {data.period.code} mot "
                    f"tidligere år", "Kategori", data, data.by_category, earlier_categories)
    part = "organisasjon" if data.part_label == "Organisasjon" else "enhet"
    yield _compared("del", f"Resultater per {part}", f"Utslipp per {part}, {data.period.code} mot tidligere år"
                    + (" (konsolidert)" if data.consolidated else ""), data.part_label, data, data.by_part,
                    [c.by_part for c in data.comparisons])
    method = _mix("metode", "Metode", f"Utslipp og innkjøp etter metode, {data.period.code} (hvordan faktoren er "
                  f"valgt)", "Metode", data.by_method, data.total)
    quality = _mix("kvalitet", "Datakvalitet", f"Utslipp og innkjøp etter datakvalitet, {data.period.code} "
                   f"(1 best – 5 svakest)", "Datakvalitet", data.by_quality, data.total)
    method.level = quality.level = 3
    yield method
    yield quality
    yield kpi_table(data)
    for key, (title, _) in TEXT_FIELDS.items():
        if key == "project":
            continue
        yield prose(key, title, data.texts.get(key, ""))
    yield about(data)
