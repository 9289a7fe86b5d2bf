"""The hand-written DuckDB baseline: Method v1 as plain SQL, independent of the engine's code.

It reads the shipped reference CSVs itself and spells the KOSTRA exclusion rules out as a CASE, so a
matching total also cross-checks the engine's classification, not just its speed.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

DATA = Path(__file__).resolve().parent.parent / "klimainnkjop" / "data"
FACTOR_SET_REF = "provisional-dfo:2026.1"   # name:version as services.reference.PROVISIONAL
VALID_FROM = 1900                           # the factor CSV has no validity: Factor.valid_from_year default

AGGREGATE_KEYS = "org, year, month, unit, category, supplier_orgnr, art, investment, source, exclusion, covered"


def _csv_table(name: str, columns: list[str]) -> pa.Table:
    # Python's csv module, like services.reference: a few source notes hold an unquoted ';'
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the reference CSVs registered as ref_* tables (all text)."""
    con = duckdb.connect()
    for name, file, columns in [
        ("ref_known", "kostra_arts.csv", ["art"]),
        ("ref_art_cat", "art_categories.csv", ["art", "category"]),
        ("ref_factors", "factors_provisional.csv", ["category", "value", "currency", "price_year"]),
        ("ref_cpi", "price_index.csv", ["year", "value"]),
        ("ref_fx", "exchange_rates.csv", ["year", "currency", "nok_per_unit"]),
    ]:
        con.register(name, _csv_table(file, columns))
    return con


def line_results_sql(lines_glob: str | list[str]) -> str:
    """One SELECT producing the engine's line-result columns from the raw Parquet line files."""
    if isinstance(lines_glob, list):
        files = "[" + ", ".join(f"'{p}'" for p in lines_glob) + "]"
    else:
        files = f"'{lines_glob}'"
    last_year = dt.date.today().year + 1      # the engine expands factor validity over 2000..today+1
    return f"""
WITH lines AS (SELECT * FROM read_parquet({files})),
known AS (SELECT art FROM ref_known),
art_cat AS (SELECT art, category FROM ref_art_cat),
factor_years AS (
    SELECT f.category, y.range::INTEGER AS year, f.value::DOUBLE AS factor_value, f.price_year::INTEGER AS price_year,
           f.currency AS factor_currency, '{FACTOR_SET_REF}:' || f.category || ':{VALID_FROM}' AS factor_ref
    FROM ref_factors f CROSS JOIN range(2000, {last_year + 1}) y),
cpi AS (SELECT year::INTEGER AS year, value::DOUBLE AS cpi FROM ref_cpi),
fx AS (SELECT year::INTEGER AS year, currency, nok_per_unit::DOUBLE AS nok FROM ref_fx
       UNION ALL SELECT range::INTEGER, 'NOK', 1.0 FROM range(2000, {last_year + 1})),
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
    FROM kept k LEFT JOIN known kn ON kn.art = k.art),
joined AS (
    SELECT c.*, CASE WHEN c.exclusion = '' THEN ac.category END AS category_,
           f.factor_value, f.price_year, f.factor_currency, f.factor_ref,
           cl.cpi AS cpi_line, cf.cpi AS cpi_factor, x.nok AS fx_nok
    FROM classified c
    LEFT JOIN art_cat ac ON ac.art = c.art AND c.exclusion = ''
    LEFT JOIN factor_years f ON f.category = ac.category AND f.year = c.year AND c.exclusion = ''
    LEFT JOIN cpi cl ON cl.year = c.year
    LEFT JOIN cpi cf ON cf.year = f.price_year
    LEFT JOIN fx x ON x.year = f.price_year AND x.currency = f.factor_currency),
final AS (
    SELECT *, (exclusion = '' AND factor_value IS NOT NULL AND cpi_line IS NOT NULL AND cpi_factor IS NOT NULL
               AND fx_nok IS NOT NULL) AS covered_
    FROM joined)
SELECT line_key, org, batch, source, year, month, unit, art, category_ AS category, supplier_orgnr, investment,
       exclusion, amount_ore, factor_ref, factor_value, price_year,
       CASE WHEN covered_ THEN cpi_factor / cpi_line END AS deflator,
       covered_ AS covered,
       CASE WHEN covered_ THEN (amount_ore::DOUBLE / 100.0) * (cpi_factor / cpi_line) / fx_nok * factor_value
            ELSE 0.0 END AS kg_co2e
FROM final
"""


def run(lines_glob: str | list[str], out_dir: Path) -> dict:
    """Line results and aggregates to Parquet, then the same summary the engine returns."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines_out, agg_out = out_dir / "lines.parquet", out_dir / "aggregates.parquet"
    con = connect()
    con.execute(f"COPY ({line_results_sql(lines_glob)}) TO '{lines_out}' (FORMAT parquet)")
    con.execute(f"""COPY (SELECT {AGGREGATE_KEYS}, sum(amount_ore) AS spend_ore, sum(kg_co2e) AS kg_co2e,
                                 count(*) AS lines
                          FROM read_parquet('{lines_out}') GROUP BY {AGGREGATE_KEYS})
                    TO '{agg_out}' (FORMAT parquet)""")
    summary = summarise(con, lines_out)
    con.close()
    return summary


def summarise(con: duckdb.DuckDBPyConnection, lines_file: Path) -> dict:
    row = con.execute(f"""SELECT count(*), count(*) FILTER (WHERE exclusion = ''),
                                 coalesce(sum(amount_ore) FILTER (WHERE exclusion = ''), 0), coalesce(sum(kg_co2e), 0)
                          FROM read_parquet('{lines_file}')""").fetchone()
    return {"lines_in": int(row[0]), "lines_purchase": int(row[1]), "spend_ore": int(row[2]), "kg_co2e": float(row[3])}
