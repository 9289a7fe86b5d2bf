"""Measures (tiltak): the list with its ranking, one measure (expected effect, what it traces to, its history),
the ambition packages, the abatement curve and the trajectory. Thin like views.py: access via access.scope_for,
reads via selectors.measures, charts via reports.measure_charts. Every signed-in person sees the region's
measures and those of their organisations, with figures computed from the purchases they may see."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.urls import reverse
from django.utils.translation import get_language, gettext as _, gettext_lazy

from klimainnkjop import access
from klimainnkjop.access import OutsideScope, scope_for
from klimainnkjop.reports import measure_charts
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import factors as factor_selectors
from klimainnkjop.selectors import kpis
from klimainnkjop.selectors import measures as selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors.results import NoResults
from klimainnkjop.services import measures as services
from klimainnkjop.web import formatting
from klimainnkjop.web.forms import error_text

KIND_LABELS = {
    1: gettext_lazy("Reuse and circularity"),
    2: gettext_lazy("Change of need or kind of purchase"),
    3: gettext_lazy("Stricter product or service requirements"),
    4: gettext_lazy("Climate requirements in procurements"),
}
STATUS_LABELS = {
    "proposed": gettext_lazy("Proposed"), "recommended": gettext_lazy("Recommended"),
    "adopted": gettext_lazy("Adopted"), "implemented": gettext_lazy("Implemented"),
    "verified": gettext_lazy("Verified"),
}
MECHANISM_LABELS = {
    "quantity": gettext_lazy("Less quantity or spend"),
    "switch": gettext_lazy("Switch to another factor"),
    "intensity": gettext_lazy("Lower emission intensity"),
}
SCENARIO_LABELS = {"bau": gettext_lazy("Business as usual"), "package": gettext_lazy("With the package"),
                   "target": gettext_lazy("Target path")}
DEFAULT_TARGET_YEAR = 2030


def _norwegian() -> bool:
    return (get_language() or "nb").startswith(("nb", "no"))


def _category_names() -> dict[str, str]:
    return {c.code: (c.name_nb if _norwegian() else c.name_en) for c in factor_selectors.categories()}


def _tonnes(kg: float | None) -> str:
    return "–" if kg is None else formatting.number(kg / 1000.0, 1)


def _nok(value: float | None) -> str:
    return "–" if value is None else formatting.number(value, 0)


def _row_view(r: dict, names: dict[str, str], orgs: dict[str, str]) -> dict:
    return {
        "id": r["id"], "href": reverse("measure", args=[r["id"]]), "name": r["name"],
        "kind": str(KIND_LABELS.get(r["kind"], r["kind"])), "kind_number": r["kind"],
        "status": str(STATUS_LABELS.get(r["status"], r["status"])),
        "mechanism": str(MECHANISM_LABELS.get(r["mechanism"], r["mechanism"])),
        "percent": formatting.percent(r["percent"], 0),
        "categories": ", ".join(names.get(c, c) for c in r["categories"]),
        "to_category": names.get(r["to_category"], r["to_category"]) if r["to_category"] else "",
        "organisations": ", ".join(orgs.get(o, o) for o in r["organisations"]) or _("Every organisation"),
        "tonnes": _tonnes(r["expected_kg_per_year"]),
        "range": (f"{_tonnes(r['expected_kg_low'])}–{_tonnes(r['expected_kg_high'])}"
                  if r["expected_kg_per_year"] is not None else "–"),
        "cost": _nok(r["cost_nok_per_year"]), "nok_per_tonne": _nok(r["nok_per_tonne"]),
        "not_computed": _reason(r["not_computed"], r["baseline_year"]),
        "effective_from": r["effective_from"] or "",
    }


def _reason(text: str | None, year: int) -> str:
    """Why a measure's effect cannot be computed, in the page's language (selectors say it in English)."""
    if not text:
        return ""
    if "nothing is computed" in text:
        return _("Nothing is computed yet.")
    if "factor library" in text:
        return _("The factor library has no factors of the same basis and unit for both categories.")
    if "no purchases" in text:
        return _("The account of %(year)s has no purchases in its categories for its organisations.") % {"year": year}
    return text


def org_param(request, scope) -> str | None:
    """The organisation a page is asked for (?org=ORGNR), or None for the region; 404 outside the scope."""
    orgnr = request.GET.get("org") or None
    if orgnr is not None:
        try:
            org_selectors.organisation(scope, orgnr)
        except (OutsideScope, org_selectors.NotFound):
            raise Http404 from None
    return orgnr


@login_required
def measures(request):
    scope = scope_for(request.user)
    orgnr = org_param(request, scope)
    rows = selectors.measure_rows(scope, org=orgnr)
    names, orgs = _category_names(), dashboard.organisation_names(scope)
    ranked = {b["id"]: b["rank"] for b in selectors.abatement_curve(rows)}
    views = [_row_view(r, names, orgs) | {"rank": ranked.get(r["id"], "–")} for r in rows]
    views.sort(key=lambda v: (v["rank"] if isinstance(v["rank"], int) else 10 ** 6, v["id"]))
    by_tonnes = [_row_view(r, names, orgs) for r in selectors.ranking_by_tonnes(rows)]
    context = {"rows": views, "by_tonnes": by_tonnes, "org": orgs.get(orgnr, orgnr) if orgnr else "",
               "organisations": sorted(orgs.items(), key=lambda kv: kv[1]), "selected_org": orgnr or ""}
    return render(request, "web/measures.html", context)


# --- forms: a measure's status step, a package's adoption (access.can_manage_measures) ----------------------------

def _managed_orgs(user, scope) -> list[tuple[str, str]]:
    """The organisations for which the person may record adoptions and status steps."""
    return [(orgnr, name) for orgnr, name in sorted(dashboard.organisation_names(scope).items(), key=lambda kv: kv[1])
            if access.can_manage_measures(user, orgnr)]


class _Styled(forms.Form):
    """Designsystemet's input styling on every field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            form_field.widget.attrs["class"] = "ds-input"


class StatusForm(_Styled):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=list(STATUS_LABELS.items()))
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"), required=False,
                                     help_text=gettext_lazy("The organisation that adopted or implemented it."))
    date = forms.DateField(label=gettext_lazy("Date (YYYY-MM-DD)"), required=False)
    case_number = forms.CharField(label=gettext_lazy("Case number"), required=False, max_length=60)
    agreement = forms.CharField(label=gettext_lazy("Agreement"), required=False, max_length=200)

    def __init__(self, *args, organisations: list[tuple[str, str]], region: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = ([("", _("The region (no organisation)"))] if region else []) \
            + organisations
        if not region:  # an organisation's own steps only (access.can_record_measure_step)
            self.fields["status"].choices = [(s, label) for s, label in STATUS_LABELS.items()
                                             if s in access.ORGANISATION_MEASURE_STEPS]


class AdoptionForm(_Styled):
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"))
    date = forms.DateField(label=gettext_lazy("Date of the decision (YYYY-MM-DD)"))
    case_number = forms.CharField(label=gettext_lazy("Case number"), max_length=60)

    def __init__(self, *args, organisations: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = organisations


def _status_form(request, scope, data=None) -> StatusForm | None:
    orgs = _managed_orgs(request.user, scope)
    region = access.can_manage_measures(request.user)
    if not orgs and not region:
        return None
    return StatusForm(data, organisations=orgs, region=region, prefix="status")


@login_required
@require_POST
def measure_status(request, pk: int):
    scope = scope_for(request.user)
    try:
        m = selectors.measure(scope, pk)
    except selectors.NotFound:
        raise Http404 from None
    form = _status_form(request, scope, request.POST)
    if form is None:
        return HttpResponseForbidden(_("Only administrators and purchasers may record a measure's status."))
    if form.is_valid():
        orgnr = form.cleaned_data["organisation"] or None
        if not access.can_record_measure_step(request.user, m.status, form.cleaned_data["status"], orgnr):
            return HttpResponseForbidden(_("Only region administrators may recommend or verify a measure or move it "
                                           "back; an organisation's administrators and purchasers record its "
                                           "adoption and implementation."))
        try:
            services.do_change_measure_status(
                measure=m, status=form.cleaned_data["status"], date=form.cleaned_data["date"],
                organisation=org_selectors.organisation(scope, orgnr) if orgnr else None,
                case_number=form.cleaned_data["case_number"], agreement=form.cleaned_data["agreement"],
                actor=request.user)
            return redirect(reverse("measure", args=[m.pk]) + "#history-heading")
        except services.InvalidInput as exc:
            form.add_error(None, error_text(exc))
    return _measure_page(request, scope, m, status_form=form, status=400)


@login_required
@require_POST
def package_adopt(request, pk: int):
    scope = scope_for(request.user)
    try:
        pkg = selectors.package_by_id(scope, pk)
    except selectors.PackageNotFound:
        raise Http404 from None
    orgs = _managed_orgs(request.user, scope)
    if not orgs:
        return HttpResponseForbidden(_("Only administrators and purchasers may record an adoption."))
    form = AdoptionForm(request.POST, organisations=orgs, prefix=f"adopt{pkg.pk}")
    if form.is_valid():
        try:
            services.do_adopt_package(package=pkg, organisation=org_selectors.organisation(
                scope, form.cleaned_data["organisation"]), adopted_on=form.cleaned_data["date"],
                case_number=form.cleaned_data["case_number"], actor=request.user)
            return redirect(reverse("measure_packages") + f"#package-{pkg.pk}-heading")
        except services.InvalidInput as exc:
            form.add_error(None, error_text(exc))
    return _packages_page(request, scope, forms_by_package={pkg.pk: form}, status=400)


@login_required
def measure(request, pk: int):
    scope = scope_for(request.user)
    try:
        m = selectors.measure(scope, pk)
    except selectors.NotFound:
        raise Http404 from None
    return _measure_page(request, scope, m, status_form=_status_form(request, scope))


def _measure_page(request, scope, m, *, status_form, status: int = 200):
    row = selectors.measure_row(scope, m)
    names, orgs = _category_names(), dashboard.organisation_names(scope)
    effect = selectors.expected_effect(scope, m)
    ratios = [{"category": names.get(code, code), "to": names.get(m.to_category.code, m.to_category.code),
               "ratio": formatting.number(r.value, 3), "basis": r.basis, "unit": r.unit,
               "from_ref": r.from_ref, "to_ref": r.to_ref,
               "from_href": _factor_href(r.from_ref), "to_href": _factor_href(r.to_ref)}
              for code, r in effect.ratios.items()] if m.to_category_id else []
    cell_rows = [{"org": orgs.get(c["org"], c["org"]), "category": names.get(c["category"], c["category"]),
                  "tonnes": _tonnes(c["kg"]), "spend": _nok(c["spend_nok"]), "cut": _tonnes(c["cut_kg"]),
                  "href": reverse("lines", args=[c["org"]]) + "?" + urlencode({"periode": c["year"],
                                                                                 "kategori": c["category"]})}
                 for c in selectors.effect_cells(scope, m)]
    history = [{"status": str(STATUS_LABELS.get(h.status, h.status)), "date": h.date.isoformat() if h.date else "–",
                "organisation": orgs.get(h.organisation.orgnr, h.organisation.name) if h.organisation else "–",
                "case_number": h.case_number or "–", "agreement": h.agreement or "–"}
               for h in selectors.history(scope, m)]
    context = {"m": m, "row": _row_view(row, names, orgs), "ratios": ratios, "cells": cell_rows,
               "measured": _measured_view(selectors.measured_effect(scope, m), row, names, orgs),
               "history": history, "base_tonnes": _tonnes(effect.base_kg), "year": m.baseline_year,
               "description": m.description, "owner": m.owner or "–", "lifetime": m.lifetime_years,
               "cost_once": _nok(m.cost_once_ore / 100), "cost_yearly": _nok(m.cost_yearly_ore / 100),
               "agreement": m.agreement, "agreement_renewal": m.agreement_renewal,
               "packages": [p.name for p in m.packages.all()], "status_form": status_form}
    return render(request, "web/measure_detail.html", context, status=status)


def _measured_view(measured, row: dict, names: dict[str, str], orgs: dict[str, str]) -> dict:
    """Expected against measured: the measured effect is the intensity part (LMDI) of the change from the year before
    implementation to the implementation year; shown as a cut (positive) beside the expected cut."""
    if not measured.computed:
        reason = {"not implemented": _("Measured once the measure is implemented.")}.get(measured.reason)
        if reason is None and "no purchases" in measured.reason:
            reason = _("The account has no purchases in its categories in %(start)s or %(end)s.") % {
                "start": measured.from_year, "end": measured.to_year}
        return {"computed": False, "reason": reason or measured.reason}
    expected = row["expected_kg_per_year"]
    cut = -measured.intensity_kg
    return {
        # the implementation year under way: both years to its last month (the dashboards' rule), and named so
        "computed": True, "from_year": formatting.year_so_far(measured.from_year, measured.through_month),
        "to_year": formatting.year_so_far(measured.to_year, measured.through_month),
        "cut": _tonnes(cut), "expected": _tonnes(expected),
        "share": formatting.percent(100.0 * cut / expected, 0) if expected else "–",
        "from": _tonnes(measured.kg_from), "to": _tonnes(measured.kg_to),
        "change": _tonnes(measured.change_kg), "volume": _tonnes(measured.volume_kg),
        "intensity": _tonnes(measured.intensity_kg), "spend_from": _nok(measured.spend_from_nok),
        "spend_to": _nok(measured.spend_to_constant_nok), "deflated": measured.deflated,
        "href": reverse("measure_effect") + "?" + urlencode({"fra": measured.from_year, "til": measured.to_year}),
        "rows": [{"org": orgs.get(r["org"], r["org"]), "category": names.get(r["category"], r["category"]),
                  "from": _tonnes(r["kg_from"]), "to": _tonnes(r["kg_to"]), "volume": _tonnes(r["volume_kg"]),
                  "intensity": _tonnes(r["intensity_kg"]), "spend_from": _nok(r["spend_from_nok"]),
                  "spend_to": _nok(r["spend_to_nok"])} for r in measured.rows],
    }


def _factor_href(ref: str) -> str:
    """The factor page of a reference 'set:version#pk'."""
    _, _, pk = ref.rpartition("#")
    return reverse("factor", args=[int(pk)]) if pk.isdecimal() else ""


@login_required
def packages(request):
    return _packages_page(request, scope_for(request.user))


def _packages_page(request, scope, *, forms_by_package: dict | None = None, status: int = 200):
    orgs = dashboard.organisation_names(scope)
    managed = _managed_orgs(request.user, scope)
    forms_by_package = forms_by_package or {}
    out = []
    for pkg in selectors.packages(scope):
        effect = selectors.package_effect(scope, pkg)
        out.append({
            "id": pkg.pk, "name": pkg.name, "description": pkg.description, "year": pkg.baseline_year,
            "tonnes": _tonnes(effect.kg), "range": f"{_tonnes(effect.low)}–{_tonnes(effect.high)}",
            "cost": _nok(effect.cost_nok_per_year), "nok_per_tonne": _nok(effect.nok_per_tonne),
            "share": formatting.percent(100 * effect.kg / effect.base_kg if effect.base_kg else None, 1),
            "curve_href": reverse("measure_curve") + "?" + urlencode({"pakke": pkg.pk}),
            "rows": [{"href": reverse("measure", args=[r["id"]]), "name": r["name"],
                      "kind": str(KIND_LABELS.get(r["kind"], r["kind"])),
                      "status": str(STATUS_LABELS.get(r["status"], r["status"])), "tonnes": _tonnes(r["kg_per_year"]),
                      "cost": _nok(r["cost_nok_per_year"]), "nok_per_tonne": _nok(r["nok_per_tonne"]),
                      "not_computed": _reason(r["not_computed"], pkg.baseline_year)} for r in effect.rows],
            "adoptions": [{"org": orgs.get(a.organisation.orgnr, a.organisation.name), "date": a.adopted_on,
                           "case_number": a.case_number} for a in selectors.adoptions(scope, pkg)],
            "form": forms_by_package.get(pkg.pk) or (AdoptionForm(organisations=managed, prefix=f"adopt{pkg.pk}")
                                                     if managed else None),
            "adopt_href": reverse("measure_package_adopt", args=[pkg.pk]),
        })
    return render(request, "web/measure_packages.html", {"packages": out}, status=status)


def _package_param(request, scope):
    text = request.GET.get("pakke") or ""
    if not text:
        return None
    try:
        return selectors.package_by_id(scope, int(text))
    except (ValueError, selectors.PackageNotFound):
        raise Http404 from None


@login_required
def curve(request):
    scope = scope_for(request.user)
    pkg = _package_param(request, scope)
    if pkg is not None:
        effect = selectors.package_effect(scope, pkg)
        rows = [{**r, "expected_kg_per_year": r["kg_per_year"]} for r in effect.rows]
    else:
        rows = selectors.measure_rows(scope)
    bars = selectors.abatement_curve(rows)
    kinds = {k: str(v) for k, v in KIND_LABELS.items()}
    chart = measure_charts.abatement_curve(
        bars, x_title=_("Tonnes CO2e per year (cumulated)"), y_title=_("NOK per tonne CO2e"),
        kind_title=_("Kind of measure"), kind_labels=kinds, language=get_language() or "nb") if bars else None
    table = [{"rank": b["rank"], "href": reverse("measure", args=[b["id"]]), "name": b["name"],
              "kind": kinds.get(b["kind"], b["kind"]), "tonnes": formatting.number(b["tonnes_per_year"], 1),
              "cumulated": formatting.number(b["x1"], 1), "nok_per_tonne": _nok(b["nok_per_tonne"])} for b in bars]
    context = {"chart": chart, "table": table, "package": pkg, "packages": selectors.packages(scope),
               "left_out": [r["name"] for r in rows if r["id"] not in {b["id"] for b in bars}],
               "total": formatting.number(bars[-1]["x1"], 1) if bars else "0"}
    return render(request, "web/measure_curve.html", context)


@login_required
def trajectory(request):
    scope = scope_for(request.user)
    orgnr = org_param(request, scope)
    pkg = _package_param(request, scope)
    try:
        to_year = int(request.GET.get("til") or DEFAULT_TARGET_YEAR)
        growth = float((request.GET.get("vekst") or "0").replace(",", "."))
        if not 2000 <= to_year <= 2100 or not -50 <= growth <= 50:
            raise ValueError
    except ValueError:
        return render(request, "web/measure_trajectory.html",
                      {"error": _("Give a target year between 2000 and 2100 and a growth between −50 and 50 %."),
                       **_trajectory_choices(scope, orgnr, pkg)}, status=400)
    context = _trajectory_choices(scope, orgnr, pkg) | {"to_year": to_year, "growth": request.GET.get("vekst", "0")}
    try:
        document = selectors.trajectory(scope, to_year=to_year, org=orgnr, package_name=pkg.name if pkg else None,
                                        growth_percent=growth)
    except (ValueError, NoResults) as exc:
        context["message"] = (_("No package is adopted here yet: choose a package to see its trajectory.")
                              if isinstance(exc, selectors.NoPackageAdopted) else
                              _("The trajectory cannot be drawn: %(reason)s") % {"reason": error_text(exc)})
        return render(request, "web/measure_trajectory.html", context)
    years: dict[int, dict] = {}
    # the targets for the whole subject's tonnes (issue 11), as their straight path over the same years
    path = kpis.tonnes_target_path(scope, org=orgnr, years=sorted({r["year"] for r in document["rows"]})) or []
    labels = {k: str(v) for k, v in SCENARIO_LABELS.items() if path or k != "target"}
    for r in document["rows"] + path:
        years.setdefault(r["year"], {})[r["scenario"]] = r
    context.update({
        "chart": measure_charts.trajectory(document["rows"] + path, y_title=_("Tonnes CO2e"), scenario_labels=labels,
                                           language=get_language() or "nb"),
        "has_target": bool(path),
        "rows": [{"year": y, "bau": _tonnes(s["bau"]["kg_co2e"]), "package": _tonnes(s["package"]["kg_co2e"]),
                  "cut": _tonnes(s["package"]["reduction_kg"]), "measures": s["package"]["measures_in_effect"],
                  "target": _tonnes(s["target"]["kg_co2e"]) if "target" in s else ""}
                 for y, s in sorted(years.items())],
        "baseline_year": document["baseline_year"],
        "plans": [{"org": dashboard.organisation_names(scope).get(o, o), "package": p}
                  for o, p in document["packages"].items()],
    })
    return render(request, "web/measure_trajectory.html", context)


def _trajectory_choices(scope, orgnr, pkg) -> dict:
    orgs = dashboard.organisation_names(scope)
    return {"organisations": sorted(orgs.items(), key=lambda kv: kv[1]), "selected_org": orgnr or "",
            "packages": selectors.packages(scope), "selected_package": pkg.pk if pkg else "",
            "org_name": orgs.get(orgnr, "") if orgnr else "", "this_year": dt.date.today().year}
