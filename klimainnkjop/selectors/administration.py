"""Reads for the region administrators' pages (issue 16 item 9): the years with computed figures, what is
published, the supplier factors, the exchange rates, the text model's versions and the retraining jobs. Shared
reference data: the pages are for region administrators (access.can_administer_region), who see everything."""
from __future__ import annotations

from klimainnkjop.access import Scope
from klimainnkjop.core.errors import NoResults
from klimainnkjop.selectors import results
from klimainnkjop.storage.models import (ExchangeRate, ModelVersion, Organisation, Publication, SupplierFactor,
                                         TrainingJob)


def computed_years(scope: Scope) -> list[int]:
    """The years of the latest compute run with purchases in the scope, newest first (empty before any run)."""
    try:
        rows = results.totals(scope, by=["year"])["rows"]
    except NoResults:
        return []
    return sorted({int(r["year"]) for r in rows if r.get("year")}, reverse=True)


def organisations(scope: Scope) -> list[Organisation]:
    return list(scope.organisations().order_by("name"))


def publications(scope: Scope) -> dict[tuple[str | None, int], Publication]:
    """What is published now: (orgnr or None for the region, year) → publication."""
    rows = Publication.objects.select_related("organisation")
    return {(p.organisation.orgnr if p.organisation_id else None, p.year): p for p in rows
            if p.organisation_id is None or scope.allows(p.organisation.orgnr)}


def supplier_factors(scope: Scope) -> list[SupplierFactor]:
    return list(SupplierFactor.objects.order_by("-id"))


def exchange_rates(scope: Scope) -> list[ExchangeRate]:
    return list(ExchangeRate.objects.order_by("-year", "currency"))


def model_versions(scope: Scope, limit: int = 10) -> list[ModelVersion]:
    return list(ModelVersion.objects.select_related("created_by").order_by("-id")[:limit])


def training_jobs(scope: Scope, limit: int = 10) -> list[TrainingJob]:
    return list(TrainingJob.objects.select_related("requested_by", "version").order_by("-id")[:limit])


def training_job(scope: Scope, pk: int) -> TrainingJob | None:
    return TrainingJob.objects.select_related("requested_by", "version").filter(pk=pk).first()
