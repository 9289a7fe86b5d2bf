"""Climate budgets (issue 11): the current version of a budget, actual against budget for a period, the forecast
for the year and the categories that drive a deviation. Actuals come from the account (selectors.results.totals,
grouped in DuckDB), not consolidated: an organisation's or unit's own purchases, as on its page.

For a period of year Y with months M (a year: every month, and KOSTRA's annual month 0 in the actual):

- budget_t  = the budget's tonnes of the months M (its monthly spread);
- actual_t  = tonnes of the account in the months M;
- deviation_t = actual_t − budget_t;
- forecast_t = actual tonnes from January to the period's last month + the budget's tonnes of the months after it
  (for a whole year: the year's actual);
- trend_forecast_t = the year's budget × (actual / budget from January to the period's last month): the same
  deviation kept for the rest of the year (None when nothing was budgeted so far);
- original_t = the year's budget in its first version (a revision keeps it);
- categories: each category's expected tonnes are budget_t spread by the category's share of the same months a
  year before; deviation = actual − expected; the five largest deviations (by size) are listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from klimainnkjop.access import Scope, check_budget_subject, in_scope
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.storage.models import ClimateBudget

TOP_CATEGORIES = 5


@in_scope
def budget_versions(scope: Scope, orgnr: str, unit_code: str | None, year: int) -> list[ClimateBudget]:
    """Every version of the budget, newest first."""
    check_budget_subject(scope, orgnr, unit_code)
    return list(ClimateBudget.objects.filter(organisation__orgnr=orgnr, unit_code=unit_code or "", year=year)
                .order_by("-version"))


@in_scope
def current_budget(scope: Scope, orgnr: str, unit_code: str | None, year: int) -> ClimateBudget | None:
    versions = budget_versions(scope, orgnr, unit_code, year)
    return versions[0] if versions else None


@in_scope
def budgets_of(scope: Scope, orgnr: str, year: int) -> list[ClimateBudget]:
    """The current version of every budget of the organisation in the year that the scope may see (a unit leader:
    their units' budgets only)."""
    scope.check(orgnr)
    limit = scope.unit_filter(orgnr)
    latest: dict[str, ClimateBudget] = {}
    for budget in ClimateBudget.objects.filter(organisation__orgnr=orgnr, year=year).order_by("unit_code",
                                                                                             "-version"):
        if limit is not None and budget.unit_code not in limit:
            continue
        latest.setdefault(budget.unit_code, budget)
    return list(latest.values())


@in_scope
def budget_years(scope: Scope, orgnr: str) -> list[int]:
    """The years the organisation has a budget for that the scope may see."""
    scope.check(orgnr)
    limit = scope.unit_filter(orgnr)
    query = ClimateBudget.objects.filter(organisation__orgnr=orgnr)
    if limit is not None:
        query = query.filter(unit_code__in=limit)
    return sorted(set(query.values_list("year", flat=True)))


@in_scope
def _units(scope: Scope, orgnr: str, unit_code: str | None) -> list[str] | None:
    return dashboard.unit_subtree(scope, orgnr, unit_code) if unit_code else None


@in_scope
def monthly_kg(scope: Scope, orgnr: str, unit_code: str | None, year: int,
               run: results.Run | None = None) -> list[float]:
    """kg CO2e of the subject's purchases per month (index 0 = KOSTRA's annual month 0, 1–12 the months)."""
    check_budget_subject(scope, orgnr, unit_code)
    out = [0.0] * 13
    try:
        rows = results.totals(scope, org=orgnr, year=year, by=["month"], units=_units(scope, orgnr, unit_code),
                              consolidated=False, run=run)["rows"]
    except results.NoResults:
        return out
    for row in rows:
        out[int(row["month"])] += row["kg_co2e"]
    return out


@in_scope
def _per_category(scope: Scope, orgnr: str, units: list[str] | None, year: int, months: list[int],
                  run: results.Run) -> dict[str, float]:
    rows = results.totals(scope, org=orgnr, year=year, by=["category"], units=units, months=months,
                          consolidated=False, run=run)["rows"]
    return {row["category"] or "": row["kg_co2e"] for row in rows}


@dataclass
class BudgetStatus:
    orgnr: str
    unit: str | None
    period: str
    year: int
    version: int
    year_budget_t: float
    budget_t: float
    actual_t: float
    deviation_t: float
    forecast_t: float
    year_to_date_budget_t: float
    year_to_date_actual_t: float
    trend_forecast_t: float | None = None
    original_t: float | None = None
    categories: list[dict] = field(default_factory=list)  # category, actual_t, expected_t, deviation_t

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@in_scope
def budget_status(scope: Scope, *, orgnr: str, unit_code: str | None, period: dashboard.Period,
                  run: results.Run | None = None) -> BudgetStatus | None:
    """Actual against budget for the period; None when the subject has no budget for the year."""
    versions = budget_versions(scope, orgnr, unit_code, period.year)
    if not versions:
        return None
    budget = versions[0]
    run = run or results.latest_run()
    if run is None:
        raise results.NoResults()
    months = period.months or list(range(1, 13))
    actual_months = period.months or list(range(0, 13))
    monthly = monthly_kg(scope, orgnr, unit_code, period.year, run)
    plan = [float(t) for t in budget.monthly_tonnes]
    budget_t = sum(plan[m - 1] for m in months)
    actual_t = sum(monthly[m] for m in actual_months) / 1000.0
    last = months[-1]
    ytd_actual_t = sum(monthly[m] for m in range(0 if period.whole_year else 1, last + 1)) / 1000.0
    ytd_budget_t = sum(plan[:last])
    forecast_t = ytd_actual_t + sum(plan[last:])
    units = _units(scope, orgnr, unit_code)
    now = _per_category(scope, orgnr, units, period.year, actual_months, run)
    before = _per_category(scope, orgnr, units, period.year - 1, actual_months, run)
    before_total = sum(before.values())
    categories = []
    for category in set(now) | set(before):
        actual_c = now.get(category, 0.0) / 1000.0
        expected_c = budget_t * before.get(category, 0.0) / before_total if before_total else 0.0
        categories.append({"category": category or None, "actual_t": actual_c, "expected_t": expected_c,
                           "deviation_t": actual_c - expected_c})
    categories.sort(key=lambda c: (-abs(c["deviation_t"]), c["category"] or ""))
    return BudgetStatus(orgnr=orgnr, unit=unit_code, period=period.code, year=period.year, version=budget.version,
                        year_budget_t=budget.tonnes, budget_t=budget_t, actual_t=actual_t,
                        deviation_t=actual_t - budget_t, forecast_t=forecast_t, year_to_date_budget_t=ytd_budget_t,
                        year_to_date_actual_t=ytd_actual_t,
                        trend_forecast_t=budget.tonnes * ytd_actual_t / ytd_budget_t if ytd_budget_t else None,
                        original_t=versions[-1].tonnes, categories=categories[:TOP_CATEGORIES])
