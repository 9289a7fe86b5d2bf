"""The engine at national scale (issue 20 item 5): `--lines` synthetic lines (default 100,000,000), generated in chunks,
computed once by `engine.runner.run` on this machine, with the time, CPU seconds and peak memory reported.

    .venv/bin/python benchmarks/hundred_million.py                       # 100M lines, kept in a temporary folder
    .venv/bin/python benchmarks/hundred_million.py --lines 30000000 --tmp /data/bench --keep

The lines are part 1's (benchmarks/synthetic.py, the same generator and engine inputs as benchmarks/run.py); the
baseline SQL of part 1 is run after the engine unless `--skip-baseline` (at this size it is the slower half of the
benchmark). DuckDB's memory limit is the engine's own default (engine.resources.memory_limit) unless
KLIMAINNKJOP_DUCKDB_MEMORY says otherwise; what the table reports as peak is the whole process's (engine and
generator).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import baseline  # noqa: E402
import run as bench  # noqa: E402 - part 1's engine inputs
from synthetic import Generator  # noqa: E402
from timing import measure, peak_rss_mb, report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000_000)
    parser.add_argument("--chunk", type=int, default=2_000_000)
    parser.add_argument("--tmp", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)

    from klimainnkjop.engine import partitions, runner

    work = Path(args.tmp or tempfile.mkdtemp(prefix="hundred-million-"))
    os.environ.setdefault("KLIMAINNKJOP_DATA_DIR", str(work / "var"))  # DuckDB's spill folder
    gen = Generator()
    gen_wall, gen_cpu, files = measure(lambda: gen.write(work / "lines", args.lines, args.chunk))
    size = sum(f.stat().st_size for f in files)
    print(f"generated {args.lines:,} lines as {len(files)} files ({size / 1e9:.1f} GB) in {gen_wall:.0f} s", flush=True)
    suppliers, members = bench.synthetic_supplier_factors(gen), list(gen.orgs)
    inputs = bench.engine_inputs(files, suppliers, members)
    wall, cpu, totals = measure(lambda: runner.run(inputs, work / "engine"))
    engine_peak = peak_rss_mb()
    out = sum(p.stat().st_size for p in (work / "engine").rglob("*.parquet"))
    print(f"engine: {wall:.0f} s wall, {cpu:.0f} s CPU, peak RSS {engine_peak:,.0f} MB; {totals.lines_in:,} lines, "
          f"{totals.kg_co2e / 1000:,.1f} t; results {out / 1e9:.1f} GB in {partitions.LINES}/ and the other files",
          flush=True)
    rows = [("engine.runner.run", totals.lines_in, wall, cpu)]
    base = (wall, cpu)
    if not args.skip_baseline:
        base_wall, base_cpu, summary = measure(lambda: baseline.run([str(f) for f in files], work / "baseline",
                                                                     suppliers, members))
        base = (base_wall, base_cpu)
        rel = abs(summary["kg_co2e"] - totals.kg_co2e) / max(abs(summary["kg_co2e"]), 1e-9)
        print(f"baseline: {base_wall:.0f} s wall, {base_cpu:.0f} s CPU; kg differs by {rel:.1e} relative", flush=True)
    report("hundred_million", rows, base, counted="lines", against="the lean baseline SQL",
           extra={"lines": args.lines, "generate_s": [gen_wall, gen_cpu], "engine_peak_rss_mb": engine_peak,
                  "input_bytes": size, "result_bytes": out},
           summary=f"engine peak RSS {engine_peak:,.0f} MB (before the baseline ran); ")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
