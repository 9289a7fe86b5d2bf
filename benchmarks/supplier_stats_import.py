"""Supplier statistics import throughput (issue 20 item 1, "the same for ... supplier statistics"): the product's
vectorised read against DuckDB's read_csv of the same file, and against the Python code the import ran before, in
the same run; CPU seconds beside wall time.

    .venv/bin/python benchmarks/supplier_stats_import.py                   # 1,000,000 rows
    .venv/bin/python benchmarks/supplier_stats_import.py --rows 200000 --tmp /tmp/bs

Cases (one process, after one warm-up of DuckDB):
- baseline: `CREATE TABLE AS SELECT * FROM read_csv(file, all_varchar, delim ';')` — DuckDB reading every cell of
  the file as text;
- product: `services.suppliers.parse_stats` (layout, DuckDB read, SQL parse of periods, orgnrs, amounts,
  quantities with their units, item codes, the customer filter and the key hash; the importer's code for the rows
  the SQL is not certain of) plus what the import does next outside the database transaction: the anti-join with
  an earlier batch (10 % of the rows) and one COPY to Parquet;
- before: `importers.supplier_stats.parse_supplier_stats` (row by row in Python, a dataclass per line, sha256 per
  line) plus the service's loop of before this work (a Python set of the stored keys, a dict of columns written
  with pyarrow).
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

CUSTOMER = "944117784"
OTHER = "964950113"
HEADER = "Periode;Kundens orgnr;Fakturanr;Varenr;Varenavn;CPV;Antall;Enhet;Beløp eks mva"
PROFILE = {"name": "bench", "kind": "supplier_stats", "supplier_orgnr": "910000001",
           "supplier_name": "FJELLDRIVSTOFF AS", "item_class_scheme": "cpv",
           "columns": {"period": "Periode", "customer_orgnr": "Kundens orgnr", "invoice_no": "Fakturanr",
                       "product_no": "Varenr", "product_name": "Varenavn", "item_class_code": "CPV",
                       "quantity": "Antall", "quantity_unit": "Enhet", "amount": "Beløp eks mva"}}
PRODUCTS = [("D100", "Diesel anleggsmaskiner", "09134100-8"), ("B95", "Bensin 95 blyfri", "09132000-3"),
            ("ADB", "AdBlue 10 l", ""), ("HVO", "HVO100 biodiesel", "09134200-9"), ("FYR", "Fyringsolje", "")]
UNITS = ["liter", "l", "hl", "stk", "Liter", "kg"]


def generate(path: Path, rows: int, seed: int = 20) -> None:
    """A framework supplier's report as suppliers send it: UTF-8, ';', months as 2024-03, '1 234,56', one customer
    in ten another member of the agreement."""
    rng = np.random.default_rng(seed)
    chunk = 100_000
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            months = rng.integers(0, 60, n)
            customers = np.where(rng.random(n) < 0.1, OTHER, CUSTOMER)
            products = rng.integers(0, len(PRODUCTS), n)
            units = rng.integers(0, len(UNITS), n)
            quantities = np.round(rng.lognormal(5, 1.2, n), 1)
            amounts = np.round(quantities * rng.uniform(15, 25, n), 2)
            lines = []
            for i in range(n):
                m = int(months[i])
                number, name, cpv = PRODUCTS[products[i]]
                quantity = f"{quantities[i]:,.1f}".replace(",", " ").replace(".", ",")
                amount = f"{amounts[i]:,.2f}".replace(",", " ").replace(".", ",")
                lines.append(f"{2020 + m // 12}-{m % 12 + 1:02d};{customers[i]};F-{(start + i) // 4};{number};{name};"
                             f"{cpv};{quantity};{UNITS[units[i]]};{amount}\n")
            out.write("".join(lines))


def before(data: bytes, name: str, profile, stored: Path, target: Path) -> tuple[int, int]:
    """The import's work as it was before this change: the importer's row-by-row parse, then the service's loop."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from klimainnkjop.importers.supplier_stats import parse_supplier_stats
    from klimainnkjop.storage import linestore

    parsed = parse_supplier_stats(data, name, profile, CUSTOMER)
    existing = linestore.read_keys([stored])
    fresh = [line for line in parsed.lines if line.key not in existing]
    columns: dict[str, list] = {f.name: [] for f in linestore.INVOICE_LINE_SCHEMA}
    for line in fresh:
        row = {
            "line_key": line.key, "org": CUSTOMER, "source": "supplier_stats", "row_no": line.row_no,
            "posting_date": line.date, "year": line.date.year, "month": line.date.month, "account": "", "art": "",
            "function": "", "unit": "", "project": "", "supplier_orgnr": line.supplier_orgnr,
            "supplier_name": line.supplier_name, "amount_ore": line.amount_ore, "vat_ore": 0, "currency": "NOK",
            "amount_orig_minor": line.amount_ore, "description": line.product_name, "invoice_no": line.invoice_no,
            "voucher": "", "line_id": line.line_id, "investment": False, "quantity": line.quantity,
            "quantity_unit": line.quantity_unit, "document_type": "supplier_report",
            "document_id": line.invoice_no, "item_name": line.product_name, "item_description": "",
            "seller_item_id": line.product_no, "item_class_scheme": line.item_class_scheme,
            "item_class_code": line.item_class_code, "unit_code": line.unit_text, "batch": "b",
        }
        for key, value in row.items():
            columns[key].append(value)
    pq.write_table(pa.table(columns, schema=linestore.INVOICE_LINE_SCHEMA), target, compression="zstd")
    return len(fresh), len(parsed.lines) - len(fresh)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tmp", type=Path)
    parser.add_argument("--skip-before", action="store_true", help="leave out the (slow) Python parse of before")
    args = parser.parse_args(argv)

    tmp = work_folder(args.tmp, "bench-stats-")
    import duckdb
    import pyarrow.parquet as pq

    from klimainnkjop.importers.supplier_stats import StatsProfile
    from klimainnkjop.services import suppliers
    from klimainnkjop.services.supplier_stats import STATS_PARQUET_COLUMNS

    path = tmp / f"stats-{args.rows}.csv"
    if not path.exists():
        generate(path, args.rows)
    data = path.read_bytes()
    profile = StatsProfile.from_spec(PROFILE)
    print(f"{path}: {args.rows:,} rows, {len(data) / 1e6:.1f} MB, UTF-8", flush=True)

    con = duckdb.connect()
    con.execute("SELECT 1").fetchall()

    def baseline():
        con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, delim=';', "
                    "header=true)", [str(path)])
        return con.execute("SELECT count(*) FROM t").fetchall()[0][0]

    # an earlier import's batch: the first tenth of the rows, so the anti-join has something to find
    stored = tmp / "stored.parquet"
    small = b"".join(data.splitlines(keepends=True)[: max(2, args.rows // 10)])
    before(small, "earlier.csv", profile, tmp / "none.parquet", stored)

    def product():
        with suppliers.parse_stats(data, path.name, profile, CUSTOMER) as read:
            duplicates = read.ingest.drop_stored([stored])
            added = read.ingest.fresh_summary()[0]
            read.ingest.write_fresh(tmp / "batch.parquet", org=CUSTOMER, batch="b", source="supplier_stats",
                                    columns=STATS_PARQUET_COLUMNS)
            return added, duplicates, read.reader

    rows = []
    b_wall, b_cpu, n = measure(baseline)
    rows.append(("DuckDB read_csv (all_varchar), the baseline", n, b_wall, b_cpu))
    p_wall, p_cpu, (added, duplicates, reader) = measure(product)
    rows.append((f"product: parse_stats + anti-join + COPY ({added:,} lines, {duplicates:,} duplicates, "
                 f"reader {reader})", n, p_wall, p_cpu))
    b2_wall, b2_cpu, _ = measure(baseline)
    rows.append(("DuckDB read_csv again", n, b2_wall, b2_cpu))
    same = None
    if not args.skip_before:
        o_wall, o_cpu, (o_added, o_duplicates) = measure(
            lambda: before(data, path.name, profile, stored, tmp / "before.parquet"))
        rows.append((f"before: the importer's Python parse + the service's loop ({o_added:,} lines, "
                     f"{o_duplicates:,} duplicates)", n, o_wall, o_cpu))
        columns = ["line_key", "row_no", "posting_date", "supplier_orgnr", "amount_ore", "quantity",
                   "quantity_unit", "item_class_scheme", "item_class_code", "unit_code", "description"]
        same = (pq.read_table(tmp / "batch.parquet", columns=columns).to_pylist()
                == pq.read_table(tmp / "before.parquet", columns=columns).to_pylist())
        print(f"same lines written by product and before: {same}")

    report("supplier_stats_import", rows, (min(b_wall, b2_wall), min(b_cpu, b2_cpu)),
           counted="rows", against="read_csv", extra={"same": same})
    return 0


if __name__ == "__main__":
    sys.exit(main())
