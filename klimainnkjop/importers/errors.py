from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return ", ".join(where) + f": {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}


class ImportRejected(Exception):
    """The file is refused as a whole; nothing was written."""

    MAX_SHOWN = 50

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[: self.MAX_SHOWN])
        more = len(errors) - self.MAX_SHOWN
        if more > 0:
            shown += f"\n… and {more} more errors"
        super().__init__(f"{len(errors)} error(s), nothing imported:\n{shown}")
