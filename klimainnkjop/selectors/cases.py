"""Reads of procurement cases (scoped: a person sees the cases of their organisations)."""
from __future__ import annotations

import json

from klimainnkjop.access import Scope
from klimainnkjop.paths import SHIPPED_DATA
from klimainnkjop.storage.models import ProcurementCase

CONSIDERATIONS_FILE = SHIPPED_DATA / "climate_considerations.json"  # the § 7-9 rule set, as data


def considerations_rules() -> dict:
    return json.loads(CONSIDERATIONS_FILE.read_text(encoding="utf-8"))


def has_climate_requirements(case: ProcurementCase) -> bool:
    """Climate or environmental requirements were set: one from the library, or a § 7-9 record that weights or
    requires climate and environment (the options marked climate_requirements in the rule set)."""
    if case.requirements:
        return True
    option = case.considerations.get("option")
    return any(o["code"] == option and o.get("climate_requirements") for o in considerations_rules()["options"])


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


CARRIED_OUT = ("announced", "awarded", "closed")  # procurements that went ahead: the KPI's denominator
VALUE_BANDS = [("under-100k", 0, 100_000), ("100k-1.3m", 100_000, 1_300_000), ("1.3m-and-over", 1_300_000, None)]


def value_band(value_nok: float) -> str:
    return next(name for name, low, high in VALUE_BANDS if value_nok >= low and (high is None or value_nok < high))


def climate_requirement_share(scope: Scope, *, org: str | None = None, year: int | None = None,
                              by: tuple[str, ...] = ()) -> list[dict]:
    """The KPI: of the individual procurements carried out (announced, awarded or closed; by the year the case
    was opened), how many have climate or environmental requirements (services.cases.has_climate_requirements).
    Grouped by `by` among org, year, value_band; one row without `by`."""
    query = cases(scope, org=org).filter(state__in=CARRIED_OUT)
    if year is not None:
        query = query.filter(created_at__year=year)
    groups: dict[tuple, list[int]] = {}
    for item in query:
        keys = {"org": item.organisation.orgnr, "year": item.created_at.year,
                "value_band": value_band(item.estimated_value_ore / 100)}
        counts = groups.setdefault(tuple(keys[k] for k in by), [0, 0])
        counts[0] += 1
        counts[1] += has_climate_requirements(item)
    return [{**dict(zip(by, key)), "cases": n, "with_requirements": w, "share": w / n if n else 0.0}
            for key, (n, w) in sorted(groups.items())]
