"""Construction projects against FutureBuilt (issue 11 item 5): the organisation's projects with kg CO2e per m² against
their reference and the target (reference − 50 %), and a project's page with the lines behind it and its NS 3720
climate calculation's building parts. Org-admins, purchasers and region administrators add and edit projects and
upload calculations (access.can_manage_construction); everyone who sees the organisation reads."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_http_methods

from klimainnkjop import access
from klimainnkjop.core.errors import ImportRejected, InvalidInput
from klimainnkjop.selectors import construction as selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors.results import NoResults
from klimainnkjop.services import construction as services
from klimainnkjop.web import formatting
from klimainnkjop.web.forms import DesignsystemetForm, error_text
from klimainnkjop.web.views_lines import line_href

TYPE_LABELS = {
    "school": gettext_lazy("School"), "kindergarten": gettext_lazy("Kindergarten"),
    "nursing_home": gettext_lazy("Nursing home"), "office": gettext_lazy("Office"),
    "housing": gettext_lazy("Housing"), "sports": gettext_lazy("Sports building"),
    "culture": gettext_lazy("Cultural building"), "health": gettext_lazy("Health building"),
    "other": pgettext_lazy("building type", "Other"),
}
PHASE_LABELS = {
    "planning": gettext_lazy("Planning"), "design": gettext_lazy("Design"),
    "construction": gettext_lazy("Construction"), "in_use": gettext_lazy("In use"),
}
MAX_CALCULATION_BYTES = services.MAX_FILE_BYTES


class ProjectForm(DesignsystemetForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    project_code = forms.CharField(
        label=gettext_lazy("Project number in the ledger"), max_length=60, required=False,
        help_text=gettext_lazy("The ledger's project dimension: the organisation's investment lines with this "
                               "project number are the project's lines."))
    area_m2 = forms.FloatField(label=gettext_lazy("Heated floor area (BRA), m²"), min_value=0.1)
    building_type = forms.ChoiceField(label=gettext_lazy("Building type"), choices=list(TYPE_LABELS.items()))
    phase = forms.ChoiceField(label=gettext_lazy("Phase"), choices=list(PHASE_LABELS.items()))
    reference_kg_per_m2 = forms.FloatField(
        label=gettext_lazy("Reference, kg CO2e per m²"), required=False, min_value=0.1,
        help_text=gettext_lazy("The reference building's emissions. Empty: the building type's default, a "
                               "placeholder to be replaced by the project's own reference calculation."))
    reference_source = forms.CharField(label=gettext_lazy("Source of the reference"), max_length=300,
                                       required=False)
    target_cut_percent = forms.FloatField(label=gettext_lazy("Target cut against the reference, percent"),
                                          min_value=0, max_value=100, initial=50)


class CalculationForm(DesignsystemetForm):
    file = forms.FileField(
        label=gettext_lazy("Climate calculation (NS 3720), CSV or XLSX"),
        help_text=gettext_lazy("One row per building part (NS 3451 code, column “bygningsdel”) and material, with "
                               "kg CO2e per module as columns: A1-A3, A4, A5, B1–B7, C1–C4 (D is shown but not "
                               "counted)."))
    phase = forms.ChoiceField(label=gettext_lazy("Made in the phase"), choices=list(PHASE_LABELS.items()))

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_CALCULATION_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)s MiB.") % {
                "limit": MAX_CALCULATION_BYTES // (1024 * 1024)})
        return file


def _organisation(request, orgnr):
    scope = access.scope_for(request.user)
    try:
        return scope, org_selectors.organisation(scope, orgnr)
    except (access.OutsideScope, org_selectors.NotFound):
        raise Http404


def _kg(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else formatting.number(value, digits)


def _row(f: selectors.ProjectFigures) -> dict:
    return {"figures": f, "project": f.project, "type": TYPE_LABELS.get(f.project.building_type, ""),
            "phase": PHASE_LABELS.get(f.project.phase, ""), "area": formatting.number(f.project.area_m2, 0),
            "spend": formatting.number(f.spend_nok, 0), "tonnes": formatting.number(f.kg_co2e / 1000.0, 1),
            "kg_per_m2": _kg(f.kg_per_m2), "reference": _kg(f.reference), "target": _kg(f.target_kg_per_m2),
            "cut": "–" if f.cut_percent is None else formatting.number(f.cut_percent, 1),
            "target_cut": formatting.number(f.project.target_cut_percent, 0),
            "status": (_("No lines yet") if f.meets_target is None else
                       _("Meets the target") if f.meets_target else _("Above the target"))}


SERVICE_FIELDS = {"--name": "name", "--project-code": "project_code", "--area": "area_m2", "--type": "building_type",
                  "--phase": "phase", "--reference": "reference_kg_per_m2", "--target-cut": "target_cut_percent"}


def _save(form: ProjectForm, org, project=None, actor=None):
    data = dict(form.cleaned_data)
    if project is None:
        return services.do_add_construction_project(organisation=org, actor=actor, **data)
    return services.do_update_construction_project(project=project, actor=actor, **data)


@login_required
@require_http_methods(["GET", "POST"])
def projects(request, orgnr):
    scope, org = _organisation(request, orgnr)
    may_manage = access.can_manage_construction(request.user, org.orgnr)
    form = ProjectForm(request.POST if request.method == "POST" else None) if may_manage else None
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                project = _save(form, org, actor=request.user)
            except InvalidInput as exc:
                form.add_service_error(exc, fields=SERVICE_FIELDS)
            else:
                messages.success(request, _("Construction project “%(name)s” added.") % {"name": project.name})
                return redirect("construction_project", org.orgnr, project.pk)
    rows = [_row(f) for f in selectors.figures(scope, selectors.projects(scope, org=org.orgnr))]
    return render(request, "web/construction.html", {"org": org, "rows": rows, "form": form,
                                                     "partial": scope.unit_filter(org.orgnr) is not None},
                  status=400 if form is not None and form.is_bound and form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def project(request, orgnr, pk):
    scope, org = _organisation(request, orgnr)
    try:
        item = selectors.project(scope, pk=pk, org=org.orgnr)
    except selectors.NotFound:
        raise Http404
    may_manage = access.can_manage_construction(request.user, org.orgnr)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    edit_form = calc_form = None
    if may_manage:
        edit_form = ProjectForm(request.POST if action == "edit" else None, initial={
            "name": item.name, "project_code": item.project_code, "area_m2": item.area_m2,
            "building_type": item.building_type, "phase": item.phase,
            "reference_kg_per_m2": item.reference_kg_per_m2, "reference_source": item.reference_source,
            "target_cut_percent": item.target_cut_percent})
        calc_form = CalculationForm(request.POST if action == "calculation" else None,
                                    request.FILES if action == "calculation" else None,
                                    initial={"phase": item.phase}, prefix="calc")
    file_errors: list = []
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if action == "edit":
            if edit_form.is_valid():
                try:
                    _save(edit_form, org, project=item, actor=request.user)
                except InvalidInput as exc:
                    edit_form.add_service_error(exc, fields=SERVICE_FIELDS)
                else:
                    messages.success(request, _("Construction project saved."))
                    return redirect("construction_project", org.orgnr, item.pk)
        elif action == "calculation":
            if calc_form.is_valid():
                upload = calc_form.cleaned_data["file"]
                try:
                    calculation = services.do_import_climate_calculation(
                        project=item, data=upload.read(), file_name=upload.name,
                        phase=calc_form.cleaned_data["phase"], actor=request.user)
                except ImportRejected as exc:
                    file_errors = exc.errors[:ImportRejected.MAX_SHOWN]
                    calc_form.add_error("file", ngettext("The file was not imported: %(count)s error, listed below.",
                                                 "The file was not imported: %(count)s errors, listed below.",
                                                 len(exc.errors))
                                        % {"count": len(exc.errors)})
                except InvalidInput as exc:
                    calc_form.add_error("file", error_text(exc))
                else:
                    messages.success(request, ngettext(
                        "Climate calculation imported: %(rows)s row, %(kg)s kg CO2e. It replaces the spend estimate "
                        "of the project's lines from the next computation.",
                        "Climate calculation imported: %(rows)s rows, %(kg)s kg CO2e. It replaces the spend estimate "
                        "of the project's lines from the next computation.", calculation.rows) % {
                            "rows": calculation.rows, "kg": formatting.number(calculation.kg_co2e, 0)})
                    return redirect("construction_project", org.orgnr, item.pk)
        else:
            return render(request, "web/construction_project.html", {"org": org, "bad_action": True}, status=400)
    figures = selectors.figures(scope, [item])[0]
    calculation = figures.calculation
    parts = []
    if calculation is not None:
        for part in selectors.calculation_parts(calculation):
            parts.append({"code": part.building_part, "name": part.building_part_name, "material": part.material,
                          "modules": [formatting.number(part.modules.get(m, 0.0), 0) if m in part.modules else "–"
                                      for m in calculation.modules],
                          "kg": formatting.number(part.kg_co2e, 0)})
    lines = []
    try:
        for line in selectors.project_lines(scope, org=org.orgnr, code=item.project_code):
            lines.append({"href": line_href(org.orgnr, line["line_key"]), "date": line["posting_date"] or "",
                          "supplier": line["supplier_name"] or line["supplier_orgnr"] or "",
                          "text": line["description"] or "", "amount": formatting.number(line["amount_ore"] / 100, 0),
                          "kg": formatting.number(line["kg_co2e"], 0),
                          "replaced": _kg(line["replaced_kg"])})
    except NoResults:
        pass
    drill = reverse("lines", args=[org.orgnr]) + "?" + urlencode({"prosjekt": item.project_code}) \
        if item.project_code else ""
    context = {
        "org": org, "item": item, "row": _row(figures), "figures": figures, "calculation": calculation,
        "calculation_kg": _kg(calculation.kg_co2e if calculation else None),
        "calculation_per_m2": _kg(figures.calculation_kg_per_m2),
        "estimate_per_m2": _kg(figures.estimate_kg_per_m2), "replaced_kg": _kg(figures.replaced_kg),
        "modules": list(calculation.modules) if calculation else [],
        "module_totals": [formatting.number(v, 0) for v in calculation.modules.values()] if calculation else [],
        "parts": parts, "lines": lines, "drill": drill, "edit_form": edit_form, "calc_form": calc_form,
        "file_errors": file_errors, "history": selectors.calculations(item),
        "reference_chart": _chart(figures), "partial": scope.unit_filter(org.orgnr) is not None,
    }
    bad = (edit_form is not None and edit_form.is_bound and edit_form.errors) or \
        (calc_form is not None and calc_form.is_bound and calc_form.errors)
    return render(request, "web/construction_project.html", context, status=400 if bad else 200)


def _chart(f: selectors.ProjectFigures) -> list[dict]:
    """kg per m² of the project, its reference and its target as <meter> bars (no inline styles: the CSP forbids
    them) on one scale, the largest of the three; the table beside them says the same in numbers."""
    values = [(_("This project"), f.kg_per_m2), (_("Reference"), f.reference), (_("Target"), f.target_kg_per_m2)]
    top = max((v for _label, v in values if v is not None), default=0.0) or 1.0
    return [{"label": label, "value": _kg(v), "raw": f"{max(v, 0.0):.1f}" if v is not None else "",
             "max": f"{top:.1f}"} for label, v in values]
