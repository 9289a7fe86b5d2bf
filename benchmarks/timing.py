"""What the import benchmarks share: a work folder with Django set up, wall time and this process's CPU seconds
(user + system) of a case, and the table of cases against the baseline that they print and write to out/."""
from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(work):
    """(wall seconds, CPU seconds, work's result) of calling work()."""
    wall, before = time.perf_counter(), cpu()
    result = work()
    return time.perf_counter() - wall, cpu() - before, result


def work_folder(tmp: Path | None, prefix: str) -> Path:
    """The benchmark's folder (given, or a new temporary one) as the data directory, with Django set up."""
    folder = Path(tmp or tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KLIMAINNKJOP_DATA_DIR", str(folder / "var"))
    import django

    django.setup()
    return folder


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, rows: list[tuple], base: tuple[float, float], *, counted: str, against: str,
           extra: dict | None = None, summary: str = "") -> None:
    """Prints rows (case, count, wall s, CPU s) as a Markdown table with each case's throughput against the best
    baseline `base` (wall s, CPU s), then the peak memory and the machine's load, and writes them with `extra` to
    benchmarks/out/<name>.json."""
    base_wall, base_cpu = base
    print(f"\n| case | {counted} | wall s | CPU s | throughput vs {against} (wall / CPU) |\n|---|---:|---:|---:|---:|")
    for case, count, wall, cpu_s in rows:
        print(f"| {case} | {count:,} | {wall:.2f} | {cpu_s:.2f} | {base_wall / wall:.1%} / {base_cpu / cpu_s:.1%} |")
    peak = peak_rss_mb()
    print(f"\n{summary}peak RSS {peak:,.0f} MB; load average {os.getloadavg()[0]:.1f}; cores {os.cpu_count()}")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({"rows": rows, "peak_rss_mb": peak, **(extra or {})}, indent=1))
