"""Reads of the agreement register and of each agreement's actual spend and emissions (always scoped).

Who sees an agreement: a region-wide scope every one; others the agreements their organisations take part in
or own. Its figures are the scope's own purchases under it (results.scoped), matched by the one rule in
engine/agreements.py.
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib

import ibis
from django.db.models import Q
from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.core.figures import Figures
from klimainnkjop.engine import agreements as matching
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.selectors.results import NoResults, Run, _aggregates, _narrowed, cached, latest_run
from klimainnkjop.storage.models import Agreement, Organisation


class NotFound(LookupError):
    pass


def agreements(scope: Scope, *, org: str | None = None):
    query = Agreement.objects.all().select_related("owner").prefetch_related("participants")
    if org is not None:
        scope.check(org)
        query = query.filter(Q(participants__orgnr=org) | Q(owner__orgnr=org))
    if not scope.everything:
        orgnrs = list(scope.orgnrs or [])
        query = query.filter(Q(participants__orgnr__in=orgnrs) | Q(owner__orgnr__in=orgnrs))
    return query.distinct().order_by("number")


def agreement(scope: Scope, number: str) -> Agreement:
    found = agreements(scope).filter(number=number).first()
    if found is None:
        raise NotFound(f"no agreement {number} in what {scope.label or 'this scope'} may see")
    return found


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` (to the month's last day where it is shorter); past the calendar's last day, that day
    (an open-ended agreement is often written to end 31.12.9999)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def final_end(item: Agreement) -> dt.date:
    """The end if every option left is used."""
    return add_months(item.end, item.options_left * item.option_months)


def rules(items: list[Agreement]) -> list[dict]:
    """The matching rule's rows (engine/agreements.py): agreement × supplier × participant × category. An
    agreement without participants is taken to be open to every organisation of the region."""
    everyone = None
    rows = []
    for item in items:
        participants = [o.orgnr for o in item.participants.all()]
        if not participants:
            if everyone is None:
                everyone = list(Organisation.objects.values_list("orgnr", flat=True))
            participants = everyone
        first, last = item.start.year * 100 + item.start.month, item.end.year * 100 + item.end.month
        for supplier in item.suppliers:
            for org in participants:
                for category in item.categories or [""]:
                    rows.append({"agreement": item.pk, "supplier_orgnr": supplier, "org": org,
                                 "first_period": first, "last_period": last, "category": category,
                                 "start_period": first})
    return rows


def _sums(record: dict) -> dict:
    """An engine record's sums, as Figures.add_sums takes them."""
    return dict(investment=bool(record.get("investment")), spend_ore=int(record.get("spend_ore") or 0),
                kg_co2e=float(record.get("kg_co2e") or 0.0), kg_low=float(record.get("kg_low") or 0.0),
                kg_high=float(record.get("kg_high") or 0.0), lines=int(record.get("lines") or 0),
                covered_ore=int(record.get("covered_ore") or 0))


def figures(scope: Scope, items: list[Agreement], *, year: int | None = None, by_year: bool = False,
            run: Run | None = None) -> dict:
    """{agreement pk: Figures} (with by_year: {(pk, year): Figures}; core.figures, the dashboards' and reports'
    type, operating and investment apart) of the scope's purchases under each
    agreement, from the latest computed run. Every agreement of the scope competes for a purchase, so a
    purchase counts once even when the figures asked for are of a few agreements."""
    run = run or latest_run()
    if run is None:
        raise NoResults()
    wanted = {item.pk for item in items}
    competing = list(agreements(scope))
    rule_rows = rules(competing)
    digest = hashlib.sha256(repr(sorted((r["agreement"], r["supplier_orgnr"], r["org"], r["first_period"],
                                         r["last_period"], r["category"]) for r in rule_rows)).encode()).hexdigest()

    def compute():
        if not rule_rows:
            return []
        table = _aggregates(run, scope, None, year)
        grouped = matching.per_agreement(table, matching.rule_table(rule_rows),
                                         ["year", "investment"] if by_year else ["investment"])
        return grouped.order_by(["agreement", *(["year"] if by_year else []), "investment"]).to_pyarrow().to_pylist()

    records = cached("agreements2", scope, run, (digest, year, by_year), compute)
    out: dict[object, Figures] = {}
    for record in records:
        if record["agreement"] not in wanted:
            continue
        key = (record["agreement"], record["year"]) if by_year else record["agreement"]
        out.setdefault(key, Figures(key)).add_sums(**_sums(record))
    return out


def covered(scope: Scope, *, year: int, org: str | None = None, months: list[int] | None = None,
            units: list[str] | None = None, category: str = "", run: Run | None = None) -> Figures | None:
    """The scope's purchases (of `org`, its `units`, in `category` and below) of the year (and months) that were
    made under an agreement by the matching rule, each once: the numerator of the KPIs of spend covered by
    agreements and of emissions under them. Consolidated without org (purchases between organisations of the
    region left out), as the dashboards' totals. None when the scope has no agreements (no register: no data)."""
    run = run or latest_run()
    if run is None:
        raise NoResults()
    if org is not None:
        scope.check(org)
    rule_rows = rules(list(agreements(scope)))
    digest = hashlib.sha256(repr(sorted((r["agreement"], r["supplier_orgnr"], r["org"], r["first_period"],
                                         r["last_period"], r["category"]) for r in rule_rows)).encode()).hexdigest()
    if not rule_rows:
        return None

    def compute():
        table = _narrowed(_aggregates(run, scope, org, year), months, units)
        if org is None:
            table = table.filter(~_.intra_region)
        table = matching.matched(table, matching.rule_table(rule_rows))
        if category:
            table = table.filter((_.category == category) | _.category.startswith(category + "."))
        return (table.group_by("investment").aggregate(
            spend_ore=_.spend_ore.sum(), kg_co2e=_.kg_co2e.sum(), kg_low=_.kg_low.sum(), kg_high=_.kg_high.sum(),
            lines=_.lines.sum(), covered_ore=ibis.ifelse(_.covered, _.spend_ore, 0).sum())
            .order_by("investment").to_pyarrow().to_pylist())

    records = cached("agreements-covered2", scope, run, (digest, year, org, tuple(months or ()) if months else None,
                                                         tuple(units) if units is not None else None, category),
                     compute)
    figures = Figures(category or None)
    for record in records:
        figures.add_sums(**_sums(record))
    return figures


def ranked(scope: Scope, *, org: str | None = None, year: int | None = None) -> list[dict]:
    """The scope's agreements with their spend and kg CO2e (of `year`, or their whole period), most kg first."""
    items = list(agreements(scope, org=org))
    try:
        numbers = figures(scope, items, year=year)
    except NoResults:
        numbers = {}
    rows = []
    for item in items:
        f = numbers.get(item.pk, Figures())
        rows.append({"agreement": item, "number": item.number, "name": item.name, "suppliers": list(item.suppliers),
                     "end": item.end, "spend_nok": f.spend_nok, "kg_co2e": f.kg,
                     "kg_co2e_low": f.kg_low, "kg_co2e_high": f.kg_high, "lines": f.lines})
    rows.sort(key=lambda r: (-r["kg_co2e"], r["number"]))
    return rows


def renewals(scope: Scope, *, months: int, today: dt.date | None = None) -> list[dict]:
    """Agreements whose current end (an option date while options are left, else the final end) falls within
    the next `months` months, ranked by kg CO2e of the last full year (today's year - 1), then by date; each with
    the measures (that the scope sees) that target it (bound to it by its number)."""
    today = today or dt.date.today()
    horizon = add_months(today, months)
    items = [a for a in agreements(scope) if today <= a.end <= horizon]
    year = today.year - 1
    try:
        numbers = figures(scope, items, year=year)
    except NoResults:
        numbers = {}
    rows = []
    for item in items:
        f = numbers.get(item.pk, Figures())
        rows.append({"agreement": item, "number": item.number, "name": item.name, "suppliers": list(item.suppliers),
                     "date": item.end, "event": "option" if item.options_left > 0 else "end",
                     "final_end": final_end(item), "options_left": item.options_left,
                     "months_left": (item.end.year - today.year) * 12 + item.end.month - today.month,
                     "year": year, "spend_nok": f.spend_nok, "kg_co2e": f.kg,
                     "measures": [measure_brief(m) for m in measure_selectors.measures_for_agreement(scope,
                                                                                                    item.number)]})
    rows.sort(key=lambda r: (-r["kg_co2e"], r["date"], r["number"]))
    return rows


def measure_brief(m) -> dict:
    """A measure as the renewal pipeline lists it."""
    return {"id": m.pk, "name": m.name, "kind": m.kind, "status": m.status, "requirement": m.requirement or None}


def supplier_names(orgnrs: list[str]) -> dict[str, str]:
    """Names of suppliers by orgnr, from the supplier register (shared reference data)."""
    from klimainnkjop.storage.models import Supplier

    return dict(Supplier.objects.filter(orgnr__in=list(orgnrs)).values_list("orgnr", "name"))
