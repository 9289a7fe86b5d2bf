"""Reads of procurement cases (scoped: a person sees the cases of their organisations)."""
from __future__ import annotations

from klimainnkjop.access import Scope
from klimainnkjop.storage.models import ProcurementCase


class NotFound(LookupError):
    pass


def cases(scope: Scope, *, org: str | None = None):
    query = ProcurementCase.objects.select_related("organisation", "category", "agreement").order_by("id")
    if org is not None:
        scope.check(org)
        query = query.filter(organisation__orgnr=org)
    if not scope.everything:
        query = query.filter(organisation__orgnr__in=list(scope.orgnrs or []))
    return query


def case(scope: Scope, pk: int) -> ProcurementCase:
    found = cases(scope).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no case {pk} in what {scope.label or 'this scope'} may see")
    return found


def events(item: ProcurementCase):
    return list(item.events.select_related("actor").order_by("id"))
