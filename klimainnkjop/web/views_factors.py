"""The factor library, the method page and the comparison of two computations.

Thin like views.py: access via access.scope_for, reads via selectors. The factor library is shared
reference data (no organisation scope); where factors were used, and computed results, are scoped.
"""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext as _, gettext_lazy

from klimainnkjop.access import scope_for
from klimainnkjop.selectors import changes as change_selectors
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import factors as factor_selectors
from klimainnkjop.selectors import results
from klimainnkjop.web import formatting

PAGE_SIZE = 50
USAGE_ROWS = 50

METHOD_LABELS = {
    "supplier": gettext_lazy("Supplier-specific"),
    "activity": gettext_lazy("Activity-based"),
    "spend": gettext_lazy("Spend-based"),
}
BASIS_LABELS = {
    factor_selectors.BASIS_SPEND: gettext_lazy("Spend"),
    factor_selectors.BASIS_ACTIVITY: gettext_lazy("Activity"),
}
ROLE_LABELS = {
    factor_selectors.ROLE_SPEND_DEFAULT: gettext_lazy("Default spend factors"),
    factor_selectors.ROLE_SPEND_FALLBACK: gettext_lazy("Fallback spend factors (only where the default set has none)"),
    factor_selectors.ROLE_ACTIVITY: gettext_lazy("Activity factors (per physical unit)"),
    factor_selectors.ROLE_MARKET: gettext_lazy("Market-based figure, reported beside the account"),
    "": gettext_lazy("No role"),
}
STATUS_LABELS = {
    factor_selectors.STATUS_PUBLISHED: gettext_lazy("Published"),
    factor_selectors.STATUS_DRAFT: gettext_lazy("Draft"),
}


def _language() -> str:
    return get_language() or "nb"


def _norwegian() -> bool:
    return _language().startswith(("nb", "no"))


def _category_name(category) -> str:
    return category.name_nb if _norwegian() else category.name_en


def _set_label(fs) -> str:
    return f"{fs.name} {fs.version}"


def _validity(f) -> str:
    start = "" if f.valid_from_year <= 1900 else str(f.valid_from_year)
    end = "" if f.valid_to_year >= 9999 else str(f.valid_to_year)
    if not start and not end:
        return _("Always")
    if start and end:
        return f"{start}–{end}"
    return _("From %(year)s") % {"year": start} if start else _("Until %(year)s") % {"year": end}


def _value(value: float | None) -> str:
    """Factor values are small (kg per NOK) or large (kg per tonne): show four significant digits."""
    if value is None:
        return "–"
    magnitude = abs(value)
    decimals = 0
    while magnitude and magnitude * 10 ** decimals < 1000 and decimals < 10:
        decimals += 1
    return formatting.number(value, decimals)


def _unit_text(f) -> str:
    """What the factor is per: 'kg CO2e per NOK (2026 prices)' or 'kg CO2e per litre'."""
    if f.basis == factor_selectors.BASIS_SPEND and f.price_year:
        return _("kg CO2e per %(unit)s (%(year)s prices)") % {"unit": f.unit, "year": f.price_year}
    return _("kg CO2e per %(unit)s") % {"unit": f.unit}


def factor_view(f) -> dict:
    """A factor as shown on the pages (formatted, translated)."""
    fs = f.factor_set
    return {
        "pk": f.pk, "href": reverse("factor", args=[f.pk]), "code": f.category.code, "name": _category_name(f.category),
        "basis": str(BASIS_LABELS.get(f.basis, f.basis)), "unit": f.unit, "per": _unit_text(f),
        "price_year": f.price_year or "–",
        "price_type": f.price_type if f.basis == factor_selectors.BASIS_SPEND else "",
        "value": _value(f.value), "low": _value(f.low), "high": _value(f.high), "quality": f.quality,
        "region": f.region, "validity": _validity(f), "source_ref": f.source_ref, "note": f.note,
        "set": _set_label(fs), "licence": fs.licence, "attribution": fs.attribution,
    }


def set_view(fs) -> dict:
    return {
        "pk": fs.pk, "name": fs.name, "version": fs.version, "label": _set_label(fs), "publisher": fs.publisher,
        "licence": fs.licence, "attribution": fs.attribution, "gwp_basis": fs.gwp_basis,
        "status": str(STATUS_LABELS.get(fs.status, fs.status)), "role": str(ROLE_LABELS.get(fs.role, fs.role)),
        "count": getattr(fs, "factor_count", None), "description": fs.description,
        "search_href": reverse("factors") + "?" + urlencode({"sett": fs.label}),
    }


# --- the factor library -------------------------------------------------------------------------------------

class FactorSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200,
                        help_text=gettext_lazy("Category name or code, source or note, e.g. «mat» or «goods.food»."))
    sett = forms.ChoiceField(label=gettext_lazy("Factor set"), required=False)

    def __init__(self, *args, sets: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sett"].choices = [("", _("All factor sets"))] + [(fs.label, _set_label(fs)) for fs in sets]
        self.fields["sett"].error_messages["invalid_choice"] = _(
            "There is no factor set %(value)s. Choose one from the list.")
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "ds-input"
            field.widget.attrs["aria-describedby"] = f"{name}-help" if name == "q" else ""
            if self.is_bound and name in self.errors:
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["aria-describedby"] = f"{name}-error"
            if not field.widget.attrs["aria-describedby"]:
                del field.widget.attrs["aria-describedby"]


def _page_href(request, number: int) -> str:
    params = {k: v for k, v in request.GET.items() if k in ("q", "sett") and v}
    params["side"] = number
    return f"{request.path}?{urlencode(params)}"


@login_required
def factor_library(request):
    sets = list(factor_selectors.factor_sets_with_counts())
    form = FactorSearchForm(request.GET or None, sets=sets)
    status = 200
    query, set_name = "", ""
    if form.is_bound:
        if form.is_valid():
            query, set_name = form.cleaned_data["q"].strip(), form.cleaned_data["sett"]
        else:
            status = 400
    page = None
    if status == 200:
        found = factor_selectors.factors(set_name=set_name or None, query=query)
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("side"))
    context = {
        "sets": [set_view(fs) for fs in sets], "form": form, "page": page, "query": query,
        "searching": bool(query or set_name),
        "rows": [factor_view(f) for f in page] if page is not None else [],
    }
    if page is not None and page.paginator.num_pages > 1:
        context["previous_href"] = _page_href(request, page.previous_page_number()) if page.has_previous() else ""
        context["next_href"] = _page_href(request, page.next_page_number()) if page.has_next() else ""
    return render(request, "web/factors.html", context, status=status)


@login_required
def factor_detail(request, pk: int):
    factor = factor_selectors.factor(pk)
    scope = scope_for(request.user)
    usage = factor_selectors.factor_usage(scope, factor, limit=USAGE_ROWS)
    org_names = dashboard.organisation_names(scope)
    suppliers = _supplier_names(scope, usage["rows"])
    run = usage["run"]
    rows = [{
        "org": org_names.get(r["org"], r["org"]), "year": r["year"], "month": r["month"] or "–",
        "unit": r["unit"] or "–", "art": r["art"] or "–",
        "supplier": suppliers.get(r["supplier_orgnr"] or "", r["supplier_orgnr"] or "–"),
        "amount": formatting.number((r["amount_ore"] or 0) / 100, 0), "kg": formatting.number(r["kg_co2e"], 1),
        "method": str(METHOD_LABELS.get(r["method"], r["method"] or "–")),
    } for r in usage["rows"]]
    context = {
        "factor": factor_view(factor), "set": set_view(factor.factor_set), "category": factor.category,
        "parent_name": _category_name(factor.category.parent) if factor.category.parent else "",
        "run": run, "run_label": run_label(run) if run is not None else "",
        "set_in_run": run is not None and factor.factor_set.label in (run.factor_sets or []),
        "usage_lines": formatting.number(usage["lines"], 0), "usage_count": usage["lines"],
        "usage_kg": formatting.number(usage["kg_co2e"], 1),
        "usage_spend": formatting.number(usage["spend_ore"] / 100, 0),
        "usage_rows": rows, "usage_limited": usage["lines"] > len(rows),
    }
    return render(request, "web/factors_detail.html", context)


def _supplier_names(scope, rows: list[dict]) -> dict[str, str]:
    """Supplier names for the usage rows (which are in scope already), 'Name (orgnr)'."""
    wanted: dict[str, set[str]] = {}
    for r in rows:
        if r["supplier_orgnr"]:
            wanted.setdefault(r["org"], set()).add(r["supplier_orgnr"])
    names: dict[str, str] = {}
    for orgnr, suppliers in wanted.items():
        names.update(dashboard.supplier_names(scope, orgnr, sorted(suppliers)))
    return {o: f"{name} ({o})" for o, name in names.items()}


# --- the method page ------------------------------------------------------------------------------------------

def method(request):
    sets = [set_view(fs) for fs in factor_selectors.factor_sets_with_counts()]
    return render(request, "web/method.html", {
        "sets": sets, "change_notice_share": formatting.percent(100.0 * change_selectors.notice_share(), 0),
        "electricity": _electricity()})


def _grams(kg_per_kwh: float | None) -> str:
    return "–" if kg_per_kwh is None else formatting.number(kg_per_kwh * 1000, 0)


def _electricity() -> dict:
    """Location- and market-based grams per kWh by year and the spend factor's ratio (issue 15 item 4)."""
    figures = factor_selectors.electricity_figures()
    price = figures["typical_price"]
    return {
        "rows": [{"year": r["year"], "location": _grams(r["location_kg_per_kwh"]),
                  "market": _grams(r["market_kg_per_kwh"]),
                  "ratio": "–" if r["spend_to_location"] is None else formatting.number(r["spend_to_location"], 1)}
                 for r in figures["rows"]],
        "spend": _grams(figures["spend_kg_per_kwh"]) if figures["spend_kg_per_kwh"] else "",
        "spend_set": figures["spend_set"] or "", "spend_factor": _value(figures["spend_kg_per_nok"]),
        "price_year": figures["spend_price_year"] or "", "price": formatting.number(price["nok_per_kwh"], 3),
        "typical_year": price["year"], "source": price["source"], "url": price["url"],
    }


# --- comparison of two computations ----------------------------------------------------------------------------

def run_label(run) -> str:
    sets = ", ".join((run.factor_sets or []) or [run.factor_set.label])
    when = formats.date_format(timezone.localtime(run.created_at), "SHORT_DATETIME_FORMAT")
    return _("Computation %(number)s – %(sets)s – %(date)s") % {"number": run.pk, "sets": sets, "date": when}


class CompareForm(forms.Form):
    a = forms.TypedChoiceField(label=gettext_lazy("Compare from (computation A)"), coerce=int)
    b = forms.TypedChoiceField(label=gettext_lazy("With (computation B)"), coerce=int)

    def __init__(self, *args, runs: list, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(r.pk), run_label(r)) for r in runs]
        for field in self.fields.values():
            field.choices = choices
            field.error_messages["required"] = _("Choose a computation.")
            field.error_messages["invalid_choice"] = _(
                "There is no finished computation with number %(value)s. Choose one from the list.")
        for name, field in self.fields.items():  # validates the form when bound: choices first
            field.widget.attrs["class"] = "ds-input"
            if self.is_bound and name in self.errors:
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["aria-describedby"] = f"{name}-error"

    def clean(self):
        data = super().clean()
        if data.get("a") is not None and data.get("a") == data.get("b"):
            raise forms.ValidationError(_("Choose two different computations."))
        return data


@login_required
def comparison(request):
    scope = scope_for(request.user)
    runs = list(results.runs())
    bound = "a" in request.GET or "b" in request.GET
    initial = {}
    if len(runs) >= 2:
        initial = {"a": str(runs[1].pk), "b": str(runs[0].pk)}
    form = CompareForm(request.GET if bound else None, initial=initial, runs=runs)
    context = {"form": form, "runs": runs, "rows": [], "compared": False}
    status = 200
    if bound:
        if form.is_valid():
            by_pk = {r.pk: r for r in runs}
            base, other = by_pk[form.cleaned_data["a"]], by_pk[form.cleaned_data["b"]]
            rows = results.compare_runs(scope, base=base, other=other)
            names = dashboard.category_names(scope, _language())
            context.update(compared=True, base_label=run_label(base), other_label=run_label(other),
                           base_number=base.pk, other_number=other.pk, rows=[_compare_row(r, names) for r in rows],
                           total=_compare_total(rows))
            why = change_selectors.run_changes(scope, run=other, base=base, by=["category"])
            context.update(cause_labels=[str(CAUSE_LABELS[c]) for c in change_selectors.CAUSES],
                           cause_rows=[_cause_row(r, names) for r in why.rows if any(
                               abs(r[f"{c}_kg"]) >= 0.05 for c in change_selectors.CAUSES)],
                           cause_total=_cause_cells(why.total))
        else:
            status = 400
    return render(request, "web/compare.html", context, status=status)


def _percent_change(before: float, after: float) -> str:
    if not before:
        return "–"
    change = 100.0 * (after - before) / before
    text = formatting.percent(change)
    return f"+{text}" if round(change, 1) > 0 else text


def _signed(value: float, decimals: int = 1) -> str:
    text = formatting.number(value, decimals)
    return f"+{text}" if round(value, decimals) > 0 else text


def _compare_row(r: dict, names: dict[str, str]) -> dict:
    code = r["category"] or ""
    return {"code": code, "name": names.get(code, code) if code else _("Without category"),
            "base": formatting.number(r["kg_base"] / 1000, 1), "other": formatting.number(r["kg_other"] / 1000, 1),
            "diff": _signed(r["kg_diff"] / 1000), "change": _percent_change(r["kg_base"], r["kg_other"])}


def _compare_total(rows: list[dict]) -> dict:
    base = sum(r["kg_base"] for r in rows)
    other = sum(r["kg_other"] for r in rows)
    return {"base": formatting.number(base / 1000, 1), "other": formatting.number(other / 1000, 1),
            "diff": _signed((other - base) / 1000), "change": _percent_change(base, other)}


# --- what changed and why (issue 16 item 4) ------------------------------------------------------------------------

CAUSE_LABELS = {
    "new_lines": gettext_lazy("New lines"),
    "removed_lines": gettext_lazy("Removed lines"),
    "reclassified": gettext_lazy("Reclassified lines"),
    "method": gettext_lazy("Method changes"),
    "factors": gettext_lazy("New factors"),
    "other": gettext_lazy("Other (price index, exchange rates, purchases between members)"),
}


def _cause_cells(figures: dict) -> dict:
    return {"change": _signed(figures["change_kg"] / 1000),
            "parts": [_signed(figures[f"{c}_kg"] / 1000) for c in change_selectors.CAUSES]}


def _cause_row(r: dict, names: dict[str, str]) -> dict:
    code = r["category"] or ""
    return {"name": names.get(code, code) if code else _("Without category"), **_cause_cells(r)}
