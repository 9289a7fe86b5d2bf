"""The one row generator of a report (the exporter pattern): tables of header + rows, with a kind per column.

The PDF, the XLSX and the CSV writers all take their numbers from `tables(data)`, so the three formats can
not disagree. Values are raw numbers (kg, tonnes, kroner, shares as fractions); writers format them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from klimainnkjop.reports.data import ReportData, Sum

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


FIGURE_COLUMNS = [
    Column("Drift, tonn CO2e", TONNES), Column("Investering, tonn CO2e", TONNES),
    Column("Totalt, tonn CO2e", TONNES), Column("Totalt, kg CO2e", KG),
    Column("Lav, tonn CO2e", TONNES), Column("Høy, tonn CO2e", TONNES),
    Column("Innkjøp drift, kr", NOK), Column("Innkjøp investering, kr", NOK), Column("Innkjøp totalt, kr", NOK),
    Column("kg CO2e per krone", INTENSITY), Column("Andel av utslippene", SHARE),
]


def figure_values(s: Sum, total_kg: float) -> list:
    return [s.kg_operating / 1000, s.kg_investment / 1000, s.kg / 1000, s.kg, s.kg_low / 1000, s.kg_high / 1000,
            s.ore_operating / 100, s.ore_investment / 100, s.ore_total / 100, s.intensity,
            (s.kg / total_kg) if total_kg else None]


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return (now - before) / before


def summary(data: ReportData) -> Table:
    t, p = data.total, data.previous
    rows_spec = [
        ("Utslipp, tonn CO2e", TONNES, t.kg / 1000, p.kg / 1000),
        ("Utslipp, kg CO2e", KG, t.kg, p.kg),
        ("herav drift, tonn CO2e", TONNES, t.kg_operating / 1000, p.kg_operating / 1000),
        ("herav investering, tonn CO2e", TONNES, t.kg_investment / 1000, p.kg_investment / 1000),
        ("Usikkerhet, lav, tonn CO2e", TONNES, t.kg_low / 1000, p.kg_low / 1000),
        ("Usikkerhet, høy, tonn CO2e", TONNES, t.kg_high / 1000, p.kg_high / 1000),
        ("Innkjøp, kr", NOK, t.ore_total / 100, p.ore_total / 100),
        ("herav drift, kr", NOK, t.ore_operating / 100, p.ore_operating / 100),
        ("herav investering, kr", NOK, t.ore_investment / 100, p.ore_investment / 100),
        ("Intensitet, kg CO2e per krone", INTENSITY, t.intensity, p.intensity),
        ("Andel av innkjøpene med utslippsfaktor", SHARE, t.covered_share, p.covered_share),
        ("Linjer", INT, t.lines, p.lines),
    ]
    return Table(
        key="sammendrag", title="Sammendrag",
        caption=f"Nøkkeltall for {data.period.label}, sammenlignet med samme periode året før",
        columns=[Column("Nøkkeltall"), Column(data.period.code, TONNES),
                 Column(data.period.previous_year().code, TONNES), Column("Endring", SHARE)],
        rows=[[label, now, before, _change(now, before) if kind not in (SHARE,) else None]
              for label, kind, now, before in rows_spec],
        row_kinds=[kind for _, kind, _, _ in rows_spec],
    )


def _figures(key: str, title: str, caption: str, first: str, groups: list[Sum], total: Sum, *,
             with_code: bool = False, chart: str = "") -> Table:
    columns = ([Column("Kode")] if with_code else []) + [Column(first)] + FIGURE_COLUMNS
    rows = [([s.key or ""] if with_code else []) + [s.name] + figure_values(s, total.kg) for s in groups]
    rows.append(([""] if with_code else []) + ["Sum"] + figure_values(total, total.kg))
    return Table(key=key, title=title, caption=caption, columns=columns, rows=rows, chart=chart)


def _mix(key: str, title: str, caption: str, first: str, groups: list[Sum], total: Sum) -> Table:
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


def tables(data: ReportData) -> Iterator[Table]:
    """Every table of the report, in reading order."""
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
    yield about(data)
