"""Reads for the web pages: small aggregated rows from the latest compute run, always scoped.

Every function takes an access.Scope. Where an organisation is named, scope.check(orgnr) runs first and
raises access.OutsideScope; otherwise results are filtered to the scope's organisations by
selectors.results. Nothing here reads raw lines: only the run's aggregates and small reference tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from klimainnkjop.access import Scope
from klimainnkjop.selectors import results
from klimainnkjop.storage.models import Category, Supplier, Unit


@dataclass
class Figures:
    """Spend and emissions of one group (a year, an organisation, a category ...), drift and investment apart."""

    key: object
    kg_operating: float = 0.0
    kg_investment: float = 0.0
    spend_operating: float = 0.0
    spend_investment: float = 0.0
    covered_spend: float = 0.0
    lines: int = 0

    @property
    def kg(self) -> float:
        return self.kg_operating + self.kg_investment

    @property
    def tonnes(self) -> float:
        return self.kg / 1000.0

    @property
    def tonnes_operating(self) -> float:
        return self.kg_operating / 1000.0

    @property
    def tonnes_investment(self) -> float:
        return self.kg_investment / 1000.0

    @property
    def spend(self) -> float:
        return self.spend_operating + self.spend_investment

    @property
    def covered_percent(self) -> float | None:
        return 100.0 * self.covered_spend / self.spend if self.spend else None

    def add(self, row: dict) -> None:
        if row.get("investment"):
            self.kg_investment += row["kg_co2e"]
            self.spend_investment += row["spend_nok"]
        else:
            self.kg_operating += row["kg_co2e"]
            self.spend_operating += row["spend_nok"]
        self.covered_spend += row["covered_spend_nok"]
        self.lines += row["lines"]


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


def _group(rows: list[dict], key) -> list[Figures]:
    groups: dict[object, Figures] = {}
    for row in rows:
        k = key(row)
        groups.setdefault(k, Figures(k)).add(row)
    return list(groups.values())


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
    per_year = sorted(_group(rows, lambda r: r["year"]), key=lambda f: f.key)
    years = [f.key for f in per_year]
    if year not in years:
        year = years[-1] if years else None
    of_year = [r for r in rows if r["year"] == year]
    per_org = sorted(_group(of_year, lambda r: r["org"]), key=lambda f: -f.kg)
    per_category = sorted(_group(of_year, lambda r: r["category"] or ""), key=lambda f: -f.kg)
    total = Figures(year)
    for r in of_year:
        total.add(r)
    excluded = results.excluded_spend(scope, org=org, year=year) if year is not None else []
    return Overview(factor_set=document["factor_set"], run=document["run"], years=years, year=year,
                    per_year=per_year, per_org=per_org, per_category=per_category, total=total, excluded=excluded)


def per_unit(scope: Scope, orgnr: str, *, year: int) -> list[Figures]:
    scope.check(orgnr)
    try:
        document = results.totals(scope, org=orgnr, year=year, by=["unit", "investment"])
    except results.NoResults:
        return []
    return sorted(_group(document["rows"], lambda r: r["unit"] or ""), key=lambda f: -f.kg)


def top_suppliers(scope: Scope, orgnr: str, *, year: int, limit: int = 10) -> list[Figures]:
    scope.check(orgnr)
    try:
        document = results.totals(scope, org=orgnr, year=year, by=["supplier", "investment"])
    except results.NoResults:
        return []
    groups = sorted(_group(document["rows"], lambda r: r["supplier"] or ""), key=lambda f: -f.kg)
    return groups[:limit]


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
