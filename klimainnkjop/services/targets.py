"""Targets (issue 11): set, replace and retire targets of the region, an organisation, a unit or a category, adopt
the steering document's targets in one step, and edit a municipality's population. Every write is audited."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors.kpis import KPIS
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import Category, Organisation, PopulationFigure, Target, Unit
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor


@dataclass(frozen=True)
class TargetTemplate:
    """A target of the steering document (styringsdokument, table 1 and section 1.1), ready to adopt."""

    key: str
    kpi: str
    kind: str
    value: float | None  # None: the document leaves the level to be set after the baseline
    target_year: int | None  # None: the document gives no year; the administrator gives one when adopting
    quote: str  # the document's own words


TEMPLATES: list[TargetTemplate] = [
    TargetTemplate("requirements_90", "requirements_share", Target.KIND_LEVEL, 90.0, None,
                   "Klima-/miljøkrav i 90 % av alle enkeltanskaffelser i regionen."),
    TargetTemplate("construction_minus_50", "construction_cut", Target.KIND_LEVEL, 50.0, None,
                   "Reduksjon av klimagassutslipp innen bygg og anlegg med minimum 50 % (basert på FutureBuilt)."),
    TargetTemplate("agreements_cut", "agreement_tonnes_co2e", Target.KIND_CUT, None, None,
                   "Reduksjon av klimagassutslipp for kjøp av varer og tjenester iht mål som fastsettes etter "
                   "utført kartlegging."),
    TargetTemplate("climate_neutral_2025", "tonnes_co2e", Target.KIND_CUT, 100.0, 2025,
                   "Målsetning om at kommuneorganisasjonen skal være klimanøytrale i 2025."),
]
TEMPLATES_BY_KEY = {t.key: t for t in TEMPLATES}


def _snapshot(target: Target) -> dict:
    return {"org": target.organisation.orgnr if target.organisation_id else None, "unit": target.unit_code or None,
            "category": target.category or None, "kpi": target.kpi, "kind": target.kind, "value": target.value,
            "baseline_year": target.baseline_year, "target_year": target.target_year,
            "milestones": target.milestones, "case_number": target.case_number,
            "decision_date": target.decision_date.isoformat() if target.decision_date else None,
            "template": target.template or None, "active": target.active}


def _year(name: str, value: Any) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise InvalidInput.at(name, gettext("%(value)r is not a year"), value=value) from None
    if not 1990 <= year <= 2100:
        raise InvalidInput.at(name, gettext("%(year)s is outside 1990–2100"), year=year)
    return year


def do_set_target(*, kpi: str, target_year: int, value: float | None, baseline_year: int | None = None,
                  organisation: Organisation | None = None, unit_code: str = "", category: str = "",
                  kind: str = Target.KIND_LEVEL, milestones: list[dict] | None = None,
                  decision_date: dt.date | None = None, case_number: str = "", template: str = "", note: str = "",
                  actor: ActorLike = None) -> Target:
    """A new target; an active target of the same subject, KPI and category steps aside (kept, inactive)."""
    if kpi not in KPIS:
        raise InvalidInput.at("--kpi", gettext("%(kpi)r is not a KPI; choose among %(kpis)s"), kpi=kpi,
                              kpis=", ".join(KPIS))
    if kind not in Target.KINDS:
        raise InvalidInput.at("--kind", gettext("%(kind)r must be level or cut"), kind=kind)
    target_year = _year("--target-year", target_year)
    if baseline_year is not None:
        baseline_year = _year("--baseline-year", baseline_year)
        if baseline_year >= target_year:
            raise InvalidInput.at("--baseline-year", gettext(
                "%(baseline_year)s must be before the target year %(target_year)s"),
                baseline_year=baseline_year, target_year=target_year)
    elif kind == Target.KIND_CUT:
        raise InvalidInput.at("--baseline-year", gettext("a cut needs the year it is measured against"))
    if value is not None:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidInput.at("--value", gettext("%(value)r is not a number"), value=value) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInput.at("--value", gettext("%(value)r is not a number"), value=value)
        if (kind == Target.KIND_CUT or KPIS[kpi].unit == "%") and not 0 <= value <= 100:
            raise InvalidInput.at("--value", gettext("%(value)s must be a percentage between 0 and 100"),
                                  value=f"{value:g}")
        if value < 0:
            raise InvalidInput.at("--value", gettext("%(value)s must not be negative"), value=f"{value:g}")
    unit_code = (unit_code or "").strip()
    if unit_code:
        if organisation is None:
            raise InvalidInput.at("--unit", gettext("a unit target needs --org"))
        if not Unit.objects.filter(organisation=organisation, code=unit_code).exists():
            raise InvalidInput.at("--unit", gettext("%(orgnr)s has no unit %(unit)r"), orgnr=organisation.orgnr,
                                  unit=unit_code)
    category = (category or "").strip()
    if category and not Category.objects.filter(code=category).exists():
        raise InvalidInput.at("--category", gettext(
            "%(category)r is not a category; see `klimainnkjop categories list`"), category=category)
    checked = []
    for number, milestone in enumerate(milestones or [], start=1):
        try:
            checked.append({"year": _year(f"milestone {number} year", milestone["year"]),
                            "value": float(milestone["value"])})
        except (KeyError, TypeError, ValueError):
            raise InvalidInput.at(f"milestone {number}", gettext("give a year and a value")) from None
    with transaction.atomic():
        previous = list(Target.objects.filter(organisation=organisation, unit_code=unit_code, category=category,
                                              kpi=kpi, active=True))
        for old in previous:
            old.active = False
            old.save(update_fields=["active"])
        target = Target.objects.create(
            organisation=organisation, unit_code=unit_code, category=category, kpi=kpi, kind=kind, value=value,
            baseline_year=baseline_year, target_year=target_year, milestones=checked, decision_date=decision_date,
            case_number=case_number.strip(), template=template, note=note,
            created_by=as_actor(actor).user)
        record_audit(actor=actor, action=Action.SET_TARGET, obj=target, organisation=organisation,
                     before={"replaced": [old.pk for old in previous]} if previous else None,
                     after=_snapshot(target))
    return target


def do_retire_target(*, target: Target, actor: ActorLike = None) -> Target:
    """The target no longer counts; the row stays."""
    before = _snapshot(target)
    target.active = False
    target.save(update_fields=["active"])
    record_audit(actor=actor, action=Action.RETIRE_TARGET, obj=target, organisation=target.organisation,
                 before=before, after=_snapshot(target))
    return target


def do_adopt_target_templates(*, baseline_year: int, target_year: int | None = None,
                              organisation: Organisation | None = None, keys: list[str] | None = None,
                              values: dict[str, float] | None = None, decision_date: dt.date | None = None,
                              case_number: str = "", actor: ActorLike = None) -> list[Target]:
    """The steering document's targets (TEMPLATES) for the region (or an organisation) in one step. A template
    without a year takes `target_year`; one whose level the document leaves open takes `values[key]` or stays
    without a level ("Target level not set"). Templates adopted already (active) are left as they are."""
    keys = keys or [t.key for t in TEMPLATES]
    unknown = [k for k in keys if k not in TEMPLATES_BY_KEY]
    if unknown:
        raise InvalidInput.at("--template", gettext("unknown %(unknown)s; choose among %(templates)s"),
                              unknown=", ".join(unknown), templates=", ".join(TEMPLATES_BY_KEY))
    missing_year = [k for k in keys if TEMPLATES_BY_KEY[k].target_year is None and target_year is None]
    if missing_year:
        raise InvalidInput.at("--target-year", gettext("the steering document gives no year for %(templates)s"),
                              templates=", ".join(missing_year))
    adopted = []
    with transaction.atomic():
        for key in keys:
            template = TEMPLATES_BY_KEY[key]
            if Target.objects.filter(organisation=organisation, template=key, active=True).exists():
                continue
            adopted.append(do_set_target(
                kpi=template.kpi, kind=template.kind, value=(values or {}).get(key, template.value),
                baseline_year=baseline_year, target_year=template.target_year or target_year,
                organisation=organisation, decision_date=decision_date, case_number=case_number, template=key,
                note=template.quote, actor=actor))
    return adopted


def do_set_population(*, municipality: str, year: int, inhabitants: int, source: str,
                      actor: ActorLike = None) -> PopulationFigure:
    """An edited number of inhabitants (wins over the shipped SSB table)."""
    municipality = (municipality or "").strip()
    if not (municipality.isdecimal() and len(municipality) == 4):
        raise InvalidInput.at("municipality", gettext("%(municipality)r is not a 4-digit municipality number"),
                              municipality=municipality)
    year = _year("year", year)
    if int(inhabitants) <= 0:
        raise InvalidInput.at("inhabitants", gettext("%(inhabitants)s must be positive"), inhabitants=inhabitants)
    if not source.strip():
        raise InvalidInput.at("source", gettext("say where the figure comes from"))
    before = PopulationFigure.objects.filter(municipality=municipality, year=year).first()
    old = {"inhabitants": before.inhabitants, "source": before.source} if before else None
    figure, _ = PopulationFigure.objects.update_or_create(
        municipality=municipality, year=year,
        defaults={"inhabitants": int(inhabitants), "source": source.strip(),
                  "created_by": as_actor(actor).user})
    record_audit(actor=actor, action=Action.SET_POPULATION, obj=figure, before=old,
                 after={"municipality": municipality, "year": year, "inhabitants": int(inhabitants),
                        "source": source.strip()})
    return figure
