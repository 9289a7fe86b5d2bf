"""Tagged PDF (PDF/UA-1) with WeasyPrint: language nb, a title, headings, tables with header cells, and charts
as PNG images with alt text, each followed by the table with the same numbers."""
from __future__ import annotations

import base64
from pathlib import Path

import vl_convert as vlc
from django.template import Context, Engine
from django.utils import translation

from klimainnkjop.reports import rows as R
from klimainnkjop.reports.data import ReportData
from klimainnkjop.reports import charts

TEMPLATES = Path(__file__).resolve().parent / "templates"
_engine = Engine(dirs=[str(TEMPLATES)], autoescape=True)
NBSP = "\u00a0"
DECIMALS = {R.INT: 0, R.NOK: 0, R.KG: 0, R.TONNES: 1, R.INTENSITY: 4, R.SHARE: 1}


def norwegian(value, kind: str) -> str:
    """12 345,6 (non-breaking space, decimal comma); shares as percent with a space before the sign."""
    if value is None or value == "":
        return "–"
    if kind == R.TEXT or isinstance(value, str):
        return str(value)
    number = float(value) * (100 if kind == R.SHARE else 1)
    decimals = DECIMALS.get(kind, 1)
    if round(number, decimals) == 0:
        number = 0.0
    text = f"{number:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", NBSP).replace("-", "\u2212")
    return f"{text}{NBSP}%" if kind == R.SHARE else text


TOTAL_LABELS = ("Sum",)
WIDE_COLUMNS = 8  # a table with more columns is set on a landscape page (templates/report.html, @page wide)


def is_total(table: R.Table, row: list) -> bool:
    """The Sum row (in the first column, or the second after a code): the only row printed bold."""
    return any(isinstance(v, str) and v in TOTAL_LABELS for v in row[:2])


def _cells(table: R.Table) -> list[list[dict]]:
    out = []
    for i, row in enumerate(table.rows):
        override = table.row_kinds[i] if table.row_kinds else None
        cells = []
        for j, (value, column) in enumerate(zip(row, table.columns)):
            kind = override if (override and column.kind != R.TEXT and j in table.kind_columns) else column.kind
            cells.append({"text": norwegian(value, kind), "numeric": kind != R.TEXT, "header": j == 0 or (
                j == 1 and table.columns[0].label in ("Kode", "Plass"))})
        out.append(cells)
    return out


def _chart(table: R.Table) -> dict | None:
    """A bar chart of the table's tonnes (without the Sum row), as a PNG data URL with alt text."""
    spec = R.chart_columns(table)
    if spec is None:
        return None
    name_index, tonnes_index, drawn = spec
    rows = [table.rows[i] for i in drawn]
    if not rows or not any(r[tonnes_index] for r in rows):
        return None
    if table.chart_column is not None:  # a comparison table: draw the groups with emissions in the period
        rows = [r for r in rows if (r[tonnes_index] or 0) > 0]
        if not rows:
            return None
    bars = [charts.Bar(str(r[name_index]), {"Tonn CO2e": float(r[tonnes_index] or 0.0)},
                       norwegian(r[tonnes_index], R.TONNES)) for r in rows]
    spec = charts.bar_chart_spec(bars, series=["Tonn CO2e"], value_title="Tonn CO2e", horizontal=True)
    png = vlc.vegalite_to_png(spec, scale=2, format_locale=charts.FORMAT_LOCALES["nb"])
    top = max(rows, key=lambda r: r[tonnes_index] or 0)
    alt = (f"Stolpediagram: {table.caption}. Høyest er {top[name_index]} med "
           f"{norwegian(top[tonnes_index], R.TONNES)} tonn CO2e. Tallene står i tabellen under.")
    return {"src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "alt": alt}


def html(data: ReportData) -> str:
    sections = []
    for table in R.tables(data):
        sections.append({"table": table, "cells": _cells(table), "chart": _chart(table) if table.chart else None,
                         "rows": [{"cells": cells, "total": is_total(table, row)}
                                  for cells, row in zip(_cells(table), table.rows)],
                         "wide": len(table.columns) > WIDE_COLUMNS,
                         "paragraphs": [row[0] for row in table.rows] if table.prose else None})
    total = data.total
    lead = {"tonnes": norwegian(total.kg / 1000, R.TONNES), "nok": norwegian(total.ore_total / 100, R.NOK),
            "low": norwegian(total.kg_low / 1000, R.TONNES), "high": norwegian(total.kg_high / 1000, R.TONNES),
            "comparisons": [{"code": c.period.code, "baseline": c.baseline,
                             "tonnes": norwegian(c.total.kg / 1000, R.TONNES),
                             "change": norwegian(R.change(total.kg, c.total.kg), R.SHARE)}
                            for c in data.comparisons]}
    return _engine.get_template("report.html").render(Context({"data": data, "sections": sections, "lead": lead}))


def layout(data: ReportData):
    """The report laid out by WeasyPrint (pages and their boxes), for write() and for the tests of its pages."""
    import weasyprint

    return weasyprint.HTML(string=html(data), base_url=str(TEMPLATES)).render()


@translation.override("nb")  # the report is in bokmål whichever face asks (the CLI speaks English)
def write(data: ReportData) -> bytes:
    document = layout(data)
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=False, uncompressed_pdf=False)
