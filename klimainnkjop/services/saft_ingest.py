"""A SAF-T file read for import, columnar: the hardened XML parse and the schema check of importers/saft.py, the
lines collected as Arrow columns (importers.saft.read_columns, no object per line), then dates, amounts, VAT,
suppliers, arts, the checks and the key hash in DuckDB (engine.ingest.SaftIngest). Dates and amounts of a shape the
SQL does not read are read by the importer's own functions, once per distinct text, with its messages.

The result is importers.saft.parse_saft's, line for line and key for key, or the same errors
(tests/test_saft_ingest.py compares them); it stays in DuckDB (`ReadSaft.ingest`, table `lines`) for the import's
next steps: duplicates by an anti-join with the organisation's SAF-T batches, one COPY to Parquet.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from klimainnkjop.core.errors import quoted, reason
from klimainnkjop.engine.ingest import HoldsIngest, SaftIngest, parsed_into
from klimainnkjop.importers import saft
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.services.imports import PARQUET_COLUMNS

__all__ = ["PARQUET_COLUMNS", "ReadSaft", "parse_saft"]


@dataclass
class ReadSaft(HoldsIngest):
    """A parsed SAF-T file: `lines` lines in table `lines` of `ingest` (with `line_key`)."""

    file_name: str
    company_orgnr: str
    company_name: str
    version: str
    lines: int
    ingest: SaftIngest
    total_debit_ore: int | None
    total_credit_ore: int | None
    warnings: list[str] = field(default_factory=list)
    validation_seconds: float = 0.0

    def parsed_lines(self) -> list[dict]:
        """The lines in file order as dicts of importers.saft.SaftLine's fields that the import stores (tests)."""
        cursor = self.ingest.con.execute(
            "SELECT row_no, posting_date, voucher AS transaction_id, line_id AS record_id, account, art, "
            "supplier_orgnr, supplier_name, amount_ore, vat_ore, description, invoice_no, line_key AS key "
            "FROM lines ORDER BY row_no, pos")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def parse_saft(data: bytes, file_name: str) -> ReadSaft:
    """Validate the whole file; ImportRejected with every error, as importers.saft.parse_saft."""
    columns = saft.read_columns(data, file_name)
    return parsed_into(SaftIngest(), _parse, columns)


def _parse(ingest: SaftIngest, columns: saft.SaftColumns) -> ReadSaft:
    file_name = columns.file_name
    ingest.load_saft(columns.transactions, columns.lines, columns.amounts, columns.suppliers)
    # the importer's readings of what the SQL does not read, once per distinct text (a handful in a sound file)
    odd_dates = ingest.odd_dates()
    dates = pa.table({"text": pa.array(odd_dates, pa.string()),
                      "date": pa.array([saft.date_reading(t) for t in odd_dates], pa.date32())})
    odd_amounts = ingest.odd_amounts()
    readings = [saft.amount_reading(t) for t in odd_amounts]
    amounts = pa.table({"text": pa.array(odd_amounts, pa.string()),
                        "ore": pa.array([o for o, _ in readings], pa.int64()),
                        "message": pa.array([m for _, m in readings], pa.string())})
    accounts = ingest.accounts()
    arts = pa.table({"account": pa.array(accounts, pa.string()),
                     "art": pa.array([saft.art_for_account(a) for a in accounts], pa.string())})
    errors = []
    for kind, row, text in ingest.check_saft(dates, amounts, arts):
        if kind == "date":
            why = reason("not a date: %(value)s", value=quoted(text))
            errors.append(RowError(file_name, row, "GLPostingDate", why))
        else:
            errors.append(RowError(file_name, row, kind, text))
    if errors:
        raise ImportRejected(errors)
    count, keys = ingest.saft_lines()
    if keys != count:
        raise ImportRejected([saft.not_unique(file_name)])
    total_debit, total_credit = columns.totals()
    columns.root = None  # the tree is no longer needed while the lines wait for the commit
    return ReadSaft(file_name=file_name, company_orgnr=columns.company_orgnr, company_name=columns.company_name,
                    version=columns.version, lines=count, ingest=ingest, total_debit_ore=total_debit,
                    total_credit_ore=total_credit, warnings=columns.warnings,
                    validation_seconds=columns.validation_seconds)


