"""Ledger import throughput (issue 20 item 1): the product's vectorised parse against DuckDB's read_csv of the same
file, in the same run, CPU seconds beside wall time.

    .venv/bin/python benchmarks/ledger_import.py                 # 1,000,000 lines, cp1252
    .venv/bin/python benchmarks/ledger_import.py --lines 200000 --python-lines 20000

Cases (each after one warm-up of DuckDB in the process):
- baseline: `CREATE TABLE AS SELECT * FROM read_csv(file, all_varchar, delim ';', encoding latin-1)` — DuckDB
  reading every cell of the file as text;
- product: `services.ledgers.parse_ledger` (layout, encoding check, DuckDB read, SQL parse of dates, amounts,
  orgnrs, arts, the key hash) plus what the import does next with the lines outside the database transaction:
  the anti-join with stored line files (one file of 10 % of the lines, from an earlier import) and one COPY to
  Parquet (zstd); and `parse_ledger` alone, to tell the parse from the anti-join and the COPY;
- the importer's Python parse (`importers.ledger.parse_ledger`, the code the import ran before) over the first
  `--python-lines` lines, scaled to the file (it is linear in the lines).
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

HEADER = "Bilagsdato;Konto;Ansvar;Funksjon;Prosjekt;Leverandørnr;Leverandørnavn;Beløp;Mva;Tekst;Bilagsnr;Linje"
PROFILE = {"name": "bench", "encoding": "cp1252", "delimiter": ";", "date_format": "%d.%m.%Y",
           "columns": {"posting_date": "Bilagsdato", "account": "Konto", "unit": "Ansvar", "function": "Funksjon",
                       "project": "Prosjekt", "supplier_orgnr": "Leverandørnr", "supplier_name": "Leverandørnavn",
                       "amount": "Beløp", "vat": "Mva", "description": "Tekst", "voucher": "Bilagsnr",
                       "line_id": "Linje"}}
WORDS = ["Kontorrekvisita", "Matvarer kjøkken", "Drivstoff", "Strøm", "Vedlikehold bygg", "Konsulenttjenester",
         "Datautstyr", "Renhold", "Møbler", "Transport", "Snøbrøyting", "Asfalt", "Lærebøker", "Medisinsk utstyr"]
SUPPLIERS = ["Leverandør AS", "Bygg og Anlegg Øst AS", "Kontorland Norge AS", "Matgrossisten Hedmark",
             "Solør Renovasjon IKS", "Glåmdal Elektro AS", "Datakompaniet AS", "Snø og Is Drift ANS"]


def generate(path: Path, lines: int, seed: int = 20) -> None:
    """A ledger export as Norwegian ERPs write it: cp1252, ';', dd.mm.yyyy, '1 234,56', one voucher line id."""
    rng = np.random.default_rng(seed)
    chunk = 100_000
    with open(path, "w", encoding="cp1252", newline="") as out:
        out.write(HEADER + "\r\n")
        for start in range(0, lines, chunk):
            n = min(chunk, lines - start)
            days = rng.integers(0, 365 * 5, n)
            accounts = rng.choice([10900, 11000, 11500, 12000, 12600, 16000, 18000, 19500, 23000, 27000], n) * 10 \
                + rng.integers(0, 10, n)
            units = rng.integers(1000, 1400, n)
            functions = rng.choice([120, 201, 202, 221, 254, 265, 300, 333], n)
            suppliers = rng.integers(0, len(SUPPLIERS), n)
            amounts = np.round(rng.lognormal(7, 1.6, n), 2) * np.where(rng.random(n) < 0.03, -1, 1)
            words = rng.integers(0, len(WORDS), n)
            rows = []
            for i in range(n):
                d = np.datetime64("2021-01-01") + int(days[i])
                y, m, dd = str(d).split("-")
                amount = f"{amounts[i]:,.2f}".replace(",", " ").replace(".", ",")
                vat = f"{abs(amounts[i]) * 0.25:.2f}".replace(".", ",")
                s = int(suppliers[i])
                rows.append(f"{dd}.{m}.{y};{accounts[i]};{units[i]};{functions[i]};P{i % 97};{960000000 + s * 1117};"
                            f"{SUPPLIERS[s]};{amount};{vat};{WORDS[words[i]]} {start + i};B{(start + i) // 3};"
                            f"{(start + i) % 3 + 1}\r\n")
            out.write("".join(rows))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--python-lines", type=int, default=50_000)
    parser.add_argument("--tmp", type=Path)
    args = parser.parse_args(argv)

    tmp = work_folder(args.tmp, "bench-ledger-")
    import duckdb

    from klimainnkjop.importers.ledger import Profile
    from klimainnkjop.importers.ledger import parse_ledger as python_parse
    from klimainnkjop.services.imports import PARQUET_COLUMNS
    from klimainnkjop.services.ledgers import parse_ledger

    path = tmp / f"ledger-{args.lines}.csv"
    if not path.exists():
        generate(path, args.lines)
    data = path.read_bytes()
    profile = Profile.from_spec(PROFILE)
    print(f"{path}: {args.lines:,} lines, {len(data) / 1e6:.1f} MB, cp1252", flush=True)

    con = duckdb.connect()
    con.execute("SELECT 1").fetchall()

    def baseline():
        con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, delim=';', "
                    "header=true, encoding='latin-1')", [str(path)])
        return con.execute("SELECT count(*) FROM t").fetchall()[0][0]

    # an earlier import's batch: every tenth line, so the anti-join has something to find
    stored = tmp / "stored.parquet"
    small = b"".join(data.splitlines(keepends=True)[: max(2, args.lines // 10)])
    with parse_ledger(small, "earlier.csv", profile) as earlier:
        earlier.ingest.set_nok(None)
        earlier.ingest.drop_stored([])
        earlier.ingest.write_fresh(stored, org="999999999", batch="b", source="ledger",
                                   columns=PARQUET_COLUMNS)

    def product():
        with parse_ledger(data, path.name, profile) as parsed:
            parsed.ingest.set_nok(None)  # every line in NOK (foreign_lines() is empty)
            duplicates = parsed.ingest.drop_stored([stored])
            parsed.ingest.write_fresh(tmp / "batch.parquet", org="999999999", batch="b", source="ledger",
                                      columns=PARQUET_COLUMNS)
            return parsed.lines, duplicates, parsed.reader

    def parse_only():
        with parse_ledger(data, path.name, profile) as parsed:
            return parsed.lines

    head = b"".join(data.splitlines(keepends=True)[: args.python_lines + 1])

    def python():
        return len(python_parse(head, path.name, profile).lines)

    rows = []
    b_wall, b_cpu, n = measure(baseline)
    rows.append(("DuckDB read_csv (all_varchar), the baseline", n, b_wall, b_cpu))
    p_wall, p_cpu, (lines, duplicates, reader) = measure(product)
    rows.append((f"product: parse_ledger + anti-join + COPY (reader {reader}, {duplicates:,} duplicates)",
                 lines, p_wall, p_cpu))
    a_wall, a_cpu, a_lines = measure(parse_only)
    rows.append(("product: parse_ledger alone", a_lines, a_wall, a_cpu))
    b2_wall, b2_cpu, _ = measure(baseline)
    rows.append(("DuckDB read_csv again", n, b2_wall, b2_cpu))
    o_wall, o_cpu, o_lines = measure(python)
    scale = args.lines / max(1, o_lines)
    rows.append((f"importer's Python parse, {o_lines:,} lines scaled x{scale:.0f}", args.lines, o_wall * scale,
                 o_cpu * scale))

    report("ledger_import", rows, (min(b_wall, b2_wall), min(b_cpu, b2_cpu)),
           counted="lines", against="read_csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
