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
