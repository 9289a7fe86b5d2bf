"""One compute of a small account, as the test suite runs hundreds of them (issue 20 item 3).

A temporary SQLite database in its own data directory: migrated, the shipped reference data loaded (as the tests'
session does), one organisation and a ledger of `--lines` lines imported through the services. Then the engine's
inputs are built as `services.compute.do_compute` builds them, and `engine.runner.run` is timed `--reps` times in
this process: the first run also builds and compiles the ibis expressions (once per process), the others reuse the
compiled SQL, as every compute of a test session after its first does. Printed: the size of the SQL the runner
compiled (per plan and in all), the time DuckDB takes to EXPLAIN the line results' plan (binding and optimising,
no data), the first and the median of the other runs (wall and CPU seconds), and a fingerprint of the results so
that two commits can be compared (same fingerprint = the same line results, aggregates and summary).

    .venv/bin/python benchmarks/small_compute.py                 # 500 lines, 5 runs
    .venv/bin/python benchmarks/small_compute.py --lines 3000 --reps 7
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORG = "944117784"
HEADER = "Dato;Konto;Funksjon;Ansvar;Orgnr;Leverandør;Beløp;Tekst\n"
PROFILE = {"name": "visma", "columns": {
    "posting_date": "Dato", "account": "Konto", "function": "Funksjon", "unit": "Ansvar",
    "supplier_orgnr": "Orgnr", "supplier_name": "Leverandør", "amount": "Beløp", "description": "Tekst"}}
# purchase arts, wages and transfers (left out), in the proportions of a municipality's ledger, roughly
ARTS = ["100", "115", "120", "180", "185", "195", "200", "230", "240", "250", "270", "010", "050", "429", "470"]
FUNCTIONS = ["2020", "2210", "2530", "2650", "3550", "1200"]
SUPPLIERS = ["999999999", "988888888", "977777777", "966666666", ""]
WORDS = ["Matvarer", "Strøm", "Kontorrekvisita", "Vedlikehold bygg", "Konsulent", "Lønn", "Diesel"]


def ledger(n: int) -> str:
    rows = []
    for i in range(n):
        art = ARTS[(i * 7) % len(ARTS)]
        day, month, year = 1 + i % 28, 1 + (i // 3) % 12, 2024 + i % 2
        amount = 100 + (i * 7919) % 50_000
        rows.append(f"{day:02d}.{month:02d}.{year};{art}{i % 10}00;{FUNCTIONS[i % len(FUNCTIONS)]};"
                    f"{1000 + i % 40};{SUPPLIERS[i % len(SUPPLIERS)]};Leverandør {i % 30};"
                    f"{amount} {i % 100:02d},00;{WORDS[i % len(WORDS)]}")
    return HEADER + "".join(r + "\n" for r in rows)


def fingerprint(folder: Path) -> str:
    """A hash of the result files (column names and types, values), row order, float noise (12 significant digits) and the import batch's token
    (new in every database) aside."""
    import duckdb

    from klimainnkjop.engine.partitions import RESULTS, parquet, result_source

    digest = hashlib.sha256()
    con = duckdb.connect()
    # every result; each one's files (per organisation, or per organisation and year) read as one
    sources = {p.stem: str(p) for p in folder.glob("*.parquet")} | {n: result_source(folder, n) for n in RESULTS}
    for name, path in sorted(sources.items()):
        columns = con.execute(f"DESCRIBE SELECT * FROM {parquet(path)}").fetchall()
        shown = ", ".join(f"printf('%.12g', \"{c}\")" if t == "DOUBLE" else f"CAST(\"{c}\" AS VARCHAR)"
                          for c, t, *_ in columns if c != "batch")
        rows = con.execute(f"SELECT {shown} FROM {parquet(path)} ORDER BY ALL").fetchall()
        digest.update(name.encode() + repr([(c, t) for c, t, *_ in columns]).encode() + repr(rows).encode())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="copy the last run's results here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="small-compute-"))
    os.environ["KLIMAINNKJOP_DATA_DIR"] = str(work / "var")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("KLIMAINNKJOP_PLAN_CACHE", None)  # the first run's compile is part of what is measured
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from klimainnkjop.access import operator
    from klimainnkjop.engine import runner
    from klimainnkjop.services.compute import default_factor_set, engine_inputs
    from klimainnkjop.services.imports import do_import_ledger
    from klimainnkjop.services.organisations import do_create_organisation
    from klimainnkjop.services.profiles import do_save_profile
    from klimainnkjop.services.reference import do_load_reference_data
    from klimainnkjop.storage.models import ImportBatch

    settings.KLIMAINNKJOP_AUTO_COMPUTE = False
    try:
        call_command("migrate", verbosity=0)
        with operator():
            do_load_reference_data(actor="bench")
            org = do_create_organisation(orgnr=ORG, name="Kongsvinger kommune", kostra_region="0402",
                                         region_name="Kongsvingerregionen", actor="bench")
            do_save_profile(organisation=org, spec=PROFILE, actor="bench")
            do_import_ledger(organisation=org, data=ledger(args.lines).encode(), file_name="ledger.csv",
                             profile_name="visma", actor="bench")
            batches = list(ImportBatch.objects.filter(status=ImportBatch.STATUS_DONE).exclude(parquet_path=""))
            inputs, _ = engine_inputs(default_factor_set(), batches)
        walls, cpus = [], []
        for i in range(args.reps):
            out = work / f"run-{i}"
            wall, cpu = time.perf_counter(), time.process_time()
            totals = runner.run(inputs, out)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        sizes = {key[0]: len(sql) for key, (sql, _) in runner._PLANS.items()}
        con = runner.connect()
        explain = _explain_lines(con, inputs, work / f"run-{args.reps - 1}")
        print(f"small compute: {args.lines} ledger lines in, {totals.lines_in} lines, {totals.lines_purchase} "
              f"purchases, {totals.kg_co2e:.6f} kg")
        print("SQL per plan (characters): " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        print(f"SQL in all: {sum(sizes.values()):,} characters; EXPLAIN of the line results' plan: {explain:.2f} s")
        rest = slice(1, None) if args.reps > 1 else slice(0, None)
        print(f"runner.run first (with ibis compile): {walls[0]:.2f} s wall, {cpus[0]:.2f} s CPU")
        print(f"runner.run median of the other {len(walls[rest])}: {statistics.median(walls[rest]):.2f} s wall, "
              f"{statistics.median(cpus[rest]):.2f} s CPU   (all wall: {', '.join(f'{w:.2f}' for w in walls)})")
        print(f"results fingerprint: {fingerprint(work / f'run-{args.reps - 1}')}")
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(work / f"run-{args.reps - 1}", args.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _explain_lines(con, inputs, folder: Path) -> float:
    """Seconds DuckDB takes to bind and optimise the line results' plan (EXPLAIN; no data is read but the
    reconciled lines, materialised first as the runner does)."""
    from klimainnkjop.engine import runner

    raw = con.con
    files = ", ".join(runner._quoted(p) for p in inputs.line_files)
    raw.execute(f"CREATE VIEW line_files AS SELECT * FROM read_parquet([{files}], union_by_name = true)")
    plans = {key[0]: (key, sql) for key, (sql, _) in runner._PLANS.items()}
    raw.execute(f"CREATE TEMP TABLE reconciled AS {plans['reconciled'][1]}")
    key, sql = plans["lines"]
    for name, _schema in key[2:]:
        if name != "reconciled":
            table = getattr(inputs, name, None)
            raw.register(name, table if table is not None else runner.conversion_table())
    for _sql, constants in runner._PLANS.values():
        for op in constants:
            raw.register(op.name, op.data.to_pyarrow(op.schema))
    start = time.perf_counter()
    raw.execute(f"EXPLAIN {sql}").fetchall()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
