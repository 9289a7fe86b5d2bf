"""Reads of measures (tiltak) and ambition packages, and their expected effect computed from the account.

The expected effect is not typed in: it is computed from the baseline year's computed purchases in the viewer's
scope, read through selectors.results like the dashboards' figures (one grouped read per org × category in
DuckDB), and the factors of the library. Every mechanism is a fraction f of a cell's (org × category) kg CO2e:

- quantity:  less quantity or spend by p %           f = p / 100
- intensity: the category's kg per NOK cut by p %    f = p / 100
- switch:    p % of the purchases to another factor  f = p / 100 × (1 − B / A), A and B the library's factors of
             the category and of the one switched to, of the same basis and unit (activity first, then spend)

The low–high range uses the cells' kg_low/kg_high and, for a switch, B's low and high. Measures of a package on the
same cells are applied in order: the second works on what the first left (kg × (1 − f1) × f2), so nothing is
counted twice. Purchases between organisations of the region are left out (the seller's own purchases count).
NOK per tonne = (yearly cost + one-off cost / lifetime) / tonnes per year; a negative cost is a saving.
Measured effect (selectors/effect.py, LMDI-I): for an implemented (or verified) measure, the intensity part of the
change in kg CO2e of its organisations' purchases in its categories (and the category switched to) from the year
before implementation to the implementation year; negative is a cut, whatever spending did.

A measure that names a library requirement (Measure.requirement) takes the requirement's expected effect instead of
its own mechanism: {"kind": "intensity_cut", "percent": p} is an intensity cut of p % in the measure's categories;
{"kind": "switch", "from": A, "to": B, "share": s} a switch of s × 100 % of A's purchases to B (a requirement
without an effect, kind "none", leaves the measure's own mechanism). A measure bound to an agreement of the
register (Measure.agreement holds its number) takes effect the day after the agreement's current end (its end or
next option date, when it is renewed); one whose agreement is not in the register from its own renewal date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Prefetch, Q
from django.utils.translation import gettext

from klimainnkjop.access import Scope, in_scope
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import effect as effect_split
from klimainnkjop.selectors import results
from klimainnkjop.storage.models import (
    Agreement,
    Category,
    Factor,
    FactorSet,
    Measure,
    MeasurePackage,
    MeasureStatusChange,
    PackageAdoption,
    PackageMeasure,
    Requirement,
)

KINDS = dict(Measure.KINDS)
STATUSES = Measure.STATUSES
MECHANISMS = Measure.MECHANISMS
NotFound = Measure.DoesNotExist
PackageNotFound = MeasurePackage.DoesNotExist


class NoPackageAdopted(ValueError):
    """A trajectory without a package: none is named and none is adopted by the organisations asked about."""

LIST_FIELDS = ["id", "name", "kind", "mechanism", "percent", "status", "categories", "to_category", "organisations",
               "baseline_year", "expected_kg_per_year", "expected_kg_low", "expected_kg_high", "cost_once_nok",
               "cost_nok_per_year", "nok_per_tonne", "measured_kg_per_year", "effective_from", "not_computed",
               "agreement", "agreement_in_register", "requirement"]


# --- what a viewer may see ------------------------------------------------------------------------------------

@in_scope
def _visible(scope: Scope, org: str | None = None):
    """Measures of the region (no organisations) and of organisations in the scope; with org: those that apply
    to it."""
    query = Measure.objects.select_related("to_category").prefetch_related("categories", "organisations")
    if org is not None:
        scope.check(org)
        return query.filter(Q(organisations__isnull=True) | Q(organisations__orgnr=org)).distinct()
    if scope.everything:
        return query
    return query.filter(Q(organisations__isnull=True) | Q(organisations__orgnr__in=scope.orgnrs)).distinct()


@in_scope
def measures(scope: Scope, *, org: str | None = None) -> list[Measure]:
    return list(_visible(scope, org).order_by("id"))


@in_scope
def measure(scope: Scope, pk: int) -> Measure:
    """One measure the scope may see; NotFound otherwise."""
    return _visible(scope).get(pk=pk)


@in_scope
def history(scope: Scope, m: Measure) -> list[MeasureStatusChange]:
    """The measure's status changes, oldest first; adoptions by organisations outside the scope are left out."""
    rows = MeasureStatusChange.objects.filter(measure=m).select_related("organisation").order_by("id")
    return [r for r in rows if r.organisation is None or scope.allows(r.organisation.orgnr)]


@in_scope
def packages(scope: Scope) -> list[MeasurePackage]:
    """The region's ambition packages (every signed-in person sees them; figures and adoptions are scoped)."""
    items = Prefetch("items", queryset=PackageMeasure.objects.select_related("measure").order_by("position"))
    return list(MeasurePackage.objects.prefetch_related(items).order_by("id"))


@in_scope
def package(scope: Scope, name: str) -> MeasurePackage:
    items = Prefetch("items", queryset=PackageMeasure.objects.select_related("measure").order_by("position"))
    return MeasurePackage.objects.prefetch_related(items).get(name=name)


@in_scope
def package_by_id(scope: Scope, pk: int) -> MeasurePackage:
    items = Prefetch("items", queryset=PackageMeasure.objects.select_related("measure").order_by("position"))
    return MeasurePackage.objects.prefetch_related(items).get(pk=pk)


@in_scope
def package_measures(scope: Scope, pkg: MeasurePackage) -> list[Measure]:
    """The package's measures that the scope may see (_visible: the region's and its organisations'), in the order
    they are applied (prefetched like `measures`). A package is the region's; a measure of another organisation in
    it is not shown, nor counted, to a person outside that organisation."""
    ids = [item.measure_id for item in pkg.items.all()]
    found = {m.pk: m for m in _visible(scope).filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


@in_scope
def adoptions(scope: Scope, pkg: MeasurePackage | None = None) -> list[PackageAdoption]:
    rows = PackageAdoption.objects.select_related("package", "organisation").order_by("-adopted_on", "-id")
    if pkg is not None:
        rows = rows.filter(package=pkg)
    return [a for a in rows if scope.allows(a.organisation.orgnr)]


@in_scope
def adopted_package(scope: Scope, orgnr: str) -> PackageAdoption | None:
    """The organisation's latest adoption of a package (what its trajectory uses)."""
    scope.check(orgnr)
    return (PackageAdoption.objects.filter(organisation__orgnr=orgnr).select_related("package", "organisation")
            .order_by("-adopted_on", "-id").first())


# --- the account's cells --------------------------------------------------------------------------------------

@dataclass
class Cells:
    """The baseline year's purchases per organisation × category, in the scope (consolidated)."""
    year: int
    org: np.ndarray
    category: np.ndarray
    kg: np.ndarray
    low: np.ndarray
    high: np.ndarray
    spend_nok: np.ndarray
    run: int | None = None

    @property
    def empty(self) -> bool:
        return len(self.kg) == 0


@in_scope
def cells(scope: Scope, year: int, *, org: str | None = None, months: tuple[int, ...] | None = None) -> Cells:
    """One grouped read of the latest run's results (selectors.results.totals by org × category; of `months` only,
    when given), cached per run and scope like the dashboards' figures. Empty when nothing is computed."""
    run = results.latest_run()
    if run is None:
        return _cells(year, [], None)
    if org is not None:
        scope.check(org)
    rows = results.cached("measure-cells", scope, run, (year, org, months), lambda: results.totals(
        scope, org=org, year=year, months=list(months) if months else None, by=["org", "category"],
        consolidated=True, run=run)["rows"])
    return _cells(year, rows, run.run.pk)


def _under_way(scope: Scope, year: int, org: str | None) -> int | None:
    """The last month of `year` when it is a year under way (dashboard.under_way_through), else None."""
    run = results.latest_run()
    if run is None:
        return None
    return results.cached("measure-under-way", scope, run, (year, org), lambda: dashboard.year_under_way(
        scope, run, year, org=org, consolidated=True))


def _cells(year: int, rows: list[dict], run: int | None) -> Cells:
    return Cells(year=year, org=np.array([r["org"] for r in rows], dtype=object),
                 category=np.array([r["category"] or "" for r in rows], dtype=object),
                 kg=np.array([r["kg_co2e"] for r in rows], dtype=float),
                 low=np.array([r["kg_co2e_low"] for r in rows], dtype=float),
                 high=np.array([r["kg_co2e_high"] for r in rows], dtype=float),
                 spend_nok=np.array([r["spend_nok"] for r in rows], dtype=float), run=run)


def _subtrees(codes: list[str]) -> dict[str, str]:
    """Every category in the subtrees of `codes` -> the code of the subtree it is in (the nearest)."""
    parents = dict(Category.objects.values_list("code", "parent__code"))
    out: dict[str, str] = {}
    for code in parents:
        node: str | None = code
        while node is not None:
            if node in codes:
                out[code] = node
                break
            node = parents.get(node)
    return out


# --- factors of a switch ----------------------------------------------------------------------------------------

@dataclass
class Ratio:
    value: float
    low: float
    high: float
    basis: str
    unit: str
    from_ref: str
    to_ref: str


def _library_factors(code: str, year: int) -> dict[tuple[str, str], Factor]:
    """(basis, unit) -> the factor the library has for the category (or its nearest ancestor) in the year:
    activity sets first, then the default spend set."""
    parents = dict(Category.objects.values_list("code", "parent__code"))
    chain: list[str] = []
    node: str | None = code
    while node is not None:
        chain.append(node)
        node = parents.get(node)
    candidates = (Factor.objects.select_related("factor_set", "category")
                  .filter(category__code__in=chain, factor_set__status=FactorSet.STATUS_PUBLISHED,
                          factor_set__role__in=[FactorSet.ROLE_ACTIVITY, FactorSet.ROLE_SPEND_DEFAULT],
                          valid_from_year__lte=year, valid_to_year__gte=year))
    out: dict[tuple[str, str], tuple[int, Factor]] = {}
    for f in candidates:
        depth = chain.index(f.category.code)
        key = (f.basis, f.unit)
        if key not in out or depth < out[key][0]:
            out[key] = (depth, f)
    return {key: f for key, (_, f) in out.items()}


def switch_ratio(from_code: str, to_code: str, year: int) -> Ratio | str:
    """B / A of the library's factors of the same basis and unit (activity first), or why there is none."""
    a, b = _library_factors(from_code, year), _library_factors(to_code, year)
    shared = sorted(set(a) & set(b), key=lambda k: (k[0] != Factor.BASIS_ACTIVITY, k[1]))
    if not shared:
        return (f"the factor library has no factors of the same basis and unit for {from_code} and {to_code} "
                f"in {year}")
    key = shared[0]
    fa, fb = a[key], b[key]
    if fa.value <= 0:
        return f"the factor of {from_code} is not positive"
    return Ratio(fb.value / fa.value, fb.low / fa.value, fb.high / fa.value, key[0], key[1],
                 f"{fa.factor_set.label}#{fa.pk}", f"{fb.factor_set.label}#{fb.pk}")


# --- one measure's fraction of each cell ------------------------------------------------------------------------

@dataclass
class Fraction:
    mask: np.ndarray
    f: np.ndarray
    f_low: np.ndarray
    f_high: np.ndarray
    reason: str = ""
    ratios: dict = field(default_factory=dict)


@dataclass
class Mechanism:
    """What a measure does to the cells: its own mechanism, or the expected effect of the requirement it names."""
    mechanism: str
    percent: float
    codes: list[str]
    to_code: str | None
    requirement: str = ""


def requirement_effect(code: str) -> dict:
    """The library requirement's expected effect ({} when it has none or is not in the library)."""
    if not code:
        return {}
    effect = Requirement.objects.filter(code=code).values_list("expected_effect", flat=True).first() or {}
    return effect if effect.get("kind") in ("switch", "intensity_cut") else {}


def mechanism_of(m: Measure) -> Mechanism:
    codes = [cat.code for cat in m.categories.all()]
    effect = requirement_effect(m.requirement)
    if effect.get("kind") == "intensity_cut":
        return Mechanism(Measure.MECHANISM_INTENSITY, float(effect["percent"]), codes, None, m.requirement)
    if effect.get("kind") == "switch":
        return Mechanism(Measure.MECHANISM_SWITCH, 100.0 * float(effect["share"]), [effect["from"]], effect["to"],
                         m.requirement)
    return Mechanism(m.mechanism, m.percent, codes, m.to_category.code if m.to_category_id else None)


def fraction(m: Measure, c: Cells, *, orgs: set[str] | None = None) -> Fraction:
    """The share of each cell's kg the measure removes (0 outside its organisations and categories)."""
    spec = mechanism_of(m)
    codes = spec.codes
    subtree = _subtrees(codes)
    measure_orgs = {o.orgnr for o in m.organisations.all()}
    origin = np.array([subtree.get(code, "") for code in c.category], dtype=object)
    mask = origin != ""
    if measure_orgs:
        mask &= np.isin(c.org, list(measure_orgs))
    if orgs is not None:
        mask &= np.isin(c.org, list(orgs))
    share = spec.percent / 100.0
    zeros = np.zeros(len(c.kg))
    if spec.mechanism in (Measure.MECHANISM_QUANTITY, Measure.MECHANISM_INTENSITY):
        f = np.where(mask, share, 0.0)
        return Fraction(mask, f, f.copy(), f.copy())
    if spec.mechanism != Measure.MECHANISM_SWITCH or spec.to_code is None:
        return Fraction(mask, zeros, zeros, zeros, reason=f"unknown mechanism {spec.mechanism}")
    f, f_low, f_high = zeros.copy(), zeros.copy(), zeros.copy()
    ratios: dict[str, Ratio] = {}
    for code in codes:
        ratio = switch_ratio(code, spec.to_code, c.year)
        if isinstance(ratio, str):
            return Fraction(mask, zeros, zeros, zeros, reason=ratio)
        ratios[code] = ratio
        here = mask & (origin == code)
        f = np.where(here, share * (1 - ratio.value), f)
        # the cut is smallest where the new factor is at its highest
        f_low = np.where(here, share * (1 - ratio.high), f_low)
        f_high = np.where(here, share * (1 - ratio.low), f_high)
    return Fraction(mask, f, f_low, f_high, ratios=ratios)


def _range(kg_low: float, kg: float, kg_high: float) -> tuple[float, float]:
    return min(kg_low, kg, kg_high), max(kg_low, kg, kg_high)


# --- expected effect ---------------------------------------------------------------------------------------------

@dataclass
class Effect:
    kg: float | None                 # expected kg CO2e per year less; None: cannot be computed (reason says why)
    low: float | None = None
    high: float | None = None
    base_kg: float = 0.0             # the baseline year's kg of the purchases it changes
    base_spend_nok: float = 0.0
    cells: int = 0
    year: int | None = None
    run: int | None = None
    reason: str = ""
    ratios: dict = field(default_factory=dict)


def annual_cost_nok(m: Measure) -> float:
    """Yearly cost plus the one-off cost spread over the lifetime (NOK; negative: a saving)."""
    return (m.cost_yearly_ore + m.cost_once_ore / max(m.lifetime_years, 1)) / 100.0


def nok_per_tonne(cost_nok: float, kg: float | None) -> float | None:
    if kg is None or kg <= 0:
        return None
    return cost_nok / (kg / 1000.0)


@in_scope
def expected_effect(scope: Scope, m: Measure, *, org: str | None = None, year: int | None = None,
                    cell_cache: dict | None = None) -> Effect:
    """The measure's expected cut per year, computed from the baseline year's purchases in the scope (and of
    `org` only, when given)."""
    year = year or m.baseline_year
    key = (year, org, None)  # the whole year (measured_effect's key names the months it reads)
    if cell_cache is not None and key in cell_cache:
        c = cell_cache[key]
    else:
        c = cells(scope, year, org=org)
        if cell_cache is not None:
            cell_cache[key] = c
    if c.run is None:
        return Effect(None, year=year, reason="nothing is computed yet: run the computation of the account first")
    fr = fraction(m, c)
    if fr.reason:
        return Effect(None, year=year, run=c.run, reason=fr.reason)
    if not fr.mask.any():
        cats = ", ".join(mechanism_of(m).codes)
        return Effect(None, year=year, run=c.run,
                      reason=f"the account of {year} has no purchases in {cats} for the measure's organisations "
                             "in this view")
    kg = float((c.kg * fr.f).sum())
    low, high = _range(float((c.low * fr.f_low).sum()), kg, float((c.high * fr.f_high).sum()))
    return Effect(kg, low, high, base_kg=float(c.kg[fr.mask].sum()), base_spend_nok=float(c.spend_nok[fr.mask].sum()),
                  cells=int(fr.mask.sum()), year=year, run=c.run, ratios=fr.ratios)


def bound_agreement(m: Measure) -> Agreement | None:
    """The agreement of the register the measure is bound to (Measure.agreement is its number), if any."""
    number = (m.agreement or "").strip()
    return Agreement.objects.filter(number=number).first() if number else None


def renewal_of(agreement: Agreement) -> dt.date:
    """When a measure bound to the agreement takes effect: the day after its current end (its end, or its next
    option date while options are left), when it is renewed or its option is taken up; never for an agreement
    without end (31.12.9999: the calendar's last day)."""
    return dt.date.max if agreement.end == dt.date.max else agreement.end + dt.timedelta(days=1)


def effective_from(m: Measure) -> dt.date | None:
    """An agreement-bound measure takes effect when the agreement is renewed (the register's date first, else the
    measure's own renewal date); others from their date."""
    agreement = bound_agreement(m)
    if agreement is not None:
        return renewal_of(agreement)
    if m.agreement and m.agreement_renewal:
        return m.agreement_renewal
    return m.effective_date


@in_scope
def measures_for_agreement(scope: Scope, number: str) -> list[Measure]:
    """The measures the scope sees that target the agreement (bound to it by its number)."""
    return list(_visible(scope).filter(agreement=number).order_by("id"))


def measures_targeting(number: str, orgnr: str) -> list[Measure]:
    """The measures that target the agreement and apply to the organisation (none named: the whole region): what a
    renewal's procurement case of that organisation brings in."""
    return list(Measure.objects.filter(agreement=number)
                .filter(Q(organisations__isnull=True) | Q(organisations__orgnr=orgnr)).distinct().order_by("id"))


IMPLEMENTED = (Measure.STATUS_IMPLEMENTED, Measure.STATUS_VERIFIED)


@in_scope
def implemented_against_planned(scope: Scope, *, org: str | None, end: dt.date) -> tuple[int, int]:
    """(implemented, planned) by the day `end`, of the measures that apply to the organisation (org None: every
    measure the scope sees). Planned: adopted by `end` (a status change to adopted dated by then, by the organisation
    when org is given) or in a package the organisation (org None: any in the scope) adopted by then, and due by
    then (effective_from on or before `end`, or no date); implemented: a status change to implemented or verified
    dated by then (such a measure counts as planned too)."""
    found = measures(scope, org=org)
    if not found:
        return 0, 0
    ids = [m.pk for m in found]
    changes = MeasureStatusChange.objects.filter(measure_id__in=ids).select_related("organisation")
    adopted: set[int] = set()
    implemented: set[int] = set()
    for change in changes:
        day = change.date or change.created_at.date()
        if day > end:
            continue
        if change.status in IMPLEMENTED:
            implemented.add(change.measure_id)
        elif change.status == Measure.STATUS_ADOPTED and (
                org is None or (change.organisation is not None and change.organisation.orgnr == org)):
            adopted.add(change.measure_id)
    adoptions = PackageAdoption.objects.filter(adopted_on__lte=end)
    adoptions = adoptions.filter(organisation__orgnr=org) if org is not None else adoptions.filter(
        organisation__orgnr__in=[o.orgnr for o in scope.organisations()])
    adopted |= set(PackageMeasure.objects.filter(package_id__in=adoptions.values("package_id"), measure_id__in=ids)
                   .values_list("measure_id", flat=True))
    due = set()
    for m in found:
        if m.pk in adopted:
            start = effective_from(m)
            if start is None or start <= end:
                due.add(m.pk)
    planned = due | implemented
    return len(implemented), len(planned)


@in_scope
def measure_row(scope: Scope, m: Measure, *, org: str | None = None, cell_cache: dict | None = None) -> dict:
    """A measure as the list, the CLI and the pages show it."""
    effect = expected_effect(scope, m, org=org, cell_cache=cell_cache)
    measured = measured_effect(scope, m, org=org, cell_cache=cell_cache)
    cost = annual_cost_nok(m)
    start = effective_from(m)
    return {
        "id": m.pk, "name": m.name, "kind": m.kind, "mechanism": m.mechanism, "percent": m.percent,
        "status": m.status, "categories": [c.code for c in m.categories.all()],
        "to_category": m.to_category.code if m.to_category_id else None,
        "organisations": sorted(o.orgnr for o in m.organisations.all()), "baseline_year": m.baseline_year,
        "expected_kg_per_year": effect.kg, "expected_kg_low": effect.low, "expected_kg_high": effect.high,
        "cost_once_nok": m.cost_once_ore / 100.0, "cost_nok_per_year": cost,
        "nok_per_tonne": nok_per_tonne(cost, effect.kg),
        "measured_kg_per_year": measured.intensity_kg if measured.computed else None,
        "effective_from": start.isoformat() if start else None, "not_computed": effect.reason or None,
        "agreement": m.agreement or None, "agreement_in_register": bound_agreement(m) is not None,
        "requirement": m.requirement or None,
    }


# --- measured effect ---------------------------------------------------------------------------------------------

@dataclass
class Measured:
    """What the account shows of an implemented measure: its purchases' change in kg CO2e from the year before
    implementation to the implementation year, split by LMDI-I (selectors/effect.py). intensity_kg is the measured
    effect (negative: a cut); volume_kg is what more or less spending did."""
    from_year: int | None = None
    to_year: int | None = None
    kg_from: float = 0.0
    kg_to: float = 0.0
    volume_kg: float = 0.0
    intensity_kg: float = 0.0
    spend_from_nok: float = 0.0
    spend_to_nok: float = 0.0
    spend_to_constant_nok: float = 0.0
    deflated: bool = False
    rows: list = field(default_factory=list)  # per organisation × category
    reason: str = ""
    method_kg: float = 0.0  # the part from a change of method (selectors/effect.py), not in intensity_kg
    through_month: int | None = None  # the implementation year under way: both years to this month (dashboards')

    @property
    def computed(self) -> bool:
        return not self.reason

    @property
    def change_kg(self) -> float:
        return self.kg_to - self.kg_from


def implemented_on(m: Measure) -> dt.date | None:
    """The date of the measure's latest step to implemented (else its effective date or agreement renewal)."""
    step = (MeasureStatusChange.objects.filter(measure=m, status=Measure.STATUS_IMPLEMENTED, date__isnull=False)
            .order_by("-id").values_list("date", flat=True).first())
    return step or effective_from(m)


def _measure_codes(m: Measure) -> set[str]:
    codes = [cat.code for cat in m.categories.all()] + ([m.to_category.code] if m.to_category_id else [])
    return set(_subtrees(codes))


@in_scope
def measured_effect(scope: Scope, m: Measure, *, org: str | None = None, cell_cache: dict | None = None) -> Measured:
    """The measured effect of an implemented or verified measure in the scope (and of `org` only, when given); the
    reason says why there is none."""
    if m.status not in (Measure.STATUS_IMPLEMENTED, Measure.STATUS_VERIFIED):
        return Measured(reason="not implemented")
    start = implemented_on(m)
    if start is None:
        return Measured(reason="no date of implementation")
    year = start.year

    # a year under way is compared with the same months of the year before (the dashboards' rule)
    through = _under_way(scope, year, org)
    months = dashboard.so_far(through) if through else None

    def of(y: int) -> Cells:
        key = (y, org, months)
        if cell_cache is not None and key in cell_cache:
            return cell_cache[key]
        c = cells(scope, y, org=org, months=months)
        if cell_cache is not None:
            cell_cache[key] = c
        return c

    c0, c1 = of(year - 1), of(year)
    if c1.run is None:
        return Measured(year - 1, year, reason="nothing is computed yet")
    codes = _measure_codes(m)
    measure_orgs = {o.orgnr for o in m.organisations.all()}

    def keep(c: Cells) -> np.ndarray:
        mask = np.isin(c.category, list(codes)) if len(c.kg) else np.zeros(0, dtype=bool)
        if measure_orgs:
            mask &= np.isin(c.org, list(measure_orgs))
        return mask

    m0, m1 = keep(c0), keep(c1)
    if not m1.any():
        return Measured(year - 1, year, reason=f"the account of {year} has no purchases in the measure's categories")
    if not m0.any():
        return Measured(year - 1, year, reason=f"the account of {year - 1} has no purchases in the measure's "
                                               "categories")
    factor = effect_split.price_factor(year - 1, year)
    keys, [(kg0, kg1), (s0, s1)] = effect_split.align(
        list(zip(c0.org[m0], c0.category[m0])), list(zip(c1.org[m1], c1.category[m1])),
        (c0.kg[m0], c1.kg[m1]), (c0.spend_nok[m0], c1.spend_nok[m1]))
    s1_constant = s1 * (factor if factor is not None else 1.0)
    # a change of method (spend-based to quantities, say) is its own part, never a measured cut (issue 15 item 6)
    wanted = set(keys)
    by_method = effect_split.method_part(*(_method_cells(scope, y, org, wanted, months) for y in (year - 1, year)),
                                         factor if factor is not None else 1.0)
    method = np.array([by_method.get(k, 0.0) for k in keys], dtype=float)
    volume, intensity = effect_split.lmdi(kg0, kg1 - method, float(s0.sum()), float(s1_constant.sum()))
    rows = sorted(({"org": k[0], "category": k[1], "kg_from": float(kg0[i]), "kg_to": float(kg1[i]),
                    "volume_kg": float(volume[i]), "intensity_kg": float(intensity[i]), "method_kg": float(method[i]),
                    "spend_from_nok": float(s0[i]), "spend_to_nok": float(s1[i])} for i, k in enumerate(keys)),
                  key=lambda r: (r["intensity_kg"], r["org"], r["category"]))
    return Measured(year - 1, year, float(kg0.sum()), float(kg1.sum()), float(volume.sum()), float(intensity.sum()),
                    float(s0.sum()), float(s1.sum()), float(s1_constant.sum()), factor is not None, rows,
                    method_kg=float(method.sum()), through_month=through)


@in_scope
def _method_cells(scope: Scope, year: int, org: str | None, wanted: set, months: tuple[int, ...] | None = None
                  ) -> dict:
    """{(org, category): {method: (spend_nok, kg)}} of a year's purchases (consolidated; of `months` only, when
    given), for the cells wanted."""
    run = results.latest_run()
    if run is None:
        return {}
    rows = results.cached("measure-method-cells", scope, run, (year, org, months), lambda: results.totals(
        scope, org=org, year=year, months=list(months) if months else None, by=["org", "category", "method"],
        consolidated=True, run=run)["rows"])
    out: dict = {}
    for r in rows:
        key = (r["org"], r["category"] or "")
        if key in wanted:
            spend, kg = out.setdefault(key, {}).get(r["method"] or "", (0.0, 0.0))
            out[key][r["method"] or ""] = (spend + r["spend_nok"], kg + r["kg_co2e"])
    return out


@in_scope
def measure_rows(scope: Scope, *, org: str | None = None) -> list[dict]:
    cache: dict = {}
    return [measure_row(scope, m, org=org, cell_cache=cache) for m in measures(scope, org=org)]


# --- packages -----------------------------------------------------------------------------------------------------

@dataclass
class PackageEffect:
    rows: list[dict]        # per measure in order: its contribution after the measures before it
    kg: float
    low: float
    high: float
    cost_nok_per_year: float
    nok_per_tonne: float | None
    base_kg: float          # the baseline year's kg of the whole view (every category)
    year: int


def apply_in_order(c: Cells, fractions: list[Fraction], active: list[float] | None = None):
    """Applies the fractions one after the other to the cells: each works on what those before it left.
    Returns per fraction (kg, low, high) of its contribution. `active`: the share of each that is in effect."""
    remaining = np.ones(len(c.kg))
    remaining_low = np.ones(len(c.kg))
    remaining_high = np.ones(len(c.kg))
    out = []
    for i, fr in enumerate(fractions):
        a = 1.0 if active is None else active[i]
        f, f_low, f_high = fr.f * a, fr.f_low * a, fr.f_high * a
        kg = float((c.kg * remaining * f).sum())
        low = float((c.low * remaining_low * f_low).sum())
        high = float((c.high * remaining_high * f_high).sum())
        out.append((kg, *_range(low, kg, high)))
        remaining, remaining_low, remaining_high = remaining * (1 - f), remaining_low * (1 - f_low), \
            remaining_high * (1 - f_high)
    return out


@in_scope
def package_effect(scope: Scope, pkg: MeasurePackage, *, org: str | None = None) -> PackageEffect:
    """The package's total cut, cost and NOK per tonne without double counting, and each measure's part."""
    c = cells(scope, pkg.baseline_year, org=org)
    ms = package_measures(scope, pkg)
    fractions = [fraction(m, c) for m in ms]
    parts = apply_in_order(c, fractions)
    rows = []
    for m, fr, (kg, low, high) in zip(ms, fractions, parts):
        computed = c.run is not None and not fr.reason and fr.mask.any()
        cost = annual_cost_nok(m)
        rows.append({"id": m.pk, "name": m.name, "kind": m.kind, "status": m.status,
                     "kg_per_year": kg if computed else None, "kg_low": low if computed else None,
                     "kg_high": high if computed else None, "cost_nok_per_year": cost,
                     "nok_per_tonne": nok_per_tonne(cost, kg) if computed else None,
                     "not_computed": None if computed else (fr.reason or "no purchases in its categories")})
    kg = sum(r["kg_per_year"] or 0.0 for r in rows)
    cost = sum(r["cost_nok_per_year"] for r in rows)
    return PackageEffect(rows, kg, sum(r["kg_low"] or 0.0 for r in rows), sum(r["kg_high"] or 0.0 for r in rows),
                         cost, nok_per_tonne(cost, kg), float(c.kg.sum()), pkg.baseline_year)


@in_scope
def package_rows(scope: Scope, *, org: str | None = None) -> list[dict]:
    """Every package with its cut, cost and NOK per tonne on the purchases in view (of `org` only, when given) and
    who adopted it."""
    out = []
    for pkg in packages(scope):
        effect = package_effect(scope, pkg, org=org)
        out.append({"id": pkg.pk, "name": pkg.name, "baseline_year": pkg.baseline_year,
                    "measures": [row["name"] for row in effect.rows],
                    "expected_kg_per_year": effect.kg, "expected_kg_low": effect.low,
                    "expected_kg_high": effect.high, "cost_nok_per_year": effect.cost_nok_per_year,
                    "nok_per_tonne": effect.nok_per_tonne,
                    "adopted_by": [{"orgnr": a.organisation.orgnr, "name": a.organisation.name,
                                    "adopted_on": a.adopted_on.isoformat(), "case_number": a.case_number}
                                   for a in adoptions(scope, pkg)]})
    return out


# --- abatement curve ----------------------------------------------------------------------------------------------

def abatement_curve(rows: list[dict], *, kg_key: str = "expected_kg_per_year") -> list[dict]:
    """The marginal abatement cost curve: measures with a cut, cheapest per tonne first; each a bar from x0 to x1
    (tonnes per year, cumulated) with the height NOK per tonne."""
    bars = sorted((r for r in rows if r.get(kg_key) and r[kg_key] > 0 and r.get("nok_per_tonne") is not None),
                  key=lambda r: (r["nok_per_tonne"], -r[kg_key]))
    out, x = [], 0.0
    for rank, r in enumerate(bars, start=1):
        tonnes = r[kg_key] / 1000.0
        out.append({"rank": rank, "id": r["id"], "name": r["name"], "kind": r["kind"], "tonnes_per_year": tonnes,
                    "nok_per_tonne": r["nok_per_tonne"], "x0": x, "x1": x + tonnes})
        x += tonnes
    return out


def ranking_by_tonnes(rows: list[dict]) -> list[dict]:
    return sorted((r for r in rows if r.get("expected_kg_per_year") is not None),
                  key=lambda r: -r["expected_kg_per_year"])


# --- trajectory ---------------------------------------------------------------------------------------------------

def _active_share(start: dt.date | None, year: int, baseline_year: int) -> float:
    """The share of `year` in which a measure that starts on `start` is in effect (no date: from 1 January of the
    year after the baseline year)."""
    start = start or dt.date(baseline_year + 1, 1, 1)
    if year < start.year:
        return 0.0
    if year > start.year:
        return 1.0
    days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    return (dt.date(year + 1, 1, 1) - start).days / days


@in_scope
def trajectory(scope: Scope, *, to_year: int, org: str | None = None, package_name: str | None = None,
               baseline_year: int | None = None, growth_percent: float = 0.0) -> dict:
    """Expected kg CO2e per year from the baseline year to `to_year`: business as usual (spend growing by
    `growth_percent` a year) and with the package (the named one for every organisation; without a name, each
    organisation's latest adopted package), each measure from its effective date or agreement renewal."""
    if org is not None:
        scope.check(org)
    plans: dict[str, MeasurePackage] = {}
    named = package(scope, package_name) if package_name else None
    orgnrs = [org] if org else [o.orgnr for o in scope.organisations()]
    for orgnr in orgnrs:
        if named is not None:
            plans[orgnr] = named
        else:
            adoption = adopted_package(scope, orgnr)
            if adoption is not None:
                plans[orgnr] = adoption.package
    year0 = baseline_year or (named.baseline_year if named else
                              min((p.baseline_year for p in plans.values()), default=None))
    if year0 is None:
        raise NoPackageAdopted("no package is adopted here: name one (--package) or give the baseline year")
    if to_year < year0:
        raise InvalidInput.at("--to", gettext("%(to)s is before the baseline year %(year)s"), to=to_year, year=year0)
    c = cells(scope, year0, org=org)
    if c.run is None:
        raise results.NoResults()
    # one list of (measure, fraction limited to the organisations that adopted the package it is in)
    entries: list[tuple[Measure, Fraction, str]] = []
    for pkg in {p.pk: p for p in plans.values()}.values():
        holders = {o for o, p in plans.items() if p.pk == pkg.pk}
        for m in package_measures(scope, pkg):
            fr = fraction(m, c, orgs=holders)
            if not fr.reason:
                entries.append((m, fr, pkg.name))
    base = float(c.kg.sum())
    rows = []
    growth = 1 + growth_percent / 100.0
    starts = {m.pk: effective_from(m) for m, _, _ in entries}
    for year in range(year0, to_year + 1):
        scale = growth ** (year - year0)
        active = [_active_share(starts[m.pk], year, year0) if year > year0 else 0.0 for m, _, _ in entries]
        parts = apply_in_order(c, [fr for _, fr, _ in entries], active)
        cut = sum(kg for kg, _, _ in parts) * scale
        rows.append({"year": year, "scenario": "bau", "kg_co2e": base * scale, "reduction_kg": 0.0,
                     "measures_in_effect": 0})
        rows.append({"year": year, "scenario": "package", "kg_co2e": base * scale - cut, "reduction_kg": cut,
                     "measures_in_effect": len({m.pk for (m, _, _), a in zip(entries, active) if a > 0})})
    return {"baseline_year": year0, "to_year": to_year, "growth_percent": growth_percent, "org": org,
            "packages": {o: p.name for o, p in sorted(plans.items())}, "run": c.run, "rows": rows}


@in_scope
def effect_cells(scope: Scope, m: Measure, *, org: str | None = None) -> list[dict]:
    """The baseline year's purchases the measure changes, per organisation × category, with its cut of each:
    what its expected effect traces to (the lines behind each row are the drill-down's)."""
    c = cells(scope, m.baseline_year, org=org)
    fr = fraction(m, c)
    if fr.reason or c.run is None:
        return []
    out = []
    for i in np.flatnonzero(fr.mask):
        out.append({"org": c.org[i], "category": c.category[i], "year": c.year, "kg": float(c.kg[i]),
                    "spend_nok": float(c.spend_nok[i]), "cut_kg": float(c.kg[i] * fr.f[i])})
    return sorted(out, key=lambda r: -r["cut_kg"])
