"""Reads for the web pages: small aggregated rows from the latest compute run, always scoped.

Every function takes an access.Scope. Where an organisation is named, scope.check(orgnr) runs first and
raises access.OutsideScope; otherwise results are filtered to the scope's organisations by
selectors.results. Nothing here reads raw lines: only the run's aggregates and small reference tables.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils import timezone

from klimainnkjop.access import Scope
from klimainnkjop.core.figures import Figures, grouped, total as total_of
from klimainnkjop.selectors import results
from klimainnkjop.storage.models import Category, Supplier, Unit


@dataclass
class Overview:
    factor_set: str
    run: int
    years: list[int]
    year: int | None
    per_year: list[Figures]
    per_org: list[Figures] = field(default_factory=list)
    per_category: list[Figures] = field(default_factory=list)
    total: Figures | None = None  # of the selected year
    excluded: list[dict] = field(default_factory=list)  # of the selected year


def overview(scope: Scope, *, org: str | None = None, year: int | None = None) -> Overview | None:
    """Per year, and for one year per organisation and per category. None when nothing is computed yet.

    One aggregate query (org × year × category × investment) feeds all three breakdowns.
    """
    if org is not None:
        scope.check(org)
    try:
        document = results.totals(scope, org=org, by=["org", "year", "category", "investment"])
    except results.NoResults:
        return None
    rows = document["rows"]
    per_year = sorted(grouped(rows, lambda r: r["year"]), key=lambda f: f.key)
    years = [f.key for f in per_year]
    if year not in years:
        year = years[-1] if years else None
    of_year = [r for r in rows if r["year"] == year]
    per_org = sorted(grouped(of_year, lambda r: r["org"]), key=lambda f: -f.kg)
    per_category = sorted(grouped(of_year, lambda r: r["category"] or ""), key=lambda f: -f.kg)
    total = total_of(of_year, year)
    excluded = results.excluded_spend(scope, org=org, year=year) if year is not None else []
    return Overview(factor_set=document["factor_set"], run=document["run"], years=years, year=year,
                    per_year=per_year, per_org=per_org, per_category=per_category, total=total, excluded=excluded)


def per_unit(scope: Scope, orgnr: str, *, year: int, months: list[int] | None = None,
             units: list[str] | None = None, run: results.Run | None = None) -> list[Figures]:
    """Per unit, largest first; cached per compute run, scope and arguments."""
    scope.check(orgnr)
    run = run or results.latest_run()
    if run is None:
        return []

    def compute():
        document = results.totals(scope, org=orgnr, year=year, by=["unit", "investment"], months=months,
                                  units=units, run=run)
        return sorted(grouped(document["rows"], lambda r: r["unit"] or ""), key=lambda f: -f.kg)

    return _cached("units", scope, run, (orgnr, year, _key(months), _key(units)), compute)


def top_suppliers(scope: Scope, orgnr: str, *, year: int, limit: int = 10, months: list[int] | None = None,
                  units: list[str] | None = None, run: results.Run | None = None) -> list[Figures]:
    """The suppliers with the most kg CO2e, largest first; cached per compute run, scope and arguments."""
    scope.check(orgnr)
    run = run or results.latest_run()
    if run is None:
        return []

    def compute():
        document = results.totals(scope, org=orgnr, year=year, by=["supplier", "investment"], months=months,
                                  units=units, run=run)
        groups = sorted(grouped(document["rows"], lambda r: r["supplier"] or ""), key=lambda f: -f.kg)
        return groups[:limit]

    return _cached("suppliers", scope, run, (orgnr, year, limit, _key(months), _key(units)), compute)


def _key(values: list | None) -> tuple | None:
    return None if values is None else tuple(values)


def unit_names(scope: Scope, orgnr: str) -> dict[str, str]:
    scope.check(orgnr)
    return dict(Unit.objects.filter(organisation__orgnr=orgnr).values_list("code", "name"))


def supplier_names(scope: Scope, orgnr: str, supplier_orgnrs: list[str]) -> dict[str, str]:
    """Names of the suppliers an organisation in scope bought from (the register itself is shared)."""
    scope.check(orgnr)
    return dict(Supplier.objects.filter(orgnr__in=[s for s in supplier_orgnrs if s]).values_list("orgnr", "name"))


def organisation_names(scope: Scope) -> dict[str, str]:
    return dict(scope.organisations().values_list("orgnr", "name"))


def category_names(scope: Scope, language: str) -> dict[str, str]:
    """Category code -> name in the language ('nb' or else English). Categories are shared reference data."""
    field_name = "name_nb" if language.startswith("nb") or language.startswith("no") else "name_en"
    return dict(Category.objects.values_list("code", field_name))


# --- periods: a year, a half-year (H1–H2), a tertial (T1–T3) or a quarter (Q1–Q4) ---------------------------

PERIOD_PATTERN = re.compile(r"^(\d{4})(?:([HTQ])(\d))?$")
PERIOD_PARTS = {"H": 2, "T": 3, "Q": 4}


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    year: int
    kind: str = ""  # "" (the whole year), "H", "T" or "Q"
    number: int = 0

    @property
    def code(self) -> str:
        return f"{self.year}{self.kind}{self.number}" if self.kind else str(self.year)

    @property
    def whole_year(self) -> bool:
        return not self.kind

    @property
    def months(self) -> list[int] | None:
        """The calendar months of the period; None for the whole year (which includes KOSTRA's month 0)."""
        if not self.kind:
            return None
        size = 12 // PERIOD_PARTS[self.kind]
        return list(range((self.number - 1) * size + 1, self.number * size + 1))

    def previous(self) -> "Period":
        """The same period the year before."""
        return Period(self.year - 1, self.kind, self.number)

    def siblings(self) -> list["Period"]:
        """Every period of the same year, the year first."""
        out = [Period(self.year)]
        for kind in ("H", "T", "Q"):
            out += [Period(self.year, kind, n) for n in range(1, PERIOD_PARTS[kind] + 1)]
        return out


def parse_period(text: str) -> Period:
    """'2025', '2025H1', '2025T2' or '2025Q3' (case-insensitive); PeriodError otherwise."""
    match = PERIOD_PATTERN.match((text or "").strip().upper())
    if not match:
        raise PeriodError(text)
    year, kind, number = int(match.group(1)), match.group(2) or "", int(match.group(3) or 0)
    if kind and not 1 <= number <= PERIOD_PARTS[kind]:
        raise PeriodError(text)
    if not 1900 <= year <= 2999:
        raise PeriodError(text)
    return Period(year, kind, number)


@dataclass
class PeriodOverview:
    """Everything a dashboard shows for one period, from the small summary table (or, for a unit, the
    aggregates): per year, the period per organisation / category / method / data quality, its total with
    the range, the same period a year before, and what was left out."""

    factor_set: str
    run: int
    years: list[int]
    period: Period
    per_year: list[Figures]
    total: Figures
    previous: Figures
    per_org: list[Figures] = field(default_factory=list)
    per_category: list[Figures] = field(default_factory=list)
    per_method: list[Figures] = field(default_factory=list)
    per_quality: list[Figures] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    kostra_lines: int = 0  # KOSTRA annual lines (month 0) of the year: left out of a part of the year
    # the total's 95 % range combined from the lines' lognormal spreads (results.combined_range); None for a run
    # made before the moments were kept (then the summed low-high of total.kg_low/kg_high is shown)
    combined_range: tuple[float, float] | None = None
    # the year under way (under_way_through): its last month with purchases, and `previous` holds the same months
    # of the year before (January to that month), not the whole year; None for a past year
    through_month: int | None = None

    @property
    def year(self) -> int:
        return self.period.year

    @property
    def difference_kg(self) -> float:
        return self.total.kg - self.previous.kg

    @property
    def difference_percent(self) -> float | None:
        return 100.0 * self.difference_kg / self.previous.kg if self.previous.kg else None


METHODS = ["supplier", "activity", "spend", ""]  # "" = not covered by any factor


def _cached(kind: str, scope: Scope, run: results.Run, args: tuple, compute):
    """A dashboard read cached per (compute run, scope, arguments): results.cached. ("dash2": the values are
    core.figures.Figures since one type serves dashboards and reports, "dash3" since a PeriodOverview has
    through_month; entries of the former types are not read.)"""
    return results.cached("dash3:" + kind, scope, run, args, compute)


def current_run() -> results.Run | None:
    """The latest compute run, to look up once per page and pass to the reads below (`run=`)."""
    return results.latest_run()


def period_overview(scope: Scope, *, org: str | None = None, period: Period | None = None,
                    units: list[str] | None = None, run: results.Run | None = None) -> PeriodOverview | None:
    """A dashboard's figures. None when nothing is computed yet. Without a period: the latest year.

    One grouped read (results.period_totals; a second for the list of years when no period is given),
    cached per compute run, scope, organisation, period and units."""
    if org is not None:
        scope.check(org)
    run = run or results.latest_run()
    if run is None:
        return None
    unit_key = _key(units)
    if period is None:
        years = _cached("years", scope, run, (org, unit_key), lambda: [
            r["year"] for r in results.totals(scope, org=org, by=["year"], units=units, run=run)["rows"]])
        period = Period(years[-1] if years else 0)
    return _cached("period", scope, run, (org, period.code, unit_key),
                   lambda: _period_overview(scope, run, org, period, units))


def monthly_years(scope: Scope, *, org: str | None = None, units: list[str] | None = None,
                  run: results.Run | None = None) -> set[int]:
    """The years with purchases dated to a month: only they have halves, tertials and quarters to show (a year of
    KOSTRA files alone has annual lines, month 0, and every part of it would be empty). Cached per compute run."""
    if org is not None:
        scope.check(org)
    run = run or results.latest_run()
    if run is None:
        return set()
    return set(_cached("monthly_years", scope, run, (org, _key(units)), lambda: sorted(
        {r["year"] for r in results.totals(scope, org=org, by=["year", "month"], units=units, run=run)["rows"]
         if (r["month"] or 0) >= 1})))


def under_way_through(year: int, last_month: int, today: dt.date | None = None) -> int | None:
    """The last month with purchases of a year under way (this calendar year or a later one, its purchases ending
    before December), which is compared with the same months of the year before; None for a past year, compared
    whole (a past year without purchases in December is no less complete)."""
    today = today or timezone.localdate()
    return last_month if year >= today.year and 1 <= last_month < 12 else None


def year_under_way(scope: Scope, run: results.Run, year: int, *, org: str | None = None,
                   units: list[str] | None = None, consolidated: bool | None = None) -> int | None:
    """under_way_through of `year` from its months with purchases (one grouped read of the run's results)."""
    rows = results.totals(scope, org=org, year=year, units=units, by=["month"], consolidated=consolidated,
                          run=run)["rows"]
    return under_way_through(year, max((r["month"] or 0 for r in rows if r["lines"]), default=0))


def so_far(through: int) -> tuple[int, ...]:
    """The months of a year under way up to `through` (under_way_through), January first: what the year before is
    compared by (the dashboards and the reports alike)."""
    return tuple(range(1, through + 1))


def _period_overview(scope: Scope, run: results.Run, org: str | None, period: Period,
                     units: list[str] | None) -> PeriodOverview:
    document = results.period_totals(scope, org=org, year=period.year, months=period.months, units=units, run=run)
    per_year = sorted(grouped(document["per_year"], lambda r: r["year"]), key=lambda f: f.key)
    rows = document["period"]
    total = total_of(rows, period.code)
    # the year under way is compared with the same months of the year before, not with a whole year
    through = under_way_through(period.year, max((r["last_month"] or 0 for r in rows), default=0)) \
        if period.whole_year else None
    months = so_far(through) if through else None
    previous = total_of([r for r in document["previous"] if months is None or (r["month"] or 0) in months],
                        period.previous().code)
    by_kg = lambda f: -f.kg  # noqa: E731
    method_groups = {f.key: f for f in grouped(rows, lambda r: r["method"] or "")}
    return PeriodOverview(
        factor_set=document["factor_set"], run=document["run"], years=[f.key for f in per_year], period=period,
        per_year=per_year, total=total, previous=previous,
        per_org=sorted(grouped(rows, lambda r: r["org"]), key=by_kg),
        per_category=sorted(grouped(rows, lambda r: r["category"] or ""), key=by_kg),
        per_method=[method_groups[m] for m in METHODS if m in method_groups],
        per_quality=sorted(grouped([r for r in rows if r["quality"] is not None], lambda r: r["quality"]),
                           key=lambda f: f.key),
        excluded=document["excluded"],
        kostra_lines=sum(r["lines"] for r in document["kostra"]),
        combined_range=(results.combined_range(scope, org=org, year=period.year, months=period.months, units=units,
                                               run=run) or {}).get(()),
        through_month=through,
    )


def unit_subtree(scope: Scope, orgnr: str, code: str) -> list[str]:
    """The unit and its sub-units that the scope may see; LookupError when the unit is unknown or outside."""
    scope.check(orgnr)
    units = {pk: (c, parent) for pk, c, parent in
             Unit.objects.filter(organisation__orgnr=orgnr).values_list("pk", "code", "parent_id")}
    root = next((pk for pk, (c, _) in units.items() if c == code), None)
    allowed = scope.unit_filter(orgnr)
    if root is None or (allowed is not None and code not in allowed):
        raise LookupError(f"no unit {code} in {orgnr} for this scope")
    codes, frontier = [code], [root]
    while frontier:
        frontier = [pk for pk, (_, parent) in units.items() if parent in frontier]
        codes += [units[pk][0] for pk in frontier]
    return [c for c in codes if allowed is None or c in allowed]


def unit_name(scope: Scope, orgnr: str, code: str) -> str:
    scope.check(orgnr)
    return Unit.objects.filter(organisation__orgnr=orgnr, code=code).values_list("name", flat=True).first() or ""
