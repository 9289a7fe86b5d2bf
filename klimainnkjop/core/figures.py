"""The one figures type of the dashboards, the report documents and the agreements: spend and emissions of one
group of purchases (a year, a period, an organisation, a unit, a category, a method, an agreement ...).

Money is integer øre, as the engine keeps it; kg CO2e is a float, summed as read; both are rounded only for
display. Operating and investment are kept apart; `kg_low`/`kg_high` carry the group's low–high range (the sum
of the lines' ranges, or a combined 95 % range where a reader sets one). A dashboard's total and a report's
total of the same subject and period are the same Figures built from the same rows of selectors.results, so
they are the same numbers.

Pure: no Django, no I/O. The rows it adds are selectors.results' (`spend_nok`, `covered_spend_nok` rounded to
two decimals from øre, `kg_co2e`, `kg_co2e_low`, `kg_co2e_high`, `lines`, `investment`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


def ore(nok: float | None) -> int:
    """Back to øre: a results row's NOK is øre / 100 rounded to two decimals, so this is exact."""
    return int(round((nok or 0) * 100))


@dataclass
class Figures:
    """Spend (øre) and emissions (kg CO2e) of one group, operating and investment apart, with the range."""

    key: object = None
    name: str = ""
    ore_operating: int = 0
    ore_investment: int = 0
    kg_operating: float = 0.0
    kg_investment: float = 0.0
    kg_low: float = 0.0
    kg_high: float = 0.0
    covered_ore: int = 0  # spend some factor covers
    lines: int = 0
    # market-based kg (electricity at the residual mix, engine.pipeline MARKET-BASED); None once a row without it
    # is added (a run made before the figure)
    kg_market: float | None = 0.0

    def add(self, row: dict) -> "Figures":
        """Add one row of selectors.results (totals, period_totals: NOK rounded to two decimals from øre)."""
        return self.add_sums(investment=bool(row.get("investment")), spend_ore=ore(row["spend_nok"]),
                             kg_co2e=row["kg_co2e"], kg_low=row.get("kg_co2e_low", 0.0),
                             kg_high=row.get("kg_co2e_high", 0.0), lines=row["lines"],
                             covered_ore=ore(row.get("covered_spend_nok", 0.0)),
                             kg_market=row.get("kg_co2e_market"))

    def add_sums(self, *, investment: bool, spend_ore: int, kg_co2e: float, kg_low: float = 0.0,
                 kg_high: float = 0.0, lines: int = 0, covered_ore: int = 0,
                 kg_market: float | None = None) -> "Figures":
        """Add the sums of one group of lines, in øre (e.g. a record of the engine's aggregation). kg_market None:
        the group has no market-based figure, so neither has the sum."""
        self.kg_market = None if kg_market is None or self.kg_market is None else self.kg_market + kg_market
        if investment:
            self.ore_investment += spend_ore
            self.kg_investment += kg_co2e
        else:
            self.ore_operating += spend_ore
            self.kg_operating += kg_co2e
        self.kg_low += kg_low
        self.kg_high += kg_high
        self.covered_ore += covered_ore
        self.lines += lines
        return self

    def add_figures(self, other: "Figures") -> "Figures":
        """Add another group's figures (e.g. a category's sub-categories)."""
        self.ore_operating += other.ore_operating
        self.ore_investment += other.ore_investment
        self.kg_operating += other.kg_operating
        self.kg_investment += other.kg_investment
        self.kg_low += other.kg_low
        self.kg_high += other.kg_high
        self.covered_ore += other.covered_ore
        self.lines += other.lines
        self.kg_market = None if other.kg_market is None or self.kg_market is None else self.kg_market + other.kg_market
        return self

    # --- money ---------------------------------------------------------------------------------------------

    @property
    def ore_total(self) -> int:
        return self.ore_operating + self.ore_investment

    @property
    def spend_nok(self) -> float:
        """The spend in NOK, for display and for NOK-valued outputs."""
        return self.ore_total / 100

    @property
    def covered_share(self) -> float | None:
        """The share (0–1) of the spend that a factor covers."""
        return self.covered_ore / self.ore_total if self.ore_total else None

    @property
    def covered_percent(self) -> float | None:
        return 100.0 * self.covered_ore / self.ore_total if self.ore_total else None

    # --- emissions -----------------------------------------------------------------------------------------

    @property
    def kg(self) -> float:
        return self.kg_operating + self.kg_investment

    @property
    def tonnes(self) -> float:
        return self.kg / 1000.0

    @property
    def tonnes_market(self) -> float | None:
        return None if self.kg_market is None else self.kg_market / 1000.0

    @property
    def tonnes_operating(self) -> float:
        return self.kg_operating / 1000.0

    @property
    def tonnes_investment(self) -> float:
        return self.kg_investment / 1000.0

    @property
    def tonnes_low(self) -> float:
        return self.kg_low / 1000.0

    @property
    def tonnes_high(self) -> float:
        return self.kg_high / 1000.0

    @property
    def intensity(self) -> float | None:
        """kg CO2e per NOK of purchases."""
        return self.kg / self.spend_nok if self.ore_total else None


def total(rows: Iterable[dict], key: object = None, name: str = "") -> Figures:
    """The figures of all the rows."""
    figures = Figures(key, name)
    for row in rows:
        figures.add(row)
    return figures


def grouped(rows: Iterable[dict], key: Callable[[dict], object],
            name: Callable[[object], str] | None = None) -> list[Figures]:
    """The rows' figures per key, in the order the keys first appear; `name` names a group by its key."""
    groups: dict[object, Figures] = {}
    for row in rows:
        k = key(row)
        if k not in groups:
            groups[k] = Figures(k, name(k) if name else "")
        groups[k].add(row)
    return list(groups.values())
