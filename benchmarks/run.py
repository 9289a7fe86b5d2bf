"""Benchmarks: the product's engine and CLI against a hand-written DuckDB baseline, measured in the same run.

    make bench                                   # 10M synthetic lines + demo region + dashboard read
    .venv/bin/python benchmarks/run.py --quick   # 1M lines
    .venv/bin/python benchmarks/run.py --help

See benchmarks/README.md. Prints a table and writes benchmarks/out/latest.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

import baseline  # noqa: E402
from synthetic import DATA, Generator  # noqa: E402
from timing import measure, peak_rss_mb  # noqa: E402

from klimainnkjop.engine.partitions import lines_source, result_source  # noqa: E402 - a run's result files

REL_TOL = 1e-6


# ---------------------------------------------------------------------------------------------- helpers

class Report:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.notes: list[str] = []

    def add(self, case: str, lines: int | None, product: float | None, baseline_s: float | None, check: str) -> None:
        ratio = product / baseline_s if product is not None and baseline_s else None
        row = {"case": case, "lines": lines, "product_s": product, "baseline_s": baseline_s, "ratio": ratio,
               "check": check}
        self.rows.append(row)
        print(f"  -> {case}: product {_fmt_s(product)}  baseline {_fmt_s(baseline_s)}  ratio {_fmt_ratio(ratio)}  "
              f"{check}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  .. {text}", flush=True)

    def table(self) -> str:
        header = ["case", "lines", "product (s)", "baseline (s)", "ratio product/baseline", "check"]
        cells = [[r["case"], f"{r['lines']:,}" if r["lines"] is not None else "-", _fmt_s(r["product_s"]),
                  _fmt_s(r["baseline_s"]), _fmt_ratio(r["ratio"]), r["check"]] for r in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
        out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
               "  ".join("-" * w for w in widths)]
        for c in cells:
            out.append("  ".join(
                v.rjust(w) if 0 < i < 5 else v.ljust(w) for i, (v, w) in enumerate(zip(c, widths))))
        return "\n".join(out)


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value < 0.1 else f"{value:.2f}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def compare(product: dict, base: dict, con: duckdb.DuckDBPyConnection | None = None,
            product_agg: Path | None = None, base_agg: Path | None = None) -> tuple[bool, str]:
    """Product and baseline summaries (baseline.summarise of each side's line results): counts equal,
    spend and kg/kg_low/kg_high equal to REL_TOL, per-method lines and kg equal, the same number of
    aggregate rows; with the aggregate files also the spend/kg/lines per (exclusion, category, method)."""
    problems = []
    for key in ("lines_in", "lines_purchase", "lines_covered", "lines_intra_region", "aggregate_rows"):
        if product.get(key) != base.get(key):
            problems.append(f"{key} {product.get(key)} != {base.get(key)}")
    for key in ("spend_ore", "kg_co2e", "kg_low", "kg_high"):
        if _rel(product[key], base[key]) > REL_TOL:
            problems.append(f"{key} {product[key]:.6e} != {base[key]:.6e} (rel {_rel(product[key], base[key]):.1e})")
    for method in sorted(set(product["methods"]) | set(base["methods"])):
        p = product["methods"].get(method, {"lines": 0, "kg": 0.0})
        b = base["methods"].get(method, {"lines": 0, "kg": 0.0})
        if p["lines"] != b["lines"] or _rel(p["kg"], b["kg"]) > REL_TOL:
            problems.append(f"method {method}: {p['lines']} lines {p['kg']:.6e} kg != {b['lines']} lines "
                            f"{b['kg']:.6e} kg")
    groups = 0
    if con is not None and product_agg is not None and base_agg is not None:
        q = ("SELECT exclusion, coalesce(category, '-'), coalesce(method, '-'), sum(spend_ore), sum(kg_co2e), "
             "sum(lines) FROM read_parquet({}) GROUP BY ALL ORDER BY ALL")
        a, b = (con.execute(q.format(baseline.sql_files(side))).fetchall() for side in (product_agg, base_agg))
        groups = len(a)
        if [r[:3] for r in a] != [r[:3] for r in b]:
            problems.append("aggregate (exclusion, category, method) groups differ")
        else:
            worst = max((max(_rel(x[3], y[3]), _rel(x[4], y[4]), _rel(x[5], y[5])) for x, y in zip(a, b)), default=0.0)
            if worst > REL_TOL:
                problems.append(f"per (exclusion, category, method) totals differ (worst rel {worst:.1e})")
    if problems:
        return False, "MISMATCH: " + "; ".join(problems)
    methods = ", ".join(f"{m} {v['lines']:,}" for m, v in sorted(product["methods"].items()))
    return True, (f"same totals: {product['kg_co2e'] / 1000:,.1f} t CO2e ({product['kg_low'] / 1000:,.0f}–"
                  f"{product['kg_high'] / 1000:,.0f}), spend {product['spend_ore'] / 100:,.0f} NOK, "
                  f"rel diff kg {_rel(product['kg_co2e'], base['kg_co2e']):.1e}; lines by method: {methods}; "
                  f"intra-region {product['lines_intra_region']:,}; {product['aggregate_rows']:,} aggregate rows"
                  + (f", {groups} exclusion×category×method groups equal" if groups else ""))


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


# ------------------------------------------------------------------------------------- 1. synthetic lines

def _csv_rows(path: Path) -> list[dict]:
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";"))


def synthetic_supplier_factors(gen: Generator) -> list[dict]:
    """A few supplier-specific factors for the synthetic region (what SupplierFactor rows would hold):
    two for the same supplier (the better quality wins), one in EUR, one limited in time, one whose price
    year has no CPI (unusable: its lines fall back to activity/spend), one for an organisation of the region."""
    s = gen.suppliers
    rows = [
        (s[0], 0.020, 0.015, 0.025, 2024, "NOK", 2, 0, 1900, 9999),
        (s[0], 0.050, 0.030, 0.070, 2024, "NOK", 3, 1, 1900, 9999),
        (s[1], 0.300, 0.200, 0.400, 2023, "EUR", 2, 0, 1900, 9999),
        (s[2], 0.010, 0.008, 0.012, 2022, "NOK", 1, 0, 2023, 2025),
        (s[3], 0.040, 0.020, 0.060, 2016, "NOK", 2, 0, 1900, 9999),
        (s[5], 0.015, 0.010, 0.020, 2026, "NOK", 2, 0, 1900, 9999),
        (gen.orgs[1], 0.012, 0.009, 0.015, 2025, "NOK", 2, 0, 2022, 9999),
    ]
    return [dict(zip(baseline.SUPPLIER_COLUMNS, r)) for r in rows]


def engine_inputs(line_files: list[Path], supplier_factors: list[dict] | None = None,
                  members: list[str] | None = None):
    """What services.compute.engine_inputs builds from the database, built from the shipped CSVs instead:
    tier 1 = dfo-klimaintensiteter (spend-default), tier 2 = the spend-fallback set (epa-useeio-nok),
    activity rows of the spend set and the activity sets (newest first, as `-id` orders them)."""
    from klimainnkjop.engine import runner
    from klimainnkjop.importers.factors import parse_factor_set

    tree = _csv_rows(DATA / "categories.csv") + _csv_rows(DATA / "mappings" / "categories_proposed.csv")
    parents = {r["code"]: (r["parent"] or None) for r in tree}
    art_categories = {r["art"]: r["category"] for r in _csv_rows(DATA / "art_categories.csv")}
    known = frozenset(r["art"] for r in _csv_rows(DATA / "kostra_arts.csv"))
    sets = {}
    for path in sorted((DATA / "factor_sets").glob("*.csv")):   # import order = id order
        parsed = parse_factor_set(path.read_bytes(), path.name, set(parents))
        sets[parsed.meta["name"]] = parsed
    spend_set = sets["dfo-klimaintensiteter"]
    fallback = [f for f in sets.values() if f.meta.get("role") == "spend-fallback"][-1:]
    activity_sets = [f for f in reversed(list(sets.values())) if f.meta.get("role") == "activity"]

    def ref(fs, row):
        return f"{fs.meta['name']}:{fs.meta['version']}#{row.row_no}"

    spend_rows = [{"category": r.key, "value": r.value, "low": r.low, "high": r.high, "price_year": r.price_year,
                   "currency": r.unit, "ref": ref(fs, r), "quality": r.quality, "tier": tier,
                   "valid_from": r.valid_from, "valid_to": r.valid_to}
                  for tier, fs in [(1, spend_set), *((2, f) for f in fallback)] for r in fs.rows if r.basis == "spend"]
    activity_rows = [{"category": r.key, "unit": r.unit, "value": r.value, "low": r.low, "high": r.high,
                      "ref": ref(fs, r), "quality": r.quality, "priority": priority,
                      "valid_from": r.valid_from, "valid_to": r.valid_to}
                     for priority, fs in enumerate([spend_set, *activity_sets]) for r in fs.rows
                     if r.basis == "activity"]
    supplier_rows = [{**s, "ref": f"supplier#{i}"} for i, s in enumerate(supplier_factors or [])]
    years = range(2000, dt.date.today().year + 2)
    prices = [(int(r["year"]), float(r["value"])) for r in _csv_rows(DATA / "price_index.csv")]
    rates = [(int(r["year"]), r["currency"], float(r["nok_per_unit"])) for r in _csv_rows(DATA / "exchange_rates.csv")]
    rates += [(y, "NOK", 1.0) for y in years]
    return runner.EngineInputs(
        line_files=line_files,
        art_classes=runner.art_class_table(art_categories, known),
        ancestors=runner.ancestor_table(parents),
        spend_factors=runner.expand_years(spend_rows, years, runner.SPEND_SCHEMA),
        activity_factors=runner.expand_years(activity_rows, years, runner.ACTIVITY_SCHEMA),
        supplier_factors=runner.expand_years(supplier_rows, years, runner.SUPPLIER_SCHEMA),
        prices=pa.table({"year": pa.array([p[0] for p in prices], pa.int32()),
                         "cpi": pa.array([p[1] for p in prices], pa.float64())}),
        rates=pa.table({"year": pa.array([r[0] for r in rates], pa.int32()),
                        "currency": pa.array([r[1] for r in rates], pa.string()),
                        "nok_per_unit": pa.array([r[2] for r in rates], pa.float64())}),
        members=pa.table({"orgnr": pa.array(list(members or []), pa.string())}),
    )


def bench_synthetic(args, work: Path, report: Report) -> dict:
    from klimainnkjop.engine import runner

    print(f"\n[1] synthetic lines: generating {args.lines:,} lines in chunks of {args.chunk:,} ...", flush=True)
    gen = Generator(seed=args.seed)
    gen_s, files = timed(gen.write, work / "lines", args.lines, args.chunk)
    size = sum(f.stat().st_size for f in files)
    report.note(f"generated {args.lines:,} lines as {len(files)} Parquet files ({size / 1e6:,.0f} MB zstd) "
                f"in {gen_s:.1f} s")
    suppliers = synthetic_supplier_factors(gen)
    members = list(gen.orgs)
    try:
        inputs_s, inputs = timed(engine_inputs, files, suppliers, members)
    except Exception as exc:   # the engine's input contract changed under us: say so, keep the baseline
        report.add(f"synthetic: engine not runnable ({type(exc).__name__}: {str(exc)[:120]})", args.lines, None,
                   None, "FAIL benchmarks/run.py engine_inputs does not match engine.runner.EngineInputs")
        base_out = work / "results" / "baseline"
        t, base = timed(baseline.run, [str(f) for f in files], base_out, suppliers, members)
        report.add("synthetic: baseline SQL only", args.lines, None, t, f"kg {base['kg_co2e']:.6e}")
        return {"engine_out": base_out, "files": files, "org": gen.orgs[0], "generate_s": gen_s,
                "suppliers": suppliers, "members": members}

    engine_out, base_out = work / "results" / "engine", work / "results" / "baseline"
    engine_times, base_times, cpu = [], [], {"engine": [], "baseline": []}
    totals = base = None
    engine_peak = None
    for i in range(args.repeat):
        # alternate who goes first, so neither always profits from a warm cache or a quiet moment
        order = ["engine", "baseline"] if i % 2 == 0 else ["baseline", "engine"]
        for who in order:
            if who == "engine":
                t, c, totals = measure(lambda: runner.run(inputs, engine_out))
                engine_times.append(t)
                if engine_peak is None:  # the engine's first run comes first in this process: its peak
                    engine_peak = peak_rss_mb()
            else:
                t, c, base = measure(lambda: baseline.run([str(f) for f in files], base_out, suppliers, members))
                base_times.append(t)
            cpu[who].append(c)
            print(f"    {who} run {i + 1}/{args.repeat}: {t:.2f} s wall, {c:.2f} s CPU", flush=True)
    report.note(f"part 1 CPU seconds (this process, all threads): engine {min(cpu['engine']):.2f}, baseline "
                f"{min(cpu['baseline']):.2f}, ratio {min(cpu['engine']) / min(cpu['baseline']):.2f}x; peak RSS after "
                f"the engine's first run {engine_peak:,.0f} MB")
    if args.repeat > 1:
        report.note("part 1 runs (s): engine " + ", ".join(f"{t:.2f}" for t in engine_times) + "; baseline "
                    + ", ".join(f"{t:.2f}" for t in base_times) + f"; medians {statistics.median(engine_times):.2f} / "
                    f"{statistics.median(base_times):.2f}")

    con = duckdb.connect()
    product = baseline.summarise(con, lines_source(engine_out), result_source(engine_out, "aggregates"))
    ok, check = compare(product, base, con, result_source(engine_out, "aggregates"), base_out / "aggregates.parquet")
    # the runner's own summary must agree with its line results
    if totals.lines_in != product["lines_in"] or _rel(totals.kg_co2e, product["kg_co2e"]) > REL_TOL:
        ok, check = False, check + f"; runner summary {totals} disagrees with its line results"
    con.close()
    label = f"engine.runner.run vs SQL (best of {args.repeat})" if args.repeat > 1 else "engine.runner.run vs SQL"
    report.add(f"synthetic: {label}", args.lines, min(engine_times), min(base_times),
               ("OK " if ok else "FAIL ") + check)
    report.note(f"engine inputs built in {inputs_s * 1000:.0f} ms; {totals.lines_purchase:,} purchase lines of "
                f"{totals.lines_in:,} after KOSTRA lines step aside")
    return {"engine_out": engine_out, "files": files, "org": gen.orgs[0], "generate_s": gen_s,
            "engine_times": engine_times, "baseline_times": base_times, "suppliers": suppliers, "members": members}


# ------------------------------------------------------------------------------------------ 2. demo region

def _cli() -> list[str]:
    exe = Path(sys.executable).parent / "klimainnkjop"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "klimainnkjop.cli"]


def _run_cli(data_dir: Path, *argv: str, timeout: float) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)   # the embedded SQLite file inside data_dir, never a shared database
    env["KLIMAINNKJOP_DATA_DIR"] = str(data_dir)
    start = time.perf_counter()
    proc = subprocess.run([*_cli(), "--data-dir", str(data_dir), *argv], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=str(ROOT))
    return time.perf_counter() - start, proc


def _error_text(proc: subprocess.CompletedProcess) -> str:
    text = (proc.stderr or proc.stdout or "").strip().splitlines()
    return f"exit {proc.returncode}: " + (text[-1][:160] if text else "no output")


def bench_demo(args, work: Path, report: Report) -> None:
    data_dir = work / "demo"
    print(f"\n[2] demo region: klimainnkjop --data-dir {data_dir} demo --scale {args.demo_scale} ...", flush=True)
    try:
        demo_s, proc = _run_cli(data_dir, "demo", "--scale", str(args.demo_scale), timeout=args.demo_timeout)
    except subprocess.TimeoutExpired:
        report.add("demo: not available (timed out)", None, None, None, "-")
        return
    except OSError as exc:
        report.add(f"demo: not available ({exc})", None, None, None, "-")
        return
    if proc.returncode != 0:
        report.add(f"demo: not available ({_error_text(proc)})", None, None, None, "-")
        return
    line_files = sorted((data_dir / "lines").glob("**/*.parquet"))
    if not line_files:
        report.add("demo: not available (no Parquet line files under lines/)", None, None, None, "-")
        return
    con = duckdb.connect()
    n_lines = con.execute(f"SELECT count(*) FROM read_parquet({[str(f) for f in line_files]})").fetchone()[0]

    compute_s, cproc = _run_cli(data_dir, "compute", timeout=args.demo_timeout)
    if cproc.returncode != 0:
        report.add(f"demo compute: failed ({_error_text(cproc)})", n_lines, None, None, "-")
        return
    # warm start for the CLI: a no-op command measures Python + Django start-up and migration check; its
    # output is also the region's member list (purchases between members are intra-region)
    startup_s, sproc = _run_cli(data_dir, "org", "list", "--format", "json", timeout=120)
    members = None
    if sproc.returncode == 0:
        try:
            members = [o["orgnr"] for o in json.loads(sproc.stdout)]
        except (ValueError, KeyError, TypeError):
            members = None
    if members is None:   # fall back to the organisations that have lines
        members = [r[0] for r in con.execute(
            f"SELECT DISTINCT org FROM read_parquet({[str(f) for f in line_files]})").fetchall()]
        report.note("demo: `org list --format json` unusable; members = organisations with lines")
    base_out = work / "results" / "demo-baseline"
    # the demo loads no supplier-specific factors: the baseline gets none either
    base_s, base = timed(baseline.run, [str(f) for f in line_files], base_out, [], members)

    runs = sorted((data_dir / "results").glob("run-*"), key=lambda p: int(p.name.split("-")[1]))
    if not runs:
        check = "FAIL no results/run-* folder after compute"
    else:
        # the baseline SQL is the method per line over the shipped sets; the demo's region also has what it does not
        # model (invoices and supplier statistics reconciled with the ledgers, KOSTRA files stepping aside for
        # them, supplier factors and activity quantities from its database), so its totals are shown, not compared;
        # the synthetic part compares every total
        product = baseline.summarise(con, lines_source(runs[-1]), result_source(runs[-1], "aggregates"))
        ok = product["lines_in"] == base["lines_in"]
        check = ((f"OK every line in the results ({product['lines_in']:,})" if ok else
                  f"FAIL lines in the results {product['lines_in']:,} != {base['lines_in']:,}")
                 + f"; kg {product['kg_co2e']:.6e} (baseline {base['kg_co2e']:.6e}, not comparable: the baseline "
                 "has no invoice reconciliation, KOSTRA stepping aside, supplier factors or activity data from the "
                 "database)")
    con.close()
    report.add(f"demo --scale {args.demo_scale} (generate+import+compute, CLI) vs SQL", n_lines, demo_s, base_s,
               f"{len(line_files)} line files")
    report.add("demo: compute (CLI process) vs SQL", n_lines, compute_s, base_s, check)
    if sproc.returncode == 0:
        report.add("demo: compute minus CLI start-up vs SQL", n_lines, max(compute_s - startup_s, 0.0), base_s,
                   f"start-up ({' '.join(['org', 'list'])}) {startup_s:.2f} s")


# -------------------------------------------------------------------------------------- 3. dashboard read

DASHBOARD_SQL = """
SELECT year, category, sum({spend}) AS spend_ore, sum(kg_co2e) AS kg_co2e, {lines} AS lines,
       sum(CASE WHEN covered THEN {spend} ELSE 0 END) AS covered_spend_ore
FROM {source} WHERE org = $org AND exclusion = ''
GROUP BY year, category ORDER BY year, category
"""


def _normalise(rows) -> list[tuple]:
    return [(r[0], r[1], int(r[2]), round(float(r[3]), 3), int(r[4]), int(r[5])) for r in rows]


def _quantiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _repeat(fn, reps: int) -> tuple[list[float], object]:
    times, result = [], None
    fn()   # warm-up (file system cache, parquet metadata)
    for _ in range(reps):
        t, result = timed(fn)
        times.append(t)
    return times, result


def _selector_style(agg_file: Path, org: str):
    """What selectors.results.totals(org=..., by=[year, category]) does, minus Django: a new ibis connection."""
    import ibis
    from ibis import _

    con = ibis.duckdb.connect()
    table = con.read_parquet(agg_file if isinstance(agg_file, list) else str(agg_file))
    table = table.filter(_.org == org).filter(_.exclusion == "")
    grouped = table.group_by(["year", "category"]).aggregate(
        spend_ore=_.spend_ore.sum(), kg_co2e=_.kg_co2e.sum(), lines=_.lines.sum(),
        covered_spend_ore=ibis.ifelse(_.covered, _.spend_ore, 0).sum()).order_by(["year", "category"])
    out = grouped.to_pyarrow().to_pylist()
    return [(r["year"], r["category"], r["spend_ore"], r["kg_co2e"], r["lines"], r["covered_spend_ore"]) for r in out]


def bench_dashboard(args, synthetic: dict, report: Report) -> None:
    org = synthetic["org"]
    agg = result_source(synthetic["engine_out"], "aggregates")
    line_results = lines_source(synthetic["engine_out"])
    raw = [str(f) for f in synthetic["files"]]
    print(f"\n[3] dashboard read: total by year and category for org {org}, {args.reps} repetitions ...", flush=True)
    con = duckdb.connect()
    agg_rows = con.execute(f"SELECT count(*) FROM read_parquet({baseline.sql_files(agg)})").fetchone()[0]

    def query(connection, source: str, lines: str):
        spend = "spend_ore" if lines == "sum(lines)" else "amount_ore"
        sql = DASHBOARD_SQL.format(source=source, lines=lines, spend=spend)
        return lambda: _normalise(connection.execute(sql, {"org": org}).fetchall())

    on_agg = query(con, f"read_parquet({baseline.sql_files(agg)})", "sum(lines)")
    on_lines = query(con, f"read_parquet({baseline.sql_files(line_results)})", "count(*)")
    ref_con = baseline.connect(synthetic.get("suppliers"), synthetic.get("members"))   # reference tables
    on_raw = query(ref_con, f"({baseline.line_results_sql(raw)})", "count(*)")

    t_agg, r_agg = _repeat(on_agg, args.reps)
    t_lines, r_lines = _repeat(on_lines, args.reps)
    raw_reps = max(3, args.reps // 10)
    t_raw, r_raw = _repeat(on_raw, raw_reps)
    t_sel, r_sel = _repeat(lambda: _normalise(_selector_style(agg, org)), args.reps)

    same = "OK same rows" if r_agg == r_lines else "FAIL rows differ"
    same_raw = "OK same rows" if r_agg == r_raw else "FAIL rows differ"
    same_sel = "OK same rows" if r_sel == r_agg else "FAIL rows differ"
    (a50, a95), (l50, l95), (w50, w95), (s50, s95) = map(_quantiles, (t_agg, t_lines, t_raw, t_sel))
    n = synthetic["lines"]
    report.add(f"dashboard p50: aggregates ({agg_rows:,} rows) vs line results", n, a50, l50, same)
    report.add("dashboard p95: aggregates vs line results", n, a95, l95, same)
    report.add(f"dashboard p50: aggregates vs raw lines computed on the fly ({raw_reps} reps)", n, a50, w50, same_raw)
    report.add("dashboard p50: selector-style ibis (new connection) vs plain SQL, aggregates", agg_rows, s50, a50,
               same_sel)
    report.add("dashboard p95: selector-style ibis (new connection) vs plain SQL, aggregates", agg_rows, s95, a95,
               same_sel)


# ------------------------------------------------------------------------------ 4. dashboard pages (Django)

PAGES_SQL = """
SELECT year, org, category, investment, method, quality, sum(spend_ore), sum(kg_co2e), sum(kg_low), sum(kg_high),
       sum(lines), sum(CASE WHEN covered THEN spend_ore ELSE 0 END)
FROM read_parquet({summary}) WHERE exclusion = '' AND NOT intra_region AND year IN ($year, $year - 1)
GROUP BY ALL
"""


def bench_pages(args, synthetic: dict, work: Path, report: Report) -> None:
    """Server time of the region page and an organisation page (Django test client, in-process) over the
    synthetic run's results, against one plain DuckDB SQL over the summary table giving the region page's
    figures. A temporary SQLite database in its own data dir holds the organisations and a ComputeRun
    pointing at the results of part 1."""
    data_dir = work / "pages"
    shutil.rmtree(data_dir, ignore_errors=True)  # a kept work folder (--tmp, --keep) holds an earlier run's
    data_dir.mkdir(parents=True)
    os.environ["KLIMAINNKJOP_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")
    print(f"\n[4] dashboard pages: Django test client, region page and an organisation page, {args.reps} "
          f"requests each ...", flush=True)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        from django.core.cache import cache

        from klimainnkjop.storage.models import ComputeRun, FactorSet, Organisation, Unit

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        fs = FactorSet.objects.create(name="dfo-klimaintensiteter", version="bench", publisher="-", licence="-",
                                      attribution="-")
        ComputeRun.objects.create(factor_set=fs, status="done", result_dir=str(synthetic["engine_out"]),
                                  factor_sets=["dfo-klimaintensiteter bench"])
        for i, orgnr in enumerate(synthetic["members"]):
            Organisation.objects.get_or_create(orgnr=orgnr, defaults={"name": f"Kommune {i + 1}"})
        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password-long")
        client = Client()
        client.force_login(user)
    except Exception as exc:  # noqa: BLE001 - the rest of the benchmark still counts
        report.add(f"dashboard pages: not available ({type(exc).__name__}: {str(exc)[:120]})", None, None, None, "-")
        return
    org = synthetic["org"]
    summary = result_source(synthetic["engine_out"], "summary")
    con = duckdb.connect()
    summary_sql = f"read_parquet({baseline.sql_files(summary)})"
    year = con.execute(f"SELECT max(year) FROM {summary_sql} WHERE exclusion = ''").fetchone()[0]
    summary_rows = con.execute(f"SELECT count(*) FROM {summary_sql}").fetchone()[0]
    # the largest organisation's units (flat), for the unit page: the first unit by code
    aggregates = baseline.sql_files(result_source(synthetic['engine_out'], 'aggregates'))
    unit_codes = [r[0] for r in con.execute(
        f"SELECT DISTINCT unit FROM read_parquet({aggregates}) WHERE org = $org AND unit <> '' ORDER BY unit",
        {"org": org}).fetchall()]
    owner = Organisation.objects.get(orgnr=org)
    Unit.objects.bulk_create([Unit(organisation=owner, code=c, name=f"Enhet {c}") for c in unit_codes])
    n = synthetic["lines"]

    def get(url: str, cold: bool = False):
        def fn():
            if cold:
                cache.clear()  # figures read and sections rendered again, as on the first view after a compute run
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response
        return fn

    pages_sql = PAGES_SQL.format(summary=baseline.sql_files(summary))
    baseline_fn = lambda: con.execute(pages_sql, {"year": year}).fetchall()  # noqa: E731
    t_base, _ = _repeat(baseline_fn, args.reps)
    b50, b95 = _quantiles(t_base)
    pages = [("region page /", "/"), (f"organisation page /org/{org}/", f"/org/{org}/"),
             (f"organisation page, a quarter /org/{org}/?periode={year}Q2", f"/org/{org}/?periode={year}Q2"),
             (f"organisation page, a half-year /org/{org}/?periode={year}H1", f"/org/{org}/?periode={year}H1")]
    if unit_codes:
        pages.append((f"unit page /org/{org}/enhet/{unit_codes[0]}/",
                      reverse("unit", args=[org, unit_codes[0]]) + f"?periode={year}"))
    pages.append(("drill-down /linjer/ (page 1, by kg)", f"/org/{org}/linjer/?periode={year}"))
    cold_reps = max(3, args.reps // 5)
    for label, url in pages:
        times, response = _repeat(get(url), args.reps)
        p50, p95 = _quantiles(times)
        verdict = "OK p95 < 150 ms" if p95 < 0.150 else "SLOW p95 >= 150 ms (target 150 ms)"
        report.add(f"page p50: {label} vs one SQL over summary ({summary_rows:,} rows)", n, p50, b50,
                   f"{verdict}; {len(response.content) / 1000:,.0f} kB")
        report.add(f"page p95: {label} vs one SQL over summary", n, p95, b95, verdict)
        cold, _ = _repeat(get(url, cold=True), cold_reps)
        c50, c95 = _quantiles(cold)
        report.add(f"page p50 cold (cache cleared, {cold_reps} reps): {label}", n, c50, b50,
                   "the first view of a page after a compute run")
        report.add(f"page p95 cold (cache cleared): {label}", n, c95, b95, "-")
    # where the time goes: the organisation page under cProfile, the top functions by own + callee time
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    cache.clear()  # profile the cold page: the figures read (the browser draws the charts)
    profiler.enable()
    get(f"/org/{org}/")()
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(40)
    interesting = [line.strip() for line in stream.getvalue().splitlines()
                   if any(k in line for k in ("selectors/", "to_pyarrow", "charts.py", "vl_convert", "vegalite_to_svg",
                                              "render(", "template", "compile"))][:12]
    report.note("organisation page profile (cumulative s, cProfile): " + " | ".join(
        " ".join(line.split()[3:4] + line.split()[5:]) for line in interesting))
    con.close()


# ------------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000, help="synthetic lines (default 10,000,000)")
    parser.add_argument("--quick", action="store_true", help="1,000,000 synthetic lines (overrides --lines)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="lines per generated Parquet batch file")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of engine and baseline in part 1, alternating; the best is reported (default 3)")
    parser.add_argument("--reps", type=int, default=50, help="repetitions of the dashboard query")
    parser.add_argument("--demo-scale", type=float, default=1.0, help="scale of `klimainnkjop demo` (default 1.0)")
    parser.add_argument("--demo-timeout", type=float, default=1800.0, help="seconds before a CLI call is abandoned")
    parser.add_argument("--skip-demo", action="store_true", help="leave out part 2 (demo region via the CLI)")
    parser.add_argument("--skip-pages", action="store_true", help="leave out part 4 (dashboard pages via Django)")
    parser.add_argument("--tmp", default=None, help="work folder (default: a new temporary folder, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--out", default=str(HERE / "out" / "latest.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.lines = 1_000_000

    work = Path(args.tmp) if args.tmp else Path(tempfile.mkdtemp(prefix="klimainnkjop-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report()
    print(f"klimainnkjop benchmarks — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"duckdb {duckdb.__version__}, work folder {work}", flush=True)
    started = time.perf_counter()
    load_before = os.getloadavg()
    try:
        synthetic = bench_synthetic(args, work, report)
        synthetic["lines"] = args.lines
        if args.skip_demo:
            report.add("demo: skipped (--skip-demo)", None, None, None, "-")
        else:
            bench_demo(args, work, report)
        bench_dashboard(args, synthetic, report)
        if args.skip_pages:
            report.add("dashboard pages: skipped (--skip-pages)", None, None, None, "-")
        else:
            bench_pages(args, synthetic, work, report)
    finally:
        if not args.keep and not args.tmp:
            shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()
    report.note(f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores; "
                "other work on the machine makes single timings noisy")
    print("\n" + report.table())
    for n in report.notes:
        print(f"  note: {n}")
    failed = [r for r in report.rows if r["check"].startswith("FAIL") or "MISMATCH" in r["check"]]
    print("\nAll checks passed: product and baseline did the same work." if not failed else
          f"\n{len(failed)} check(s) FAILED: the product and the baseline disagree; the timings above compare different work.")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Total {time.perf_counter() - started:.0f} s; peak RSS of this process {peak_mb:,.0f} MB.")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "duckdb": duckdb.__version__, "platform": platform.platform()},
        "args": {k: v for k, v in vars(args).items()},
        "rows": report.rows, "notes": report.notes, "peak_rss_mb": peak_mb, "checks_passed": not failed,
    }, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"Written {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
