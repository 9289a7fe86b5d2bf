"""Where a run keeps everything it writes: one data directory."""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "KLIMAINNKJOP_DATA_DIR"
SHIPPED_DATA = Path(__file__).resolve().parent / "data"  # reference data shipped with the package


def data_dir() -> Path:
    path = Path(os.environ.get(ENV_VAR, "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def lines_dir() -> Path:
    return _sub("lines")


def archive_dir() -> Path:
    return _sub("archive")


def results_dir() -> Path:
    return _sub("results")


def _sub(name: str) -> Path:
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


NAME_BYTES = 200  # a file name we write: under the 255 bytes most file systems allow, with room for a prefix


def fitting_name(name: str, limit: int = NAME_BYTES) -> str:
    """`name` shortened (from its start, keeping its extension) to at most `limit` bytes of UTF-8: an outsider's
    file name of 300 'å' is 600 bytes, which no file system takes."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension.encode("utf-8")) > 20:
        stem, extension = name, ""
    tail = f".{extension}" if extension else ""
    budget = limit - len(tail.encode("utf-8"))
    kept = stem.encode("utf-8")[-budget:].decode("utf-8", errors="ignore")
    return kept + tail
