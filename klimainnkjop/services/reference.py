"""Reference data shipped with the product: the category taxonomy and its mappings, the factor sets,
the price index and exchange rates. Loading is idempotent and never changes a published factor set."""
from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from klimainnkjop.core.kostra import KOSTRA_FUNCTION_SCHEME, art_function_code
from klimainnkjop.paths import SHIPPED_DATA
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import Category, CategoryMapping, ExchangeRate, FactorSet, PriceIndex
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike

DATA = SHIPPED_DATA


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";"))


def shipped_factor_set_files() -> list[Path]:
    return [DATA / "provisional-dfo.csv", *sorted((DATA / "factor_sets").glob("*.csv"))]


def _load_categories(rows: list[dict[str, str]]) -> int:
    created = 0
    pending = list(rows)
    while pending:  # parents first, whatever the file order
        progressed, rest = False, []
        for row in pending:
            parent = None
            if row.get("parent"):
                parent = Category.objects.filter(code=row["parent"]).first()
                if parent is None:
                    rest.append(row)
                    continue
            _, made = Category.objects.get_or_create(
                code=row["code"], defaults={"parent": parent, "name_nb": row["name_nb"],
                                            "name_en": row.get("name_en") or row["name_nb"]})
            created += made
            progressed = True
        if not progressed:
            raise ValueError(f"categories with unknown parents: {', '.join(r['code'] for r in rest)}")
        pending = rest
    return created


@transaction.atomic
def do_load_reference_data(*, actor: ActorLike = None) -> FactorSet:
    """Returns the default spend factor set."""
    from klimainnkjop.services.factors import do_import_factor_set

    created = _load_categories(_rows(DATA / "categories.csv"))
    proposed = DATA / "mappings" / "categories_proposed.csv"
    if proposed.exists():
        created += _load_categories(_rows(proposed))
    categories = {c.code: c for c in Category.objects.all()}
    for row in _rows(DATA / "art_categories.csv"):
        _, made = CategoryMapping.objects.get_or_create(
            scheme="kostra_art", code=row["art"], defaults={"category": categories[row["category"]],
                                                           "note": "shipped: KOSTRA art → category"})
        created += made
    for row in _rows(DATA / "mappings" / "kostra_art_function.csv"):
        _, made = CategoryMapping.objects.get_or_create(
            scheme=KOSTRA_FUNCTION_SCHEME, code=art_function_code(row["art"], row["function"], row["investment"]),
            defaults={"category": categories[row["category"]], "note": ("shipped: " + row["note"])[:300]})
        created += made
    for path in sorted((DATA / "mappings").glob("*_to_category.csv")):
        for row in _rows(path):
            if row.get("scheme") == "kostra_art" or row.get("category") not in categories:
                continue
            _, made = CategoryMapping.objects.get_or_create(
                scheme=row["scheme"], code=row["code"],
                defaults={"category": categories[row["category"]], "note": row.get("note", "")[:300]})
            created += made
    for row in _rows(DATA / "price_index.csv"):
        _, made = PriceIndex.objects.get_or_create(
            year=int(row["year"]), defaults={"value": float(row["value"]), "source": row["source"]})
        created += made
    for row in _rows(DATA / "exchange_rates.csv"):
        _, made = ExchangeRate.objects.get_or_create(
            year=int(row["year"]), currency=row["currency"],
            defaults={"nok_per_unit": float(row["nok_per_unit"]), "source": row["source"]})
        created += made
    for path in shipped_factor_set_files():
        _, made = do_import_factor_set(data=path.read_bytes(), file_name=path.name, actor=actor)
        created += made
    from klimainnkjop.services.requirements import do_load_requirement_library  # the requirement library (issue 12)

    created += do_load_requirement_library(actor=actor)
    if created:
        record_audit(actor=actor, action=Action.LOAD_REFERENCE_DATA, object_type="ReferenceData", object_id="shipped",
                     after={"created": created})
    from klimainnkjop.services.compute import default_factor_set

    return default_factor_set()


MAX_NOK_PER_UNIT = 10_000.0  # the dearest currency is a few dozen kroner a unit: more is a typing error


def do_set_exchange_rate(*, year: int, currency: str, nok_per_unit: float, source: str,
                         actor: ActorLike = None) -> ExchangeRate:
    from django.utils.translation import gettext

    from klimainnkjop.core.errors import InvalidInput

    currency = (currency or "").strip().upper()
    problems = []
    if not 1900 <= int(year) <= 2999:
        problems.append("year: " + gettext("%(year)r is not a year") % {"year": year})
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        problems.append("currency: " + gettext("%(currency)r is not a three-letter ISO 4217 code such as EUR")
                        % {"currency": currency})
    elif currency == "NOK":
        problems.append("currency: " + gettext("NOK is the account's own currency (always 1)"))
    if not 0 < nok_per_unit <= MAX_NOK_PER_UNIT:
        problems.append(gettext("nok_per_unit must be above 0 and at most %(most)s")
                        % {"most": f"{MAX_NOK_PER_UNIT:,.0f}"})
    if not (source or "").strip():
        problems.append("source: " + gettext("say where the rate comes from (for example Norges Bank, annual "
                                             "average)"))
    if problems:
        raise InvalidInput("; ".join(problems))
    with transaction.atomic():
        rate = ExchangeRate.objects.filter(year=year, currency=currency).first()
        before = {"nok_per_unit": rate.nok_per_unit, "source": rate.source} if rate else None
        rate, _ = ExchangeRate.objects.update_or_create(
            year=year, currency=currency, defaults={"nok_per_unit": nok_per_unit, "source": source})
        record_audit(actor=actor, action=Action.SET_EXCHANGE_RATE, obj=rate, before=before,
                     after={"year": year, "currency": currency, "nok_per_unit": nok_per_unit, "source": source})
    return rate
