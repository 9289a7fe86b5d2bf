"""The PDF reports fit the page (issue 18 item 3): WeasyPrint's own layout of each layout's report (standard and
funder, an organisation and the region), every table's border box inside its page's content area (portrait A4, or
landscape for the wide tables); only Sum rows bold. More exact than looking at rendered images: the boxes are where
the PDF draws."""
from __future__ import annotations

import pytest
from weasyprint.formatting_structure.boxes import TableBox, TableCellBox, TableRowBox, TableRowGroupBox

from klimainnkjop.access import system_scope
from klimainnkjop.reports import data as report_data
from klimainnkjop.reports import pdf
from klimainnkjop.reports.periods import parse_period
from tests.shared_accounts import accounts, org, other_org  # noqa: F401 - one load of the region for the module
from tests.factories import KONGSVINGER

A4_PORTRAIT_PX = (793.7, 1122.5)  # 210 × 297 mm at CSS's 96 px per inch
TEXTS = {"project": "Klimavennlige innkjøp", "activities": "Kartla innkjøpene.", "deviations": "Ingen.",
         "experiences": "Gode.", "next_steps": "Mer data fra leverandørene."}
REPORTS = {
    "standard, organisation": dict(scope_kind="org", orgnr=KONGSVINGER, period="2025"),
    "standard, region": dict(scope_kind="region", period="2025H2"),
    "funder, organisation": dict(scope_kind="org", orgnr=KONGSVINGER, period="2025", layout="funder", texts=TEXTS),
    "funder, region": dict(scope_kind="region", period="2025", layout="funder", texts=TEXTS),
}


def build(spec: dict):
    spec = dict(spec)
    return report_data.build(system_scope(), period=parse_period(spec.pop("period")), **spec)


def tables_outside_the_margins(document) -> list[str]:
    """Each table (border box) whose right edge passes its page's content area, and each table cell whose right edge
    passes its table's: "page N: caption".
    """
    out = []
    for number, page in enumerate(document.pages, start=1):
        box = page._page_box
        right = box.content_box_x() + box.width
        for table in (b for b in box.descendants() if isinstance(b, TableBox)):
            edge = max([table.border_box_x() + table.border_width()] + [
                cell.border_box_x() + cell.border_width() for cell in table.descendants()
                if isinstance(cell, TableCellBox)])
            if edge > right + 0.5:
                out.append(f"page {number}: {edge:.1f} > {right:.1f} px")
    return out


def bold_rows(document) -> list[str]:
    """The first cells' text of each table body row printed bold (header rows are bold by design)."""
    out = []
    for page in document.pages:
        bodies = [g for g in page._page_box.descendants() if isinstance(g, TableRowGroupBox) and not g.is_header]
        for row in (r for g in bodies for r in g.children if isinstance(r, TableRowBox)):
            cells = [c for c in row.children if isinstance(c, TableCellBox)]
            if cells and all(c.style["font_weight"] >= 700 for c in cells):
                out.append(" ".join(_text(c) for c in cells[:2]).strip())
    return out


def _text(box) -> str:
    return "".join(getattr(b, "text", "") for b in box.descendants())


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(REPORTS))
def test_no_table_of_any_report_layout_passes_the_right_margin(accounts, name):
    document = pdf.layout(build(REPORTS[name]))
    sizes = {(round(p.width, 1), round(p.height, 1)) for p in document.pages}
    assert sizes <= {A4_PORTRAIT_PX, A4_PORTRAIT_PX[::-1]}, sizes
    assert tables_outside_the_margins(document) == []


@pytest.mark.django_db
def test_a_wide_table_is_set_on_a_landscape_page_and_the_others_on_portrait(accounts):
    data = build(REPORTS["funder, organisation"])
    html = pdf.html(data)
    wide = html.count('<section class="wide')
    assert wide >= 1  # the comparison tables of the funder report have more than eight columns
    document = pdf.layout(data)
    landscape = [p for p in document.pages if p.width > p.height]
    assert landscape and len(landscape) < len(document.pages)
    for page in landscape:  # every table on a landscape page is a wide one
        for table in (b for b in page._page_box.descendants() if isinstance(b, TableBox)):
            header = next(b for b in table.descendants() if isinstance(b, TableRowBox))
            assert len([c for c in header.children if isinstance(c, TableCellBox)]) > pdf.WIDE_COLUMNS


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["standard, organisation", "funder, region"])
def test_only_the_sum_rows_are_bold_never_an_ordinary_last_row(accounts, name):
    data = build(REPORTS[name])
    document = pdf.layout(data)
    bold = bold_rows(document)
    assert bold and all("Sum" in text for text in bold), bold
    # a table without a Sum row (the key figures of the summary) ends in an ordinary row, not bold
    html = pdf.html(data)
    assert html.count('<tr class="sum">') == len(bold)


def test_the_check_finds_a_table_wider_than_the_page():
    import weasyprint

    html = ("<style>@page { size: A4; margin: 20mm }</style><table><tr>"
            + "".join(f"<td style='white-space: nowrap'>kolonne nummer {i} med lang tekst</td>" for i in range(12))
            + "</tr></table>")
    assert len(tables_outside_the_margins(weasyprint.HTML(string=html).render())) == 1
    assert tables_outside_the_margins(weasyprint.HTML(string="<table><tr><td>1</td></tr></table>").render()) == []


# --- the XLSX: native Excel charts beside their data -----------------------------------------------------------

def _ref(reference) -> str:
    return str(reference.numRef.f if hasattr(reference, "numRef") and reference.numRef else reference.strRef.f)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["standard, organisation", "funder, region"])
def test_each_chart_of_the_xlsx_is_a_native_bar_chart_over_its_tables_tonnes_beside_the_table(accounts, name):
    import io

    import openpyxl
    from openpyxl.utils import get_column_letter

    from klimainnkjop.reports import rows as R
    from klimainnkjop.services.reports import render

    data = build(REPORTS[name])
    book = openpyxl.load_workbook(io.BytesIO(render(data, "xlsx")))
    charted = [t for t in R.tables(data) if R.chart_columns(t) and any(
        t.rows[i][R.chart_columns(t)[1]] for i in R.chart_columns(t)[2])]
    assert charted
    for table in R.tables(data):
        sheet = book[table.title[:31]]
        if table not in charted:
            assert sheet._charts == [], table.title
            continue
        assert len(sheet._charts) == 1, table.title
        chart = sheet._charts[0]
        name_index, tonnes_index, drawn = R.chart_columns(table)
        assert chart.tagname == "barChart" and chart.type == "bar"
        anchor = chart.anchor._from
        assert (anchor.col, anchor.row) == (len(table.columns) + 1, 0)  # 0-based: two columns right, at the top
        series = chart.series[0]
        quoted = f"'{sheet.title}'" if " " in sheet.title else sheet.title
        tonnes, names = get_column_letter(tonnes_index + 1), get_column_letter(name_index + 1)
        last = 1 + len(drawn)
        assert _ref(series.val) == f"{quoted}!${tonnes}$2:${tonnes}${last}"
        assert _ref(series.cat) == f"{quoted}!${names}$2:${names}${last}"
        values = [sheet[f"{tonnes}{r}"].value for r in range(2, last + 1)]
        assert values == pytest.approx([table.rows[i][tonnes_index] or 0 for i in drawn])
        assert "Sum" not in [sheet[f"{names}{r}"].value for r in range(2, last + 1)]
