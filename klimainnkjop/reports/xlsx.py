"""Excel: one sheet per table of rows.tables(), a bold header row, number formats, "Om rapporten" last. Cells go
through the product's export writer (core/cells.py): a text is never a formula, numbers are numeric cells."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from klimainnkjop.core import cells
from klimainnkjop.reports import rows as R
from klimainnkjop.reports.data import ReportData

FORMATS = {R.INT: "#,##0", R.NOK: "#,##0.00", R.KG: "#,##0", R.TONNES: "#,##0.0", R.SHARE: "0.0%",
           R.INTENSITY: "0.0000"}


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
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
