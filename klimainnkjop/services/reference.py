"""Reference data shipped with the product: categories, art mapping, provisional factors, prices, rates."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.db import transaction

from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import ArtCategory, Category, ExchangeRate, Factor, FactorSet, PriceIndex

DATA = Path(__file__).resolve().parent.parent / "data"
PROVISIONAL = {
    "name": "provisional-dfo",
    "version": "2026.1",
    "publisher": "Klimainnkjøp (provisional selection)",
    "licence": "CC BY 4.0",
    "attribution": "Klimaintensiteter Norge, Sea Breeze Electrical Consulting AS, based on emission factors "
                   "published by DFØ (2022 factors, price-adjusted to 2026M08).",
}


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


@transaction.atomic
def do_load_reference_data(*, actor: Any = None) -> FactorSet:
    """Idempotent: loads what is missing, never changes a published factor set."""
    created = 0
    for row in _rows("categories.csv"):
        parent = Category.objects.get(code=row["parent"]) if row["parent"] else None
        _, made = Category.objects.get_or_create(
            code=row["code"], defaults={"parent": parent, "name_nb": row["name_nb"], "name_en": row["name_en"]})
        created += made
    categories = {c.code: c for c in Category.objects.all()}
    for row in _rows("art_categories.csv"):
        _, made = ArtCategory.objects.get_or_create(art=row["art"], defaults={"category": categories[row["category"]]})
        created += made
    for row in _rows("price_index.csv"):
        _, made = PriceIndex.objects.get_or_create(
            year=int(row["year"]), defaults={"value": float(row["value"]), "source": row["source"]})
        created += made
    for row in _rows("exchange_rates.csv"):
        _, made = ExchangeRate.objects.get_or_create(
            year=int(row["year"]), currency=row["currency"],
            defaults={"nok_per_unit": float(row["nok_per_unit"]), "source": row["source"]})
        created += made
    factor_set, made = FactorSet.objects.get_or_create(
        name=PROVISIONAL["name"], version=PROVISIONAL["version"],
        defaults={k: v for k, v in PROVISIONAL.items() if k not in {"name", "version"}})
    if made:
        Factor.objects.bulk_create([
            Factor(factor_set=factor_set, category=categories[row["category"]], value=float(row["value"]),
                   currency=row["currency"], price_year=int(row["price_year"]), source_ref=row["source_ref"],
                   note=row["note"])
            for row in _rows("factors_provisional.csv")
        ])
        created += 1
    if created:
        record_audit(actor=actor, action="load_reference_data", object_type="FactorSet",
                     object_id=str(factor_set.pk), after={"created": created})
    return factor_set


def do_set_exchange_rate(*, year: int, currency: str, nok_per_unit: float, source: str, actor: Any = None) -> ExchangeRate:
    currency = currency.upper()
    if nok_per_unit <= 0:
        raise ValueError("nok_per_unit must be positive")
    with transaction.atomic():
        rate = ExchangeRate.objects.filter(year=year, currency=currency).first()
        before = {"nok_per_unit": rate.nok_per_unit, "source": rate.source} if rate else None
        rate, _ = ExchangeRate.objects.update_or_create(
            year=year, currency=currency, defaults={"nok_per_unit": nok_per_unit, "source": source})
        record_audit(actor=actor, action="set_exchange_rate", obj=rate, before=before,
                     after={"year": year, "currency": currency, "nok_per_unit": nok_per_unit, "source": source})
    return rate
