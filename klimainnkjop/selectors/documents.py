"""Published baseline reports (issue 13): the region's baseline report as PDF, published by an administrator for
the public page (services/documents.do_publish_baseline). Public, so no scope."""
from __future__ import annotations

import re
from pathlib import Path

from klimainnkjop import paths

PUBLISHED_DIR = "published"
_NAME = re.compile(r"^kartlegging-region-(\d{4})\.pdf$")


def published_dir() -> Path:
    return paths.data_dir() / PUBLISHED_DIR


def published_baseline_path(year: int) -> Path:
    return published_dir() / f"kartlegging-region-{int(year)}.pdf"


def published_baselines() -> list[int]:
    """The years whose region baseline report is published, latest first."""
    folder = published_dir()
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name))), reverse=True)
