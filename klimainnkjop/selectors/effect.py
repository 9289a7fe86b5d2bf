"""Measured effect: the change in kg CO2e between two periods split into a volume part (spending more or less, at
constant prices) and an intensity part (buying differently: other categories, other products, lower factors).

The split is the additive log-mean Divisia index, LMDI-I (Ang 2005, "The LMDI approach to decomposition analysis: a
practical guide", Energy Policy 33; Ang & Liu 2007 for zeros). With cells i (categories, or organisation ×
category for a measure), E_i the kg CO2e of cell i, Q the total spend at constant prices and Q_i a cell's,

    E = Σ_i Q × (Q_i / Q) × (E_i / Q_i)          (volume × mix × intensity)
    volume_i    = L(E_i^1, E_i^0) × ln(Q^1 / Q^0)
    intensity_i = L(E_i^1, E_i^0) × ln((E_i^1 / Q^1) / (E_i^0 / Q^0))   (mix and intensity together)
    L(a, b)     = (a − b) / (ln a − ln b),  L(a, a) = a

so volume_i + intensity_i = E_i^1 − E_i^0 exactly, and the parts of the cells add up to the change. Zero values
follow Ang & Liu (2007): a cell that appears (E^0 = 0) or disappears (E^1 = 0) has the weight L = 0 and its whole
change is mix (in the intensity part); so is a cell whose kg is negative in either period (credit notes larger than
purchases), where the logarithms are not defined. Spend is moved to the price year of the first period with the
consumer price index (the engine's own, storage.models.PriceIndex); where the index lacks a year the spend is
nominal and `deflated` says so. When either period's total spend is not positive the volume part is 0.

A change of method is its own part (issue 15 item 6: a change of data source is never shown as a cut). Within a
category, with w_m^t the share of method m (spend-based, activity-based, supplier-specific, or no factor) in the
category's spend (at constant prices) and k_m^t its kg per krone, the spend that moved between methods, d_m = w_m^1
− w_m^0, is valued at each method's kg per krone in the second period (the first where the method is not used in
the second):

    method_i = Q_i^1 × Σ_m d_m × k_m

(Σ_m d_m = 0: only the difference between the methods' kg per krone counts). Volume and intensity then split what
is left, E_i^1 − method_i − E_i^0, by LMDI-I as above, so volume + intensity + method = E_i^1 − E_i^0 in every
category. A category bought in one period only has no method part. Spend-based in the first year and
activity-based in the second at equal spend: the whole change is the method part, none of it a cut.

Figures are read through selectors.results like the dashboards' (one grouped read per period in DuckDB: purchases
per category, or per organisation × category; consolidated for the region) and split with numpy over the cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from klimainnkjop.access import Scope
from klimainnkjop.selectors import results
from klimainnkjop.selectors.dashboard import Period, so_far, unit_subtree, year_under_way
from klimainnkjop.storage.models import Category, PriceIndex


# --- the index ----------------------------------------------------------------------------------------------------

def log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The logarithmic mean L(a, b) = (a − b) / (ln a − ln b), L(a, a) = a; 0 where a or b is not positive."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    positive = (a > 0) & (b > 0)
    sa, sb = np.where(positive, a, 1.0), np.where(positive, b, 1.0)
    diff = np.log(sa) - np.log(sb)
    equal = np.isclose(sa, sb, rtol=1e-12, atol=0.0)
    ratio = np.where(equal, sa, (sa - sb) / np.where(equal, 1.0, diff))
    return np.where(positive, ratio, 0.0)


def lmdi(kg0: np.ndarray, kg1: np.ndarray, spend0: float, spend1: float) -> tuple[np.ndarray, np.ndarray]:
    """LMDI-I per cell: (volume, intensity) in kg, with volume + intensity = kg1 − kg0 for every cell. `spend0` and
    `spend1` are the totals at constant prices over all the cells."""
    kg0, kg1 = np.asarray(kg0, dtype=float), np.asarray(kg1, dtype=float)
    weight = log_mean(kg1, kg0)
    growth = float(np.log(spend1 / spend0)) if spend0 > 0 and spend1 > 0 else 0.0
    volume = weight * growth
    return volume, (kg1 - kg0) - volume


def align(keys0: list[tuple], keys1: list[tuple], *values: tuple[np.ndarray, np.ndarray]):
    """The union of two periods' cell keys, and each pair of value arrays placed on it (0 where a cell is absent)."""
    union = sorted(set(keys0) | set(keys1))
    index = {k: i for i, k in enumerate(union)}
    at0 = np.array([index[k] for k in keys0], dtype=int)
    at1 = np.array([index[k] for k in keys1], dtype=int)
    out = []
    for v0, v1 in values:
        a, b = np.zeros(len(union)), np.zeros(len(union))
        if len(at0):
            np.add.at(a, at0, np.asarray(v0, dtype=float))
        if len(at1):
            np.add.at(b, at1, np.asarray(v1, dtype=float))
        out.append((a, b))
    return union, out


def method_part(cells0: dict, cells1: dict, deflate: float = 1.0) -> dict:
    """Per category, the part of the change that comes from spend moving between methods (see the module's
    docstring). cells[category][method] = (spend_nok, kg); the second period's spend is multiplied by `deflate`
    (to the first period's prices). 0 for a category without positive spend in both periods."""
    out = {}
    for category in set(cells0) | set(cells1):
        m0, m1 = cells0.get(category, {}), cells1.get(category, {})
        total0 = sum(s for s, _ in m0.values())
        total1 = sum(s for s, _ in m1.values()) * deflate
        part = 0.0
        if total0 > 0 and total1 > 0:
            for method in set(m0) | set(m1):
                s0, e0 = m0.get(method, (0.0, 0.0))
                s1, e1 = m1.get(method, (0.0, 0.0))
                s1 *= deflate
                moved = s1 / total1 - s0 / total0
                if moved == 0:
                    continue
                per_nok = e1 / s1 if s1 else (e0 / s0 if s0 else 0.0)
                part += moved * per_nok
            part *= total1
        out[category] = part
    return out


# --- constant prices ----------------------------------------------------------------------------------------------

def price_factor(from_year: int, to_year: int) -> float | None:
    """CPI(from_year) / CPI(to_year): multiplies spend of `to_year` into `from_year`'s prices; None when the index
    lacks either year."""
    index = dict(PriceIndex.objects.filter(year__in=[from_year, to_year]).values_list("year", "value"))
    if from_year not in index or to_year not in index or not index[to_year]:
        return None
    return index[from_year] / index[to_year]


def subtree(code: str) -> set[str]:
    """The category and every category below it; LookupError when there is no such category."""
    parents = dict(Category.objects.values_list("code", "parent__code"))
    if code not in parents:
        raise LookupError(f"no category {code}")
    out = {code}
    frontier = {code}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


# --- the split of one view ----------------------------------------------------------------------------------------

@dataclass
class Split:
    period_from: str
    period_to: str
    org: str | None
    unit: str | None
    category: str | None
    kg_from: float
    kg_to: float
    volume_kg: float
    intensity_kg: float
    spend_from_nok: float
    spend_to_nok: float
    spend_to_constant_nok: float     # the second period's spend in the first period's prices
    price_year: int | None           # the prices spend is compared in; None: nominal (no index for a year)
    run: int
    factor_set: str
    rows: list[dict] = field(default_factory=list)   # per category, largest change first
    method_kg: float = 0.0           # the part from a change of method (spend moved between methods)
    # the second period a year under way (dashboard.under_way_through): both years compared from January to its
    # last month with purchases, as the dashboards compare them; None: the periods whole
    through_month: int | None = None

    @property
    def change_kg(self) -> float:
        return self.kg_to - self.kg_from

    @property
    def deflated(self) -> bool:
        return self.price_year is not None

    def as_dict(self) -> dict:
        return {"period_from": self.period_from, "period_to": self.period_to, "org": self.org, "unit": self.unit,
                "category": self.category, "kg_from": self.kg_from, "kg_to": self.kg_to,
                "change_kg": self.change_kg, "volume_kg": self.volume_kg, "intensity_kg": self.intensity_kg,
                "method_kg": self.method_kg, "spend_from_nok": self.spend_from_nok, "spend_to_nok": self.spend_to_nok,
                "spend_to_constant_nok": self.spend_to_constant_nok, "price_year": self.price_year,
                "deflated": self.deflated, "method": "LMDI-I", "run": self.run, "factor_set": self.factor_set,
                "through_month": self.through_month, "rows": self.rows}


def _per_category(scope: Scope, run: results.Run, org: str | None, period: Period, units: list[str] | None,
                  months: list[int] | None) -> list[dict]:
    return results.totals(scope, org=org, year=period.year, months=months if months else period.months,
                          units=units, by=["category", "method"], run=run)["rows"]


def _through(scope: Scope, run: results.Run, org: str | None, period: Period, units: list[str] | None) -> int | None:
    """The last month of a whole year under way (dashboard.year_under_way), else None."""
    return year_under_way(scope, run, period.year, org=org, units=units) if period.whole_year else None


def _by_method(rows: list[dict]) -> dict:
    cells: dict = {}
    for r in rows:
        spend, kg = cells.setdefault(r["category"] or "", {}).get(r["method"] or "", (0.0, 0.0))
        cells[r["category"] or ""][r["method"] or ""] = (spend + r["spend_nok"], kg + r["kg_co2e"])
    return cells


def effect_split(scope: Scope, *, period_from: Period, period_to: Period, org: str | None = None,
                 unit: str | None = None, category: str | None = None,
                 run: results.Run | None = None) -> Split | None:
    """The change in kg CO2e from `period_from` to `period_to` for an organisation (its unit and sub-units, when
    given) or the region in the scope (consolidated), all categories or one category and those below it, split
    into volume and intensity by LMDI-I over categories, and a change of method. None when nothing is computed
    yet. Cached per compute run, scope and arguments."""
    if org is not None:
        scope.check(org)
    if unit is not None and org is None:
        raise ValueError("a unit needs its organisation")
    units = unit_subtree(scope, org, unit) if unit is not None else None
    codes = subtree(category) if category is not None else None
    run = run or results.latest_run()
    if run is None:
        return None
    args = (period_from.code, period_to.code, org, unit, category)
    return results.cached("effect-split-method", scope, run, args,
                          lambda: _split(scope, run, period_from, period_to, org, unit, units, category, codes))


def _split(scope, run, period_from, period_to, org, unit, units, category, codes) -> Split:
    # a year under way is compared with the same months of the earlier year (a whole year against eleven months
    # of the next looked like a cut)
    through = _through(scope, run, org, period_to, units)
    months = list(so_far(through)) if through else None
    cells0 = _by_method(_per_category(scope, run, org, period_from, units, months))
    cells1 = _by_method(_per_category(scope, run, org, period_to, units, months))
    if codes is not None:
        cells0 = {c: m for c, m in cells0.items() if c in codes}
        cells1 = {c: m for c, m in cells1.items() if c in codes}
    factor = price_factor(period_from.year, period_to.year)
    deflate = factor if factor is not None else 1.0

    def sums(cells: dict, at: int) -> tuple[list, list]:
        return [sum(v[at] for v in cells[c].values()) for c in cells], list(cells)

    kg_list0, cats0 = sums(cells0, 1)
    kg_list1, cats1 = sums(cells1, 1)
    keys, [(kg0, kg1), (s0, s1)] = align(
        [(c,) for c in cats0], [(c,) for c in cats1], (kg_list0, kg_list1), (sums(cells0, 0)[0], sums(cells1, 0)[0]))
    s1_constant = s1 * deflate
    by_method = method_part(cells0, cells1, deflate)
    method = np.array([by_method.get(key[0], 0.0) for key in keys], dtype=float)
    volume, intensity = lmdi(kg0, kg1 - method, float(s0.sum()), float(s1_constant.sum()))
    rows = [{"category": key[0], "kg_from": float(kg0[i]), "kg_to": float(kg1[i]),
             "change_kg": float(kg1[i] - kg0[i]), "volume_kg": float(volume[i]), "intensity_kg": float(intensity[i]),
             "method_kg": float(method[i]), "spend_from_nok": float(s0[i]), "spend_to_nok": float(s1[i]),
             "spend_to_constant_nok": float(s1_constant[i])} for i, key in enumerate(keys)]
    rows.sort(key=lambda r: (-abs(r["change_kg"]), r["category"]))
    return Split(period_from=period_from.code, period_to=period_to.code, org=org, unit=unit, category=category,
                 kg_from=float(kg0.sum()), kg_to=float(kg1.sum()), volume_kg=float(volume.sum()),
                 intensity_kg=float(intensity.sum()), spend_from_nok=float(s0.sum()), spend_to_nok=float(s1.sum()),
                 spend_to_constant_nok=float(s1_constant.sum()),
                 price_year=period_from.year if factor is not None else None, run=run.run.pk,
                 factor_set=run.factor_set_label, rows=rows, method_kg=float(method.sum()), through_month=through)


def years(scope: Scope, *, org: str | None = None, run: results.Run | None = None) -> list[int]:
    """The years with purchases in the scope (of `org` only, when given), oldest first; cached per run and scope."""
    if org is not None:
        scope.check(org)
    run = run or results.latest_run()
    if run is None:
        return []
    return results.cached("effect-years", scope, run, (org,), lambda: [
        r["year"] for r in results.totals(scope, org=org, by=["year"], run=run)["rows"]])
