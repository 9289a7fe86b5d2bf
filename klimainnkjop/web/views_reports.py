"""Reports: the archive of reports the viewer may see with each one's status and progress (polled while any is
queued or running), a form that queues one for the background worker, downloads; the administrators' report
schedules and their publishing of a year's figures on the public page. Thin: access.py decides, services write."""
from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from klimainnkjop import access
from klimainnkjop.access import OutsideScope, Scope, scope_for
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reports import (CONTENT_TYPES, do_add_report_schedule, do_publish_figures,
                                           do_remove_report_schedule, do_request_report, report_path)
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors import reports as report_selectors
from klimainnkjop.selectors.reports import visible_reports
from klimainnkjop.web.forms import error_text
from klimainnkjop.web.views import existing_years, period_choices

REGION = "region"
FORMAT_CHOICES = [("pdf", "PDF"), ("xlsx", "Excel (XLSX)"), ("csv", "CSV (;)")]
LAYOUT_CHOICES = [(report_selectors.LAYOUT_STANDARD, gettext_lazy("Climate account")),
                  (report_selectors.LAYOUT_FUNDER, gettext_lazy("Progress or final report to the funder"))]
CADENCE_CHOICES = [(report_selectors.CADENCE_QUARTER, gettext_lazy("Every quarter")),
                   (report_selectors.CADENCE_HALF_YEAR, gettext_lazy("Every half-year")),
                   (report_selectors.CADENCE_TERTIAL, gettext_lazy("Every tertial")),
                   (report_selectors.CADENCE_YEAR, gettext_lazy("Every year"))]
PENDING = (report_selectors.STATUS_QUEUED, report_selectors.STATUS_RUNNING)
ARCHIVE_LENGTH = 100
STALE_QUEUE = datetime.timedelta(minutes=5)  # a report queued this long: the worker is probably not running


UNIT_INVALID = gettext_lazy("“%(value)s” is not a unit you may choose. Choose a unit in the list.")
PERIOD_INVALID = gettext_lazy("“%(value)s” is not one of the periods with figures. Choose a period in the list.")


def _unit_choices(scope: Scope, organisations) -> tuple[list, dict[str, set[str]]]:
    """The units that exist, for a select grouped by organisation (a unit leader: their units only), and each
    organisation's unit codes to check the chosen pair against."""
    choices: list = [("", _("None: the whole organisation or the region"))]
    codes: dict[str, set[str]] = {}
    for org in organisations:
        limit = scope.unit_filter(org.orgnr)
        units = {code: name for code, name in dashboard.unit_names(scope, org.orgnr).items()
                 if limit is None or code in limit}
        codes[org.orgnr] = set(units)
        if units:
            choices.append((org.name, [(code, f"{code} {name}".strip()) for code, name in sorted(units.items())]))
    return choices, codes


def _check_unit(form: forms.Form) -> None:
    """The chosen unit must be one of the chosen organisation's (the region has none)."""
    subject, unit = form.cleaned_data.get("subject"), form.cleaned_data.get("unit")
    if subject and not unit and subject in getattr(form, "unit_limited", ()):  # a unit leader: their units' reports
        form.add_error("unit", _("Choose one of your units: your reports cover your units, not the whole "
                                 "organisation."))
    if subject and unit and unit not in form.unit_codes.get(subject, ()):
        form.add_error("unit", _("The unit %(unit)s is not one of the chosen organisation's units.") % {"unit": unit})


class ReportForm(forms.Form):
    subject = forms.ChoiceField(label=gettext_lazy("Organisation or region"))
    unit = forms.ChoiceField(label=gettext_lazy("Unit (optional)"), required=False,
                             error_messages={"invalid_choice": UNIT_INVALID})
    period = forms.ChoiceField(label=gettext_lazy("Period"), error_messages={"invalid_choice": PERIOD_INVALID},
                               help_text=gettext_lazy("The periods with figures: years, half-years, tertials "
                                                      "and quarters."))
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMAT_CHOICES)
    layout = forms.ChoiceField(label=gettext_lazy("Report type"), choices=LAYOUT_CHOICES,
                               initial=report_selectors.LAYOUT_STANDARD, required=False)  # absent: the climate account
    # The funder's progress or final report (reports/data.clean_layout checks the texts; limits match it)
    final = forms.BooleanField(label=gettext_lazy("Final report"), required=False,
                               help_text=gettext_lazy("Otherwise a progress report."))
    baseline_year = forms.IntegerField(label=gettext_lazy("Baseline year"), required=False, min_value=1990,
                                       max_value=2999, help_text=gettext_lazy("Empty: the first year with figures."))
    project = forms.CharField(label=gettext_lazy("Project"), required=False, max_length=300)
    activities = forms.CharField(label=gettext_lazy("Activities carried out"), required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 4}))
    deviations = forms.CharField(label=gettext_lazy("Deviations from the plan"), required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 4}))
    experiences = forms.CharField(label=gettext_lazy("Experiences"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    next_steps = forms.CharField(label=gettext_lazy("Further work"), required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 4}))

    FUNDER_FIELDS = ("final", "baseline_year", "project", "activities", "deviations", "experiences", "next_steps")

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = list(scope.organisations().order_by("name"))
        choices = [(o.orgnr, f"{o.name} ({o.orgnr})") for o in organisations]
        if scope.everything:
            choices.insert(0, (REGION, _("The region (consolidated)")))
        self.fields["subject"].choices = choices
        self.fields["unit"].choices, self.unit_codes = _unit_choices(scope, organisations)
        # the organisations the person sees some units of only (a unit leader): a report of one of those units
        self.unit_limited = {o.orgnr for o in organisations if scope.unit_filter(o.orgnr) is not None}
        if organisations and len(self.unit_limited) == len(organisations):  # no whole organisation to offer
            self.fields["unit"].choices = self.fields["unit"].choices[1:]
            self.fields["unit"].required, self.fields["unit"].label = True, _("Unit")
        self.fields["period"].choices = period_choices(existing_years(scope), dashboard.monthly_years(scope))

    def clean(self):
        data = super().clean()
        _check_unit(self)
        return data

    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.FUNDER_FIELDS]

    def funder_fields(self):
        return [self[name] for name in self.FUNDER_FIELDS]

    def layout_and_texts(self) -> tuple[str, dict | None]:
        """The layout and, for the funder's layout, the texts as the report service takes them."""
        data = self.cleaned_data
        if data["layout"] != report_selectors.LAYOUT_FUNDER:
            return report_selectors.LAYOUT_STANDARD, None
        texts = {"kind": "final" if data["final"] else "progress"}
        if data["baseline_year"]:
            texts["baseline_year"] = str(data["baseline_year"])
        for name in ("project", "activities", "deviations", "experiences", "next_steps"):
            if data[name].strip():
                texts[name] = data[name].strip()
        return report_selectors.LAYOUT_FUNDER, texts


class ScheduleForm(forms.Form):
    subject = forms.ChoiceField(label=gettext_lazy("Organisation or region"))
    unit = forms.ChoiceField(label=gettext_lazy("Unit (optional)"), required=False,
                             error_messages={"invalid_choice": UNIT_INVALID})
    cadence = forms.ChoiceField(label=gettext_lazy("How often"), choices=CADENCE_CHOICES,
                                help_text=gettext_lazy("The report is made for each period when it is over."))
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMAT_CHOICES)

    def __init__(self, *args, user, administered: list, **kwargs):
        super().__init__(*args, prefix="plan", **kwargs)
        choices = [(o.orgnr, f"{o.name} ({o.orgnr})") for o in administered]
        if access.can_administer_region(user):
            choices.insert(0, (REGION, _("The region (consolidated)")))
        self.fields["subject"].choices = choices
        self.fields["unit"].choices, self.unit_codes = _unit_choices(scope_for(user), administered)

    def clean(self):
        data = super().clean()
        _check_unit(self)
        return data


def _administered(user) -> list:
    return [o for o in org_selectors.organisations(scope_for(user)) if access.can_administer(user, o.orgnr)]


def _schedules(user, administered: list) -> list:
    """The schedules the person may change: their organisations' and, for region administrators, the region's."""
    orgnrs = {o.orgnr for o in administered}
    region = access.can_administer_region(user)
    return [s for s in report_selectors.schedules(scope_for(user))
            if (s.organisation is None and region) or (s.organisation is not None and s.organisation.orgnr in orgnrs)]


def _archive_context(scope: Scope) -> dict:
    archive = list(visible_reports(scope)[:ARCHIVE_LENGTH])
    waited = timezone.now() - STALE_QUEUE
    return {"reports": archive, "pending": any(r.status in PENDING for r in archive),
            "stale": any(r.status == report_selectors.STATUS_QUEUED and r.created_at < waited for r in archive)}


def _page(request, *, form: ReportForm, schedule_form: ScheduleForm | None = None, status: int = 200):
    scope = scope_for(request.user)
    administered = _administered(request.user)
    schedule_form = schedule_form or ScheduleForm(user=request.user, administered=administered)
    context = {"form": form, **_archive_context(scope), "administered": administered,
               "schedules": _schedules(request.user, administered), "schedule_form": schedule_form,
               "may_schedule": bool(schedule_form.fields["subject"].choices),
               "publish_years": sorted(existing_years(scope), reverse=True),
               "publications": report_selectors.publications(access.system_scope())}  # published figures are public
    context["new"] = next((r for r in context["reports"] if str(r.pk) == request.GET.get("ny")), None)
    return render(request, "web/reports.html", context, status=status)


@login_required
def reports(request):
    scope = scope_for(request.user)
    form = ReportForm(request.POST or None, scope=scope)
    if request.method != "POST":
        return _page(request, form=form)
    if form.is_valid():
        subject = form.cleaned_data["subject"]
        unit = form.cleaned_data["unit"] or None
        kind = REGION if subject == REGION else ("unit" if unit else "org")
        layout, texts = form.layout_and_texts()
        try:
            report = do_request_report(scope, scope_kind=kind, orgnr=None if subject == REGION else subject,
                                       unit_code=unit, period=form.cleaned_data["period"],
                                       fmt=form.cleaned_data["format"], actor=request.user, layout=layout,
                                       texts=texts)
            return redirect(f"{reverse('reports')}?ny={report.pk}")
        except (InvalidInput, PermissionError, results.NoResults) as exc:
            form.add_error(None, error_text(exc))
    return _page(request, form=form, status=400)


@login_required
def report_status(request):
    """The archive list alone, for the page's script to poll while a report is queued or running."""
    return render(request, "web/reports_archive.html", _archive_context(scope_for(request.user)))


@login_required
@require_POST
def schedule_add(request):
    administered = _administered(request.user)
    form = ScheduleForm(request.POST, user=request.user, administered=administered)
    if not form.fields["subject"].choices:
        return HttpResponseForbidden(_("Only administrators may schedule reports."))
    if form.is_valid():
        subject = form.cleaned_data["subject"]
        try:
            do_add_report_schedule(orgnr=None if subject == REGION else subject,
                                   unit_code=form.cleaned_data["unit"] or None,
                                   cadence=form.cleaned_data["cadence"], fmt=form.cleaned_data["format"],
                                   actor=request.user)
            return redirect(f"{reverse('reports')}#schedules-heading")
        except (InvalidInput, PermissionError) as exc:
            form.add_error(None, error_text(exc))
    return _page(request, form=ReportForm(scope=scope_for(request.user)), schedule_form=form, status=400)


@login_required
@require_POST
def schedule_remove(request, pk: int):
    schedule = report_selectors.schedule(scope_for(request.user), pk)
    if schedule is None:  # none, or outside what the person sees
        raise Http404
    orgnr = schedule.organisation.orgnr if schedule.organisation_id else None
    if orgnr is not None:
        allowed = access.can_administer(request.user, orgnr)
    else:
        allowed = access.can_administer_region(request.user)
    if not allowed:
        return HttpResponseForbidden(_("Only administrators may remove report schedules."))
    do_remove_report_schedule(schedule_id=schedule.pk, actor=request.user)
    return redirect(f"{reverse('reports')}#schedules-heading")


@login_required
def download(request, pk: int):
    report = visible_reports(scope_for(request.user)).filter(pk=pk, status=report_selectors.STATUS_DONE).first()
    if report is None:
        raise Http404
    path = report_path(report)
    if not path.is_file():
        raise Http404
    kind = "zip" if path.suffix == ".zip" else report.format  # every organisation's case documents: one zip
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type=CONTENT_TYPES[kind])


@login_required
@require_POST
def publish(request, orgnr: str):
    scope = scope_for(request.user)
    try:
        scope.check(orgnr)
    except OutsideScope:
        raise Http404
    if not org_selectors.organisations(scope).filter(orgnr=orgnr).exists():
        raise Http404
    if not access.can_administer(request.user, orgnr):
        return HttpResponseForbidden(_("Only the organisation's administrators may publish figures."))
    text = request.POST.get("year", "").strip()
    years = existing_years(scope)
    if not text.isdecimal() or int(text) not in years:
        error = (_("“%(value)s” is not a year with figures. Choose a year in the list.") % {"value": text} if text
                 else _("Give a year."))
        return render(request, "web/report_publish_error.html", {"error": error, "orgnr": orgnr}, status=400)
    year = int(text)
    try:
        do_publish_figures(year=year, orgnr=orgnr, actor=request.user)
    except (InvalidInput, results.NoResults) as exc:
        return render(request, "web/report_publish_error.html", {"error": error_text(exc), "orgnr": orgnr}, status=400)
    return redirect(reverse("public_organisation", args=[orgnr]))
