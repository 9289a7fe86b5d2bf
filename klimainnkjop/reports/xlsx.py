"""Excel: one sheet per table of rows.tables(), a bold header row, number formats, "Om rapporten" last. Cells go
through the product's export writer (core/cells.py): a text is never a formula, numbers are numeric cells."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from klimainnkjop.core import cells
from django.utils import translation

from klimainnkjop.reports import rows as R
from klimainnkjop.reports.data import ReportData

FORMATS = {R.INT: "#,##0", R.NOK: "#,##0.00", R.KG: "#,##0", R.TONNES: "#,##0.0", R.SHARE: "0.0%",
           R.INTENSITY: "0.0000"}


def native_chart(table: R.Table, sheet) -> BarChart | None:
    """The table's bar chart as an Excel chart over its own cells (the rows the PDF draws: the largest groups
    without the Sum row, which come first in the sheet), so it follows the numbers if someone edits them."""
    spec = R.chart_columns(table)
    if spec is None:
        return None
    name_index, tonnes_index, drawn = spec
    if not drawn or drawn != list(range(len(drawn))) or not any(table.rows[i][tonnes_index] for i in drawn):
        return None
    chart = BarChart()
    chart.type = "bar"  # horizontal bars, as in the PDF and on the pages
    chart.style = 10
    chart.title = table.caption
    chart.y_axis.title = "Tonn CO2e"
    chart.x_axis.title = table.columns[name_index].label
    chart.legend = None
    chart.height, chart.width = 7.5 + 0.45 * len(drawn), 16
    first, last = 2, 1 + len(drawn)  # sheet rows: the header is row 1
    data_ref = Reference(sheet, min_col=tonnes_index + 1, min_row=1, max_row=last)
    names_ref = Reference(sheet, min_col=name_index + 1, min_row=first, max_row=last)
    chart.add_data(data_ref, titles_from_data=True)
    chart.set_categories(names_ref)
    chart.x_axis.scaling.orientation = "maxMin"  # the largest first, at the top, as in the table
    return chart


@translation.override("nb")  # the report is in bokmål whichever face asks (the CLI speaks English)
def write(data: ReportData) -> bytes:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = data.title
    book.properties.language = "nb-NO"
    book.properties.creator = "Klimainnkjøp"
    bold = Font(bold=True)
    for table in R.tables(data):
        sheet = book.create_sheet(table.title[:31])
        cells.append_xlsx_row(sheet, [c.label for c in table.columns])
        for cell in sheet[1]:
            cell.font = bold
        for i, row in enumerate(table.rows, start=2):
            cells.append_xlsx_row(sheet, row)  # text never a formula, numbers numeric cells
            override = table.row_kinds[i - 2] if table.row_kinds else None
            for j, column in enumerate(table.columns, start=1):
                kind = override if (override and column.kind != R.TEXT and j - 1 in table.kind_columns) else column.kind
                if kind in FORMATS:
                    sheet.cell(row=i, column=j).number_format = FORMATS[kind]
            if row and row[0] == "Sum" or (len(row) > 1 and row[1] == "Sum"):
                for cell in sheet[i]:
                    cell.font = bold
        if table.prose:  # the author's text: one paragraph a row, wrapped in one wide column
            sheet.column_dimensions["A"].width = 100
            for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            continue
        sheet.freeze_panes = "B2"
        for j, column in enumerate(table.columns, start=1):
            width = max([len(column.label)] + [len(str(r[j - 1])) for r in table.rows if isinstance(r[j - 1], str)])
            sheet.column_dimensions[get_column_letter(j)].width = min(max(12, width + 2), 90)
        chart = native_chart(table, sheet)
        if chart is not None:  # beside its data: two columns right of the table, level with its header
            sheet.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}1")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
