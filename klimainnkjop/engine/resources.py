"""How much of the machine DuckDB may take: a memory limit from the machine's size and a folder to spill to.

Set per connection by the engine (`runner.run`) and the vectorised imports (`ingest.Ingest`). Without a limit
DuckDB takes 80 % of the memory and holds an operator's whole state there; with one it spills sorts, joins and
aggregates to the temporary folder and finishes within the limit.
"""
from __future__ import annotations

import os
from pathlib import Path

from klimainnkjop import paths

ENV_MEMORY = "KLIMAINNKJOP_DUCKDB_MEMORY"  # e.g. "4GB"; default: half the machine's memory
ENV_THREADS = "KLIMAINNKJOP_DUCKDB_THREADS"  # default: every core
SHARE = 0.5
# rows a thread buffers of a partitioned write (COPY ... PARTITION_BY, the runner's per-year line results) before it
# writes them out: DuckDB's default (524,288) held most of a 10M-line run's line results in memory (5.6 GB peak,
# 1.6 GB with this; benchmarks/README.md), and the flushes cost less CPU than the buffering did
PARTITIONED_WRITE_FLUSH_ROWS = 100_000


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
    return f"{max(256, int(total * SHARE) // (1 << 20))}MB"


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
    if threads.isdigit() and int(threads) > 0:
        config["threads"] = threads
    return config
