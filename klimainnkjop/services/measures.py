"""Writes of measures (tiltak) and ambition packages, each with an audit entry; a measure's status changes
also go into its own history (MeasureStatusChange)."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from klimainnkjop.core.errors import ImportRejected, InvalidInput
from klimainnkjop.importers.measures import MeasureRow, parse_measures
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import (
    Category,
    Measure,
    MeasurePackage,
    MeasureStatusChange,
    Organisation,
    PackageAdoption,
    PackageMeasure,
    Requirement,
)
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor

# The order of the status steps; a change may go forward (by any number of steps) or back one step at a time.
STATUS_ORDER = Measure.STATUSES
# a status as a refusal names it: its code in English, the word the web shows in bokmål
STATUS_WORDS = {"proposed": gettext_noop("proposed"), "recommended": gettext_noop("recommended"),
                "adopted": gettext_noop("adopted"), "implemented": gettext_noop("implemented"),
                "verified": gettext_noop("verified")}


def _status_word(status: str) -> str:
    return gettext(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def _label(actor: ActorLike) -> str:
    return as_actor(actor).label


def measure_dict(measure: Measure) -> dict:
    return {
        "name": measure.name, "kind": measure.kind, "mechanism": measure.mechanism, "percent": measure.percent,
        "categories": sorted(c.code for c in measure.categories.all()),
        "to_category": measure.to_category.code if measure.to_category_id else None,
        "organisations": sorted(o.orgnr for o in measure.organisations.all()),
        "baseline_year": measure.baseline_year, "cost_once_ore": measure.cost_once_ore,
        "cost_yearly_ore": measure.cost_yearly_ore, "lifetime_years": measure.lifetime_years, "owner": measure.owner,
        "effective_date": measure.effective_date.isoformat() if measure.effective_date else None,
        "agreement": measure.agreement,
        "agreement_renewal": measure.agreement_renewal.isoformat() if measure.agreement_renewal else None,
        "requirement": measure.requirement, "status": measure.status,
    }


def _first_org(organisations: list[Organisation]) -> Organisation | None:
    return organisations[0] if len(organisations) == 1 else None


def _check(row: MeasureRow) -> None:
    """The rules the importer checks, for a measure made one at a time (web, demo)."""
    problems = row.problems()
    if problems:
        raise InvalidInput("; ".join(f"{field}: {reason}" for field, reason in problems))


def do_create_measure(*, name: str, kind: int, mechanism: str, percent: float, categories: list[str],
                      baseline_year: int, to_category: str | None = None, organisations: list[str] | None = None,
                      description: str = "", cost_once_nok: float = 0, cost_yearly_nok: float = 0,
                      lifetime_years: int = 1, owner: str = "", effective_date: dt.date | None = None,
                      agreement: str = "", agreement_renewal: dt.date | None = None, requirement: str = "",
                      actor: ActorLike = None) -> Measure:
    row = MeasureRow(row_no=0, name=name.strip(), description=description, kind=kind, mechanism=mechanism,
                     percent=percent, categories=list(categories), to_category=to_category or None,
                     organisations=list(organisations or []), baseline_year=baseline_year,
                     cost_once_ore=round(cost_once_nok * 100), cost_yearly_ore=round(cost_yearly_nok * 100),
                     lifetime_years=lifetime_years, owner=owner, effective_date=effective_date, agreement=agreement,
                     agreement_renewal=agreement_renewal, requirement=requirement.strip())
    _check(row)
    with transaction.atomic():
        return _store(row, actor)


def _store(row: MeasureRow, actor: ActorLike) -> Measure:
    """One validated row into a measure, its first history step and an audit entry (inside a transaction)."""
    known = {c.code: c for c in Category.objects.filter(code__in=[*row.categories, row.to_category or ""])}
    missing = [c for c in [*row.categories, *([row.to_category] if row.to_category else [])] if c not in known]
    if missing:
        raise InvalidInput.at("categories", gettext("no category %(codes)s"), codes=", ".join(missing))
    orgs = list(Organisation.objects.filter(orgnr__in=row.organisations).order_by("orgnr"))
    unknown = sorted(set(row.organisations) - {o.orgnr for o in orgs})
    if unknown:
        raise InvalidInput.at("organisations", gettext("no organisation %(orgnrs)s"), orgnrs=", ".join(unknown))
    if Measure.objects.filter(name=row.name).exists():
        raise InvalidInput.at("name", gettext("a measure named %(name)r exists already"), name=row.name)
    if row.requirement and not Requirement.objects.filter(code=row.requirement).exists():
        raise InvalidInput.at("requirement", gettext("no requirement %(code)r in the library"), code=row.requirement)
    measure = Measure.objects.create(
        name=row.name, description=row.description, kind=row.kind, mechanism=row.mechanism, percent=row.percent,
        to_category=known.get(row.to_category or ""), baseline_year=row.baseline_year,
        cost_once_ore=row.cost_once_ore, cost_yearly_ore=row.cost_yearly_ore, lifetime_years=row.lifetime_years,
        owner=row.owner, effective_date=row.effective_date, agreement=row.agreement,
        agreement_renewal=row.agreement_renewal, requirement=row.requirement,
        created_by=as_actor(actor).user)
    measure.categories.set([known[c] for c in row.categories])
    measure.organisations.set(orgs)
    MeasureStatusChange.objects.create(measure=measure, status=measure.status, actor_label=_label(actor),
                                       note="created")
    record_audit(actor=actor, action=Action.CREATE_MEASURE, obj=measure, organisation=_first_org(orgs),
                 after=measure_dict(measure))
    return measure


def do_import_measures(*, data: bytes, file_name: str, actor: ActorLike = None) -> list[Measure]:
    """A CSV, XLSX or JSON file of measures, one row each: the whole file is checked first (ImportRejected with
    every error by row and field), then stored in one transaction."""
    categories = set(Category.objects.values_list("code", flat=True))
    orgnrs = set(Organisation.objects.values_list("orgnr", flat=True))
    existing = set(Measure.objects.values_list("name", flat=True))
    rows = parse_measures(data, file_name, categories=categories, orgnrs=orgnrs, existing_names=existing,
                          requirements=set(Requirement.objects.values_list("code", flat=True)))
    with transaction.atomic():
        measures = [_store(row, actor) for row in rows]
        record_audit(actor=actor, action=Action.IMPORT_MEASURES, object_type="Measure", object_id=str(len(measures)),
                     after={"file": file_name, "measures": [m.name for m in measures][:200]})
    return measures


def do_change_measure_status(*, measure: Measure, status: str, date: dt.date | None = None,
                             organisation: Organisation | None = None, case_number: str = "", agreement: str = "",
                             note: str = "", actor: ActorLike = None) -> MeasureStatusChange:
    """proposed → recommended → adopted (by an organisation: date and case number) → implemented (date, and the
    agreement for a measure bound to one) → verified. Forward by any number of steps, back by one."""
    if status not in STATUS_ORDER:
        raise InvalidInput.at("status", gettext("%(status)r is not one of %(statuses)s"), status=status,
                              statuses=", ".join(STATUS_ORDER))
    old, new = STATUS_ORDER.index(measure.status), STATUS_ORDER.index(status)
    # another organisation's adoption of a measure adopted (or implemented) already: recorded, status kept
    another_adoption = status == Measure.STATUS_ADOPTED and old >= new and organisation is not None
    if another_adoption and MeasureStatusChange.objects.filter(measure=measure, status=status,
                                                                organisation=organisation).exists():
        raise InvalidInput.at("status", gettext("%(orgnr)s has adopted this measure already"),
                              orgnr=organisation.orgnr)
    if not another_adoption and (new == old or new < old - 1):
        raise InvalidInput.at("status", gettext("a measure that is %(old)s cannot become %(new)s"),
                              old=_status_word(measure.status), new=_status_word(status))
    if status == Measure.STATUS_ADOPTED and (organisation is None or date is None or not case_number.strip()):
        raise InvalidInput.at("status", gettext(
            "adopted needs the organisation, the date and the case number of the decision"))
    if status == Measure.STATUS_IMPLEMENTED and date is None:
        raise InvalidInput.at("status", gettext("implemented needs the date it was put into effect"))
    if organisation is not None and measure.organisations.exists() \
            and not measure.organisations.filter(pk=organisation.pk).exists():
        raise InvalidInput.at("organisation", gettext("the measure does not apply to %(orgnr)s"),
                              orgnr=organisation.orgnr)
    with transaction.atomic():
        before = {"status": measure.status}
        change = MeasureStatusChange.objects.create(
            measure=measure, status=status, previous=measure.status, organisation=organisation, date=date,
            case_number=case_number.strip(), agreement=agreement.strip(), note=note, actor_label=_label(actor))
        # the history keeps what happened (an adoption); the measure keeps the furthest status it reached
        measure.status = measure.status if another_adoption else status
        fields = ["status"]
        if status == Measure.STATUS_IMPLEMENTED:
            if agreement.strip():
                measure.agreement = agreement.strip()
                fields.append("agreement")
            if not measure.effective_date and not measure.agreement_renewal:
                measure.effective_date = date
                fields.append("effective_date")
        measure.save(update_fields=fields)
        record_audit(actor=actor, action=Action.CHANGE_MEASURE_STATUS, obj=measure, organisation=organisation,
                     before=before, after={"status": measure.status, "date": date.isoformat() if date else None,
                                           "organisation": organisation.orgnr if organisation else None,
                                           "case_number": case_number.strip(), "agreement": agreement.strip()})
    return change


def do_create_package(*, name: str, measures: list[Measure], baseline_year: int, description: str = "",
                      actor: ActorLike = None) -> MeasurePackage:
    """An ambition package: the measures in the order they are applied."""
    name = name.strip()
    if not name:
        raise InvalidInput.at("name", gettext("must not be empty"))
    if not measures:
        raise InvalidInput.at("measures", gettext("a package needs at least one measure"))
    if len({m.pk for m in measures}) != len(measures):
        raise InvalidInput.at("measures", gettext("a measure is named twice"))
    with transaction.atomic():
        if MeasurePackage.objects.filter(name=name).exists():
            raise InvalidInput.at("name", gettext("a package named %(name)r exists already"), name=name)
        package = MeasurePackage.objects.create(name=name, description=description, baseline_year=baseline_year)
        PackageMeasure.objects.bulk_create([PackageMeasure(package=package, measure=m, position=i)
                                            for i, m in enumerate(measures, start=1)])
        record_audit(actor=actor, action=Action.CREATE_PACKAGE, obj=package,
                     after={"name": name, "baseline_year": baseline_year, "measures": [m.name for m in measures]})
    return package


def do_adopt_package(*, package: MeasurePackage, organisation: Organisation, adopted_on: dt.date, case_number: str,
                     actor: ActorLike = None) -> PackageAdoption:
    """An organisation's decision to adopt the package (its latest adoption is what its trajectory uses)."""
    if not case_number.strip():
        raise InvalidInput.at("case_number", gettext("the decision's case number must be given"))
    with transaction.atomic():
        adoption = PackageAdoption.objects.create(package=package, organisation=organisation, adopted_on=adopted_on,
                                                  case_number=case_number.strip())
        record_audit(actor=actor, action=Action.ADOPT_PACKAGE, obj=adoption, organisation=organisation,
                     after={"package": package.name, "organisation": organisation.orgnr,
                            "adopted_on": adopted_on.isoformat(), "case_number": case_number.strip()})
    return adoption


__all__ = ["ImportRejected", "InvalidInput", "do_adopt_package", "do_change_measure_status", "do_create_measure",
           "do_create_package", "do_import_measures"]
