"""A ledger file read for import, vectorised: DuckDB reads and parses the cells (engine.ingest), the importer's own
code (importers.ledger.parse_row) reads the rows whose values the SQL is not certain of, with its messages.

The result is the same as importers.ledger.parse_ledger's, line for line and key for key
(tests/test_ledger_ingest.py compares them); it stays in DuckDB (`ReadLedger.ingest`, table `lines`) for the
import's next steps: currency, duplicates by an anti-join with the organisation's line files, one COPY to Parquet.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from klimainnkjop.engine import ingest as engine_ingest
from klimainnkjop.engine.ingest import HoldsIngest, Ingest, LedgerFields, parsed_into
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers.ledger import ParsedLine, Profile, line_basis, parse_row
from klimainnkjop.importers.tabular import Table, column_positions, csv_layout, read_table

_LATIN1_EQUAL = bytes(range(0x80, 0xA0))  # the only bytes where Windows-1252 and Latin-1 differ


@dataclass
class ReadLedger(HoldsIngest):
    """A parsed ledger file: `lines` lines in table `lines` of `ingest` (one per line, with `line_key`)."""

    file_name: str
    rows_read: int
    lines: int
    ingest: Ingest
    reader: str  # "duckdb" or "python": who read the cells

    def parsed_lines(self, limit: int | None = None) -> list[ParsedLine]:
        """The lines as the importer's ParsedLine (for previews and tests), in file order."""
        out = []
        for row in self.ingest.fetch_lines(limit):
            key = row.pop("line_key")
            for extra in ("amount_ore", "vat_ore"):
                row.pop(extra, None)
            out.append(ParsedLine(**row, key=key))
        return out


def parse_ledger(data: bytes, file_name: str, profile: Profile) -> ReadLedger:
    """Validate the whole file; ImportRejected with every error, as importers.ledger.parse_ledger."""
    return parsed_into(Ingest(), _parse, data, file_name, profile)


def load_cells(ingest: Ingest, data: bytes, file_name: str, profile) -> tuple[dict[str, int], str]:
    """The file's cells into the ingest, read by DuckDB where the layout allows, else by the importer's reader
    (spreadsheets, odd layouts): (the profile's columns' positions, "duckdb" or "python"). A ledger or a supplier-
    statistics profile alike (encoding, delimiter, sheet, header_row, columns)."""
    positions = _read_csv_with_duckdb(ingest, data, file_name, profile)
    if positions is not None:
        return positions, "duckdb"
    table = read_table(data, file_name, encoding=profile.encoding, delimiter=profile.delimiter,
                       sheet=profile.sheet, header_row=profile.header_row)
    positions = column_positions(table, profile.columns, file_name, profile.header_row)
    ingest.load_rows(table.rows, len(table.header))
    return positions, "python"


def _parse(ingest: Ingest, data: bytes, file_name: str, profile: Profile) -> ReadLedger:
    positions, reader = load_cells(ingest, data, file_name, profile)
    rows_read = ingest.rows_read()
    ingest.parse_ledger(LedgerFields(positions=positions, date_format=profile.date_format, values=profile.values,
                                     currency=profile.currency, amount_includes_vat=profile.amount_includes_vat))
    errors: list[RowError] = []
    odd: list[ParsedLine] = []
    for row_no, cells in ingest.odd_rows():
        line = parse_row(file_name, row_no, cells, positions, profile, errors)
        if line is not None:
            odd.append(line)
    if errors:
        raise ImportRejected(errors)
    if odd:
        ingest.add_lines(_arrow(odd))
    lines = ingest.assign_keys()
    return ReadLedger(file_name=file_name, rows_read=rows_read, lines=lines, ingest=ingest, reader=reader)


def _read_csv_with_duckdb(ingest: Ingest, data: bytes, file_name: str, profile) -> dict[str, int] | None:
    """Loads the cells with DuckDB's CSV reader and returns the profile's field positions, or None when the file
    is one the importer's reader must read (a spreadsheet, an odd encoding or layout, quotes DuckDB would read
    otherwise, nothing to read). `profile`: a ledger's Profile or a supplier-statistics StatsProfile (the same
    encoding, delimiter, header_row and columns)."""
    if data.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return None
    layout = csv_layout(data, encoding=profile.encoding, delimiter=profile.delimiter, header_row=profile.header_row)
    if layout is None or not layout.header:
        return None
    fd, name = tempfile.mkstemp(prefix="klimainnkjop-ledger-", suffix=".csv")
    os.close(fd)
    path = Path(name)
    try:
        if layout.codec in ("utf-8", "utf-8-sig"):
            raw, encoding = data, "utf-8"
            path.write_bytes(raw)
        elif layout.codec == "iso8859-1" or (layout.codec == "cp1252"
                                              and len(data.translate(None, _LATIN1_EQUAL)) == len(data)):
            raw, encoding = data, "latin-1"
            path.write_bytes(raw)
        else:
            if not engine_ingest.stream_to_utf8(data, layout.codec, path):
                return None
            raw, encoding = path.read_bytes(), "utf-8"
        if engine_ingest.csv_is_plain(raw, layout.delimiter) is not None:
            return None
        if b'"' in raw and not ingest.quotes_plain(path, layout.delimiter, encoding):
            return None
        lines = engine_ingest.line_count(raw)
        del raw
        if lines <= profile.header_row:
            return None  # no lines: the importer's reader says so in its words
        if not ingest.load_csv(path, ncols=len(layout.header), delimiter=layout.delimiter, encoding=encoding,
                               skip=profile.header_row, lines_after_skip=lines - profile.header_row):
            return None
        if ingest.rows_read() == 0:
            return None
    finally:
        path.unlink(missing_ok=True)
    # rows exist, so column_positions only checks the header (its "no lines" error cannot arise)
    return column_positions(Table(layout.header, [(0, [])]), profile.columns, file_name, profile.header_row)


def _arrow(lines: list[ParsedLine]) -> pa.Table:
    columns: dict[str, list] = {f.name: [] for f in engine_ingest.LINE_ARROW_SCHEMA}
    for line in lines:
        for name in columns:
            columns[name].append(line_basis(line) if name == "basis" else getattr(line, name))
    return pa.Table.from_pydict(columns, schema=engine_ingest.LINE_ARROW_SCHEMA)
