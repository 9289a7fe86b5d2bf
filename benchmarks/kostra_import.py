"""KOSTRA import throughput (issue 20 item 1, "the same for KOSTRA"): the product's vectorised read against DuckDB
reading the same file's fixed-width fields, and against the Python code the import ran before, in the same run;
CPU seconds beside wall time.

    .venv/bin/python benchmarks/kostra_import.py                   # 1,000,000 records (a national year is ~1.5M)
    .venv/bin/python benchmarks/kostra_import.py --records 200000

Cases (one process, after one warm-up of DuckDB):
- baseline: DuckDB reads the file as lines and cuts the ten fixed-width fields into a table of text columns; and
  DuckDB doing the import's own work in one plain SQL (cut, filter, key hash with the repetition number, COPY to
  Parquet; no validation, no anti-join);
- product: `services.kostra_ingest.parse_kostra` (decode, SQL checks and parse, the importer's code for odd rows,
  region renumbering) plus what the import does next outside the database transaction: the keys, the anti-join
  with an earlier batch (10 % of the records) and one COPY to Parquet;
- before: `importers.kostra.parse_kostra` (record by record in Python) plus the service's loop of before this work
  (key by sha256 per record, a Python set of the stored keys, a dict of columns written with pyarrow).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")

from timing import measure, report, work_folder  # noqa: E402 - benchmarks/timing.py, beside this script

REGIONS = ["030100", "340100", "341700", "342000", "460100", "500100", "110300", "420400"]


def generate(path: Path, records: int, seed: int = 20) -> None:
    """Records as SSB's layout has them: operating and investment forms, a few balance ones, CRLF, latin-1."""
    rng = np.random.default_rng(seed)
    chunk = 100_000
    forms = np.array(["0A", "0A", "0A", "0C", "0I", "0K", "0M", "0B", "0D"])
    with open(path, "w", encoding="latin-1", newline="") as out:
        for start in range(0, records, chunk):
            n = min(chunk, records - start)
            form = forms[rng.integers(0, len(forms), n)]
            klasse = np.where(rng.random(n) < 0.2, "0", "1")
            klasse = np.where(np.isin(form, ["0B", "0D"]), "2", klasse)
            region = np.array(REGIONS)[rng.integers(0, len(REGIONS), n)]
            function = rng.integers(100, 900, n)
            art = rng.integers(10, 990, n)
            amount = rng.integers(-5000, 200000, n)
            year = rng.integers(2019, 2025, n)
            out.write("".join(
                f"{form[i]}{year[i]} {region[i]}{' ' * 9}{' ' * 9}{klasse[i]}{function[i]:04d}{art[i]:03d}"
                f"{amount[i]:>9}\r\n" for i in range(n)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--tmp", type=Path)
    args = parser.parse_args(argv)

    tmp = work_folder(args.tmp, "bench-kostra-")
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from klimainnkjop.importers import kostra
    from klimainnkjop.services.imports import PARQUET_COLUMNS
    from klimainnkjop.services.kostra_ingest import parse_kostra
    from klimainnkjop.storage import linestore

    path = tmp / f"kostra-{args.records}.dat"
    if not path.exists():
        generate(path, args.records)
    data = path.read_bytes()
    print(f"{path}: {args.records:,} records, {len(data) / 1e6:.1f} MB", flush=True)

    con = duckdb.connect()
    con.execute("SELECT 1").fetchall()
    cuts = ", ".join(f"substr(l, {start}, {size}) AS {name}" for name, start, size in kostra.FIELDS)

    def baseline():
        con.execute(f"CREATE OR REPLACE TABLE t AS SELECT {cuts} FROM read_csv(?, columns={{'l': 'VARCHAR'}}, "
                    "header=false, delim='\\x01', quote='', escape='', auto_detect=false, encoding='latin-1')",
                    [str(path)])
        return con.execute("SELECT count(*) FROM t").fetchall()[0][0]

    def baseline_work():  # the import's own work in one plain SQL: read, cut, key hash, COPY to Parquet
        con.execute(f"""COPY (
            SELECT *, substr(sha256(basis || '|' || row_number() OVER (PARTITION BY basis ORDER BY row_no)), 1, 32)
                   AS line_key
            FROM (SELECT *, 'kostra|' || aargang || '|' || skjema || '|' || kontoklasse || '|' || funksjon || '|'
                            || art AS basis
                  FROM (SELECT row_number() OVER () AS row_no, {cuts}
                        FROM read_csv(?, columns={{'l': 'VARCHAR'}}, header=false, delim='\\x01', quote='',
                                      escape='', auto_detect=false, encoding='latin-1'))
                  WHERE skjema NOT IN ('0B', '0D', '0J', '0L', '0N', '0Q', '0G')
                    AND TRY_CAST(trim(belop) AS BIGINT) <> 0)
        ) TO '{tmp / "baseline.parquet"}' (FORMAT parquet, COMPRESSION zstd)""", [str(path)])
        return con.execute(f"SELECT count(*) FROM '{tmp / 'baseline.parquet'}'").fetchall()[0][0]

    stored = tmp / "stored.parquet"
    small = b"".join(data.splitlines(keepends=True)[: max(1, args.records // 10)])
    with parse_kostra(small, "earlier.dat") as earlier:
        earlier.ingest.kostra_lines(kostra.BALANCE_FORMS)
        earlier.ingest.drop_stored([])
        earlier.ingest.write_fresh(stored, org="999999999", batch="b", source="kostra", columns=PARQUET_COLUMNS,
                                   annual=True)

    def product():
        with parse_kostra(data, path.name) as read:
            read.ingest.kostra_lines(kostra.BALANCE_FORMS)
            duplicates = read.ingest.drop_stored([stored])
            added = read.ingest.fresh_summary()[0]
            read.ingest.write_fresh(tmp / "batch.parquet", org="999999999", batch="b", source="kostra",
                                    columns=PARQUET_COLUMNS, annual=True)
            return added, duplicates, read.reader

    def before():  # importers.kostra.parse_kostra and services.imports._import_kostra's loop before issue 20
        import datetime as dt

        parsed = kostra.parse_kostra(data, path.name)
        records = [r for r in parsed.records if not kostra.is_balance(r) and r.amount_ore != 0]
        existing_keys = set(pq.read_table(stored, columns=["line_key"]).column(0).to_pylist())
        columns: dict[str, list] = {f.name: [] for f in linestore.LINE_SCHEMA}
        duplicates = 0
        seen: dict[str, int] = {}
        for r in records:
            basis = f"kostra|{r.year}|{r.skjema}|{int(r.investment)}|{r.function}|{r.art}"
            seen[basis] = seen.get(basis, 0) + 1
            key = linestore.sha256_bytes(f"{basis}|{seen[basis]}".encode())[:32]
            if key in existing_keys:
                duplicates += 1
                continue
            values = {
                "line_key": key, "org": "999999999", "source": "kostra", "row_no": r.row_no,
                "posting_date": dt.date(r.year, 12, 31), "year": r.year, "month": 0, "account": "", "art": r.art,
                "function": r.function, "unit": "", "project": "", "supplier_orgnr": "", "supplier_name": "",
                "amount_ore": r.amount_ore, "vat_ore": 0, "currency": "NOK", "amount_orig_minor": r.amount_ore,
                "description": f"KOSTRA {r.skjema} {'investering' if r.investment else 'drift'}", "invoice_no": "",
                "voucher": "", "line_id": "", "investment": r.investment, "quantity": None, "quantity_unit": "",
            }
            for name, value in values.items():
                columns[name].append(value)
        columns["batch"] = ["b"] * len(columns["line_key"])
        pq.write_table(pa.table(columns, schema=linestore.LINE_SCHEMA), tmp / "before.parquet", compression="zstd")
        return len(columns["line_key"]), duplicates

    rows = []
    b_wall, b_cpu, n = measure(baseline)
    rows.append(("DuckDB reads the lines and cuts the fields (text), the baseline", n, b_wall, b_cpu))
    p_wall, p_cpu, (added, duplicates, reader) = measure(product)
    rows.append((f"product: kostra_ingest.parse_kostra + keys + anti-join + COPY (reader {reader}; {added:,} lines, "
                 f"{duplicates:,} duplicates)", args.records, p_wall, p_cpu))
    o_wall, o_cpu, (o_added, o_duplicates) = measure(before)
    rows.append((f"before: the importer's Python parse + the service's loop ({o_added:,} lines, {o_duplicates:,} "
                 "duplicates)", args.records, o_wall, o_cpu))
    b2_wall, b2_cpu, _ = measure(baseline)
    rows.append(("DuckDB baseline again", n, b2_wall, b2_cpu))
    w_wall, w_cpu, w_lines = measure(baseline_work)
    rows.append((f"DuckDB doing the import's own work in one SQL (cut, key hash, COPY; {w_lines:,} lines)",
                 args.records, w_wall, w_cpu))
    before_table = pq.read_table(tmp / "before.parquet").drop(["batch"])  # DuckDB marks its columns not null
    same = pq.read_table(tmp / "batch.parquet").drop(["batch"]).cast(before_table.schema).equals(before_table)

    report("kostra_import", rows, (min(b_wall, b2_wall), min(b_cpu, b2_cpu)),
           counted="records", against="baseline", extra={"same": same},
           summary=f"product and before wrote the same lines: {same}; "
                   f"product {o_cpu / p_cpu:.1f}x faster than before in CPU; ")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
