"""Plain reads of the line store's Parquet files with DuckDB: the engine is the only package that opens DuckDB.

Callers (services) choose the files; values reach SQL only as parameters or through DuckDB's relation API.
"""
from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import ibis

from klimainnkjop.engine import partitions, runner

_local = threading.local()


result_source = partitions.result_source  # the files of a run's result, for read_parquet
has_result = partitions.has_result  # whether a run's folder holds a result (either layout)


def lines_table(folder: Path, org: str | None = None) -> ibis.Table:
    """A run's line results as an ibis table: every organisation's files, or with `org` that organisation's where
    the run has any (engine.partitions.lines_source; the caller still filters by organisation)."""
    return result_table(partitions.lines_source(folder, org))


def result_table(path: Path | str | list[str]) -> ibis.Table:
    """A result file (or a list of files, each read as it is named) as an ibis table on this thread's connection
    of the engine's backend (result files never change, so a thread keeps the tables it has opened, up to 64)."""
    if not hasattr(_local, "con"):
        _local.con, _local.tables = runner.connect(), {}
    key = str(path)
    if key not in _local.tables:
        if len(_local.tables) > 64:  # old runs: forget them
            for name in list(_local.tables)[:32]:
                _local.tables.pop(name)
        # by name: the files of one result (per organisation, linked from earlier runs) may type a column
        # otherwise, and DuckDB would cast every file to the first one's types
        _local.tables[key] = partitions.read(_local.con, path)
    return _local.tables[key]


def _over_files(files: list[str], query) -> list[tuple]:
    """query(relation) fetched over the line files `files` (read by column name, as they are named) on a
    connection of its own; [] without files."""
    if not files:
        return []
    con = duckdb.connect()
    try:
        return query(partitions.read(con, files)).fetchall()
    finally:
        con.close()


def line_texts(files: list[str]) -> list[tuple]:
    """(org, line_key, batch, description, item_name) of every line of the files (None where a file has no
    such column)."""
    def texts(relation):
        description, item_name = (c if c in relation.columns else "NULL" for c in ("description", "item_name"))
        return relation.select(f"org, line_key, batch, {description}, {item_name}")
    return _over_files(files, texts)


def batch_years(files: list[str]) -> list[tuple[str, str, int, int]]:
    """(batch, source, year, lines) of the files' lines: which years each import batch holds."""
    return _over_files(files, lambda relation: relation.aggregate("batch, source, year, count(*)",
                                                                  "batch, source, year").order("batch, source, year"))
