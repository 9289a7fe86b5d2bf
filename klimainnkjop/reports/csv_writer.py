"""CSV for Norwegian Excel: `;`-separated, decimal comma, UTF-8 with a byte-order mark. Tables follow each
other, each after a line with its title and before an empty line."""
from __future__ import annotations

import csv
import io

from klimainnkjop.reports import rows as R
from klimainnkjop.reports.data import ReportData

DECIMALS = {R.NOK: 2, R.KG: 3, R.TONNES: 6, R.SHARE: 6, R.INTENSITY: 6}


def value(v, kind: str) -> str:
    if v is None:
        return ""
    if kind == R.TEXT or isinstance(v, str):
        text = str(v)
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # a text, never a spreadsheet formula
    if kind == R.INT:
        return str(int(v))
    return f"{float(v):.{DECIMALS.get(kind, 3)}f}".replace(".", ",")


def write(data: ReportData) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for table in R.tables(data):
        writer.writerow([table.title])
        writer.writerow([c.label for c in table.columns])
        for i, row in enumerate(table.rows):
            override = table.row_kinds[i] if table.row_kinds else None
            writer.writerow([value(v, override if (override and c.kind != R.TEXT and j in table.kind_columns)
                                   else c.kind) for j, (v, c) in enumerate(zip(row, table.columns))])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
