"""The hand-written DuckDB baseline: the engine's method per line as plain SQL, independent of its code.

It reads the shipped reference CSVs itself (its own small reader for the factor-set template, its own
unit table instead of pint, its own recursive walk up the category tree) and spells the KOSTRA
exclusion rules out as a CASE, so a matching total also cross-checks the engine's classification and
factor choice, not just its speed.

Method per line, best first (method v2's ranks, engine/pipeline.FACTOR_RANKS): activity (quantity converted to
the factor's unit × factor) > the supplier's company-wide intensity (spend moved to the factor's price year and
currency × factor) > spend (nearest category
ancestor with a factor, the chosen set before the fallback set). The choices are made with window
functions once per key — (supplier, year), (category, year, unit), (category, year) — and then joined
to the lines, rather than per line.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import pyarrow as pa

DATA = Path(__file__).resolve().parent.parent / "klimainnkjop" / "data"
FIRST_YEAR = 2000   # the engine expands factor validity over 2000 .. today + 1

# which shipped sets play which part (what services.compute.engine_inputs chooses for a fresh install)
SPEND_SETS = {"dfo-klimaintensiteter.csv": 1, "epa-useeio-nok.csv": 2}          # file -> tier
ACTIVITY_SETS = ["dfo-klimaintensiteter.csv", "poore-nemecek-2018-food.csv",     # priority = position
                 "nve-electricity-location.csv", "desnz-2025-activity.csv"]
DEFAULT_RANGE = {1: 0.2, 2: 0.2, 3: 0.3, 4: 0.5, 5: 0.7}   # docs/factor-set-template.md: ± by quality

AGGREGATE_KEYS = ("org, year, month, unit, category, supplier_orgnr, art, investment, source, exclusion, covered, "
                  "method, quality, intra_region")

# line unit -> (dimension, size in the dimension's base unit); written out by hand, not taken from pint
UNITS = [("kg", "mass", 1.0), ("g", "mass", 0.001), ("tonne", "mass", 1000.0),
         ("litre", "volume", 1.0), ("m3", "volume", 1000.0),
         ("kWh", "energy", 3.6e6), ("MWh", "energy", 3.6e9), ("GJ", "energy", 1e9),
         ("km", "length", 1.0), ("m2", "area", 1.0), ("tonne_km", "freight", 1.0),
         ("passenger_km", "passenger_distance", 1.0), ("night", "night", 1.0), ("piece", "piece", 1.0)]

SUPPLIER_COLUMNS = ["supplier_orgnr", "value", "low", "high", "price_year", "currency", "quality", "priority",
                    "valid_from", "valid_to"]


def _csv_rows(path: Path) -> list[dict]:
    # Python's csv module, like services.reference: a few source notes hold an unquoted ';'
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";"))


def _text_table(rows: list[dict], columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) or "" for r in rows], pa.string()) for c in columns})


def factor_rows() -> list[dict]:
    """Every factor of the sets in SPEND_SETS/ACTIVITY_SETS, with the template's defaults applied."""
    out = []
    for file in sorted(set(SPEND_SETS) | set(ACTIVITY_SETS)):
        text = (DATA / "factor_sets" / file).read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        for r in csv.DictReader(io.StringIO(body), delimiter=";"):
            value = float(r["value"])
            quality = int(r["quality"]) if r.get("quality") else (4 if r["basis"] == "spend" else 3)
            spread = DEFAULT_RANGE[quality]
            out.append({
                "file": file, "category": r["key"], "basis": r["basis"], "unit": r["unit"], "value": value,
                "low": float(r["low"]) if r.get("low") else value * (1 - spread),
                "high": float(r["high"]) if r.get("high") else value * (1 + spread),
                "price_year": int(r["price_year"]) if r.get("price_year") else None, "quality": quality,
                "valid_from": int(r["valid_from"]) if r.get("valid_from") else 1900,
                "valid_to": int(r["valid_to"]) if r.get("valid_to") else 9999,
                "tier": SPEND_SETS.get(file) if r["basis"] == "spend" else None,
                "priority": ACTIVITY_SETS.index(file) if r["basis"] == "activity" and file in ACTIVITY_SETS else None,
            })
    return out


def connect(supplier_factors: list[dict] | None = None, members: list[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the reference data registered as ref_* tables."""
    con = duckdb.connect()
    con.register("ref_known", _text_table(_csv_rows(DATA / "kostra_arts.csv"), ["art"]))
    con.register("ref_art_cat", _text_table(_csv_rows(DATA / "art_categories.csv"), ["art", "category"]))
    tree = _csv_rows(DATA / "categories.csv") + _csv_rows(DATA / "mappings" / "categories_proposed.csv")
    con.register("ref_tree", _text_table(tree, ["code", "parent"]))
    con.register("ref_cpi", _text_table(_csv_rows(DATA / "price_index.csv"), ["year", "value"]))
    con.register("ref_fx", _text_table(_csv_rows(DATA / "exchange_rates.csv"), ["year", "currency", "nok_per_unit"]))
    con.register("ref_factors", pa.Table.from_pylist(factor_rows(), schema=pa.schema([
        ("file", pa.string()), ("category", pa.string()), ("basis", pa.string()), ("unit", pa.string()),
        ("value", pa.float64()), ("low", pa.float64()), ("high", pa.float64()), ("price_year", pa.int32()),
        ("quality", pa.int32()), ("valid_from", pa.int32()), ("valid_to", pa.int32()), ("tier", pa.int32()),
        ("priority", pa.int32())])))
    con.register("ref_units", pa.table({"unit": [u[0] for u in UNITS], "dim": [u[1] for u in UNITS],
                                        "size": pa.array([u[2] for u in UNITS], pa.float64())}))
    con.register("ref_supplier", pa.Table.from_pylist(supplier_factors or [], schema=pa.schema([
        ("supplier_orgnr", pa.string()), ("value", pa.float64()), ("low", pa.float64()), ("high", pa.float64()),
        ("price_year", pa.int32()), ("currency", pa.string()), ("quality", pa.int32()), ("priority", pa.int32()),
        ("valid_from", pa.int32()), ("valid_to", pa.int32())])))
    con.register("ref_members", pa.table({"orgnr": pa.array(sorted(set(members or [])), pa.string())}))
    return con


def line_results_sql(lines_glob: str | list[str]) -> str:
    """One SELECT producing the engine's line-result columns from the raw Parquet line files."""
    if isinstance(lines_glob, list):
        files = "[" + ", ".join(f"'{p}'" for p in lines_glob) + "]"
    else:
        files = f"'{lines_glob}'"
    last_year = dt.date.today().year + 1
    return f"""
WITH RECURSIVE
lines AS (SELECT * FROM read_parquet({files}, union_by_name = true)),
years AS (SELECT range::INTEGER AS year FROM range({FIRST_YEAR}, {last_year + 1})),
cpi AS (SELECT year::INTEGER AS year, value::DOUBLE AS cpi FROM ref_cpi),
fx AS (SELECT year::INTEGER AS year, currency, nok_per_unit::DOUBLE AS nok FROM ref_fx
       UNION ALL SELECT year, 'NOK', 1.0 FROM years),
-- the category tree walked upwards: (category, ancestor, depth), depth 0 = itself
up(category, ancestor, depth) AS (
    SELECT code, code, 0 FROM ref_tree
    UNION ALL
    SELECT u.category, t.parent, u.depth + 1 FROM up u JOIN ref_tree t ON t.code = u.ancestor
    WHERE t.parent <> '' AND u.depth < 50),
-- spend: per (category, year) the nearest ancestor's factor, tier 1 before tier 2
spend_choice AS (
    SELECT category, year, value, low, high, price_year, currency, quality FROM (
        SELECT u.category, y.year, f.value, f.low, f.high, f.price_year, f.unit AS currency, f.quality,
               row_number() OVER (PARTITION BY u.category, y.year ORDER BY u.depth, f.tier) AS pick
        FROM up u JOIN ref_factors f ON f.category = u.ancestor AND f.basis = 'spend' AND f.tier IS NOT NULL
        JOIN years y ON y.year BETWEEN f.valid_from AND f.valid_to)
    WHERE pick = 1),
-- activity: per (category, year, line unit) the nearest ancestor's factor in a unit of the same dimension
activity_choice AS (
    SELECT category, year, line_unit, multiplier, value, low, high, quality FROM (
        SELECT u.category, y.year, lu.unit AS line_unit, lu.size / fu.size AS multiplier,
               f.value, f.low, f.high, f.quality,
               row_number() OVER (PARTITION BY u.category, y.year, lu.unit
                                  ORDER BY u.depth, f.quality, f.priority) AS pick
        FROM up u JOIN ref_factors f ON f.category = u.ancestor AND f.basis = 'activity' AND f.priority IS NOT NULL
        JOIN ref_units fu ON fu.unit = f.unit
        JOIN ref_units lu ON lu.dim = fu.dim
        JOIN years y ON y.year BETWEEN f.valid_from AND f.valid_to)
    WHERE pick = 1),
-- supplier-specific: per (supplier, year) the best quality, then the lowest priority number
supplier_choice AS (
    SELECT supplier_orgnr, year, value, low, high, price_year, currency, quality FROM (
        SELECT s.supplier_orgnr, y.year, s.value, s.low, s.high, s.price_year, s.currency, s.quality,
               row_number() OVER (PARTITION BY s.supplier_orgnr, y.year ORDER BY s.quality, s.priority) AS pick
        FROM ref_supplier s JOIN years y ON y.year BETWEEN s.valid_from AND s.valid_to)
    WHERE pick = 1),
ledger_years AS (SELECT DISTINCT org, year FROM lines WHERE source <> 'kostra'),
kept AS (
    SELECT l.* FROM lines l
    WHERE l.source <> 'kostra'
       OR NOT EXISTS (SELECT 1 FROM ledger_years g WHERE g.org = l.org AND g.year = l.year)),
classified AS (
    SELECT k.*,
      CASE
        WHEN kn.art IS NULL OR NOT regexp_full_match(k.art, '[0-9]+') THEN 'unknown_art'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 10 AND 99 THEN 'wages'
        WHEN TRY_CAST(k.art AS INTEGER) = 165 THEN 'wages'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 280 AND 285 THEN 'asset_transfer'
        WHEN TRY_CAST(k.art AS INTEGER) = 290 THEN 'internal'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 380 AND 399 THEN 'internal'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 400 AND 499 THEN 'transfer'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 500 AND 599 THEN 'financial'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 600 AND 999 THEN 'income'
        WHEN TRY_CAST(k.art AS INTEGER) BETWEEN 100 AND 379 THEN ''
        ELSE 'unknown_art'
      END AS exclusion
    FROM kept k LEFT JOIN ref_known kn ON kn.art = k.art),
joined AS (
    SELECT c.*, ac.category AS category_,
           sp.value AS s_value, sp.low AS s_low, sp.high AS s_high, sp.quality AS s_quality,
           scpi.cpi AS s_cpi, sfx.nok AS s_fx,
           av.value AS a_value, av.low AS a_low, av.high AS a_high, av.quality AS a_quality,
           c.quantity * av.multiplier AS a_quantity,
           su.value AS u_value, su.low AS u_low, su.high AS u_high, su.quality AS u_quality,
           ucpi.cpi AS u_cpi, ufx.nok AS u_fx,
           lcpi.cpi AS cpi_line, m.orgnr AS member
    FROM classified c
    LEFT JOIN ref_art_cat ac ON ac.art = c.art AND c.exclusion = ''
    LEFT JOIN spend_choice sp ON sp.category = ac.category AND sp.year = c.year
    LEFT JOIN cpi scpi ON scpi.year = sp.price_year
    LEFT JOIN fx sfx ON sfx.year = sp.price_year AND sfx.currency = sp.currency
    LEFT JOIN activity_choice av ON av.category = ac.category AND av.year = c.year
                                AND av.line_unit = c.quantity_unit AND c.quantity IS NOT NULL
    LEFT JOIN supplier_choice su ON su.supplier_orgnr = c.supplier_orgnr AND su.year = c.year
    LEFT JOIN cpi ucpi ON ucpi.year = su.price_year
    LEFT JOIN fx ufx ON ufx.year = su.price_year AND ufx.currency = su.currency
    LEFT JOIN cpi lcpi ON lcpi.year = c.year
    LEFT JOIN ref_members m ON m.orgnr = c.supplier_orgnr),
decided AS (
    SELECT *,
      CASE
        WHEN exclusion <> '' THEN NULL
        WHEN a_value IS NOT NULL THEN 'activity'
        WHEN u_value IS NOT NULL AND cpi_line IS NOT NULL AND u_cpi IS NOT NULL AND u_fx IS NOT NULL THEN 'supplier'
        WHEN s_value IS NOT NULL AND cpi_line IS NOT NULL AND s_cpi IS NOT NULL AND s_fx IS NOT NULL THEN 'spend'
      END AS method_,
      amount_ore::DOUBLE / 100.0 / cpi_line AS nok_per_cpi
    FROM joined),
ranged AS (
    SELECT *,
      CASE method_ WHEN 'supplier' THEN nok_per_cpi * u_cpi / u_fx * u_low
                   WHEN 'activity' THEN a_quantity * a_low
                   WHEN 'spend' THEN nok_per_cpi * s_cpi / s_fx * s_low ELSE 0.0 END AS by_low,
      CASE method_ WHEN 'supplier' THEN nok_per_cpi * u_cpi / u_fx * u_high
                   WHEN 'activity' THEN a_quantity * a_high
                   WHEN 'spend' THEN nok_per_cpi * s_cpi / s_fx * s_high ELSE 0.0 END AS by_high
    FROM decided)
SELECT line_key, org, batch, source, year, month, unit, art, category_ AS category, supplier_orgnr, investment,
       exclusion, amount_ore, quantity, quantity_unit, method_ AS method,
       (CASE method_ WHEN 'supplier' THEN u_quality WHEN 'activity' THEN a_quality WHEN 'spend' THEN s_quality
        END)::INTEGER AS quality,
       method_ IS NOT NULL AS covered,
       CASE method_ WHEN 'supplier' THEN nok_per_cpi * u_cpi / u_fx * u_value
                    WHEN 'activity' THEN a_quantity * a_value
                    WHEN 'spend' THEN nok_per_cpi * s_cpi / s_fx * s_value ELSE 0.0 END AS kg_co2e,
       least(by_low, by_high) AS kg_low, greatest(by_low, by_high) AS kg_high,  -- a credit turns them round
       coalesce(member IS NOT NULL AND supplier_orgnr <> org, false) AS intra_region
FROM ranged
"""


def run(lines_glob: str | list[str], out_dir: Path, supplier_factors: list[dict] | None = None,
        members: list[str] | None = None) -> dict:
    """Line results and aggregates to Parquet, then the same summary the check compares."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines_out, agg_out = out_dir / "lines.parquet", out_dir / "aggregates.parquet"
    con = connect(supplier_factors, members)
    con.execute(f"COPY ({line_results_sql(lines_glob)}) TO '{lines_out}' (FORMAT parquet)")
    con.execute(f"""COPY (SELECT {AGGREGATE_KEYS}, sum(amount_ore) AS spend_ore, sum(kg_co2e) AS kg_co2e,
                                 sum(kg_low) AS kg_low, sum(kg_high) AS kg_high, count(*) AS lines
                          FROM read_parquet('{lines_out}') GROUP BY {AGGREGATE_KEYS})
                    TO '{agg_out}' (FORMAT parquet)""")
    summary = summarise(con, lines_out, agg_out)
    con.close()
    return summary


def sql_files(files) -> str:
    """read_parquet's argument for a path or a list of paths (a run's results are lists of files)."""
    return "[" + ", ".join(f"'{f}'" for f in files) + "]" if isinstance(files, list) else f"'{files}'"


def summarise(con: duckdb.DuckDBPyConnection, lines_file: Path | list, agg_file: Path | list | None = None) -> dict:
    """Totals of line results (engine's files or baseline's file): what the benchmark check compares."""
    row = con.execute(f"""SELECT count(*), count(*) FILTER (WHERE exclusion = ''),
                                 coalesce(sum(amount_ore) FILTER (WHERE exclusion = ''), 0),
                                 coalesce(sum(kg_co2e), 0), coalesce(sum(kg_low), 0), coalesce(sum(kg_high), 0),
                                 count(*) FILTER (WHERE intra_region), count(*) FILTER (WHERE covered)
                          FROM read_parquet({sql_files(lines_file)})""").fetchone()
    methods = con.execute(f"""SELECT coalesce(method, 'none'), count(*), coalesce(sum(kg_co2e), 0)
                              FROM read_parquet({sql_files(lines_file)}) GROUP BY ALL ORDER BY ALL""").fetchall()
    out = {"lines_in": int(row[0]), "lines_purchase": int(row[1]), "spend_ore": int(row[2]),
           "kg_co2e": float(row[3]), "kg_low": float(row[4]), "kg_high": float(row[5]),
           "lines_intra_region": int(row[6]), "lines_covered": int(row[7]),
           "methods": {m: {"lines": int(n), "kg": float(kg)} for m, n, kg in methods}}
    if agg_file is not None:
        out["aggregate_rows"] = int(
            con.execute(f"SELECT count(*) FROM read_parquet({sql_files(agg_file)})").fetchone()[0])
    return out
