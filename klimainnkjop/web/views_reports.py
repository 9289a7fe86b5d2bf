"""Reports: the archive of generated reports the viewer may see, a form to generate one, downloads; and the
administrators' publishing of a year's figures on the public page. Thin: access.py decides, services write."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from klimainnkjop import access
from klimainnkjop.access import OutsideScope, Scope, scope_for
from klimainnkjop.reports.periods import parse_period
from klimainnkjop.selectors import results
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reports import CONTENT_TYPES, do_generate_report, do_publish_figures, report_path
from klimainnkjop.storage.models import Organisation, Publication, Report

REGION = "region"
FORMAT_CHOICES = [("pdf", "PDF"), ("xlsx", "Excel (XLSX)"), ("csv", "CSV (;)")]


def visible_reports(scope: Scope):
    """Reports the scope may see: region reports for region-wide scopes; organisation reports for scopes
    that see the whole organisation; unit reports for the units the scope sees."""
    query = Report.objects.select_related("organisation", "run", "created_by")
    if scope.everything:
        return query
    allowed = [r.pk for r in query.filter(organisation__orgnr__in=scope.orgnrs or [])
               if (limit := scope.unit_filter(r.organisation.orgnr)) is None
               or (r.scope_kind == Report.SCOPE_UNIT and r.unit_code in limit)]
    return query.filter(pk__in=allowed)


class ReportForm(forms.Form):
    subject = forms.ChoiceField(label=gettext_lazy("Organisation or region"))
    unit = forms.CharField(label=gettext_lazy("Unit code (optional)"), required=False, max_length=40)
    period = forms.CharField(label=gettext_lazy("Period"), max_length=10,
                             help_text=gettext_lazy("2025Q3 (quarter), 2025H1 (half-year), 2025T2 (tertial) or "
                                                    "2025 (year)"))
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMAT_CHOICES)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(o.orgnr, f"{o.name} ({o.orgnr})") for o in scope.organisations().order_by("name")]
        if scope.everything:
            choices.insert(0, (REGION, _("The region (consolidated)")))
        self.fields["subject"].choices = choices

    def clean_period(self):
        try:
            return parse_period(self.cleaned_data["period"]).code
        except InvalidInput:
            raise forms.ValidationError(_("Write the period as 2025Q3, 2025H1, 2025T2 or 2025."))


def _administered(user) -> list[Organisation]:
    return [o for o in Organisation.objects.order_by("name") if access.can_administer(user, o.orgnr)]


@login_required
def reports(request):
    scope = scope_for(request.user)
    form = ReportForm(request.POST or None, scope=scope)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            subject = form.cleaned_data["subject"]
            unit = form.cleaned_data["unit"].strip() or None
            kind = REGION if subject == REGION else ("unit" if unit else "org")
            try:
                report = do_generate_report(scope, scope_kind=kind, orgnr=None if subject == REGION else subject,
                                            unit_code=unit, period=form.cleaned_data["period"],
                                            fmt=form.cleaned_data["format"], actor=request.user)
                return redirect(f"{reverse('reports')}?ny={report.pk}")
            except (InvalidInput, PermissionError, results.NoResults) as exc:
                form.add_error(None, str(exc))
            except Exception as exc:  # noqa: BLE001 - recorded on the report as failed; shown to the user
                form.add_error(None, _("The report could not be made: %(error)s") % {"error": exc})
        status = 400
    archive = list(visible_reports(scope)[:100])
    new = next((r for r in archive if str(r.pk) == request.GET.get("ny")), None)
    context = {"form": form, "reports": archive, "new": new, "administered": _administered(request.user),
               "publications": Publication.objects.select_related("organisation")[:50]}
    return render(request, "web/reports.html", context, status=status)


@login_required
def download(request, pk: int):
    report = visible_reports(scope_for(request.user)).filter(pk=pk, status=Report.STATUS_DONE).first()
    if report is None:
        raise Http404
    path = report_path(report)
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name,
                        content_type=CONTENT_TYPES[report.format])


@login_required
@require_POST
def publish(request, orgnr: str):
    scope = scope_for(request.user)
    try:
        scope.check(orgnr)
    except OutsideScope:
        raise Http404
    if not Organisation.objects.filter(orgnr=orgnr).exists():
        raise Http404
    if not access.can_administer(request.user, orgnr):
        return HttpResponseForbidden(_("Only the organisation's administrators may publish figures."))
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        return render(request, "web/report_publish_error.html", {"error": _("Give a year."), "orgnr": orgnr},
                      status=400)
    try:
        do_publish_figures(year=year, orgnr=orgnr, actor=request.user)
    except (InvalidInput, results.NoResults) as exc:
        return render(request, "web/report_publish_error.html", {"error": str(exc), "orgnr": orgnr}, status=400)
    return redirect(reverse("public_organisation", args=[orgnr]))
