"""Reads of the factor library (public reference data: no organisation scope) and of where factors are used
(engine results: scoped)."""
from __future__ import annotations

import ibis
from django.db.models import Q
from django.shortcuts import get_object_or_404
from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.core.electricity import ELECTRICITY, LOCATION_SET, MARKET_SET, TYPICAL_PRICE  # noqa: F401
from klimainnkjop.selectors.results import _lines_table, latest_run, scoped
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import Category, CategoryMapping, ExchangeRate, Factor, FactorSet

FIELDS = ["set", "version", "publisher", "licence", "attribution", "gwp_basis", "status", "role", "id", "key",
          "category_nb", "category_en", "basis", "unit", "currency", "price_year", "price_type", "value", "low",
          "high", "region", "valid_from", "valid_to", "quality", "source_ref", "note"]

# The vocabulary of factors for the faces (so that they need not import the models)
BASIS_SPEND, BASIS_ACTIVITY = Factor.BASIS_SPEND, Factor.BASIS_ACTIVITY
ROLE_SPEND_DEFAULT, ROLE_SPEND_FALLBACK = FactorSet.ROLE_SPEND_DEFAULT, FactorSet.ROLE_SPEND_FALLBACK
ROLE_ACTIVITY = FactorSet.ROLE_ACTIVITY
ROLE_MARKET = FactorSet.ROLE_MARKET
STATUS_PUBLISHED, STATUS_DRAFT = FactorSet.STATUS_PUBLISHED, FactorSet.STATUS_DRAFT


def factor(pk: int) -> Factor:
    """One factor with its set and category (and the category's parent); 404 if there is none."""
    return get_object_or_404(Factor.objects.select_related("factor_set", "category", "category__parent"), pk=pk)


def categories():
    """The category taxonomy by code, with parents (shared reference data)."""
    return Category.objects.select_related("parent").order_by("code")


def category_mappings(scheme: str | None = None):
    """Mappings from other code schemes to categories, by scheme and code; `scheme`: only that scheme."""
    rows = CategoryMapping.objects.select_related("category").order_by("scheme", "code")
    return rows.filter(scheme=scheme) if scheme else rows


def factor_sets():
    return FactorSet.objects.order_by("name", "-id")


def factors(*, set_name: str | None = None, query: str = "", limit: int | None = None):
    qs = Factor.objects.select_related("factor_set", "category").order_by("factor_set__name", "factor_set__version",
                                                                          "category__code", "basis", "unit")
    if set_name:
        name, _, version = set_name.partition(":")
        qs = qs.filter(factor_set__name=name)
        if version:
            qs = qs.filter(factor_set__version=version)
    if query:
        qs = qs.filter(Q(category__code__icontains=query) | Q(category__name_nb__icontains=query)
                       | Q(category__name_en__icontains=query) | Q(source_ref__icontains=query)
                       | Q(note__icontains=query) | Q(factor_set__name__icontains=query))
    return qs[:limit] if limit else qs


def factor_row(f: Factor) -> dict:
    fs = f.factor_set
    return {
        "set": fs.name, "version": fs.version, "publisher": fs.publisher, "licence": fs.licence,
        "attribution": fs.attribution, "gwp_basis": fs.gwp_basis, "status": fs.status, "role": fs.role,
        "id": f.pk, "key": f.category.code, "category_nb": f.category.name_nb, "category_en": f.category.name_en,
        "basis": f.basis, "unit": f.unit, "currency": f.currency or None, "price_year": f.price_year,
        "price_type": f.price_type if f.basis == Factor.BASIS_SPEND else None, "value": f.value, "low": f.low,
        "high": f.high, "region": f.region, "valid_from": f.valid_from_year, "valid_to": f.valid_to_year,
        "quality": f.quality, "source_ref": f.source_ref, "note": f.note,
    }


def factor_sets_with_counts():
    """The factor sets, each with `factor_count` (the number of its factors)."""
    from django.db.models import Count

    return factor_sets().annotate(factor_count=Count("factors"))


def factor_usage(scope: Scope, factor: Factor, *, limit: int = 50) -> dict:
    """How many of the visible lines of the latest run used this factor (a unit leader sees only their
    units), the first of them, and the run it was read from (None when nothing is computed yet)."""
    run = latest_run()
    if run is None:
        return {"run": None, "lines": 0, "kg_co2e": 0.0, "spend_ore": 0, "rows": []}
    table = _lines_table(linestore.absolute(run.run.result_dir))
    table = scoped(table.filter(_.factor_ref == f"{factor.factor_set.label}#{factor.pk}"), scope)
    summary = table.aggregate(n=_.count(), kg=_.kg_co2e.sum(), spend=_.amount_ore.sum()).to_pyarrow().to_pylist()[0]
    rows = table.select("org", "year", "month", "unit", "art", "supplier_orgnr", "amount_ore", "kg_co2e", "method") \
        .order_by([ibis.desc("kg_co2e"), "org", "year", "month"]).limit(limit).to_pyarrow().to_pylist()
    return {"run": run.run, "lines": int(summary["n"] or 0), "kg_co2e": float(summary["kg"] or 0.0),
            "spend_ore": int(summary["spend"] or 0), "rows": rows}


# --- electricity: location-based and market-based, and the spend factor against the activity factor (issue 15.4) --

def _per_year(set_name: str) -> dict[int, float]:
    fs = FactorSet.objects.filter(name=set_name, status=FactorSet.STATUS_PUBLISHED).order_by("-id").first()
    if fs is None:
        return {}
    out = {}
    for f in Factor.objects.filter(factor_set=fs, category__code=ELECTRICITY, basis=Factor.BASIS_ACTIVITY,
                                   unit="kWh"):
        if f.valid_from_year == f.valid_to_year:
            out[f.valid_from_year] = f.value
    return out


def electricity_figures() -> dict:
    """Location-based (NVE, the account's) and market-based (NVE's residual mix, reported only) kg per kWh by year,
    and the default spend set's electricity factor as kg per kWh at TYPICAL_PRICE with its ratio to each year's
    location-based factor. Shared reference data: no scope."""
    from klimainnkjop.storage.models import PriceIndex

    location, market = _per_year(LOCATION_SET), _per_year(MARKET_SET)
    sets = FactorSet.objects.filter(role=FactorSet.ROLE_SPEND_DEFAULT, status=FactorSet.STATUS_PUBLISHED) \
        .order_by("-id")
    spend_set = next((s for s in sets if not s.name.startswith("provisional-")), None) or sets.first()
    spend = (Factor.objects.filter(factor_set=spend_set, category__code=ELECTRICITY, basis=Factor.BASIS_SPEND)
             .order_by("-valid_to_year").first() if spend_set else None)
    per_kwh = None
    if spend is not None and spend.price_year:
        cpi = dict(PriceIndex.objects.filter(year__in=[spend.price_year, TYPICAL_PRICE["year"]])
                   .values_list("year", "value"))
        if len(cpi) == len({spend.price_year, TYPICAL_PRICE["year"]}):
            # the typical price moved to the spend factor's price year, times kg per NOK
            per_kwh = TYPICAL_PRICE["nok_per_kwh"] * cpi[spend.price_year] / cpi[TYPICAL_PRICE["year"]] * spend.value
    years = sorted(set(location) | set(market))
    rows = [{"year": y, "location_kg_per_kwh": location.get(y), "market_kg_per_kwh": market.get(y),
             "spend_to_location": (per_kwh / location[y]) if per_kwh and location.get(y) else None} for y in years]
    return {"rows": rows, "spend_set": spend_set.label if spend_set else None,
            "spend_kg_per_nok": spend.value if spend else None, "spend_price_year": spend.price_year if spend else None,
            "spend_kg_per_kwh": per_kwh, "typical_price": TYPICAL_PRICE}


# --- exchange rates (issue 16 item 9) ------------------------------------------------------------------------

def exchange_rates() -> dict[tuple[int, str], float]:
    """NOK per unit by (year, currency): the one read of the rates that imports, invoices and compute use. The
    shipped rates (data/exchange_rates.csv, loaded with the reference data) and those added since
    (`klimainnkjop rate set`, or the region administrators' page /administrasjon/valutakurser/) are the same table;
    an added rate replaces a shipped one of the same year and currency."""
    return {(year, currency): value for year, currency, value
            in ExchangeRate.objects.values_list("year", "currency", "nok_per_unit")}

