"""CSV for Norwegian Excel: `;`-separated, decimal comma, UTF-8 with a byte-order mark. Tables follow each
other, each after a line with its title and before an empty line. Cells go through the product's export writer
(core/cells.py): a text is never a formula, numbers stay numbers."""
from __future__ import annotations

from klimainnkjop.core import cells
from django.utils import translation

from klimainnkjop.reports import rows as R
from klimainnkjop.reports.data import ReportData

DECIMALS = {R.NOK: 2, R.KG: 3, R.TONNES: 6, R.SHARE: 6, R.INTENSITY: 6}


def value(v, kind: str):
    """One cell for the writer: a text as it is (the writer guards it), a number formatted for its kind."""
    if v is None or kind == R.TEXT or isinstance(v, str):
        return v
    if kind == R.INT:
        return int(v)
    return cells.number(v, DECIMALS.get(kind, 3))


@translation.override("nb")  # the report is in bokmål whichever face asks (the CLI speaks English)
def write(data: ReportData) -> bytes:
    writer = cells.CsvWriter(cells.EXCEL)
    out = [writer.start()]
    for table in R.tables(data):
        out.append(writer.row([table.title]))
        out.append(writer.row([c.label for c in table.columns]))
        for i, row in enumerate(table.rows):
            override = table.row_kinds[i] if table.row_kinds else None
            out.append(writer.row([value(v, override if (override and c.kind != R.TEXT and j in table.kind_columns)
                                         else c.kind) for j, (v, c) in enumerate(zip(row, table.columns))]))
        out.append(writer.row([]))
    return "".join(out).encode("utf-8")
