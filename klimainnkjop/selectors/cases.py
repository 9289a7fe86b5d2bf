"""Reads of procurement cases (scoped: a person sees the cases of their organisations)."""
from __future__ import annotations

import json

from django.db.models import Q

from klimainnkjop.access import Scope, in_scope
from klimainnkjop.paths import SHIPPED_DATA
from klimainnkjop.selectors.measures import measures_targeting
from klimainnkjop.storage.models import CaseEvent, ProcurementCase

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


@in_scope
def cases(scope: Scope, *, org: str | None = None):
    query = ProcurementCase.objects.select_related("organisation", "category", "agreement").order_by("id")
    if org is not None:
        scope.check(org)
        query = query.filter(organisation__orgnr=org)
    if not scope.everything:
        query = query.filter(organisation__orgnr__in=list(scope.orgnrs or []))
    return query


@in_scope
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


def _in_category(category: str) -> Q:
    return Q(category__code=category) | Q(category__code__startswith=category + ".")


@in_scope
def climate_requirement_share(scope: Scope, *, org: str | None = None, year: int | None = None,
                              by: tuple[str, ...] = (), months: list[int] | None = None,
                              category: str = "") -> list[dict]:
    """The KPI: of the individual procurements carried out (announced, awarded or closed; by the year, and the
    months when given, the case was opened), how many have climate or environmental requirements
    (services.cases.has_climate_requirements). Grouped by `by` among org, year, value_band; one row without `by`."""
    query = cases(scope, org=org).filter(state__in=CARRIED_OUT)
    if year is not None:
        query = query.filter(created_at__year=year)
    if months is not None:
        query = query.filter(created_at__month__in=months)
    if category:
        query = query.filter(_in_category(category))
    groups: dict[tuple, list[int]] = {}
    for item in query:
        keys = {"org": item.organisation.orgnr, "year": item.created_at.year,
                "value_band": value_band(item.estimated_value_ore / 100)}
        counts = groups.setdefault(tuple(keys[k] for k in by), [0, 0])
        counts[0] += 1
        counts[1] += has_climate_requirements(item)
    return [{**dict(zip(by, key)), "cases": n, "with_requirements": w, "share": w / n if n else 0.0}
            for key, (n, w) in sorted(groups.items())]


RENEWED = ("awarded", "closed")  # a renewal counts as done when its case is awarded


@in_scope
def renewals_with_measures(scope: Scope, *, org: str | None = None, year: int, months: list[int] | None = None,
                           category: str = "") -> dict:
    """The KPI of renewed agreements that took in their measures. Renewed in the period: an agreement whose
    renewal case (a case naming the agreement, awarded or closed) was awarded in the year (and months); of those
    with measures that target them (selectors.measures.measures_targeting, for the case's organisation), it took
    them in when its latest such case holds every one of them and the contract (the award's requirements) every
    library requirement they name. {"renewed": n, "with_measures": d, "took_in": t, "agreements": [...]}."""
    query = cases(scope, org=org).filter(agreement__isnull=False, state__in=RENEWED)
    if category:
        query = query.filter(_in_category(category))
    awards = CaseEvent.objects.filter(step="award", case__in=query, created_at__year=year)
    if months is not None:
        awards = awards.filter(created_at__month__in=months)
    awarded = set(awards.values_list("case_id", flat=True))
    latest: dict[int, ProcurementCase] = {}
    for item in query.prefetch_related("measures"):
        if item.pk in awarded and (item.agreement_id not in latest or item.pk > latest[item.agreement_id].pk):
            latest[item.agreement_id] = item
    rows, took_in = [], 0
    for item in sorted(latest.values(), key=lambda c: c.agreement.number):
        wanted = measures_targeting(item.agreement.number, item.organisation.orgnr)
        if not wanted:
            continue
        held = {m.pk for m in item.measures.all()}
        contract = set(item.award.get("requirements") or [])
        missing = [m.name for m in wanted if m.pk not in held or (m.requirement and m.requirement not in contract)]
        took_in += not missing
        rows.append({"agreement": item.agreement.number, "case": item.pk, "measures": [m.name for m in wanted],
                     "missing": missing})
    return {"renewed": len(latest), "with_measures": len(rows), "took_in": took_in, "agreements": rows}
