"""A supplier's purchase report read for import, vectorised: DuckDB reads and parses the cells
(engine.ingest.StatsIngest), the importer's own code (importers.supplier_stats.parse_row) reads the rows whose values
the SQL is not certain of, with its messages.

The result is importers.supplier_stats.parse_supplier_stats's, line for line and key for key
(tests/test_supplier_stats_ingest.py compares them); it stays in DuckDB (`ReadStats.ingest`, table `lines`) for
the import's next steps: duplicates by an anti-join with the organisation's line files, one COPY to Parquet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from klimainnkjop.core import units as core_units
from klimainnkjop.engine import ingest as engine_ingest
from klimainnkjop.engine.ingest import HoldsIngest, StatsFields, StatsIngest, parsed_into
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers.supplier_stats import (SCHEMES, StatsLine, StatsProfile, line_basis, no_rows_of_customer,
                                                  parse_row)
from klimainnkjop.services.ledgers import load_cells
from klimainnkjop.storage import linestore

_DUCKDB_TYPES = {"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "date32[day]": "DATE",
                 "bool": "BOOLEAN", "double": "DOUBLE"}
# The line store's columns of a supplier-statistics batch (linestore.INVOICE_LINE_SCHEMA) as DuckDB writes them.
STATS_PARQUET_COLUMNS = [(f.name, _DUCKDB_TYPES[str(f.type)]) for f in linestore.INVOICE_LINE_SCHEMA]


@dataclass
class ReadStats(HoldsIngest):
    """A parsed report: `lines` lines of the customer in table `lines` of `ingest` (with `line_key`)."""

    file_name: str
    rows_read: int
    rows_other_customer: int
    lines: int
    ingest: StatsIngest
    reader: str  # "duckdb" or "python": who read the cells

    def parsed_lines(self) -> list[StatsLine]:
        """The lines as the importer's StatsLine (for tests and previews), in file order."""
        cursor = self.ingest.con.execute(
            "SELECT row_no, posting_date, supplier_orgnr, supplier_name, description, seller_item_id, "
            "item_class_scheme, item_class_code, quantity, quantity_unit, unit_code, amount_ore, invoice_no, line_id, "
            "line_key FROM lines ORDER BY row_no")
        return [StatsLine(*row) for row in cursor.fetchall()]


def parse_stats(data: bytes, file_name: str, profile: StatsProfile, customer_orgnr: str) -> ReadStats:
    """Validate the whole file; ImportRejected with every error, as importers.supplier_stats.parse_supplier_stats."""
    return parsed_into(StatsIngest(), _parse, data, file_name, profile, customer_orgnr)


def unit_multipliers(texts: list[str]) -> dict[str, tuple[float, str]]:
    """core.units.normalize of each unit as written, as (multiplier, canonical unit): normalize(q, u) is
    (q * multiplier, canonical) (the multiplier 1.0 for a canonical unit, q * 1.0 being q). Units it does not know
    are left out."""
    out = {}
    for text in texts:
        normalized = core_units.normalize(1.0, text)
        if normalized is not None:
            out[text] = normalized
    return out


def _parse(ingest: StatsIngest, data: bytes, file_name: str, profile: StatsProfile,
           customer_orgnr: str) -> ReadStats:
    positions, reader = load_cells(ingest, data, file_name, profile)
    rows_read = ingest.rows_read()
    spec = StatsFields(positions=positions, date_format=profile.date_format, values=profile.values,
                       customer_orgnr=customer_orgnr, supplier_orgnr=profile.supplier_orgnr,
                       supplier_name=profile.supplier_name, item_class_scheme=profile.item_class_scheme,
                       schemes=SCHEMES)
    ingest.parse_stats(spec, unit_multipliers(ingest.unit_texts(spec)))
    errors: list[RowError] = []
    odd: list[StatsLine] = []
    others: Counter[str] = Counter()
    first_row: dict[str, int] = {}
    for row_no, cells in ingest.odd_rows():
        known = len(others)
        line = parse_row(file_name, row_no, cells, positions, profile, customer_orgnr, errors, others)
        if line is not None:
            odd.append(line)
        elif len(others) > known:
            first_row[next(reversed(others))] = row_no
    # another customer's rows: the SQL's and the importer's, counted together and ordered as the importer's Counter
    # orders them (most rows first, then the order of first appearance)
    counts: dict[str, list[int]] = {o: [n, first_row[o]] for o, n in others.items()}
    for customer, n, first in ingest.other_customers():
        seen = counts.setdefault(customer, [0, first])
        seen[0] += n
        seen[1] = min(seen[1], first)
    ranked = sorted(counts.items(), key=lambda item: (-item[1][0], item[1][1]))
    if odd:
        ingest.add_lines(_arrow(odd))
    lines = ingest.stats_lines() if not errors else 0
    if not errors and not lines and ranked:
        errors.append(no_rows_of_customer(file_name, profile.columns.get("customer_orgnr"), customer_orgnr,
                                          [(o, n) for o, (n, _) in ranked[:5]]))
    if errors:
        raise ImportRejected(errors)
    return ReadStats(file_name=file_name, rows_read=rows_read, rows_other_customer=sum(n for n, _ in counts.values()),
                     lines=lines, ingest=ingest, reader=reader)


def _arrow(lines: list[StatsLine]) -> pa.Table:
    columns: dict[str, list] = {f.name: [] for f in engine_ingest.STATS_ARROW_SCHEMA}
    for line in lines:
        for name in columns:
            columns[name].append(line_basis(line) if name == "basis" else
                                 line.date if name == "posting_date" else getattr(line, name))
    return pa.Table.from_pydict(columns, schema=engine_ingest.STATS_ARROW_SCHEMA)
