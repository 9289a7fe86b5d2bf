"""Shared helpers of the command line: reading files, finding organisations, printing rows."""
from __future__ import annotations

import json
from pathlib import Path

from klimainnkjop.core import cells as export_cells

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def read_file(path: str) -> tuple[bytes, str]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return p.read_bytes(), p.name


def find_org(orgnr: str):
    from klimainnkjop.services.organisations import InvalidInput
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import organisations as org_selectors

    try:  # the command line acts with the operator's full rights
        return org_selectors.organisation(system_scope(), orgnr.replace(" ", ""))
    except org_selectors.NotFound:
        raise InvalidInput(f"--org: no organisation with orgnr {orgnr}; add it with `klimainnkjop org add`") from None


def emit(rows: list[dict], fmt: str, document: dict | None = None) -> None:
    if fmt == "json":
        print(json.dumps(document if document is not None else rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        print("(no rows)")
        return
    columns = list(rows[0])
    if fmt == "csv":  # through the one export writer: a text that could be a formula is quoted, numbers are not
        print(export_cells.csv_records(rows, columns, export_cells.PLAIN), end="")
        return
    cells = [[_fmt_cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(row, widths)))


def _fmt_cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ")
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(" ", "").replace(".", "").replace("-", "").isdecimal()




def print_overlaps(batch) -> None:
    """After an import: each year its lines share with an earlier import of another source, and which source counts
    (issue 16 item 5; selectors/uploads.year_overlaps)."""
    if batch is None:
        return
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.uploads import overlap_message, year_overlaps

    for entry in year_overlaps(system_scope(), batch.organisation.orgnr, [batch.pk]):
        print(f"overlap: {overlap_message(entry)}")
