"""Read a CSV or XLSX file into a header and string rows, whatever its encoding and delimiter."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from python_calamine import CalamineWorkbook, SheetVisibleEnum

from klimainnkjop.importers import archives
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, is_reader_panic, listing, quoted

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
    header: dict[str, list[int]] = {}
    for i, h in enumerate(table.header):
        header.setdefault(h.strip().lower(), []).append(i)
    errors: list[RowError] = []
    positions: dict[str, int] = {}
    for fld, column in columns.items():
        indexes = header.get(column.strip().lower())
        index = indexes[0] if indexes else None
        if indexes and len(indexes) > 1:  # which one is meant is not ours to guess (the last used to win silently)
            errors.append(RowError(file_name, header_row, column, reason(
                "the column for '%(field)s' is in the header %(times)s times (%(names)s): rename all but one",
                field=fld, times=len(indexes), names=listing([_printable(table.header[i]) for i in indexes]))))
        elif index is None:
            shown = [_printable(h) for h in table.header]
            errors.append(RowError(file_name, header_row, column,
                                   reason("column for '%(field)s' not found in the header (%(header)s)", field=fld,
                                          header=listing(shown))))
        else:
            positions[fld] = index
    if errors:
        raise ImportRejected(errors)
    if not table.rows:
        raise ImportRejected([RowError(file_name, None, None, reason("the file has a header but no lines"))])
    return positions


def _printable(text: str) -> str:
    """A header name as a message may show it: characters that are not printable (a vertical tab, NUL, a line
    separator) escaped, so that a hostile header cannot break the message into lines."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _codecs(encoding: str | None) -> list[str]:
    """The encodings to try: the profile's; else UTF-8 (with or without BOM) first, then Windows-1252, the usual
    Norwegian ERP export's."""
    if encoding:
        return [encoding]
    return ["utf-8-sig", "cp1252"]


def decode(data: bytes, file_name: str, encoding: str | None = None) -> str:
    """The file's text in the first of `_codecs` that reads all of it."""
    candidates = _codecs(encoding)
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if len(candidates) == 2:
        raise ImportRejected([RowError(file_name, None, None, reason(
            "cannot decode the file as %(first)s or %(second)s", first=candidates[0], second=candidates[1]))])
    raise ImportRejected([RowError(file_name, None, None, reason("cannot decode the file as %(encoding)s",
                                                                 encoding=candidates[0]))])


def _read_csv(data: bytes, file_name: str, *, encoding: str | None, delimiter: str | None, header_row: int) -> Table:
    text = decode(data, file_name, encoding)
    if not text.strip():
        raise ImportRejected([RowError(file_name, None, None, reason("the file is empty"))])
    if not delimiter:
        # bounded: the sniffer's regular expressions take seconds on a line of a few hundred kilobytes
        sample = "\n".join(line[:2000] for line in text.splitlines()[header_row - 1: header_row + 20])
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        except csv.Error:
            lines = text.splitlines()
            if len(lines) < header_row:
                raise ImportRejected([RowError(file_name, header_row, None, reason("no header row"))]) from None
            delimiter = max(DELIMITERS, key=lines[header_row - 1].count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except (TypeError, csv.Error) as exc:  # a profile's delimiter that is not one character
        raise ImportRejected([RowError(file_name, None, None, reason(
            "cannot read the file with delimiter %(delimiter)s: %(error)s", delimiter=quoted(delimiter),
            error=exc))]) from exc
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
        raise ImportRejected([RowError(file_name, reader.line_num, None,
                                       reason("malformed CSV: %(error)s", error=exc))]) from exc
    if header is None:
        raise ImportRejected([RowError(file_name, header_row, None, reason("no header row"))])
    return Table(header, rows)


@dataclass
class CsvLayout:
    """What the importer's CSV reader would decide about a file, found from its first lines only."""

    codec: str           # the encoding it decodes with (codecs' canonical name)
    delimiter: str
    header: list[str]    # the header row's cells, stripped


def csv_layout(data: bytes, *, encoding: str | None = None, delimiter: str | None = None,
               header_row: int = 1) -> CsvLayout | None:
    """The encoding, delimiter and header `_read_csv` would use for `data`, or None when that is not certain
    without reading the whole file the importer's way (then read it so). The encoding is checked over the whole
    file; the delimiter and header from the first lines, as `_read_csv` takes them."""
    import codecs

    if data.startswith(XLSX_MAGIC):
        return None
    codec = _whole_file_codec(data, encoding)
    if codec is None:
        return None
    # enough lines for the sniffer's sample (lines header_row-1 .. header_row+20) and the header record
    size = 1 << 16
    while True:
        prefix = data[:size]
        whole = len(prefix) == len(data)
        text = codecs.getincrementaldecoder(codec)().decode(prefix, final=whole)
        lines = text.splitlines()
        if whole or len(lines) > header_row + 22:
            break
        size *= 4
    if not whole:
        lines = lines[:header_row + 21]  # the last line may be cut
    if not "".join(lines[:header_row + 21]).strip():
        return None
    if not delimiter:
        sample = "\n".join(line[:2000] for line in lines[header_row - 1: header_row + 20])
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        except csv.Error:
            if len(lines) < header_row:
                return None
            delimiter = max(DELIMITERS, key=lines[header_row - 1].count)
    if len(delimiter) != 1 or delimiter in "\r\n\"":
        return None
    physical = text.split("\n")  # records end at \n only in the files this layout is used for (ingest.csv_is_plain)
    if len(physical) <= header_row and not whole:
        return None
    try:
        records = list(csv.reader(io.StringIO("\n".join(physical[:header_row]) + "\n", newline=""),
                                  delimiter=delimiter))
    except csv.Error:
        return None
    if len(records) != header_row:
        return None
    return CsvLayout(codec=codec, delimiter=delimiter, header=[h.strip() for h in records[header_row - 1]])


def _whole_file_codec(data: bytes, encoding: str | None) -> str | None:
    """The codec `decode` would succeed with (canonical name), checked without keeping the text where cheap."""
    import codecs

    candidates = _codecs(encoding)
    for candidate in candidates:
        try:
            name = codecs.lookup(candidate).name
        except LookupError:
            return None
        if name == "cp1252":
            if any(b in data for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")):
                continue
            return name
        if name in ("latin-1", "iso8859-1"):
            return "iso8859-1"
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    return None


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


def open_workbook(data: bytes, file_name: str) -> CalamineWorkbook:
    if data.startswith(XLSX_MAGIC):  # XLSX and ODS are zips: sizes, members and ratio before calamine unpacks
        archives.check_zip(data, file_name)
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ImportRejected([RowError(file_name, None, None,
                                       reason("cannot read the spreadsheet: %(error)s", error=exc))]) from exc


def sheet_values(book: CalamineWorkbook, name: str, file_name: str) -> list[list]:
    """Every row of sheet `name` from cell A1, or ImportRejected naming the first row calamine cannot read:
    a hostile cell (a date serial of -1e308, a duration of 1e20 days) makes it raise, or panic in Rust."""
    try:
        sheet = book.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False)
    except BaseException as exc:  # noqa: BLE001 - only calamine's panic among the BaseExceptions, see below
        if not (isinstance(exc, Exception) or is_reader_panic(exc)):
            raise
        row = _failing_row(book, name)
        raise ImportRejected([RowError(file_name, row, None, reason(
            "sheet %(sheet)s: a cell cannot be read (a date or duration out of range?): %(error)s",
            sheet=quoted(name), error=exc))]) from None


def _failing_row(book: CalamineWorkbook, name: str) -> int | None:
    """The 1-based row of the first cell calamine cannot convert, found by reading row by row."""
    read = 0
    try:
        for _row in book.get_sheet_by_name(name).iter_rows():  # from row 1, like to_python(skip_empty_area=False)
            read += 1
    except BaseException as exc:  # noqa: BLE001
        if not (isinstance(exc, Exception) or is_reader_panic(exc)):
            raise
        return read + 1
    return None


def _read_xlsx(data: bytes, file_name: str, *, sheet: str | None, header_row: int) -> Table:
    book = open_workbook(data, file_name)
    names = book.sheet_names
    if not names:
        raise ImportRejected([RowError(file_name, None, None, reason("the spreadsheet has no sheets"))])
    # without a sheet in the profile, the first sheet a person sees (a hidden first sheet was imported silently)
    visible = [m.name for m in book.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
    name = sheet or (visible or names)[0]
    if name not in names:
        raise ImportRejected([RowError(file_name, None, None, reason(
            "no sheet named %(sheet)s (sheets: %(sheets)s)", sheet=quoted(name),
            sheets=", ".join(quoted(n) for n in names[:20])))])
    values = sheet_values(book, name, file_name)
    if len(values) < header_row:
        raise ImportRejected([RowError(file_name, header_row, None, reason("no header row"))])
    header = [_cell_text(v).strip() for v in values[header_row - 1]]
    rows = []
    for index, record in enumerate(values[header_row:], start=header_row + 1):
        cells = [_cell_text(v) for v in record]
        if any(c.strip() for c in cells):
            rows.append((index, cells))
    return Table(header, rows)


MAX_PROFILE_NAME = 100  # MappingProfile.name, SupplierStatsProfile.name
MAX_HEADER_ROW = 1000


def profile_columns(spec, source: str, fields, required, *, what: str = "fields") -> tuple[object, dict, list[str]]:
    """The part every column-mapping profile (ledger, supplier statistics, agreement lists) checks alike: (name,
    columns, problems) of a profile's JSON, its name and its map of `fields` to column names with every `required`
    field. Raises ValueError when the profile is not an object at all."""
    if not isinstance(spec, dict):
        raise ValueError(f"{source}: a profile is an object with 'name' and 'columns'")
    problems = []
    name, columns = spec.get("name"), spec.get("columns")
    if not name or not isinstance(name, str):
        problems.append("'name' is missing")
    if not isinstance(columns, dict) or not columns:
        problems.append(f"'columns' must map {what} to column names")
        columns = {}
    unknown = sorted(set(columns) - set(fields))
    if unknown:
        problems.append(f"unknown field(s) {listing(unknown)}; known: {', '.join(fields)}")
    missing = [f for f in required if f not in columns]
    if missing:
        problems.append(f"required field(s) not mapped: {', '.join(missing)}")
    return name, columns, problems


def setting_problems(spec: dict, text_settings: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with the type or value of a profile's settings (the JSON may hold lists, numbers, booleans
    or objects anywhere); an empty list when every setting present can be used as it is."""
    import codecs

    problems: list[str] = []
    name = spec.get("name")
    if isinstance(name, str) and len(name) > MAX_PROFILE_NAME:
        problems.append(f"'name' is longer than {MAX_PROFILE_NAME} characters")
    columns = spec.get("columns")
    if isinstance(columns, dict):
        bad = [f for f, c in columns.items() if isinstance(c, (list, dict, bool)) or len(str(c)) > 200]
        if bad:
            problems.append(f"'columns': each field maps to one column name (up to 200 characters); "
                            f"not so for {', '.join(quoted(f, 30) for f in bad[:10])}")
    for key in ("encoding", "delimiter", "sheet", "date_format", "currency", "description", *text_settings):
        value = spec.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"'{key}' must be text, not {type(value).__name__} {quoted(value, 30)}")
    encoding = spec.get("encoding")
    if isinstance(encoding, str) and encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(f"'encoding': unknown encoding {quoted(encoding)}")
    delimiter = spec.get("delimiter")
    if isinstance(delimiter, str) and delimiter and (len(delimiter) != 1 or delimiter in "\r\n\""):
        problems.append(f"'delimiter' must be one character (not a quote or line break), not {quoted(delimiter)}")
    header_row = spec.get("header_row", 1)
    if isinstance(header_row, str) and header_row.strip().isdecimal():
        header_row = int(header_row)
    if isinstance(header_row, bool) or not isinstance(header_row, int) or not 1 <= header_row <= MAX_HEADER_ROW:
        problems.append(f"'header_row' must be a row number from 1 to {MAX_HEADER_ROW}, not {quoted(header_row, 30)}")
    mapped = spec.get("values")
    if mapped is not None:
        if not isinstance(mapped, dict) or not all(
                isinstance(table, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in table.items())
                for table in mapped.values()):
            problems.append("'values' must map fields to objects of text → text, "
                            "e.g. {\"kontoklasse\": {\"Capital\": \"0\"}}")
    for key in ("amount_includes_vat",):
        value = spec.get(key)
        if value is not None and not isinstance(value, bool):
            problems.append(f"'{key}' must be true or false, not {quoted(value, 30)}")
    return problems
