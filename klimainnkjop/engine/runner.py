"""Feeds the pipeline from the line store and reference tables, runs it, and writes the results.

The only module that knows which backend runs the expressions (DuckDB here; a Spark session later).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import ibis
import pyarrow as pa

from klimainnkjop.core import kostra
from klimainnkjop.engine import pipeline


@dataclass
class EngineInputs:
    line_files: list[Path]
    art_classes: pa.Table
    factors: pa.Table
    prices: pa.Table
    rates: pa.Table


@dataclass
class RunTotals:
    lines_in: int
    lines_purchase: int
    spend_ore: int
    kg_co2e: float


def art_class_table(art_categories: dict[str, str], known_arts: frozenset[str] | None = None) -> pa.Table:
    arts = [f"{i:03d}" for i in range(1000)]
    exclusions = [kostra.exclusion_reason(a, known_arts) or "" for a in arts]
    categories = [art_categories.get(a) if e == "" else None for a, e in zip(arts, exclusions)]
    return pa.table({"art": arts, "exclusion": exclusions, "category": pa.array(categories, pa.string())})


def factor_year_table(factors: list[dict], years: range) -> pa.Table:
    """Expand validity intervals [valid_from_year, valid_to_year] to explicit year keys."""
    rows: dict[str, list] = {k: [] for k in ("category", "year", "factor_value", "price_year", "factor_currency",
                                             "factor_ref")}
    for f in factors:
        for year in years:
            if f["valid_from_year"] <= year <= f["valid_to_year"]:
                rows["category"].append(f["category"])
                rows["year"].append(year)
                rows["factor_value"].append(float(f["value"]))
                rows["price_year"].append(int(f["price_year"]))
                rows["factor_currency"].append(f["currency"])
                rows["factor_ref"].append(f["ref"])
    return pa.table(rows, schema=pa.schema([("category", pa.string()), ("year", pa.int32()),
                                            ("factor_value", pa.float64()), ("price_year", pa.int32()),
                                            ("factor_currency", pa.string()), ("factor_ref", pa.string())]))


def connect() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def run(inputs: EngineInputs, out_dir: Path) -> RunTotals:
    """Compute line results and aggregates into out_dir (written to a temporary folder, then renamed)."""
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    con = connect()
    if inputs.line_files:
        lines = con.read_parquet([str(p) for p in inputs.line_files])
    else:
        from klimainnkjop.storage.linestore import LINE_SCHEMA
        lines = ibis.memtable(LINE_SCHEMA.empty_table())
    results = pipeline.line_results(
        lines, ibis.memtable(inputs.art_classes), ibis.memtable(inputs.factors), ibis.memtable(inputs.prices),
        ibis.memtable(inputs.rates))
    con.to_parquet(results, str(tmp / "lines.parquet"))
    stored = con.read_parquet(str(tmp / "lines.parquet"))
    con.to_parquet(pipeline.aggregates(stored), str(tmp / "aggregates.parquet"))
    summary = stored.aggregate(
        lines_in=stored.count(),
        lines_purchase=(stored.exclusion == "").sum(),
        spend_ore=ibis.ifelse(stored.exclusion == "", stored.amount_ore, 0).sum(),
        kg=stored.kg_co2e.sum(),
    ).to_pyarrow().to_pylist()[0]
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return RunTotals(int(summary["lines_in"] or 0), int(summary["lines_purchase"] or 0),
                     int(summary["spend_ore"] or 0), float(summary["kg"] or 0.0))
