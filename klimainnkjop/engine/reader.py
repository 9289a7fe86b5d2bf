"""Plain reads of the line store's Parquet files with DuckDB: the engine is the only package that opens DuckDB.

Callers (services) choose the files; values reach SQL only as parameters or through DuckDB's relation API.
"""
from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import ibis

from klimainnkjop.engine import runner

# The ledger side of an invoice: its cost lines. A ledger import's lines are taken as they are; of a SAF-T
# file's balanced transaction (cost, creditor, VAT) only the cost lines: a KOSTRA art, or an NS 4102
# profit-and-loss account (3000-8999).
COST_LINE = "(source = 'ledger' OR art <> '' OR regexp_matches(account, '^[3-8][0-9]{3}$'))"

_local = threading.local()


def result_table(path: Path) -> ibis.Table:
    """A result file as an ibis table on this thread's connection of the engine's backend (result files never
    change, so a thread keeps the tables it has opened, up to 64)."""
    if not hasattr(_local, "con"):
        _local.con, _local.tables = runner.connect(), {}
    key = str(path)
    if key not in _local.tables:
        if len(_local.tables) > 64:  # old runs: forget them
            for name in list(_local.tables)[:32]:
                _local.tables.pop(name)
        _local.tables[key] = _local.con.read_parquet(key)
    return _local.tables[key]


def line_texts(files: list[str]) -> list[tuple]:
    """(org, line_key, batch, description, item_name) of every line of the files (None where a file has no
    such column)."""
    if not files:
        return []
    con = duckdb.connect()
    try:
        relation = con.read_parquet(files, union_by_name=True)
        columns = set(relation.columns)
        description = "description" if "description" in columns else "NULL"
        item_name = "item_name" if "item_name" in columns else "NULL"
        return relation.select(f"org, line_key, batch, {description}, {item_name}").fetchall()
    finally:
        con.close()


def invoices_and_ledger(files: list[str]) -> tuple[list[tuple], list[tuple]]:
    """Invoices (EHF lines summed per supplier + invoice number) each with the ledger cost lines of the same
    supplier and number summed, and the ledger's (ledger, saft) cost lines summed per supplier + number.

    Invoice rows: (supplier_orgnr, invoice_no, document_type, supplier_name, issue_date, amount_ore, lines,
    ledger posting_date, ledger amount_ore, ledger lines, ledger line_keys, ledger sources, found).
    Ledger rows: (supplier_orgnr, supplier_name, invoice_no, posting_date, amount_ore, lines, sources)."""
    if not files:
        return [], []
    con = duckdb.connect()
    try:
        con.read_parquet(files, union_by_name=True).create_view("lines")
        columns = {r[0] for r in con.execute("DESCRIBE lines").fetchall()}
        doc_type = "document_type" if "document_type" in columns else "'invoice'"
        invoices = con.execute(f"""
        WITH inv AS (
            SELECT supplier_orgnr, invoice_no, {doc_type} AS document_type, any_value(supplier_name) AS supplier_name,
                   min(posting_date) AS issue_date, sum(amount_ore) AS amount_ore, count(*) AS lines,
                   string_agg(DISTINCT batch, ',') AS batches
            FROM lines WHERE source = 'ehf' GROUP BY ALL
        ), led AS (
            SELECT supplier_orgnr, invoice_no, any_value(supplier_name) AS supplier_name,
                   min(posting_date) AS posting_date, sum(amount_ore) AS amount_ore, count(*) AS lines,
                   list(line_key ORDER BY line_key) AS line_keys, string_agg(DISTINCT source, ',') AS sources
            FROM lines WHERE source IN ('ledger', 'saft') AND invoice_no <> '' AND supplier_orgnr <> ''
              AND amount_ore <> 0 AND {COST_LINE}
            GROUP BY supplier_orgnr, invoice_no
        )
        SELECT inv.supplier_orgnr, inv.invoice_no, inv.document_type, inv.supplier_name, inv.issue_date,
               inv.amount_ore, inv.lines, led.posting_date, led.amount_ore, led.lines, led.line_keys, led.sources,
               led.supplier_orgnr IS NOT NULL AS found
        FROM inv LEFT JOIN led ON inv.supplier_orgnr = led.supplier_orgnr AND inv.supplier_orgnr <> ''
                              AND inv.invoice_no = led.invoice_no
        ORDER BY inv.issue_date, inv.supplier_orgnr, inv.invoice_no
        """).fetchall()
        ledger = con.execute(f"""
            SELECT supplier_orgnr, any_value(supplier_name), invoice_no, min(posting_date), sum(amount_ore), count(*),
                   string_agg(DISTINCT source, ',')
            FROM lines WHERE source IN ('ledger', 'saft') AND invoice_no <> '' AND amount_ore <> 0 AND {COST_LINE}
            GROUP BY supplier_orgnr, invoice_no ORDER BY 4, 1, 3""").fetchall()
    finally:
        con.close()
    return invoices, ledger


def batch_years(files: list[str]) -> list[tuple[str, str, int, int]]:
    """(batch, source, year, lines) of the files' lines: which years each import batch holds."""
    if not files:
        return []
    con = duckdb.connect()
    try:
        relation = con.read_parquet(files, union_by_name=True)
        return relation.aggregate("batch, source, year, count(*)", "batch, source, year") \
            .order("batch, source, year").fetchall()
    finally:
        con.close()
