"""Reads of construction projects against FutureBuilt (issue 11 item 5), always scoped.

A project's figures come from the latest compute run's lines: the organisation's investment purchases whose ledger
project dimension is the project's code. Where the project has an active NS 3720 climate calculation, the engine has
already put the calculation's kg on those lines (engine/pipeline.py, apply_calculations) and kept their replaced
estimate in `replaced_kg`; so the project's kg, the organisation's total and every page agree.

kg per m² = the project's kg CO2e (every year) / its heated floor area (BRA); the target = the reference × (1 − the
target cut); the cut achieved = 100 × (1 − kg per m² / reference).
"""
from __future__ import annotations

from dataclasses import dataclass

import ibis
from ibis import _

from klimainnkjop.access import Scope, in_scope
from klimainnkjop.selectors.results import NoResults, Run, _lines_table, cached, latest_run, scoped
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ClimateCalculation, ClimateCalculationRow, ConstructionProject

NotFound = ConstructionProject.DoesNotExist


@in_scope
def projects(scope: Scope, *, org: str | None = None) -> list[ConstructionProject]:
    """The projects the scope sees: of one organisation, or of every organisation in the scope (org None)."""
    query = ConstructionProject.objects.select_related("organisation")
    if org is not None:
        scope.check(org)
        query = query.filter(organisation__orgnr=org)
    elif not scope.everything:
        query = query.filter(organisation__orgnr__in=scope.orgnrs or [])
    return list(query.order_by("organisation__name", "name", "id"))


@in_scope
def project(scope: Scope, *, pk: int, org: str | None = None) -> ConstructionProject:
    """One project (of the organisation `org`, when given); NotFound when there is none with that id, OutsideScope
    when its organisation is outside the scope."""
    query = ConstructionProject.objects.select_related("organisation")
    if org is not None:
        scope.check(org)
        query = query.filter(organisation__orgnr=org)
    found = query.get(pk=pk)
    scope.check(found.organisation.orgnr)
    return found


def active_calculation(project: ConstructionProject) -> ClimateCalculation | None:
    return project.calculations.filter(active=True).order_by("-id").first()


def calculation_parts(calculation: ClimateCalculation) -> list[ClimateCalculationRow]:
    return list(calculation.parts.order_by("row_no"))


def calculations(project: ConstructionProject) -> list[ClimateCalculation]:
    return list(project.calculations.order_by("-id"))


@in_scope
def _project_lines(scope: Scope, run: Run, org: str, codes: list[str]):
    """The project lines of `codes` in the run: purchases on investment with one of the codes; None for a run made
    before lines carried their project."""
    table = _lines_table(linestore.absolute(run.run.result_dir), org)
    if "project" not in table.columns:
        return None
    table = scoped(table.filter(_.org == org), scope)
    return table.filter((_.exclusion == "") & _.investment & _.project.isin(codes or [""]))


@in_scope
def line_figures(scope: Scope, *, org: str, codes: list[str], run: Run | None = None) -> dict[str, list[dict]]:
    """project code -> rows {year, month, spend_nok, kg_co2e, replaced_kg, lines} of the project's lines in the
    latest run (cached per run and scope)."""
    scope.check(org)
    run = run or latest_run()
    codes = sorted(c for c in codes if c)
    if run is None or not codes:
        return {}

    def read() -> dict[str, list[dict]]:
        table = _project_lines(scope, run, org, codes)
        if table is None:
            return {}
        has_replaced = "replaced_kg" in table.columns
        grouped = table.group_by(["project", "year", "month"]).aggregate(
            spend_ore=_.amount_ore.sum(), kg=_.kg_co2e.sum(), lines=_.count(),
            replaced=(_.replaced_kg.sum() if has_replaced else _.kg_co2e.sum() * 0),
            replaced_lines=(_.replaced_kg.notnull().sum() if has_replaced else _.count() * 0))
        out: dict[str, list[dict]] = {}
        for r in grouped.order_by(["project", "year", "month"]).to_pyarrow().to_pylist():
            out.setdefault(r["project"], []).append({
                "year": r["year"], "month": r["month"], "spend_nok": (r["spend_ore"] or 0) / 100,
                "kg_co2e": float(r["kg"] or 0.0), "replaced_kg": float(r["replaced"] or 0.0),
                "lines": int(r["lines"] or 0), "replaced_lines": int(r["replaced_lines"] or 0)})
        return out

    return cached("construction-lines", scope, run, (org, tuple(codes)), read)


PROJECT_LINES = 50


@in_scope
def project_lines(scope: Scope, *, org: str, code: str, run: Run | None = None) -> list[dict]:
    """The project's lines with the largest kg first (at most PROJECT_LINES), with the estimate a calculation
    replaced (`replaced_kg`); cached per run and scope. NoResults before the first compute."""
    scope.check(org)
    run = run or latest_run()
    if run is None:
        raise NoResults()
    if not code:
        return []

    def read() -> list[dict]:
        table = _project_lines(scope, run, org, [code])
        if table is None:
            return []
        if "replaced_kg" not in table.columns:
            table = table.mutate(replaced_kg=ibis.null("float64"))
        return (table.select("line_key", "posting_date", "supplier_orgnr", "supplier_name", "description",
                             "amount_ore", "kg_co2e", "replaced_kg", "method")
                .order_by([ibis.desc("kg_co2e"), "line_key"]).limit(PROJECT_LINES).to_pyarrow().to_pylist())

    return cached("construction-project-lines", scope, run, (org, code), read)


@dataclass
class ProjectFigures:
    project: ConstructionProject
    calculation: ClimateCalculation | None
    spend_nok: float
    kg_co2e: float  # the account's kg of the project's lines (the calculation's where one replaced the estimate)
    replaced_kg: float  # the lines' own estimate (spend-based or other) that the calculation replaced
    lines: int
    replaced_lines: int
    months: frozenset[tuple[int, int]]  # (year, month) of its lines

    @property
    def calculation_applied(self) -> bool:
        """Whether the latest compute run has put the calculation on the lines (False: not computed since)."""
        return self.replaced_lines > 0

    @property
    def kg_per_m2(self) -> float | None:
        return self.kg_co2e / self.project.area_m2 if self.lines and self.project.area_m2 else None

    @property
    def estimate_kg_per_m2(self) -> float | None:
        """kg per m² of the lines' own estimate, had the calculation not replaced it."""
        if not self.lines or not self.project.area_m2:
            return None
        return (self.kg_co2e - (self.calculation.kg_co2e if self.calculation_applied and self.calculation else 0.0)
                + self.replaced_kg) / self.project.area_m2

    @property
    def calculation_kg_per_m2(self) -> float | None:
        return self.calculation.kg_co2e / self.project.area_m2 if self.calculation else None

    @property
    def reference(self) -> float:
        return self.project.reference_kg_per_m2

    @property
    def target_kg_per_m2(self) -> float:
        return self.reference * (1.0 - self.project.target_cut_percent / 100.0)

    @property
    def cut_percent(self) -> float | None:
        per_m2 = self.kg_per_m2
        return 100.0 * (1.0 - per_m2 / self.reference) if per_m2 is not None and self.reference else None

    @property
    def meets_target(self) -> bool | None:
        per_m2 = self.kg_per_m2
        return None if per_m2 is None else per_m2 <= self.target_kg_per_m2 + 1e-9

    def as_dict(self) -> dict:
        p = self.project
        return {"id": p.pk, "org": p.organisation.orgnr, "name": p.name, "project_code": p.project_code,
                "area_m2": p.area_m2, "building_type": p.building_type, "phase": p.phase,
                "spend_nok": round(self.spend_nok, 2), "kg_co2e": self.kg_co2e, "kg_per_m2": self.kg_per_m2,
                "reference": self.reference, "reference_source": p.reference_source,
                "target_cut_percent": p.target_cut_percent, "target": self.target_kg_per_m2,
                "cut_percent": self.cut_percent, "meets_target": self.meets_target, "lines": self.lines,
                "calculation_kg_co2e": self.calculation.kg_co2e if self.calculation else None,
                "calculation_applied": self.calculation_applied, "replaced_estimate_kg": self.replaced_kg,
                "estimate_kg_per_m2": self.estimate_kg_per_m2}


@in_scope
def figures(scope: Scope, items: list[ConstructionProject], run: Run | None = None) -> list[ProjectFigures]:
    """Each project with the figures of its lines (every year)."""
    run = run or latest_run()
    by_org: dict[str, list[ConstructionProject]] = {}
    for p in items:
        by_org.setdefault(p.organisation.orgnr, []).append(p)
    out = []
    for orgnr, group in by_org.items():
        rows = line_figures(scope, org=orgnr, codes=[p.project_code for p in group], run=run)
        for p in group:
            mine = rows.get(p.project_code, []) if p.project_code else []
            out.append(ProjectFigures(
                project=p, calculation=active_calculation(p), spend_nok=sum(r["spend_nok"] for r in mine),
                kg_co2e=sum(r["kg_co2e"] for r in mine), replaced_kg=sum(r["replaced_kg"] for r in mine),
                lines=sum(r["lines"] for r in mine), replaced_lines=sum(r["replaced_lines"] for r in mine),
                months=frozenset((r["year"], r["month"]) for r in mine)))
    order = {p.pk: i for i, p in enumerate(items)}
    return sorted(out, key=lambda f: order[f.project.pk])


@in_scope
def construction_cut(scope: Scope, *, org: str | None, year: int, months: list[int] | None,
                     run: Run | None = None) -> float | None:
    """The KPI "cut in building and construction against its reference" for an organisation (org) or every
    organisation in the scope (None): the projects with lines in the period, each with all its kg (every year, the
    calculation's where there is one), area-weighted against their references:
    100 × (1 − Σ kg / Σ (reference kg per m² × m² BRA)). None without such a project."""
    run = run or latest_run()
    if run is None:
        return None
    kg = reference = 0.0
    for f in figures(scope, projects(scope, org=org), run):
        active = any(y == year and (months is None or m in months) for y, m in f.months)
        if not active or not f.project.area_m2:
            continue
        kg += f.kg_co2e
        reference += f.reference * f.project.area_m2
    return 100.0 * (1.0 - kg / reference) if reference else None
