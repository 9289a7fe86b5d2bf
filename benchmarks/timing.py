"""What the import benchmarks measure a case with: wall time and this process's CPU seconds (user + system)."""
from __future__ import annotations

import resource
import time


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(work):
    """(wall seconds, CPU seconds, work's result) of calling work()."""
    wall, before = time.perf_counter(), cpu()
    result = work()
    return time.perf_counter() - wall, cpu() - before, result
