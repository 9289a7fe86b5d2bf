"""Report periods: quarter (2025Q3), half-year (2025H1), tertial (2025T2, the municipal budget cycle), year."""
from __future__ import annotations

import re
from dataclasses import dataclass

from klimainnkjop.core.errors import InvalidInput

_PATTERN = re.compile(r"^(\d{4})(?:([QHT])([1-4]))?$")
_LENGTH = {"Q": 3, "H": 6, "T": 4}
_COUNT = {"Q": 4, "H": 2, "T": 3}
_NAMES = {"Q": "kvartal", "H": "halvår", "T": "tertial"}
MONTH_NAMES = ["", "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
               "oktober", "november", "desember"]


@dataclass(frozen=True)
class Period:
    year: int
    kind: str  # "Y", "Q", "H" or "T"
    number: int = 1

    @property
    def code(self) -> str:
        return str(self.year) if self.kind == "Y" else f"{self.year}{self.kind}{self.number}"

    @property
    def months(self) -> tuple[int, ...]:
        """Calendar months of the period; a full year also takes month 0 (annual KOSTRA lines)."""
        if self.kind == "Y":
            return tuple(range(0, 13))
        length = _LENGTH[self.kind]
        first = (self.number - 1) * length + 1
        return tuple(range(first, first + length))

    @property
    def full_year(self) -> bool:
        return self.kind == "Y"

    def previous_year(self) -> "Period":
        return Period(self.year - 1, self.kind, self.number)

    @property
    def label(self) -> str:
        """In bokmål, e.g. '3. kvartal 2025 (juli–september)'."""
        if self.kind == "Y":
            return f"året {self.year}"
        first, last = self.months[0], self.months[-1]
        return f"{self.number}. {_NAMES[self.kind]} {self.year} ({MONTH_NAMES[first]}–{MONTH_NAMES[last]})"


def parse_period(text: str) -> Period:
    """'2025Q3' | '2025H1' | '2025T2' | '2025'; raises InvalidInput naming the field."""
    value = (text or "").strip().upper()
    match = _PATTERN.match(value)
    if not match:
        raise InvalidInput(f"--period: {text!r} is not a period; write 2025Q3 (quarter), 2025H1 (half-year), "
                           f"2025T2 (tertial) or 2025 (year)")
    year, kind, number = int(match.group(1)), match.group(2), match.group(3)
    if kind is None:
        return Period(year, "Y")
    if not 1 <= int(number) <= _COUNT[kind]:
        raise InvalidInput(f"--period: {text!r} has no {kind}{number}; a year has {_COUNT[kind]} "
                           f"{ {'Q': 'quarters', 'H': 'half-years', 'T': 'tertials'}[kind]}")
    return Period(year, kind, int(number))
