"""Read a CSV or XLSX file into a header and string rows, whatever its encoding and delimiter."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from python_calamine import CalamineWorkbook

from klimainnkjop.importers import archives
from klimainnkjop.importers.errors import ImportRejected, RowError

XLSX_MAGIC = b"PK\x03\x04"
DELIMITERS = ";,\t|"


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, cells)


def read_table(data: bytes, file_name: str, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | None = None, header_row: int = 1) -> Table:
    if data.startswith(XLSX_MAGIC) or file_name.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return _read_xlsx(data, file_name, sheet=sheet, header_row=header_row)
    return _read_csv(data, file_name, encoding=encoding, delimiter=delimiter, header_row=header_row)


def column_positions(table: Table, columns: dict[str, str], file_name: str, header_row: int) -> dict[str, int]:
    """Field -> index in the table's rows for a profile's `columns` (field -> column name, matched on the
    header case- and space-insensitively). ImportRejected with every column that is not in the header, or
    when the file has a header but no lines."""
    header = {h.strip().lower(): i for i, h in enumerate(table.header)}
    errors: list[RowError] = []
    positions: dict[str, int] = {}
    for fld, column in columns.items():
        index = header.get(column.strip().lower())
        if index is None:
            errors.append(RowError(file_name, header_row, column,
                                   f"column for '{fld}' not found in the header ({', '.join(table.header)})"))
        else:
            positions[fld] = index
    if errors:
        raise ImportRejected(errors)
    if not table.rows:
        raise ImportRejected([RowError(file_name, None, None, "the file has a header but no lines")])
    return positions


def decode(data: bytes, file_name: str, encoding: str | None = None) -> str:
    """UTF-8 (with or without BOM) first, then Windows-1252, the usual Norwegian ERP export encoding."""
    candidates = [encoding] if encoding else ["utf-8-sig", "cp1252"]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ImportRejected([RowError(file_name, None, None, f"cannot decode the file as {' or '.join(candidates)}")])


def _read_csv(data: bytes, file_name: str, *, encoding: str | None, delimiter: str | None, header_row: int) -> Table:
    text = decode(data, file_name, encoding)
    if not text.strip():
        raise ImportRejected([RowError(file_name, None, None, "the file is empty")])
    if not delimiter:
        sample = "\n".join(text.splitlines()[header_row - 1: header_row + 20])
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        except csv.Error:
            first = text.splitlines()[header_row - 1]
            delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for index, record in enumerate(reader, start=1):
            if index < header_row:
                continue
            if header is None:
                header = [h.strip() for h in record]
                continue
            if not any(cell.strip() for cell in record):
                continue
            rows.append((index, record))
    except csv.Error as exc:
        raise ImportRejected([RowError(file_name, reader.line_num, None, f"malformed CSV: {exc}")]) from exc
    if header is None:
        raise ImportRejected([RowError(file_name, header_row, None, "no header row")])
    return Table(header, rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return f"{value:.6f}" if "e" in text else text
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, file_name: str, *, sheet: str | None, header_row: int) -> Table:
    if data.startswith(XLSX_MAGIC):  # XLSX and ODS are zips: sizes, members and ratio before calamine unpacks
        archives.check_zip(data, file_name)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = book.sheet_names
        name = sheet or names[0]
        if name not in names:
            raise ImportRejected([RowError(file_name, None, None, f"no sheet named {name!r} (sheets: {', '.join(names)})")])
        values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except ImportRejected:
        raise
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ImportRejected([RowError(file_name, None, None, f"cannot read the spreadsheet: {exc}")]) from exc
    if len(values) < header_row:
        raise ImportRejected([RowError(file_name, header_row, None, "no header row")])
    header = [_cell_text(v).strip() for v in values[header_row - 1]]
    rows = []
    for index, record in enumerate(values[header_row:], start=header_row + 1):
        cells = [_cell_text(v) for v in record]
        if any(c.strip() for c in cells):
            rows.append((index, cells))
    return Table(header, rows)
