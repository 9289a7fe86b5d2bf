"""The KPI library and the follow-up of targets (issue 11): every KPI is defined here, in one place, and computed
from the account for a period and a subject (the region, an organisation, a unit and its sub-units, optionally a
category), through the same cached read the dashboards use (dashboard.period_overview). Never typed in.

Follow-up: each KPI against its target and the straight path from the baseline year's value to the target in the
target year (through the target's milestones, if any). The status rule (STATUS_RULE):

- on track: the value is at least as good as the path's value for the period (`expected_now`);
- at risk: worse than the path by at most 5 % of the path's value;
- off track: worse than that.

For KPIs that add up over time (tonnes, tonnes per inhabitant), a part of a year is held to the path scaled by the
baseline year's own seasonal profile: expected_now = baseline value of the same months × (path value of the year /
baseline value of the year). Shares and intensities are held to the path's value of the period's year.

The KPIs of agreements, procurement cases and measures (issues 10 and 12) are computed from their registers:
spend and emissions under agreements from the account by the agreements' matching rule (selectors.agreements.covered),
the share of procurements with climate or environmental requirements and of renewed agreements that took in their
measures from the procurement cases (selectors.cases), measures implemented against planned from the measures'
history and the adopted packages (selectors.measures), the cut in building and construction against FutureBuilt from
the construction projects and their NS 3720 climate calculations (selectors.construction.construction_cut).
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext_lazy as _

from klimainnkjop import paths
from klimainnkjop.access import Scope
from klimainnkjop.core.figures import Figures
from klimainnkjop.selectors import agreements as agreement_selectors
from klimainnkjop.selectors import cases as case_selectors
from klimainnkjop.selectors import construction as construction_selectors
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.storage.models import Organisation, PopulationFigure, Target

LOWER, HIGHER = "lower", "higher"
STATUS_ON_TRACK, STATUS_AT_RISK, STATUS_OFF_TRACK = "on_track", "at_risk", "off_track"
STATUS_NO_TARGET, STATUS_NO_DATA, STATUS_NO_BASELINE, STATUS_NO_TARGET_VALUE = (
    "no_target", "no_data", "no_baseline", "no_target_value")
AT_RISK_TOLERANCE = 0.05  # worse than the path by at most 5 % of the path's value
STATUS_RULE = _("On track: at least as good as the straight path from the baseline to the target for the period. "
                "At risk: worse than the path by at most 5 % of the path's value. Off track: worse than that.")
STATUS_LABELS = {
    STATUS_ON_TRACK: _("On track"), STATUS_AT_RISK: _("At risk"), STATUS_OFF_TRACK: _("Off track"),
    STATUS_NO_TARGET: _("No target"), STATUS_NO_DATA: _("No data yet"), STATUS_NO_BASELINE: _("No baseline figures"),
    STATUS_NO_TARGET_VALUE: _("Target level not set"),
}


@dataclass(frozen=True)
class Kpi:
    key: str
    name: object  # a lazy translation: English msgid, bokmål in django.po
    definition: object
    formula: str
    source: object
    unit: str
    direction: str  # LOWER or HIGHER is better
    cumulative: bool = False  # adds up over the months of a period (tonnes), else a ratio
    data: bool = True  # False: the data it needs does not exist yet (listed as "no data yet")


KPIS: dict[str, Kpi] = {k.key: k for k in [
    Kpi("tonnes_co2e", _("Emissions from purchases"),
        _("Tonnes CO2e of the purchases in the period (operating and investment), consolidated for the region."),
        "sum(kg_co2e) / 1000", _("The climate account: ledgers, KOSTRA, invoices and supplier statistics"),
        "t CO2e", LOWER, cumulative=True),
    Kpi("kg_per_nok", _("Emission intensity"),
        _("Kilograms CO2e per krone of purchases (excluding VAT) in the period."),
        "sum(kg_co2e) / sum(spend_nok)", _("The climate account"), "kg CO2e/kr", LOWER),
    Kpi("tonnes_per_inhabitant", _("Emissions per inhabitant"),
        _("Tonnes CO2e of the purchases in the period per inhabitant on 1 January (municipalities only)."),
        "sum(kg_co2e) / 1000 / inhabitants", _("The climate account; population: Statistics Norway, table 07459"),
        "t CO2e/innb.", LOWER, cumulative=True),
    Kpi("measured_share", _("Share of spend with measured figures"),
        _("Share of the purchases' spend whose emissions come from activity data (quantities) or the supplier's "
          "own figures rather than spend factors: the account's data quality."),
        "100 × spend(method ∈ {activity, supplier}) / spend", _("The climate account: method per line"),
        "%", HIGHER),
    Kpi("agreement_share", _("Share of spend covered by agreements"),
        _("Share of the purchases' spend made under the region's joint purchasing and framework agreements."),
        "100 × spend(under an agreement) / spend",
        _("The agreement register and the climate account: the agreements' matching rule"), "%", HIGHER),
    Kpi("agreement_tonnes_co2e", _("Emissions from purchases under joint agreements"),
        _("Tonnes CO2e of the purchases made under the region's joint purchasing and framework agreements."),
        "sum(kg_co2e of lines under an agreement) / 1000",
        _("The agreement register and the climate account: the agreements' matching rule"),
        "t CO2e", LOWER, cumulative=True),
    Kpi("requirements_share", _("Procurements with climate or environmental requirements"),
        _("Share of individual procurements in the period with climate or environmental requirements."),
        "100 × procurements with requirements / procurements carried out (announced, awarded or closed)",
        _("The procurement cases (opened in the period)"), "%", HIGHER),
    Kpi("renewed_agreements_with_measures", _("Renewed agreements that include their measures"),
        _("Share of the agreements renewed in the period that include the measures planned for them."),
        "100 × renewed agreements that took in their measures / renewed agreements with measures",
        _("The procurement cases of renewals (awarded in the period) and the measures that target the agreements"),
        "%", HIGHER),
    Kpi("measures_implemented", _("Measures implemented"),
        _("Measures implemented against those planned by the end of the period."),
        "100 × measures implemented / measures planned",
        _("The measures' status history and the adopted packages"), "%", HIGHER),
    Kpi("construction_cut", _("Cut in building and construction"),
        _("Cut in kg CO2e per m² of the construction projects against their reference (FutureBuilt)."),
        "100 × (1 − Σ kg CO2e / Σ (reference kg per m² × m² BRA)) of the projects with lines in the period",
        _("Construction projects: their investment lines and NS 3720 climate calculations"), "%", HIGHER),
]}


# --- population ---------------------------------------------------------------------------------------------

POPULATION_FILE = "population.csv"  # data/SOURCES.md: SSB table 07459 via niphr/csdata


@functools.lru_cache(maxsize=1)
def _shipped_population() -> dict[tuple[str, int], int]:
    with open(paths.SHIPPED_DATA / POPULATION_FILE, encoding="utf-8") as handle:
        return {(row["municipality"], int(row["year"])): int(row["inhabitants"]) for row in csv.DictReader(handle)}


def population_table() -> dict[tuple[str, int], int]:
    """Inhabitants on 1 January per (municipality number, year): the shipped SSB table, with edits winning."""
    table = dict(_shipped_population())
    for municipality, year, inhabitants in PopulationFigure.objects.values_list("municipality", "year",
                                                                                "inhabitants"):
        table[(municipality, year)] = inhabitants
    return table


def inhabitants(scope: Scope, *, org: str | None, year: int) -> int | None:
    """Inhabitants of the organisation's municipality (org), or of every municipality in the scope (None);
    None when an organisation is not a municipality or a municipality's figure is missing."""
    if org is not None:
        scope.check(org)
        orgs = Organisation.objects.filter(orgnr=org)
    else:
        orgs = scope.organisations().filter(kind=Organisation.KIND_KOMMUNE)
    rows = list(orgs.values_list("kind", "kostra_region"))
    if not rows or any(kind != Organisation.KIND_KOMMUNE or not region for kind, region in rows):
        return None
    table = population_table()
    figures = [table.get((region, year)) for _kind, region in rows]
    return None if any(f is None for f in figures) else sum(figures)


# --- values -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    """What a KPI is computed for: the region (org None), an organisation, a unit with its sub-units."""

    org: str | None = None
    unit: str | None = None
    category: str = ""


def _category_figures(overview: dashboard.PeriodOverview, category: str) -> Figures:
    total = Figures(category)
    for f in overview.per_category:
        if f.key == category or str(f.key).startswith(category + "."):
            total.add_figures(f)
    return total


def kpi_values(scope: Scope, subject: Subject, period: dashboard.Period,
               run: results.Run | None = None) -> dict[str, float | None]:
    """Every KPI's value for the subject and period; None where the data does not exist (or nothing is computed).
    One cached read of the dashboards (period_overview) feeds them all."""
    values: dict[str, float | None] = {key: None for key in KPIS}
    units = dashboard.unit_subtree(scope, subject.org, subject.unit) if subject.unit else None
    if subject.org is not None:
        scope.check(subject.org)
    values.update(register_values(scope, subject, period))
    overview = dashboard.period_overview(scope, org=subject.org, period=period, units=units, run=run)
    if overview is None or not overview.total.lines:
        return values
    total = _category_figures(overview, subject.category) if subject.category else overview.total
    if not total.lines:
        return values
    under = agreement_selectors.covered(scope, year=period.year, org=subject.org, months=period.months, units=units,
                                        category=subject.category, run=run or results.latest_run())
    if under is not None:  # None: no agreement register in the scope
        values["agreement_share"] = 100.0 * under.ore_total / total.ore_total if total.ore_total else None
        values["agreement_tonnes_co2e"] = under.tonnes
    values["tonnes_co2e"] = total.tonnes
    values["kg_per_nok"] = total.intensity
    if not subject.category:
        measured = sum(f.ore_total for f in overview.per_method if f.key in ("activity", "supplier"))
        values["measured_share"] = 100.0 * measured / total.ore_total if total.ore_total else None
    if subject.unit is None and not subject.category:
        people = inhabitants(scope, org=subject.org, year=period.year)
        values["tonnes_per_inhabitant"] = total.tonnes / people if people else None
    return values


def period_end(period: dashboard.Period) -> dt.date:
    month = period.months[-1] if period.months else 12
    return (dt.date(period.year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))


def register_values(scope: Scope, subject: Subject, period: dashboard.Period) -> dict[str, float | None]:
    """The KPIs of the procurement cases, the measures and the construction projects (none for a unit: they are an
    organisation's; the measures' and the construction projects' KPIs none for a category)."""
    out: dict[str, float | None] = {"requirements_share": None, "renewed_agreements_with_measures": None,
                                    "measures_implemented": None, "construction_cut": None}
    if subject.unit:
        return out
    if not subject.category:
        out["construction_cut"] = construction_selectors.construction_cut(scope, org=subject.org, year=period.year,
                                                                          months=period.months)
    share = case_selectors.climate_requirement_share(scope, org=subject.org, year=period.year,
                                                     months=period.months, category=subject.category)
    if share and share[0]["cases"]:
        out["requirements_share"] = 100.0 * share[0]["share"]
    renewed = case_selectors.renewals_with_measures(scope, org=subject.org, year=period.year, months=period.months,
                                                    category=subject.category)
    if renewed["with_measures"]:
        out["renewed_agreements_with_measures"] = 100.0 * renewed["took_in"] / renewed["with_measures"]
    if not subject.category:
        done, planned = measure_selectors.implemented_against_planned(scope, org=subject.org, end=period_end(period))
        out["measures_implemented"] = 100.0 * done / planned if planned else None
    return out


# --- targets and follow-up ------------------------------------------------------------------------------------

def targets(scope: Scope, *, org: str | None = None, everything: bool = False):
    """Active targets the scope may see: of one organisation (org), of the region (org None), or every one."""
    query = Target.objects.filter(active=True).select_related("organisation")
    if everything:
        if not scope.everything:
            query = query.filter(organisation__orgnr__in=scope.orgnrs or [])
        return query.order_by("id")
    if org is None:
        return query.filter(organisation__isnull=True).order_by("id")
    scope.check(org)
    return query.filter(organisation__orgnr=org).order_by("id")


def visible_targets(scope: Scope) -> list[Target]:
    """The region's targets and those of the organisations and units the scope sees (a unit leader: their units')."""
    rows = []
    for target in Target.objects.filter(active=True).select_related("organisation").order_by("id"):
        if target.organisation_id is None:
            rows.append(target)
            continue
        orgnr = target.organisation.orgnr
        if not scope.allows(orgnr):
            continue
        limit = scope.unit_filter(orgnr)
        if limit is None or (target.unit_code and target.unit_code in limit):
            rows.append(target)
    return rows


def target_dict(target: Target) -> dict:
    return {"id": target.pk, "org": target.organisation.orgnr if target.organisation_id else None,
            "unit": target.unit_code or None, "category": target.category or None, "kpi": target.kpi,
            "kind": target.kind, "value": target.value, "baseline_year": target.baseline_year,
            "target_year": target.target_year, "milestones": target.milestones,
            "decision_date": target.decision_date.isoformat() if target.decision_date else None,
            "case_number": target.case_number, "template": target.template or None,
            "created_by": target.created_by.get_username() if target.created_by_id else None,
            "created_at": target.created_at.isoformat()}


def _level(value: float, kind: str, baseline: float) -> float:
    return baseline * (1.0 - value / 100.0) if kind == Target.KIND_CUT else value


def path_value(target: Target, baseline: float, year: int) -> float:
    """The straight path's value (yearly terms) in a year: from the baseline in the baseline year through the
    milestones to the target in the target year; before the baseline the baseline, after the target the target."""
    points = [(target.baseline_year, baseline)]
    points += sorted((int(m["year"]), _level(float(m["value"]), target.kind, baseline)) for m in target.milestones
                     if target.baseline_year < int(m["year"]) < target.target_year)
    points.append((target.target_year, _level(target.value, target.kind, baseline)))
    if year <= points[0][0]:
        return points[0][1]
    for (y0, v0), (y1, v1) in zip(points, points[1:]):
        if year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return points[-1][1]


def tonnes_target_path(scope: Scope, *, org: str | None, years: list[int],
                       run: results.Run | None = None) -> list[dict] | None:
    """The straight path (path_value) of the newest active target for the whole region's or organisation's tonnes
    (KPI tonnes_co2e, no category), as rows {year, scenario "target", kg_co2e} for the trajectory; None without such
    a target, or when its baseline year has no figures to start from."""
    subject = Subject(org=org)
    found = [t for t in _subject_targets(scope, subject) if t.kpi == "tonnes_co2e" and not t.category]
    if not found or found[-1].value is None:
        return None
    target = found[-1]
    if target.baseline_year is None:
        if target.kind == Target.KIND_CUT:
            return None
        return [{"year": y, "scenario": "target", "kg_co2e": 1000.0 * target.value} for y in years]
    baseline = kpi_values(scope, subject, dashboard.Period(target.baseline_year, "", 0), run)["tonnes_co2e"]
    if baseline is None:
        return None
    return [{"year": y, "scenario": "target", "kg_co2e": 1000.0 * path_value(target, baseline, y)} for y in years]


def status_of(value: float, expected: float, direction: str) -> str:
    """STATUS_RULE."""
    gap = value - expected if direction == LOWER else expected - value
    if gap <= 1e-12:
        return STATUS_ON_TRACK
    return STATUS_AT_RISK if gap <= AT_RISK_TOLERANCE * abs(expected) else STATUS_OFF_TRACK


@dataclass
class KpiRow:
    key: str
    name: str
    value: float | None
    unit: str
    target: float | None = None  # the level to reach in target_year (a cut is turned into its level)
    target_year: int | None = None
    expected_now: float | None = None
    status: str = STATUS_NO_TARGET
    baseline_year: int | None = None
    baseline_value: float | None = None
    category: str | None = None
    target_id: int | None = None
    direction: str = LOWER
    data: bool = True
    missing_in_baseline: list[str] = field(default_factory=list)  # organisations without figures that year

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    def as_dict(self) -> dict:
        out = asdict(self)
        out["status_label"] = self.status_label
        return out


def _subject_targets(scope: Scope, subject: Subject) -> list[Target]:
    """The subject's targets, when the scope sees the whole subject: a region target is not held against the part
    of the region a reader of one organisation sees, nor an organisation's target against a unit leader's units."""
    if subject.org is None and not scope.everything:
        return []
    if subject.org is not None and subject.unit is None and scope.unit_filter(subject.org) is not None:
        return []
    return list(targets(scope, org=subject.org).filter(unit_code=subject.unit or ""))


def missing_organisations(scope: Scope, year: int, run: results.Run | None = None) -> list[str]:
    """Names of the organisations in the scope without any purchase figures in the year (a partial baseline)."""
    run = run or results.latest_run()
    if run is None:
        return []
    present = {r["org"] for r in results.cached("kpi:orgs-years", scope, run, (), lambda: results.totals(
        scope, by=["org", "year"], consolidated=False, run=run)["rows"]) if r["year"] == year}
    return sorted(name for orgnr, name in scope.organisations().values_list("orgnr", "name") if orgnr not in present)


def partial_years(scope: Scope, run: results.Run | None = None) -> dict[int, list[str]]:
    """Every year with figures in the scope in which some of its organisations have none: year -> their names."""
    run = run or results.latest_run()
    if run is None:
        return {}
    rows = results.cached("kpi:orgs-years", scope, run, (), lambda: results.totals(
        scope, by=["org", "year"], consolidated=False, run=run)["rows"])
    names = dict(scope.organisations().values_list("orgnr", "name"))
    present: dict[int, set[str]] = {}
    for row in rows:
        present.setdefault(row["year"], set()).add(row["org"])
    return {year: sorted(name for orgnr, name in names.items() if orgnr not in orgs)
            for year, orgs in sorted(present.items()) if set(names) - orgs}


def follow_up(scope: Scope, subject: Subject, period: dashboard.Period,
              run: results.Run | None = None) -> list[KpiRow]:
    """A row per KPI of the subject (and one more per category target), with its target and status."""
    run = run or results.latest_run()
    values = kpi_values(scope, subject, period, run)
    by_kpi: dict[tuple[str, str], Target] = {}
    for target in _subject_targets(scope, subject):  # the newest active target of a KPI and category counts
        by_kpi[(target.kpi, target.category)] = target
    rows = [_row(scope, subject, period, run, KPIS[key], values[key], by_kpi.get((key, ""))) for key in KPIS]
    for (key, category), target in sorted(by_kpi.items()):
        if category and key in KPIS:
            sub = Subject(subject.org, subject.unit, category)
            rows.append(_row(scope, sub, period, run, KPIS[key], kpi_values(scope, sub, period, run)[key], target))
    return rows


def _row(scope: Scope, subject: Subject, period: dashboard.Period, run, kpi: Kpi, value: float | None,
         target: Target | None) -> KpiRow:
    row = KpiRow(key=kpi.key, name=str(kpi.name), value=value, unit=kpi.unit, direction=kpi.direction,
                 data=kpi.data, category=subject.category or None)
    if not kpi.data or value is None:
        row.status = STATUS_NO_DATA
    if target is None:
        return row
    row.target_id, row.target_year, row.baseline_year = target.pk, target.target_year, target.baseline_year
    if target.value is None:
        row.status = STATUS_NO_TARGET_VALUE if row.status != STATUS_NO_DATA else row.status
        return row
    if target.kind == Target.KIND_LEVEL:
        row.target = target.value
    if target.baseline_year is None:
        if row.status != STATUS_NO_DATA:
            row.status = STATUS_NO_BASELINE
        return row
    baseline_year = dashboard.Period(target.baseline_year)
    baseline = kpi_values(scope, subject, baseline_year, run)[kpi.key]
    row.baseline_value = baseline
    if subject.org is None:
        row.missing_in_baseline = missing_organisations(scope, target.baseline_year, run)
    if baseline is None:
        if row.status != STATUS_NO_DATA:
            row.status = STATUS_NO_BASELINE
        return row
    row.target = _level(target.value, target.kind, baseline)
    expected = path_value(target, baseline, period.year)
    if kpi.cumulative and not period.whole_year:
        same_months = dashboard.Period(target.baseline_year, period.kind, period.number)
        baseline_part = kpi_values(scope, subject, same_months, run)[kpi.key]
        expected = baseline_part * expected / baseline if baseline_part is not None and baseline else None
    row.expected_now = expected
    if row.status == STATUS_NO_DATA:
        return row
    row.status = STATUS_NO_BASELINE if expected is None else status_of(value, expected, kpi.direction)
    return row
