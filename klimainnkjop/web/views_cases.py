"""Procurement cases on the web: the list, a new case, one case with its decision log and the form of its next
step (services/cases.py decides what each step needs; the approver's role is checked there too).

A case outside the person's scope is a 404; a step by someone who may only read is a 403.
"""
from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from klimainnkjop import access
from klimainnkjop.access import scope_for
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors import agreements as agreement_selectors
from klimainnkjop.selectors import cases as case_selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors import requirements as requirement_selectors
from klimainnkjop.services import cases as case_services
from klimainnkjop.web import labels
from klimainnkjop.web.forms import error_text, role_label
from klimainnkjop.web.views_agreements import KIND_LABELS

STATE_LABELS = {
    "opened": gettext_lazy("Opened"), "screened": gettext_lazy("Screened"),
    "ambition_decided": gettext_lazy("Ambition decided"), "requirements_set": gettext_lazy("Requirements set"),
    "announced": gettext_lazy("Announced"), "awarded": gettext_lazy("Awarded"), "closed": gettext_lazy("Closed"),
    "cancelled": gettext_lazy("Cancelled"),
}
RELEVANCE_LABELS = {"high": gettext_lazy("High"), "medium": gettext_lazy("Medium"), "low": gettext_lazy("Low"),
                    "": "–"}
AMBITION_LABELS = {"basic": gettext_lazy("Basic"), "advanced": gettext_lazy("Advanced"),
                   "leading": gettext_lazy("Leading"), "": "–"}


def _row(case) -> dict:
    return {"pk": case.pk, "org": case.organisation.name, "title": case.title, "category": case.category.name_nb,
            "value": case.estimated_value_ore / 100, "state": STATE_LABELS.get(case.state, case.state),
            "relevance": RELEVANCE_LABELS.get(case.relevance, case.relevance),
            "ambition": AMBITION_LABELS.get(case.ambition, case.ambition),
            "ambition_proposed": AMBITION_LABELS.get(case.ambition_proposed, case.ambition_proposed),
            "climate": case_selectors.has_climate_requirements(case)}


@login_required
def cases(request):
    scope = scope_for(request.user)
    found = case_selectors.cases(scope)
    kpi = case_selectors.climate_requirement_share(scope)
    summary = {**kpi[0], "percent": 100 * kpi[0]["share"]} if kpi else None
    return render(request, "web/cases.html", {"rows": [_row(c) for c in found], "kpi": summary,
                                              "can_open": access.case_organisations(request.user) != set()})


@login_required
def case_new(request):
    allowed = access.case_organisations(request.user)
    if allowed == set():
        raise PermissionDenied
    organisations = [o for o in org_selectors.organisations(access.system_scope())
                     if allowed is None or o.orgnr in allowed]
    categories = requirement_selectors.categories()
    agreements = list(agreement_selectors.agreements(scope_for(request.user)))
    error, values = "", {}
    renewing = next((a for a in agreements if str(a.pk) == request.GET.get("avtale", "")), None)
    if renewing is not None:  # a case for an agreement's renewal (the renewals page links here)
        values = {"agreement": str(renewing.pk), "title": _("Renewal of %(name)s") % {"name": renewing.name},
                  "category": renewing.categories[0] if renewing.categories else "",
                  "org": renewing.owner.orgnr if renewing.owner_id else "",
                  "value": str(renewing.estimated_yearly_ore // 100)}
    if request.method == "POST":
        values = request.POST
        orgnr = values.get("org", "")
        organisation = next((o for o in organisations if o.orgnr == orgnr), None)
        agreement = next((a for a in agreements if str(a.pk) == values.get("agreement", "")), None)
        try:
            if organisation is None:
                raise InvalidInput(_("Choose the organisation."))
            value = values.get("value", "").replace(" ", "").replace("\u00a0", "")
            # ASCII digits (str.isdigit takes ² and other digits int() refuses), at most the service's bound
            if not re.fullmatch(r"[0-9]+", value) or int(value) > case_services.MAX_ESTIMATED_VALUE_NOK:
                raise InvalidInput(_("The estimated value must be a whole number of kroner."))
            case = case_services.do_open_case(organisation=organisation, title=values.get("title", ""),
                                              category=values.get("category", ""), estimated_value_nok=int(value),
                                              procedure=values.get("procedure", ""), agreement=agreement,
                                              actor=request.user)
        except InvalidInput as exc:
            error = error_text(exc)
        else:
            messages.success(request, _("The case is opened."))
            return redirect("case", pk=case.pk)
    return render(request, "web/case_form.html", {
        "organisations": organisations, "categories": categories, "agreements": agreements, "error": error,
        "values": values}, status=400 if error else 200)


def _case(request, pk: int):
    try:
        return case_selectors.case(scope_for(request.user), pk)
    except case_selectors.NotFound:
        raise Http404 from None


@login_required
def case(request, pk: int):
    return _render_case(request, _case(request, pk))


def _events(item) -> list[dict]:
    """The decision log; the screening step's reason (the rule, kept in English by the service) in words."""
    rule = labels.screening_rule(item.screening or {})
    return [{"created_at": e.created_at, "step": e.step, "actor_label": e.actor_label,
             "reason": rule if e.step == "screen" and rule else e.reason} for e in case_selectors.events(item)]


def _render_case(request, item, error: str = "", status: int = 200):
    library = [{"code": r.code, "title": r.title, "kind": KIND_LABELS[r.kind], "award": r.kind == "award",
                "chosen": any(c["code"] == r.code for c in item.requirements)}
               for r in requirement_selectors.requirements(category=item.category.code)]
    chosen = [{**c, "kind": KIND_LABELS.get(c["kind"], c["kind"])} for c in item.requirements]
    context = {
        "item": item, "row": _row(item), "events": _events(item), "error": error,
        "screening_rule": labels.screening_rule(item.screening or {}),
        "may_act": access.can_work_on_cases(request.user, item.organisation.orgnr),
        "library": library, "chosen": chosen, "options": case_services.considerations_rules()["options"],
        "ambitions": list(AMBITION_LABELS.items())[:3], "states": STATE_LABELS,
        "final": item.state in ("closed", "cancelled"),
        "assess_role": role_label(item.assess_role) if item.assess_role else "–",
        "approve_role": role_label(item.approve_role) if item.approve_role else "–",
    }
    return render(request, "web/case.html", context, status=status)


def _number(text: str) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(_("Write a number, e.g. 30.")) from None


@login_required
@require_POST
def case_step(request, pk: int):
    item = _case(request, pk)
    if not access.can_work_on_cases(request.user, item.organisation.orgnr):
        raise PermissionDenied
    post, user, step = request.POST, request.user, request.POST.get("step", "")
    reason = post.get("reason", "")
    try:
        if step == "screen":
            case_services.do_screen_case(case=item, actor=user)
        elif step == "propose":
            case_services.do_propose_ambition(case=item, ambition=post.get("ambition", ""), reason=reason, actor=user)
        elif step == "decide":
            case_services.do_decide_ambition(case=item, ambition=post.get("ambition", ""), reason=reason, actor=user)
        elif step == "requirements":
            chosen = [{"code": code, "weight_percent": _number(post.get(f"weight-{code}", ""))}
                      for code in post.getlist("requirement")]
            case_services.do_set_case_requirements(case=item, requirements=chosen, reason=reason, actor=user)
        elif step == "considerations":
            case_services.do_record_considerations(case=item, option=post.get("option", ""),
                                                   weight_percent=_number(post.get("weight_percent", "")),
                                                   description=post.get("description", ""), reason=reason,
                                                   actor=user)
        elif step == "announce":
            case_services.do_announce_case(case=item, actor=user)
        elif step == "award":
            case_services.do_award_case(case=item, supplier_orgnr=post.get("supplier", ""),
                                        requirements=post.getlist("requirement"),
                                        climate_weight_percent=_number(post.get("climate_weight", "")),
                                        reason=reason, actor=user)
        elif step == "close":
            case_services.do_close_case(case=item, reason=reason, actor=user)
        elif step == "cancel":
            case_services.do_cancel_case(case=item, reason=reason, actor=user)
        else:
            raise InvalidInput(_("Unknown step."))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    except InvalidInput as exc:
        item.refresh_from_db()
        return _render_case(request, item, error=error_text(exc), status=400)
    return redirect("case", pk=item.pk)


@login_required
def checklist(request):
    """The routine as a printable checklist: the steps, who assesses and approves by value and relevance (the
    person's organisation's rules, else the region's), and the § 7-9 options of the rule set in force."""
    orgnr = next(iter(sorted(scope_for(request.user).orgnrs or [])), None)
    organisation = next((o for o in org_selectors.organisations(access.system_scope()) if o.orgnr == orgnr), None)
    rules = case_services.approval_rules(organisation)
    considerations = case_selectors.considerations_rules()
    return render(request, "web/case_checklist.html", {
        "organisation": organisation, "rules": [{**r, "relevances": ", ".join(
            str(RELEVANCE_LABELS.get(x, x)) for x in r["relevances"]), "assess_role": role_label(r["assess_role"]),
            "approve_role": role_label(r["approve_role"])} for r in rules],
        "considerations": considerations, "high": case_services.HIGH_TONNES, "medium": case_services.MEDIUM_TONNES})


def _document(request, pk: int, document: str, fmt: str):
    from django.http import HttpResponse

    from klimainnkjop.reports import case_documents

    item = _case(request, pk)
    response = HttpResponse(case_documents.render(item, document, fmt), content_type=case_documents.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (f'attachment; filename="sak-{item.pk}-{case_documents.FILE_NAMES[document]}'
                                       f'.{fmt}"')
    return response


@login_required
def case_annex(request, pk: int, fmt: str = "pdf"):
    """The tender annex "Klima- og miljøkrav" as PDF or DOCX (whoever may see the case)."""
    return _document(request, pk, "annex", fmt)


@login_required
def case_record(request, pk: int, fmt: str = "pdf"):
    """The record of climate and environmental considerations (§ 7-9) as PDF or DOCX."""
    return _document(request, pk, "record", fmt)
