"""One more organisation-month after a full compute (issue 20 item 4, "incremental compute").

The demo region at `--scale` is loaded in a temporary SQLite database and data directory (generate, import, compute,
as `klimainnkjop demo` does) and computed once more; then one organisation imports one more month of its ledger
(`--lines` lines, a new month of the last year, through the services) and the account is computed again. Timed,
wall and CPU seconds in this process:

- product: `services.compute.do_compute` after the new month (the whole service: the engine's inputs from the
  database, the run, its checks and bookkeeping), and of that the engine (`engine.runner.run`); the first such
  compute of the process (which also compiles the plan for one year's lines) and the next (another month);
- full: the same compute with nothing reused (`KLIMAINNKJOP_INCREMENTAL=0`), the compute before this change;
- baseline: the benchmark's lean SQL (`benchmarks/baseline.py`) over the new month's batch file alone — the least
  work that prices the new lines.

Check: the incremental run's results equal the full run's (`engine.partitions.results_differ`: the same rows, floats
within 1e-9 relative), and the run says which years it recomputed.

    .venv/bin/python benchmarks/incremental_compute.py                   # demo scale 1.0, 200 lines
    .venv/bin/python benchmarks/incremental_compute.py --scale 0.3 --lines 199
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")

from timing import measure, report, work_folder  # noqa: E402 - benchmarks/timing.py, beside this script

HEADER = "Dato;Konto;Funksjon;Ansvar;Orgnr;Leverandør;Beløp;Tekst\n"
PROFILE = {"name": "bench-month", "columns": {
    "posting_date": "Dato", "account": "Konto", "function": "Funksjon", "unit": "Ansvar",
    "supplier_orgnr": "Orgnr", "supplier_name": "Leverandør", "amount": "Beløp", "description": "Tekst"}}
ARTS = ["100", "115", "120", "180", "185", "195", "200", "230", "240", "250", "270", "010", "429"]
SUPPLIERS = ["999999999", "988888888", "977777777", ""]
WORDS = ["Matvarer", "Strøm", "Kontorrekvisita", "Vedlikehold bygg", "Konsulent", "Lønn", "Diesel"]


def month_ledger(n: int, year: int, month: int) -> str:
    rows = []
    for i in range(n):
        amount = 100 + (i * 7919) % 50_000
        rows.append(f"{1 + i % 28:02d}.{month:02d}.{year};{ARTS[i % len(ARTS)]}{i % 10}00;2020;{1000 + i % 40};"
                    f"{SUPPLIERS[i % len(SUPPLIERS)]};Leverandør {i % 30};{amount},{i % 100:02d};"
                    f"{WORDS[i % len(WORDS)]} benchmark {i}")
    return HEADER + "".join(r + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--tmp", type=Path)
    args = parser.parse_args(argv)

    work = work_folder(args.tmp, "incremental-")
    os.environ.pop("KLIMAINNKJOP_PLAN_CACHE", None)
    from django.conf import settings
    from django.core.management import call_command

    settings.KLIMAINNKJOP_AUTO_COMPUTE = False
    call_command("migrate", verbosity=0)

    import baseline

    from klimainnkjop.access import operator
    from klimainnkjop.demo.load import do_load_demo
    from klimainnkjop.engine import runner
    from klimainnkjop.engine.partitions import ENV_INCREMENTAL, results_differ
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.imports import do_import_ledger
    from klimainnkjop.services.profiles import do_save_profile
    from klimainnkjop.storage import linestore
    from klimainnkjop.storage.models import ImportBatch, Organisation

    engine_times = []
    plain_run = runner.run

    def timed_run(*a, **k):
        wall, cpu, totals = measure(lambda: plain_run(*a, **k))
        engine_times.append((wall, cpu))
        return totals

    runner.run = timed_run
    with operator():
        load_wall, load_cpu, demo = measure(lambda: do_load_demo(scale=args.scale, actor="bench"))
        full_wall, full_cpu, _ = measure(lambda: do_compute(actor="bench"))
        org = Organisation.objects.order_by("orgnr").first()
        do_save_profile(organisation=org, spec=PROFILE, actor="bench")
        year = dt.date.today().year - 1
        # a month the organisation has no lines for yet would be the realistic case; the demo fills every month, so
        # the new month's lines are new lines of December (new keys: their texts are new)
        batch = do_import_ledger(organisation=org, data=month_ledger(args.lines, year, 12).encode(),
                                 file_name=f"{org.orgnr}-{year}-12-extra.csv", profile_name="bench-month",
                                 actor="bench")
        lines_added = batch.lines_added
        engine_times.clear()
        first_wall, first_cpu, _ = measure(lambda: do_compute(actor="bench"))
        first_engine = engine_times[-1]
        # and one more month: the compute a long-running worker makes (the first one above compiled its plan
        # variant for the lines of one year, once per process)
        do_import_ledger(organisation=org, data=month_ledger(args.lines, year, 11).encode(),
                         file_name=f"{org.orgnr}-{year}-11-extra.csv", profile_name="bench-month", actor="bench")
        engine_times.clear()
        wall, cpu, run = measure(lambda: do_compute(actor="bench"))
        engine = engine_times[-1]
        recomputed = (linestore.absolute(run.result_dir) / "fingerprint.json").read_text(encoding="utf-8")
        os.environ[ENV_INCREMENTAL] = "0"
        engine_times.clear()
        again_wall, again_cpu, full_run = measure(lambda: do_compute(actor="bench"))
        os.environ.pop(ENV_INCREMENTAL)
        differs = results_differ(linestore.absolute(run.result_dir), linestore.absolute(full_run.result_dir))
        ok, check = differs is None, differs or "lines, aggregates, summary, moments, uncertainty and matches equal"
        new_file = linestore.absolute(ImportBatch.objects.order_by("-pk").first().parquet_path)
        base_wall, base_cpu, _ = measure(lambda: baseline.run([str(new_file)], work / "baseline", None,
                                                               [org.orgnr]))
    rows = [("product: do_compute after one more organisation-month", lines_added, wall, cpu),
            ("  of that engine.runner.run", lines_added, *engine),
            ("the month before it, the process's first such compute", lines_added, first_wall, first_cpu),
            ("  of that engine.runner.run", lines_added, *first_engine),
            ("full: do_compute with nothing reused (KLIMAINNKJOP_INCREMENTAL=0)", lines_added, again_wall, again_cpu),
            ("first full compute after the demo load", demo.run_id and lines_added, full_wall, full_cpu)]
    report("incremental_compute", rows, (base_wall, base_cpu), counted="new lines",
           against="lean SQL over the new batch",
           extra={"scale": args.scale, "check": check, "ok": ok, "recomputed": recomputed,
                  "demo_load_s": [load_wall, load_cpu]},
           summary=f"baseline (lean SQL over the new batch alone): {base_wall:.2f} s wall, {base_cpu:.2f} s CPU; "
                   f"check: {'OK' if ok else 'FAIL'} {check}; fingerprint of the run: {recomputed[:300]}\n")
    if not args.tmp:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
