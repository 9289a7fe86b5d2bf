"""One writer at a time per organisation's line store.

An import reads the natural keys already stored, then writes its batch; two imports of the same organisation
running at the same moment would both miss each other's lines and count them twice. `organisation_lock`
serialises them: an exclusive file lock in the data directory (processes on this machine, the embedded
default) and, on PostgreSQL, a session advisory lock (servers sharing the database). Re-entrant per thread."""
from __future__ import annotations

import fcntl
import threading
import zlib
from contextlib import contextmanager
from typing import Iterator

from django.db import connection

from klimainnkjop import paths

_held = threading.local()


def _advisory_key(orgnr: str) -> int:
    return zlib.crc32(f"klimainnkjop:lines:{orgnr}".encode())


def is_held(orgnr: str) -> bool:
    """Whether this thread holds the organisation's lock."""
    return getattr(_held, "depth", {}).get(orgnr, 0) > 0


@contextmanager
def organisation_lock(orgnr: str) -> Iterator[None]:
    depth: dict[str, int] = getattr(_held, "depth", None) or {}
    _held.depth = depth
    if depth.get(orgnr):
        depth[orgnr] += 1
        try:
            yield
        finally:
            depth[orgnr] -= 1
        return
    path = paths.lines_dir() / f".{orgnr}.lock"
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        postgres = connection.vendor == "postgresql"
        try:
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_lock(%s)", [_advisory_key(orgnr)])
            depth[orgnr] = 1
            try:
                yield
            finally:
                depth[orgnr] = 0
                if postgres:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [_advisory_key(orgnr)])
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def compute_lock() -> Iterator[None]:
    """One automatic compute at a time on this machine (a file lock in the data directory), whichever worker runs
    the job."""
    path = paths.data_dir() / ".compute.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
