"""Agreements ranked by emissions, one agreement, the renewal pipeline and the requirement library (issue 12).

Thin like views.py: access via access.scope_for, reads via selectors. Agreements and their figures are scoped
(an agreement outside the scope is a 404); the requirement library is the region's shared reference data.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext as _, gettext_lazy

from klimainnkjop import access
from klimainnkjop.access import scope_for
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors import agreements as agreement_selectors
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import requirements as requirement_selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors.results import NoResults
from klimainnkjop.services.agreements import do_save_agreement
from klimainnkjop.services.requirements import do_save_requirement
from klimainnkjop.web.forms_agreements import AgreementForm, RequirementForm
from klimainnkjop.web.views import existing_years

KIND_LABELS = {
    "qualification": gettext_lazy("Qualification requirement"),
    "specification": gettext_lazy("Technical specification"),
    "award": gettext_lazy("Award criterion"),
    "clause": gettext_lazy("Contract clause"),
}
EVENT_LABELS = {"option": gettext_lazy("Option date"), "end": gettext_lazy("Ends")}


def _bad_request(request, text: str):
    return render(request, "web/agreements_invalid.html", {"text": text}, status=400)


def _whole(request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdecimal() or not low <= int(raw) <= high:
        raise ValueError(raw)
    return int(raw)


def effect_text(effect: dict) -> str:
    if effect.get("kind") == "switch":
        return _("%(share)s %% of the spend moves from %(source)s to %(target)s") % {
            "share": f"{effect['share'] * 100:g}", "source": effect["from"], "target": effect["to"]}
    if effect.get("kind") == "intensity_cut":
        return _("%(percent)s %% lower intensity in the category") % {"percent": f"{effect['percent']:g}"}
    return _("No effect of its own")


def _supplier_text(suppliers: list[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(s, s) for s in suppliers)


def _supplier_names(scope, rows) -> dict[str, str]:
    return agreement_selectors.supplier_names(sorted({s for r in rows for s in r["suppliers"]}))


@login_required
def agreements(request):
    scope = scope_for(request.user)
    try:
        year = _whole(request, "ar", None, 1990, 2100)
    except ValueError:
        return _bad_request(request, _("The year must be a year such as 2025."))
    rows = agreement_selectors.ranked(scope, year=year)
    names = _supplier_names(scope, rows)
    total_kg = sum(r["kg_co2e"] for r in rows)
    years = sorted(set(existing_years(scope)) | ({year} if year else set()), reverse=True)  # the years with figures
    context = {"year": year, "years": years, "total_tonnes": total_kg / 1000,
               "can_add": access.agreement_owners(request.user) != set(), "rows": [{
        "pk": r["agreement"].pk, "number": r["number"], "name": r["name"],
        "suppliers": _supplier_text(r["suppliers"], names), "end": r["end"], "spend_nok": r["spend_nok"],
        "tonnes": r["kg_co2e"] / 1000, "share": (100 * r["kg_co2e"] / total_kg) if total_kg else 0.0,
    } for r in rows]}
    return render(request, "web/agreements.html", context)


@login_required
def agreement(request, pk: int):
    scope = scope_for(request.user)
    item = agreement_selectors.agreements(scope).filter(pk=pk).first()
    if item is None:
        raise Http404
    try:
        per_year = agreement_selectors.figures(scope, [item], by_year=True)
    except NoResults:
        per_year = {}
    years = [{"year": year, "spend_nok": f.spend_nok, "tonnes": f.tonnes, "lines": f.lines}
             for (_pk, year), f in sorted(per_year.items())]
    names = _supplier_names(scope, [{"suppliers": item.suppliers}])
    requirements = []
    for category in item.categories:
        for found in requirement_selectors.requirements(category=category):
            if found not in requirements:
                requirements.append(found)
    context = {
        "item": item, "participants": list(item.participants.all()),
        "can_edit": access.can_manage_agreements(request.user, item.owner.orgnr if item.owner_id else None),
        "suppliers": [{"orgnr": s, "name": names.get(s, "")} for s in item.suppliers],
        "final_end": agreement_selectors.final_end(item), "years": years,
        "total_spend": sum(y["spend_nok"] for y in years), "total_tonnes": sum(y["tonnes"] for y in years),
        "estimated_yearly_nok": item.estimated_yearly_ore / 100,
        "requirements": [{"code": r.code, "title": r.title, "kind": KIND_LABELS[r.kind]}
                         for r in requirements if r.kind != "qualification"][:15],
    }
    return render(request, "web/agreement.html", context)


@login_required
def renewals(request):
    scope = scope_for(request.user)
    try:
        months = _whole(request, "maaneder", 24, 1, 120)
    except ValueError:
        return _bad_request(request, _("The number of months must be a whole number from 1 to 120."))
    today = dt.date.today()
    rows = agreement_selectors.renewals(scope, months=months, today=today)
    names = _supplier_names(scope, rows)
    context = {"months": months, "year": today.year - 1, "choices": [6, 12, 24, 36],
               "can_open": access.case_organisations(request.user) != set(), "rows": [{
        "pk": r["agreement"].pk, "number": r["number"], "name": r["name"],
        "suppliers": _supplier_text(r["suppliers"], names), "date": r["date"], "event": EVENT_LABELS[r["event"]],
        "final_end": r["final_end"], "months_left": r["months_left"], "tonnes": r["kg_co2e"] / 1000,
        "spend_nok": r["spend_nok"], "measures": r["measures"],
    } for r in rows]}
    return render(request, "web/agreement_renewals.html", context)


@login_required
def requirement_library(request):
    kind = request.GET.get("type", "").strip()
    if kind and kind not in KIND_LABELS:
        return _bad_request(request, _("Choose a kind of requirement from the list."))
    category = request.GET.get("kategori", "").strip()[:60]
    names = dashboard.category_names(scope_for(request.user), get_language() or "nb")
    if category and category not in names:
        return _bad_request(request, _("“%(code)s” is not a category. Choose a category from the list.")
                            % {"code": category})
    found = requirement_selectors.requirements(kind=kind or None, category=category or None)
    context = {"kind": kind, "category": category, "kinds": [(k, v) for k, v in KIND_LABELS.items()],
               "categories": sorted(names.items()),
               "can_edit": access.can_administer_region(request.user),
               "rows": [{"code": r.code, "kind": KIND_LABELS[r.kind], "categories": ", ".join(r.categories),
                         "title": r.title, "effect": effect_text(r.expected_effect)} for r in found]}
    return render(request, "web/requirements.html", context)


@login_required
def requirement(request, code: str):
    try:
        item = requirement_selectors.requirement(code)
    except requirement_selectors.NotFound:
        raise Http404 from None
    context = {"item": item, "kind": KIND_LABELS[item.kind], "effect": effect_text(item.expected_effect),
               "history": requirement_selectors.history(item),
               "can_edit": access.can_administer_region(request.user)}
    return render(request, "web/requirement.html", context)


def _agreement_form(request, item=None):
    owners_allowed = access.agreement_owners(request.user)
    organisations = list(org_selectors.organisations(access.system_scope()))
    owners = [o for o in organisations if owners_allowed is None or o.orgnr in owners_allowed]
    initial = None
    if item is not None:
        initial = {"number": item.number, "name": item.name, "suppliers": ", ".join(item.suppliers),
                   "categories": ", ".join(item.categories), "participants": [o.orgnr for o in item.participants.all()],
                   "owner": item.owner.orgnr if item.owner_id else "", "contact": item.contact, "start": item.start,
                   "end": item.end, "options_used": item.options_used, "options_left": item.options_left,
                   "option_months": item.option_months, "estimated_yearly_nok": item.estimated_yearly_ore // 100,
                   "note": item.note}
    return AgreementForm(request.POST if request.method == "POST" else None, initial=initial,
                         organisations=organisations, owners=owners)


def _save(request, form, item=None):
    data = form.cleaned_data
    if item is not None and data["number"] != item.number:
        form.add_error("number", _("The number of an agreement cannot be changed."))
        return None
    try:
        return do_save_agreement(
            number=data["number"], name=data["name"], suppliers=data["suppliers"], start=data["start"], end=data["end"],
            categories=data["categories"], participants=data["participants"], owner=data["owner"],
            contact=data["contact"], options_used=data["options_used"], options_left=data["options_left"],
            option_months=data["option_months"], estimated_yearly_ore=data["estimated_yearly_nok"] * 100,
            note=data["note"], actor=request.user)
    except InvalidInput as exc:
        form.add_service_error(exc)
        return None


@login_required
def agreement_new(request):
    if access.agreement_owners(request.user) == set():
        raise PermissionDenied
    form = _agreement_form(request)
    if request.method == "POST" and form.is_valid():
        if agreement_selectors.agreements(access.system_scope()).filter(number=form.cleaned_data["number"]).exists():
            form.add_error("number", _("An agreement with this number exists already."))
        else:
            saved = _save(request, form)
            if saved is not None:
                messages.success(request, _("Agreement %(number)s saved.") % {"number": saved.number})
                return redirect("agreement", pk=saved.pk)
    return render(request, "web/agreement_form.html", {"form": form, "item": None},
                  status=400 if form.is_bound and form.errors else 200)


@login_required
def agreement_edit(request, pk: int):
    item = agreement_selectors.agreements(scope_for(request.user)).filter(pk=pk).first()
    if item is None:
        raise Http404
    if not access.can_manage_agreements(request.user, item.owner.orgnr if item.owner_id else None):
        raise PermissionDenied
    form = _agreement_form(request, item)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, item)
        if saved is not None:
            messages.success(request, _("Agreement %(number)s saved.") % {"number": saved.number})
            return redirect("agreement", pk=saved.pk)
    return render(request, "web/agreement_form.html", {"form": form, "item": item},
                  status=400 if form.is_bound and form.errors else 200)


def _requirement_initial(item) -> dict:
    effect = item.expected_effect or {"kind": "none"}
    return {"code": item.code, "kind": item.kind, "categories": ", ".join(item.categories), "title": item.title,
            "text": item.text, "verification": item.verification, "legal_note": item.legal_note,
            "effect": effect.get("kind", "none"), "percent": effect.get("percent"),
            "switch_from": effect.get("from", ""), "switch_to": effect.get("to", ""),
            "share": effect["share"] * 100 if effect.get("share") is not None else None,
            "min_value_nok": item.min_value_nok, "guidance": item.guidance, "status": item.status}


def _requirement_form(request, item=None):
    if not access.can_administer_region(request.user):
        raise PermissionDenied
    form = RequirementForm(request.POST if request.method == "POST" else None,
                           initial=_requirement_initial(item) if item else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if item is not None and data["code"] != item.code:
            form.add_error("code", _("The id of a requirement cannot be changed."))
        elif item is None and requirement_selectors.exists(data["code"]):
            form.add_error("code", _("A requirement with this id exists already."))
        else:
            values = {k: data[k] for k in ("kind", "categories", "title", "text", "verification", "legal_note",
                                           "min_value_nok", "guidance", "status")}
            try:
                saved = do_save_requirement(code=data["code"], values={**values, "expected_effect":
                                                                       form.effect_value()}, actor=request.user)
            except InvalidInput as exc:
                form.add_service_error(exc, fields={"expected_effect": "effect"})
            else:
                messages.success(request, _("Requirement %(code)s saved (version %(version)s).") % {
                    "code": saved.code, "version": saved.version})
                return redirect("requirement", code=saved.code)
    return render(request, "web/requirement_form.html", {"form": form, "item": item},
                  status=400 if form.is_bound and form.errors else 200)


@login_required
def requirement_new(request):
    return _requirement_form(request)


@login_required
def requirement_edit(request, code: str):
    try:
        item = requirement_selectors.requirement(code)
    except requirement_selectors.NotFound:
        raise Http404 from None
    return _requirement_form(request, item)
