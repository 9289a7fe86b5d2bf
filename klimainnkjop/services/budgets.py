"""Climate budgets (issue 11): a yearly budget in tonnes CO2e for an organisation or one of its units, spread over
the months by last year's profile unless given. A revision is a new version; earlier versions stay."""
from __future__ import annotations


from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext

from klimainnkjop.access import system_scope
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors import budgets as budget_selectors
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import ClimateBudget, Organisation, Unit
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor


def spread(tonnes: float, profile_kg: list[float]) -> tuple[list[float], str]:
    """The year's tonnes over the months in proportion to last year's kg per month (1–12); evenly when last year
    has no monthly figures. The months add up to tonnes."""
    months = [max(float(v), 0.0) for v in profile_kg[1:13]]
    total = sum(months)
    if total <= 0:
        return [tonnes / 12.0] * 12, "even"
    return [tonnes * v / total for v in months], "last-year"


MAX_BUDGET_TONNES = 100_000_000.0  # twice Norway's own emissions: a budget above it is a typing error


def do_set_budget(*, organisation: Organisation, year: int, tonnes: float | None = None, unit_code: str = "",
                  monthly_tonnes: list[float] | None = None, cut_percent: float = 0.0, note: str = "",
                  actor: ActorLike = None) -> ClimateBudget:
    """A new version of the budget. Without `tonnes`, proposed from the previous year's actual less `cut_percent`
    (e.g. the adopted measures package's expected cut). Without `monthly_tonnes`, spread by the previous year's
    monthly profile of the same organisation or unit."""
    unit_code = (unit_code or "").strip()
    if unit_code and not Unit.objects.filter(organisation=organisation, code=unit_code).exists():
        raise InvalidInput.at("--unit", gettext("%(orgnr)s has no unit %(unit)r"), orgnr=organisation.orgnr,
                              unit=unit_code)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InvalidInput.at("--year", gettext("%(value)r is not a year"), value=year) from None
    if not 1990 <= year <= 2100:
        raise InvalidInput.at("--year", gettext("%(year)s is outside 1990–2100"), year=year)
    if not 0 <= float(cut_percent) <= 100:
        raise InvalidInput.at("--cut", gettext("%(value)s must be a percentage between 0 and 100"), value=cut_percent)
    scope = system_scope()
    last_year = budget_selectors.monthly_kg(scope, organisation.orgnr, unit_code or None, year - 1)
    proposed = tonnes is None
    if proposed:
        if not sum(last_year):
            raise InvalidInput.at("--tonnes", gettext(
                "%(year)s has no figures to propose a budget from; give the tonnes"), year=year - 1)
        tonnes = sum(last_year) / 1000.0 * (1.0 - float(cut_percent) / 100.0)
    try:
        tonnes = float(tonnes)
    except (TypeError, ValueError):
        raise InvalidInput.at("--tonnes", gettext("%(value)r is not a number"), value=tonnes) from None
    if not 0 <= tonnes <= MAX_BUDGET_TONNES:
        raise InvalidInput.at("--tonnes", gettext("%(value)r must be a number of tonnes from 0 to %(most)s"),
                              value=tonnes, most=f"{MAX_BUDGET_TONNES:,.0f}")
    if monthly_tonnes is not None:
        if len(monthly_tonnes) != 12 or not all(0 <= float(v) <= MAX_BUDGET_TONNES for v in monthly_tonnes):
            raise InvalidInput.at("monthly tonnes", gettext("give 12 values, zero or more, January first"))
        monthly = [float(v) for v in monthly_tonnes]
        if abs(sum(monthly) - tonnes) > 1e-6 * max(tonnes, 1.0):
            raise InvalidInput.at("monthly tonnes", gettext("they add up to %(sum)s, not the budget's %(tonnes)s"),
                                  sum=f"{sum(monthly):g}", tonnes=f"{tonnes:g}")
        profile = "given"
    else:
        monthly, profile = spread(tonnes, last_year)
    with transaction.atomic():
        previous = (ClimateBudget.objects
                    .filter(organisation=organisation, unit_code=unit_code, year=year)
                    .aggregate(v=Max("version"))["v"] or 0)
        budget = ClimateBudget.objects.create(
            organisation=organisation, unit_code=unit_code, year=year, version=previous + 1, tonnes=tonnes,
            monthly_tonnes=monthly, profile=profile, note=note,
            created_by=as_actor(actor).user)
        record_audit(actor=actor, action=Action.SET_CLIMATE_BUDGET, obj=budget, organisation=organisation,
                     before={"version": previous} if previous else None,
                     after={"unit": unit_code or None, "year": year, "version": budget.version, "tonnes": tonnes,
                            "profile": profile, "proposed": proposed, "cut_percent": float(cut_percent)})
    return budget
