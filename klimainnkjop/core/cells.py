"""The cells of every CSV and XLSX export, and the one rule against formula injection.

OWASP's rule (CSV Injection): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is
written with a single quote in front, so that Excel, LibreOffice and Google Sheets show it as text and never
run it as a formula (`=cmd|' /C calc'!A0`, `@SUM(1+1)*cmd|…`). In XLSX the quote is the cell's own "quote
prefix" style (`quotePrefix`, what Excel sets when one types `'=1+1`): the cell is a string cell, shows the text
as it is and stays text when edited. Numbers are not text: an int, float or Decimal
is written as a number (in XLSX a numeric cell), so a negative amount stays a negative number. A number that a
writer has already formatted (with a decimal comma, a fixed number of decimals) is marked with `number()`.

Every CSV and XLSX writer of the product (web, CLI, reports, open data, the audit export) writes through
`CsvWriter` / `csv_text` and `xlsx_value` / `append_xlsx_row`; `safe_text` is the only place the rule lives.
"""
from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """A text cell as a spreadsheet will show it and never evaluate it: a quote before a formula's first sign."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Number(str):
    """A number already written as text by `number()`: a number, so it is written as it is."""

    __slots__ = ()


def number(value: float | int | Decimal | None, decimals: int, *, decimal_comma: bool = True) -> Number | str:
    """`value` with a fixed number of decimals (a decimal comma for Norwegian Excel, no grouping); "" for None."""
    if value is None:
        return ""
    text = f"{float(value):.{decimals}f}"
    return Number(text.replace(".", ",") if decimal_comma else text)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    lineterminator: str
    decimal_comma: bool
    bom: bool


# What Norwegian Excel opens: `;`-separated, decimal comma, UTF-8 with a byte-order mark.
EXCEL = Dialect(delimiter=";", lineterminator="\r\n", decimal_comma=True, bom=True)
# The command line's `--format csv`, for scripts: `,`-separated, decimal point, no byte-order mark.
PLAIN = Dialect(delimiter=",", lineterminator="\n", decimal_comma=False, bom=False)


def csv_cell(value, *, decimal_comma: bool) -> str:
    """One CSV field: "" for None, numbers as numbers, everything else as text through `safe_text`."""
    if value is None:
        return ""
    if isinstance(value, Number):
        return value
    if _is_number(value):
        text = str(value)
        return text.replace(".", ",") if decimal_comma else text
    return safe_text(str(value))


class _Line:
    def write(self, text: str) -> str:
        return text


class CsvWriter:
    """Rows to CSV lines, each cell through `csv_cell`. `row()` returns the line, so a response can stream it."""

    def __init__(self, dialect: Dialect = EXCEL):
        self.dialect = dialect
        # Written with "\r\n" whatever the dialect's line end: the csv module quotes a field holding a character of
        # the line terminator, and a bare "\r" left unquoted would start a new row (and a cell) in a spreadsheet.
        self._writer = csv.writer(_Line(), delimiter=dialect.delimiter, lineterminator="\r\n")

    def start(self) -> str:
        """What comes before the first line: the byte-order mark, where the dialect has one."""
        return "\ufeff" if self.dialect.bom else ""

    def row(self, values: Iterable) -> str:
        line = self._writer.writerow([csv_cell(v, decimal_comma=self.dialect.decimal_comma) for v in values])
        return line[:-2] + self.dialect.lineterminator

    def lines(self, rows: Iterable[Iterable], header: Sequence[str] | None = None) -> Iterator[str]:
        yield self.start()
        if header is not None:
            yield self.row(header)
        for r in rows:
            yield self.row(r)


def csv_text(rows: Iterable[Iterable], header: Sequence[str] | None = None, dialect: Dialect = EXCEL) -> str:
    """A whole CSV document (with the byte-order mark where the dialect has one)."""
    return "".join(CsvWriter(dialect).lines(rows, header))


def csv_records(records: Sequence[dict], columns: Sequence[str], dialect: Dialect = EXCEL) -> str:
    """Records (dicts) as CSV under a header of `columns`, in that order."""
    return csv_text(([r.get(c) for c in columns] for r in records), columns, dialect)


def xlsx_value(value):
    """A value for an openpyxl cell: numbers, booleans and dates as they are (numeric cells), a `number()` as the
    number it is, text without the control characters XML cannot hold (openpyxl refuses them); `append_xlsx_row`
    marks a text that could be a formula."""
    if isinstance(value, Number):
        return float(value.replace(",", "."))
    if value is None or isinstance(value, (int, float, Decimal, bool, datetime.date, datetime.time)):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def append_xlsx_row(sheet, values: Iterable) -> int:
    """Append one row to an openpyxl sheet, each cell through `xlsx_value`; text cells are always string cells
    (openpyxl would otherwise make `=…` a formula and `#N/A` an error), and one that `safe_text` would quote gets
    the quote prefix style instead of a visible quote. Returns the row's number."""
    sheet.append([xlsx_value(v) for v in values])
    row = sheet.max_row
    for cell in sheet[row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if safe_text(cell.value) != cell.value:
                cell.quotePrefix = True
    return row


def without_nul(value: str | None) -> str:
    """A file's text without NUL characters, as the database keeps it (PostgreSQL's text refuses NUL; an export's NUL
    is never meant)."""
    return (value or "").replace("\x00", "")


def db_text(value: str | None, limit: int) -> str:
    """A file's text as the database keeps it in a column of `limit` characters: without_nul, cut to the column (the
    line files keep the text whole)."""
    return without_nul(value)[:limit]
