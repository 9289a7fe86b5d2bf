from __future__ import annotations

import csv
import datetime as dt
from typing import Any

import pyarrow as pa
from django.db import transaction

from klimainnkjop import paths
from klimainnkjop.engine import runner
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reference import DATA, PROVISIONAL
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ArtCategory, ComputeRun, ExchangeRate, Factor, FactorSet, ImportBatch, PriceIndex


def default_factor_set() -> FactorSet:
    found = FactorSet.objects.filter(name=PROVISIONAL["name"], status=FactorSet.STATUS_PUBLISHED).order_by("-id").first()
    if found is None:
        raise InvalidInput("factor set: none loaded; run `klimainnkjop demo` or load the reference data")
    return found


def resolve_factor_set(name: str | None) -> FactorSet:
    if not name:
        return default_factor_set()
    wanted_name, _, version = name.partition(":")
    found = FactorSet.objects.filter(name=wanted_name)
    if version:
        found = found.filter(version=version)
    factor_set = found.order_by("-id").first()
    if factor_set is None:
        known = ", ".join(f"{f.name}:{f.version}" for f in FactorSet.objects.all()) or "none"
        raise InvalidInput(f"factor set: no factor set named {name!r} (known: {known})")
    return factor_set


def known_arts() -> frozenset[str]:
    with open(DATA / "kostra_arts.csv", encoding="utf-8") as fh:
        return frozenset(row["art"] for row in csv.DictReader(fh, delimiter=";"))


def engine_inputs(factor_set: FactorSet, batches: list[ImportBatch]) -> runner.EngineInputs:
    art_categories = dict(ArtCategory.objects.values_list("art", "category__code"))
    factors = [
        {"category": f.category.code, "value": f.value, "price_year": f.price_year, "currency": f.currency,
         "valid_from_year": f.valid_from_year, "valid_to_year": f.valid_to_year,
         "ref": f"{factor_set.name}:{factor_set.version}:{f.category.code}:{f.valid_from_year}"}
        for f in Factor.objects.filter(factor_set=factor_set).select_related("category")
    ]
    years = range(2000, dt.date.today().year + 2)
    prices = list(PriceIndex.objects.values_list("year", "value"))
    rates = list(ExchangeRate.objects.values_list("year", "currency", "nok_per_unit"))
    rates += [(y, "NOK", 1.0) for y in years]
    return runner.EngineInputs(
        line_files=[linestore.absolute(b.parquet_path) for b in batches],
        art_classes=runner.art_class_table(art_categories, known_arts()),
        factors=runner.factor_year_table(factors, years),
        prices=pa.table({"year": pa.array([p[0] for p in prices], pa.int32()),
                         "cpi": pa.array([p[1] for p in prices], pa.float64())}),
        rates=pa.table({"year": pa.array([r[0] for r in rates], pa.int32()),
                        "currency": pa.array([r[1] for r in rates], pa.string()),
                        "nok_per_unit": pa.array([r[2] for r in rates], pa.float64())}),
    )


def do_compute(*, factor_set_name: str | None = None, actor: Any = None) -> ComputeRun:
    """Recompute the whole account. Earlier runs are kept: each run has its own result folder."""
    factor_set = resolve_factor_set(factor_set_name)
    batches = list(ImportBatch.objects.filter(status=ImportBatch.STATUS_DONE).exclude(parquet_path=""))
    inputs = engine_inputs(factor_set, batches)
    with transaction.atomic():
        run = ComputeRun.objects.create(factor_set=factor_set, status="running", result_dir="",
                                        batch_ids=[b.pk for b in batches])
    out_dir = paths.results_dir() / f"run-{run.pk}"
    totals = runner.run(inputs, out_dir)
    with transaction.atomic():
        run.status = "done"
        run.result_dir = linestore.relative(out_dir)
        run.lines_in, run.lines_purchase = totals.lines_in, totals.lines_purchase
        run.spend_ore, run.kg_co2e = totals.spend_ore, totals.kg_co2e
        run.save()
        record_audit(actor=actor, action="compute", obj=run, after={
            "factor_set": str(factor_set), "batches": len(batches), "lines_in": totals.lines_in,
            "kg_co2e": totals.kg_co2e})
    return run
