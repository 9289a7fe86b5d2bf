"""The climate budget page of an organisation (issue 11): every budget the person may see (a unit leader: their
own units' only) with actual against budget for the period, the forecast for the year and the categories that
drive the deviation; org-admins and finance set or revise a budget here. The KPI section of the region,
organisation and unit pages is views.kpi_panel."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext as _, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from klimainnkjop import access
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors import budgets as budget_selectors
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.services.budgets import MAX_BUDGET_TONNES, do_set_budget
from klimainnkjop.web import formatting
from klimainnkjop.web.forms import DesignsystemetForm
from klimainnkjop.web.views import (BadPeriod, existing_years, period_choices, period_codes, period_label,
                                   requested_period)


class BudgetForm(DesignsystemetForm):
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=1990, max_value=2100)
    tonnes = forms.FloatField(label=gettext_lazy("Budget, tonnes CO2e"), required=False, min_value=0,
                              max_value=MAX_BUDGET_TONNES,
                              help_text=gettext_lazy("Empty: proposed from last year's emissions less the cut."))
    cut = forms.FloatField(label=gettext_lazy("Cut from last year, percent"), required=False, min_value=0,
                           max_value=100)

    def __init__(self, *args, units: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("The whole organisation"))] + [
            (code, f"{code} {name}".strip()) for code, name in sorted(units.items())]
        self.style()


def _t(value: float) -> str:
    return formatting.number(value, 1)


@login_required
@require_http_methods(["GET", "POST"])
def budgets(request, orgnr):
    scope = access.scope_for(request.user)
    try:
        org = org_selectors.organisation(scope, orgnr)
    except (access.OutsideScope, org_selectors.NotFound):
        raise Http404
    # the period is chosen from the periods that exist: the years with figures and the years with a budget
    budget_years = budget_selectors.budget_years(scope, org.orgnr)  # a budget has months, figures or not
    period_options = period_choices(existing_years(scope, org.orgnr) + budget_years,
                                    dashboard.monthly_years(scope, org=org.orgnr) | set(budget_years))
    period_error = ""
    try:
        period = requested_period(request)
    except BadPeriod as bad:
        period, period_error = None, bad.text
    if period is not None and period.code not in period_codes(period_options):
        period, period_error = None, request.GET.get("periode", "") or request.GET.get("year", "")
    may_set = access.can_set_budget(request.user, org.orgnr)
    units = dashboard.unit_names(scope, org.orgnr)
    form = None
    if may_set:
        form = BudgetForm(request.POST if request.method == "POST" else None, units=units,
                          initial={"year": period.year if period else None})
    if request.method == "POST":
        if not may_set:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                budget = do_set_budget(organisation=org, unit_code=data["unit"] or "", year=data["year"],
                                       tonnes=data["tonnes"], cut_percent=data["cut"] or 0.0, actor=request.user)
            except InvalidInput as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Budget %(year)s version %(version)s saved.") % {
                    "year": budget.year, "version": budget.version})
                return redirect(f"{request.path}?periode={budget.year}")
    if period is None:
        years = dashboard.period_overview(scope, org=org.orgnr)
        period = dashboard.Period(years.period.year if years is not None and years.years else 0)
    run = results.latest_run()
    rows = []
    for budget in budget_selectors.budgets_of(scope, org.orgnr, period.year):
        status = None
        if run is not None:
            status = budget_selectors.budget_status(scope, orgnr=org.orgnr, unit_code=budget.unit_code or None,
                                                    period=period, run=run)
        label = (f"{budget.unit_code} {units.get(budget.unit_code, '')}".strip() if budget.unit_code
                 else org.name)
        rows.append({"label": label, "unit": budget.unit_code, "budget": budget, "status": status,
                     "cells": _cells(status) if status else None,
                     "categories": [{"category": c["category"] or "–", "actual": _t(c["actual_t"]),
                                     "expected": _t(c["expected_t"]), "deviation": _signed(c["deviation_t"])}
                                    for c in status.categories] if status else []})
    category_names = dashboard.category_names(scope, get_language() or "nb")
    for row in rows:
        for c in row["categories"]:
            c["name"] = category_names.get(c["category"], c["category"])
    context = {"org": org, "period": period, "period_label": period_label(period), "rows": rows, "form": form,
               "period_options": period_options,
               "period_error": _("“%(text)s” is not one of the periods with figures or a budget. Choose a period "
                                 "in the list.") % {"text": period_error} if period_error else ""}
    bad = (form is not None and form.is_bound and form.errors) or period_error
    return render(request, "web/budgets.html", context, status=400 if bad else 200)


def _signed(value: float) -> str:
    return ("+" if value > 0.05 else "") + _t(value)


def _cells(status) -> dict:
    return {"year_budget": _t(status.year_budget_t), "budget": _t(status.budget_t), "actual": _t(status.actual_t),
            "deviation": _signed(status.deviation_t), "forecast": _t(status.forecast_t),
            "version": status.version,
            "trend": _t(status.trend_forecast_t) if status.trend_forecast_t is not None else "–",
            "original": _t(status.original_t) if status.original_t is not None else "–"}


# --- targets: the list, and the steering document's targets adopted in one step ------------------------------

class AdoptForm(DesignsystemetForm):
    baseline_year = forms.IntegerField(label=gettext_lazy("Baseline year"), min_value=1990, max_value=2100)
    target_year = forms.IntegerField(
        label=gettext_lazy("Target year"), min_value=1990, max_value=2100,
        help_text=gettext_lazy("For the targets the steering document gives no year for."))


@login_required
@require_http_methods(["GET", "POST"])
def targets(request):
    from klimainnkjop.selectors import kpis
    from klimainnkjop.services.targets import TEMPLATES, do_adopt_target_templates

    scope = access.scope_for(request.user)
    may_adopt = access.can_set_targets(request.user, None)
    form = AdoptForm(request.POST if request.method == "POST" else None) if may_adopt else None
    if request.method == "POST":
        if not may_adopt:
            raise PermissionDenied
        if form.is_valid():
            try:
                adopted = do_adopt_target_templates(baseline_year=form.cleaned_data["baseline_year"],
                                                    target_year=form.cleaned_data["target_year"], actor=request.user)
            except InvalidInput as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, ngettext("%(count)s target adopted.", "%(count)s targets adopted.",
                                                            len(adopted)) % {"count": len(adopted)})
                return redirect("targets")
    names = dict(scope.organisations().values_list("orgnr", "name"))
    rows = []
    for target in kpis.visible_targets(scope):
        kpi = kpis.KPIS.get(target.kpi)
        subject = names.get(target.organisation.orgnr, target.organisation.orgnr) if target.organisation_id \
            else _("The region")
        if target.unit_code:
            subject = f"{subject}, {target.unit_code}"
        if target.value is None:
            level = _("to be set")
        elif target.kind == "cut":
            level = _("%(value)s %% below %(year)s") % {"value": formatting.number(target.value, 0),
                                                         "year": target.baseline_year}
        else:
            unit = kpi.unit if kpi else ""
            # "90,0 %", as the KPI panels write it (formatting.kpi_value), not "90,00 %"
            level = formatting.kpi_value(target.value, unit) if unit == "%" \
                else f"{formatting.kpi_value(target.value, unit)} {unit}".strip()
        rows.append({"subject": subject, "kpi": str(kpi.name) if kpi else target.kpi, "category": target.category,
                     "level": level, "baseline_year": target.baseline_year or "–", "target_year": target.target_year,
                     "decision": " ".join(str(x) for x in (target.decision_date or "", target.case_number) if x)
                     or "–", "note": target.note})
    adopted = {t.template for t in kpis.visible_targets(scope) if t.organisation_id is None and t.template}
    templates = [{"quote": t.quote, "adopted": t.key in adopted} for t in TEMPLATES]
    return render(request, "web/targets.html", {"rows": rows, "templates": templates, "form": form,
                                                "status_rule": kpis.STATUS_RULE},
                  status=400 if form is not None and form.is_bound and form.errors else 200)
