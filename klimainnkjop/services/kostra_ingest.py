"""A KOSTRA file read for import, vectorised: DuckDB cuts and checks the fixed-width records (engine.ingest
.KostraIngest), the importer's own code (importers.kostra.parse_line) reads the rows whose values the SQL is not
certain of, with its messages; a file whose lines Python would split otherwise than at \\n and \\r\\n is read by the
importer alone.

The result is importers.kostra.parse_kostra's, record for record and error for error (tests/test_kostra_ingest.py
compares them); the records stay in DuckDB for the import's next steps: keys, an anti-join with the organisation's
line files, one COPY to Parquet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from klimainnkjop.core import kostra as kostra_codes
from klimainnkjop.engine.ingest import HoldsIngest, KostraIngest, KostraLayout, parsed_into
from klimainnkjop.importers import kostra
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers.tabular import decode

# str.splitlines() breaks lines at these too; a file with any of them is read by the importer
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass
class ReadKostra(HoldsIngest):
    file_name: str
    rows_read: int
    regions: set[str]
    years: set[int]
    orgnrs: set[str]
    ingest: KostraIngest
    reader: str  # "duckdb" or "python"

    def others(self, region: str, orgnr: str) -> list[tuple[int, str, str]]:
        """(first row, 'region' | 'orgnr', value) of each region and orgnr in the file that is not these."""
        return self.ingest.kostra_others(region, orgnr)

    def records(self) -> list[kostra.KostraRecord]:
        """The records as the importer's KostraRecord, in file order (for tests)."""
        rows = self.ingest.con.execute("SELECT row_no, skjema, year, region, orgnr, investment, function, art, "
                                       "amount_ore FROM krecords ORDER BY row_no").fetchall()
        return [kostra.KostraRecord(*row) for row in rows]


_COLUMNS = [("row_no", pa.int32()), ("skjema", pa.string()), ("year", pa.int32()), ("region", pa.string()),
            ("orgnr", pa.string()), ("investment", pa.bool_()), ("function", pa.string()), ("art", pa.string()),
            ("amount_ore", pa.int64())]


def _layout() -> KostraLayout:
    return KostraLayout(
        fields=kostra.FIELDS, record_length=kostra.RECORD_LENGTH, forms=kostra.ACCOUNT_FORMS | kostra.BALANCE_FORMS,
        balance_forms=kostra.BALANCE_FORMS,
        classes=kostra_codes.INVESTMENT_CLASSES | kostra_codes.OPERATING_CLASSES | kostra_codes.BALANCE_CLASSES,
        investment_classes=kostra_codes.INVESTMENT_CLASSES, max_year=kostra.max_year())


def _table(records: list[kostra.KostraRecord]) -> pa.Table:
    return pa.table({name: pa.array([getattr(r, name) for r in records], kind) for name, kind in _COLUMNS})


def parse_kostra(data: bytes, file_name: str) -> ReadKostra:
    """Validate the whole file; ImportRejected with every error, as importers.kostra.parse_kostra."""
    return parsed_into(KostraIngest(), _parse, data, file_name)


def _parse(ingest: KostraIngest, data: bytes, file_name: str) -> ReadKostra:
    text = decode(data, file_name)
    layout = _layout()
    if text.count("\r") != text.count("\r\n") or _OTHER_BREAKS.search(text):
        return _parse_in_python(ingest, data, file_name, layout)
    try:
        utf8 = text.replace("\r\n", "\n").encode("utf-8")
    except UnicodeError:  # e.g. a lone surrogate
        return _parse_in_python(ingest, data, file_name, layout)
    del text
    ingest.load_lines(utf8)
    del utf8
    rows_read = ingest.parse_kostra(layout)
    errors: list[RowError] = []
    odd: list[kostra.KostraRecord] = []
    for row_no, line in ingest.odd_kostra_rows():  # as importers.kostra.parse_kostra's loop
        if not line.strip():
            continue
        rows_read += 1
        record = kostra.parse_line(file_name, row_no, line, errors)
        if record is not None:
            odd.append(record)
    if not rows_read:
        errors.append(RowError(file_name, None, None, reason("the file is empty")))
    if errors:
        raise ImportRejected(errors)
    ingest.kostra_records(layout, {raw: kostra_codes.current_region_code(raw) for raw in ingest.raw_regions(layout)},
                          _table(odd) if odd else None)
    regions, years, orgnrs = ingest.kostra_summary()
    return ReadKostra(file_name, rows_read, regions, years, orgnrs, ingest, "duckdb")


def _parse_in_python(ingest: KostraIngest, data: bytes, file_name: str, layout: KostraLayout) -> ReadKostra:
    """The importer reads the file (its line breaks are not only \\n and \\r\\n); its records go to DuckDB."""
    parsed = kostra.parse_kostra(data, file_name)
    ingest.load_lines(b"")
    ingest.parse_kostra(layout)
    ingest.kostra_records(layout, {}, _table(parsed.records))
    return ReadKostra(file_name, parsed.rows_read, parsed.regions, parsed.years, {r.orgnr for r in parsed.records},
                      ingest, "python")
