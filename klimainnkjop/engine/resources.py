"""How much of the machine DuckDB may take: a memory limit from the machine's size and a folder to spill to.

Set per connection by the engine (`runner.run`) and the vectorised imports (`ingest.Ingest`). Without a limit
DuckDB takes 80 % of the memory and holds an operator's whole state there; with one it spills sorts, joins and
aggregates to the temporary folder and finishes within the limit.

The default limit is the smaller of half the machine's memory and MB_PER_THREAD for each of DuckDB's threads: what
an operator holds grows with the threads (each has its own part of a hash aggregate), and so does the speed that
buys. On the 2-core, 24 GB benchmark machine that is 3.5 GB instead of 12 GB: a 10M-line run peaks at 3.4-4.0 GB
instead of 3.8-4.2 GB and spills its largest aggregates (the matches' and the aggregates', 7-8M groups), about
10 % more CPU (benchmarks/README.md).
"""
from __future__ import annotations

import os
from pathlib import Path

from klimainnkjop import paths

ENV_MEMORY = "KLIMAINNKJOP_DUCKDB_MEMORY"  # e.g. "4GB"; default: see the module's docstring
ENV_THREADS = "KLIMAINNKJOP_DUCKDB_THREADS"  # default: every core
SHARE = 0.5
MB_PER_THREAD = 1750
# rows a thread buffers of a partitioned write (COPY ... PARTITION_BY, the runner's line results per organisation and
# year) before it writes them out: DuckDB's default (524,288) held most of a 10M-line run's line results in memory
# (5.6 GB peak with a file per year); with a file per organisation and year 100,000 still held 3.5 GB of a 10M-row
# write and 20,000 holds 0.35 GB, at less CPU (benchmarks/README.md)
PARTITIONED_WRITE_FLUSH_ROWS = 20_000


def machine_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit() -> str | None:
    configured = os.environ.get(ENV_MEMORY, "").strip()
    if configured:
        return configured
    total = machine_memory()
    if not total:
        return None
    return f"{max(256, min(int(total * SHARE) // (1 << 20), MB_PER_THREAD * threads()))}MB"


def threads() -> int:
    """DuckDB's threads: KLIMAINNKJOP_DUCKDB_THREADS, else every core."""
    configured = os.environ.get(ENV_THREADS, "").strip()
    if configured.isdecimal() and int(configured) > 0:
        return int(configured)
    return os.cpu_count() or 1


def spill_dir() -> Path:
    """`<data dir>/tmp/duckdb`: DuckDB's temporary files while an operator is larger than the memory limit."""
    path = paths.data_dir() / "tmp" / "duckdb"
    path.mkdir(parents=True, exist_ok=True)
    return path


def duckdb_config() -> dict[str, str]:
    config = {"temp_directory": str(spill_dir()),
              "partitioned_write_flush_threshold": str(PARTITIONED_WRITE_FLUSH_ROWS)}
    limit = memory_limit()
    if limit:
        config["memory_limit"] = limit
    threads = os.environ.get(ENV_THREADS, "").strip()
    if threads.isdecimal() and int(threads) > 0:
        config["threads"] = threads
    return config
