"""Procurement cases: the routine for each procurement and renewal (issue 12 item 3).

States: opened → screened → ambition_decided → requirements_set → announced → awarded → closed (or cancelled
from any state before closed). Each step is a do_* service that checks the state, writes the case, an entry in
its decision log (CaseEvent: who, when, why) and an audit entry.

Screening: the climate relevance from the category's emissions per NOK in the latest computed account (the
category and its sub-categories, the whole region, every year of the run) times the estimated value:
expected tonnes ≥ HIGH_TONNES is high, ≥ MEDIUM_TONNES medium, else low; a category without purchases in the
account is medium (the rule and its inputs are kept in `screening`). Who must assess and who approves the
ambition comes from the approval rules (ApprovalRule: the organisation's own, else the region's default,
else DEFAULT_RULES). The § 7-9 record is checked against data/climate_considerations.json.

A case opened for an agreement's renewal brings in the measures that target the agreement (Measure.agreement is
its number) and apply to the case's organisation, and their requirements from the library (active ones; an award
criterion without its weight until the purchaser sets the requirements).
"""
from __future__ import annotations

import functools

from django.db import transaction
from django.utils.text import get_text_list
from django.utils.translation import gettext, gettext_noop

from klimainnkjop import access
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors.cases import considerations_rules, has_climate_requirements  # noqa: F401 - used here
from klimainnkjop.services.audit import record_audit
from klimainnkjop.selectors.measures import measures_targeting
from klimainnkjop.storage.models import (Agreement, ApprovalRule, CaseEvent, Category, Organisation, ProcurementCase,
                                         Requirement)
from klimainnkjop.core.audit_actions import Action, CASE_STEP_ACTIONS
from klimainnkjop.core.actors import ActorLike, as_actor

HIGH_TONNES, MEDIUM_TONNES = 20.0, 2.0
# position order: the first rule whose minimum value and relevances fit the case decides
DEFAULT_RULES = [
    {"min_value_nok": 1_300_000, "relevances": ["high", "medium", "low"], "assess_role": "purchaser",
     "approve_role": "org-admin"},
    {"min_value_nok": 100_000, "relevances": ["high", "medium"], "assess_role": "purchaser",
     "approve_role": "org-admin"},
    {"min_value_nok": 0, "relevances": ["high", "medium", "low"], "assess_role": "purchaser",
     "approve_role": "purchaser"},
]
ROLES = {"org-admin", "purchaser", "finance", "region-admin"}
NEXT = {"screen": ("opened",), "propose": ("screened", "ambition_decided"), "decide": ("screened",),
        "requirements": ("ambition_decided", "requirements_set"), "considerations": ("ambition_decided",
                                                                                     "requirements_set"),
        "announce": ("requirements_set",), "award": ("announced",), "close": ("awarded",)}
# a case's state as a refusal names it: its code in English, the word the web shows in bokmål
STATE_WORDS = {"opened": gettext_noop("opened"), "screened": gettext_noop("screened"),
               "ambition_decided": gettext_noop("ambition_decided"),
               "requirements_set": gettext_noop("requirements_set"),
               "announced": gettext_noop("announced"), "awarded": gettext_noop("awarded"),
               "closed": gettext_noop("closed"), "cancelled": gettext_noop("cancelled")}


def _state_word(state: str) -> str:
    return gettext(STATE_WORDS[state]) if state in STATE_WORDS else state


def case_dict(case: ProcurementCase) -> dict:
    return {"id": case.pk, "org": case.organisation.orgnr, "title": case.title, "category": case.category.code,
            "estimated_value_nok": round(case.estimated_value_ore / 100, 2), "procedure": case.procedure,
            "agreement": case.agreement.number if case.agreement_id else None, "state": case.state,
            "relevance": case.relevance, "ambition_proposed": case.ambition_proposed, "ambition": case.ambition,
            "requirements": list(case.requirements), "considerations": dict(case.considerations),
            "award": dict(case.award), "has_climate_requirements": has_climate_requirements(case),
            "measures": sorted(case.measures.values_list("pk", flat=True)) if case.pk else []}


def _log(case: ProcurementCase, step: str, actor: ActorLike, reason: str, before: dict,
         details: dict | None = None) -> None:
    who = as_actor(actor)
    CaseEvent.objects.create(case=case, step=step, state=case.state, actor=who.user, actor_label=who.label,
                             reason=reason, details=details or {})
    record_audit(actor=actor, action=CASE_STEP_ACTIONS[step], obj=case, organisation=case.organisation,
                 before=before, after=case_dict(case))


def _step(case: ProcurementCase, step: str) -> dict:
    if case.state not in NEXT[step]:
        needs = get_text_list([_state_word(state) for state in NEXT[step]])  # "a, b or c", in the asker's language
        raise InvalidInput.at("state", gettext("case %(case)s is %(state)s; this step needs %(needs)s"), case=case.pk,
                              state=_state_word(case.state), needs=needs)
    return case_dict(case)


def _person_may(actor: ActorLike, case: ProcurementCase, role: str) -> bool:
    """A person acting must have the role in the case's organisation (region administrators may do all). Of the
    system actors only the operator's (access.OPERATOR_ACTORS: the command line, the scheduler, the worker, the
    demo's generator) may act, with the operator's rights; anyone else (None, anonymous, api, an unknown name) may
    not."""
    if access.is_operator(actor):
        return True
    person = access.person_of(actor)
    if person is None or not getattr(person, "is_authenticated", False):
        return False
    roles = access.roles_of(person, case.organisation.orgnr)
    return "region-admin" in roles or role in roles or (role == "purchaser" and "org-admin" in roles)


MAX_ESTIMATED_VALUE_NOK = 10**12  # a thousand billion kroner: more than any purchase, and øre within 64 bits


def do_open_case(*, organisation: Organisation, title: str, category: str, estimated_value_nok: int,
                 procedure: str = "", agreement: Agreement | None = None, actor: ActorLike = None) -> ProcurementCase:
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput.at("title", gettext("must be 1 to 200 characters"))
    found = Category.objects.filter(code=category).first()
    if found is None:
        raise InvalidInput.at("category", gettext("unknown category %(category)r"), category=category)
    if not 0 <= estimated_value_nok <= MAX_ESTIMATED_VALUE_NOK:
        raise InvalidInput.at("estimated_value", gettext("must be 0 to %(most)s kroner"),
                              most=f"{MAX_ESTIMATED_VALUE_NOK:,}")
    with transaction.atomic():
        user = as_actor(actor).user
        case = ProcurementCase.objects.create(organisation=organisation, title=title, category=found,
                                              estimated_value_ore=estimated_value_nok * 100,
                                              procedure=procedure.strip()[:60], agreement=agreement, created_by=user)
        details = _bring_in_measures(case) if agreement is not None else {}
        _log(case, "open", actor, "", None, details)
    return case


def _bring_in_measures(case: ProcurementCase) -> dict:
    """A renewal's case: the measures that target the agreement, and their active requirements as the case's
    first list of requirements (inside the opening's transaction)."""
    found = measures_targeting(case.agreement.number, case.organisation.orgnr)
    if not found:
        return {}
    case.measures.set(found)
    codes = list(dict.fromkeys(m.requirement for m in found if m.requirement))
    library = {r.code: r for r in Requirement.objects.filter(code__in=codes, status=Requirement.STATUS_ACTIVE)}
    case.requirements = [{"code": code, "kind": library[code].kind, "weight_percent": None}
                         for code in codes if code in library]
    case.save(update_fields=["requirements"])
    return {"measures": [m.pk for m in found], "requirements": [r["code"] for r in case.requirements]}


def category_intensity(category: str) -> tuple[float | None, float, float]:
    """(kg CO2e per NOK, spend NOK, kg) of the category and its sub-categories in the latest computed account,
    the whole region; None without purchases."""
    from klimainnkjop.selectors.results import latest_run, run_key

    run = latest_run()
    if run is None:
        return None, 0.0, 0.0
    rows = _category_totals(run.run.pk, run_key(run))
    mine = [r for r in rows if r["category"] and (r["category"] == category
                                                   or r["category"].startswith(category + "."))]
    spend, kg = sum(r["spend_nok"] for r in mine), sum(r["kg_co2e"] for r in mine)
    return (kg / spend if spend > 0 else None), spend, kg


@functools.lru_cache(maxsize=8)
def _category_totals(run_id: int, key: str) -> tuple[dict, ...]:
    """The region's purchases per category in a run (a run's results never change: cached per run and its
    result files' key, results.run_key)."""
    from klimainnkjop.selectors.results import Run, totals
    from klimainnkjop.storage.models import ComputeRun

    run = Run(ComputeRun.objects.select_related("factor_set").get(pk=run_id))
    return tuple(totals(access.system_scope(), by=["category"], run=run)["rows"])


def approval_rules(organisation: Organisation | None) -> list[dict]:
    """The rules in force for the organisation: its own, else the region's default rows, else DEFAULT_RULES."""
    rules = list(ApprovalRule.objects.filter(organisation=organisation).order_by("position").values()) if \
        organisation is not None else []
    return rules or list(ApprovalRule.objects.filter(organisation__isnull=True).order_by("position").values()) or \
        DEFAULT_RULES


def approval_rule(organisation: Organisation, value_nok: float, relevance: str) -> dict:
    for rule in approval_rules(organisation):
        if value_nok >= rule["min_value_nok"] and relevance in rule["relevances"]:
            return {k: rule[k] for k in ("min_value_nok", "relevances", "assess_role", "approve_role")}
    return {"min_value_nok": 0, "relevances": [relevance], "assess_role": "purchaser", "approve_role": "org-admin"}


def do_set_approval_rules(*, organisation: Organisation | None, rules: list[dict], actor: ActorLike = None) -> int:
    """Replace the organisation's (None: the region default's) approval rules, in the order given."""
    cleaned = []
    for number, rule in enumerate(rules, start=1):
        relevances = list(rule.get("relevances") or [])
        if not relevances or set(relevances) - set(ProcurementCase.RELEVANCES):
            raise InvalidInput.at(None, gettext("rule %(number)s: relevances must be some of high, medium, low"),
                                  number=number)
        if rule.get("assess_role") not in ROLES or rule.get("approve_role") not in ROLES:
            raise InvalidInput.at(None, gettext("rule %(number)s: roles must be among %(roles)s"), number=number,
                                  roles=", ".join(sorted(ROLES)))
        value = rule.get("min_value_nok", 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput.at(None, gettext("rule %(number)s: min_value_nok must be a whole number, 0 or more"),
                                  number=number)
        cleaned.append(ApprovalRule(organisation=organisation, position=number, min_value_nok=value,
                                    relevances=relevances, assess_role=rule["assess_role"],
                                    approve_role=rule["approve_role"]))
    with transaction.atomic():
        old = list(ApprovalRule.objects.filter(organisation=organisation).values(
            "min_value_nok", "relevances", "assess_role", "approve_role"))
        ApprovalRule.objects.filter(organisation=organisation).delete()
        ApprovalRule.objects.bulk_create(cleaned)
        record_audit(actor=actor, action=Action.SET_APPROVAL_RULES, object_type="ApprovalRule",
                     object_id=organisation.orgnr if organisation else "region", organisation=organisation,
                     before={"rules": old}, after={"rules": rules})
    return len(cleaned)


def do_screen_case(*, case: ProcurementCase, actor: ActorLike = None) -> ProcurementCase:
    before = _step(case, "screen")
    value_nok = case.estimated_value_ore / 100
    intensity, spend, kg = category_intensity(case.category.code)
    if intensity is None:
        relevance, expected = "medium", None
        rule = "no purchases in the category in the account: medium"
    else:
        expected = value_nok * intensity / 1000
        relevance = "high" if expected >= HIGH_TONNES else "medium" if expected >= MEDIUM_TONNES else "low"
        rule = (f"expected tonnes = value {value_nok:.0f} NOK × {intensity:.5f} kg/NOK / 1000 = {expected:.2f}; "
                f"high from {HIGH_TONNES:g} t, medium from {MEDIUM_TONNES:g} t")
    approval = approval_rule(case.organisation, value_nok, relevance)
    with transaction.atomic():
        case.relevance, case.state = relevance, "screened"
        case.screening = {"intensity_kg_per_nok": intensity, "category_spend_nok": spend, "category_kg": kg,
                          "expected_tonnes": expected, "high_tonnes": HIGH_TONNES, "medium_tonnes": MEDIUM_TONNES,
                          "rule": rule, "approval": approval}
        case.assess_role, case.approve_role = approval["assess_role"], approval["approve_role"]
        case.save()
        _log(case, "screen", actor, rule, before, case.screening)
    return case


def do_propose_ambition(*, case: ProcurementCase, ambition: str, reason: str = "", actor: ActorLike = None):
    before = _step(case, "propose")
    if ambition not in ProcurementCase.AMBITIONS:
        raise InvalidInput.at("ambition", gettext("one of %(ambitions)s"),
                              ambitions=", ".join(ProcurementCase.AMBITIONS))
    if not _person_may(actor, case, case.assess_role or "purchaser"):
        raise PermissionError(f"the ambition of this case is proposed by a {case.assess_role}")
    with transaction.atomic():
        case.ambition_proposed, case.state = ambition, "screened"
        case.save()
        _log(case, "propose_ambition", actor, reason, before, {"ambition": ambition})
    return case


def do_decide_ambition(*, case: ProcurementCase, ambition: str, reason: str = "", actor: ActorLike = None):
    before = _step(case, "decide")
    if ambition not in ProcurementCase.AMBITIONS:
        raise InvalidInput.at("ambition", gettext("one of %(ambitions)s"),
                              ambitions=", ".join(ProcurementCase.AMBITIONS))
    if not case.ambition_proposed:
        raise InvalidInput.at("ambition", gettext("the purchaser proposes an ambition level first"))
    if not _person_may(actor, case, case.approve_role or "org-admin"):
        raise PermissionError(f"the ambition of this case is decided by a {case.approve_role}")
    if ambition != case.ambition_proposed and not reason.strip():
        raise InvalidInput.at("reason", gettext("say why the decision differs from the proposal"))
    with transaction.atomic():
        case.ambition, case.state = ambition, "ambition_decided"
        case.save()
        _log(case, "decide_ambition", actor, reason, before, {"ambition": ambition})
    return case


def do_set_case_requirements(*, case: ProcurementCase, requirements: list[dict], reason: str = "",
                             actor: ActorLike = None) -> ProcurementCase:
    """requirements: [{"code": library id, "weight_percent": for award criteria}]; replaces the case's list."""
    before = _step(case, "requirements")
    if not _person_may(actor, case, case.assess_role or "purchaser"):
        raise PermissionError("requirements are set by the case's purchaser")
    found = {r.code: r for r in Requirement.objects.filter(code__in=[r.get("code") for r in requirements])}
    chosen = []
    for entry in requirements:
        item = found.get(entry.get("code"))
        if item is None or item.status != Requirement.STATUS_ACTIVE:
            raise InvalidInput.at("requirements", gettext("%(code)r is not an active requirement of the library"),
                                  code=entry.get("code"))
        weight = entry.get("weight_percent")
        if item.kind == Requirement.KIND_AWARD:
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 100:
                raise InvalidInput.at("requirements", gettext(
                    "the award criterion %(code)s needs a weight from 1 to 100 %%"), code=item.code)
        elif weight:
            raise InvalidInput.at("requirements", gettext("only award criteria have a weight (%(code)s is %(kind)s)"),
                                  code=item.code, kind=item.kind)
        chosen.append({"code": item.code, "kind": item.kind, "weight_percent": weight if weight else None})
    with transaction.atomic():
        case.requirements, case.state = chosen, "requirements_set"
        case.save()
        _log(case, "set_requirements", actor, reason, before, {"requirements": chosen})
    return case


def do_record_considerations(*, case: ProcurementCase, option: str, weight_percent: float | None = None,
                             description: str = "", reason: str = "", actor: ActorLike = None) -> ProcurementCase:
    """The record of climate and environmental considerations (§ 7-9), checked against the rule set's data."""
    before = _step(case, "considerations")
    rules = considerations_rules()
    chosen = next((o for o in rules["options"] if o["code"] == option), None)
    if chosen is None:
        raise InvalidInput.at("option", gettext("one of %(options)s"),
                              options=", ".join(o["code"] for o in rules["options"]))
    values = {"weight_percent": weight_percent, "description": description.strip(), "reason": reason.strip()}
    missing = [k for k in chosen["requires"] if not values[k]]
    if missing:
        raise InvalidInput.at(missing[0], gettext("%(option)s needs %(fields)s"), option=chosen["label"],
                              fields=", ".join(missing))
    if chosen.get("min_weight_percent") and (weight_percent or 0) < chosen["min_weight_percent"]:
        raise InvalidInput.at("weight_percent", gettext("at least %(least)s %% under %(regulation)s (%(version)s)"),
                              least=chosen["min_weight_percent"], regulation=rules["regulation"],
                              version=rules["version"])
    record = {"option": option, "label": chosen["label"], **{k: v for k, v in values.items() if v},
              "regulation": rules["regulation"], "rule_version": rules["version"]}
    with transaction.atomic():
        case.considerations = record
        case.save()
        _log(case, "record_considerations", actor, reason or description, before, record)
    return case


def do_announce_case(*, case: ProcurementCase, actor: ActorLike = None) -> ProcurementCase:
    before = _step(case, "announce")
    if not case.considerations:
        raise InvalidInput.at("considerations", gettext(
            "record how climate and environment are taken into account first"))
    with transaction.atomic():
        case.state = "announced"
        case.save()
        _log(case, "announce", actor, "", before)
    return case


def do_award_case(*, case: ProcurementCase, supplier_orgnr: str, requirements: list[str],
                  climate_weight_percent: float | None = None, reason: str = "", actor: ActorLike = None):
    before = _step(case, "award")
    supplier = supplier_orgnr.replace(" ", "")
    if not (supplier.isdecimal() and len(supplier) == 9):
        raise InvalidInput.at("supplier", gettext("%(orgnr)r is not a 9-digit organisation number"),
                              orgnr=supplier_orgnr)
    chosen = {r["code"] for r in case.requirements}
    unknown = [c for c in requirements if c not in chosen]
    if unknown:
        raise InvalidInput.at("requirements", gettext("%(codes)s were not among the case's requirements"),
                              codes=", ".join(unknown))
    with transaction.atomic():
        case.award = {"supplier_orgnr": supplier, "requirements": list(requirements),
                      "climate_weight_percent": climate_weight_percent}
        case.state = "awarded"
        case.save()
        _log(case, "award", actor, reason, before, case.award)
    return case


def do_close_case(*, case: ProcurementCase, reason: str = "", actor: ActorLike = None) -> ProcurementCase:
    before = _step(case, "close")
    with transaction.atomic():
        case.state = "closed"
        case.save()
        _log(case, "close", actor, reason, before)
    return case


def do_cancel_case(*, case: ProcurementCase, reason: str, actor: ActorLike = None) -> ProcurementCase:
    if case.state in ("closed", "cancelled"):
        raise InvalidInput.at("state", gettext("case %(case)s is %(state)s already"), case=case.pk,
                              state=_state_word(case.state))
    if not reason.strip():
        raise InvalidInput.at("reason", gettext("say why the procurement is cancelled"))
    before = case_dict(case)
    with transaction.atomic():
        case.state = "cancelled"
        case.save()
        _log(case, "cancel", actor, reason, before)
    return case
