"""The documents page (issue 13): the baseline report and every organisation's case documents (a zip) made in the
background by the report worker and followed on the reports page (status, progress, download when done), one
organisation's case document made on request and downloaded (DOCX or PDF), and the region's baseline report
published on the public page by a region administrator; the published PDF is served at
offentlig/kartlegging/<year>.pdf."""
from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from klimainnkjop import access
from klimainnkjop.access import OutsideScope, scope_for
from klimainnkjop.selectors import documents as document_selectors
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors.results import NoResults
from klimainnkjop.services.documents import (CONTENT_TYPES, InvalidInput, do_generate_saksfremlegg,
                                             do_publish_baseline, do_record_decision)
from klimainnkjop.services.reports import do_request_document
from klimainnkjop.web.forms import error_text
from klimainnkjop.web.views import existing_years

REGION, ALL = "region", "all"


def _may_decide(user, orgnr: str | None) -> bool:
    """A decision adopts a package and its measures and gives targets their decision: both rights are needed."""
    return access.can_manage_measures(user, orgnr) and access.can_set_targets(user, orgnr)


def _chosen_year(request, scope) -> int:
    """The year posted, one of the years with figures (the form's list); InvalidInput otherwise."""
    text = request.POST.get("year", "").strip()
    if not text:
        raise InvalidInput(_("Give a year."))
    if not text.isdecimal() or int(text) not in existing_years(scope):
        raise InvalidInput(_("“%(value)s” is not a year with figures. Choose a year in the list.") % {"value": text})
    return int(text)


def _page(request, *, error: str = "", status: int = 200):
    scope = scope_for(request.user)
    years = sorted(existing_years(scope), reverse=True)
    organisations = list(org_selectors.organisations(scope).order_by("name"))
    return render(request, "web/documents.html", {
        "organisations": organisations,
        "deciders": [o for o in organisations if _may_decide(request.user, o.orgnr)],
        "decided": request.GET.get("vedtak") == "1",
        "packages": [p.name for p in measure_selectors.packages(scope)],
        "years": years, "default_year": dt.date.today().year - 1, "error": error,
        "may_publish": access.can_administer_region(request.user),
        "published": document_selectors.published_baselines(),
    }, status=status)


@login_required
def documents(request):
    if request.method != "POST":
        return _page(request)
    scope = scope_for(request.user)
    document, fmt = request.POST.get("document", ""), request.POST.get("format", "")
    subject = request.POST.get("subject", "")
    try:
        if document == "baseline":  # long work: made by the report worker, followed on the reports page
            year = _chosen_year(request, scope)
            report = do_request_document(scope, document="baseline", year=year, fmt=fmt,
                                         orgnr=None if subject == REGION else subject, actor=request.user)
            return redirect(f"{reverse('reports')}?ny={report.pk}")
        elif document == "saksfremlegg":
            every = subject == ALL
            if every and not access.can_administer_region(request.user):
                raise InvalidInput(_("Only the region's administrators may make every organisation's case document."))
            if every:  # thirteen documents: made by the report worker as one zip
                report = do_request_document(scope, document="saksfremlegg", fmt=fmt, every=True,
                                             package_name=request.POST.get("package", ""), actor=request.user)
                return redirect(f"{reverse('reports')}?ny={report.pk}")
            name, content = do_generate_saksfremlegg(scope, package_name=request.POST.get("package", ""), fmt=fmt,
                                                     orgnr=subject, actor=request.user)
        else:
            raise InvalidInput(_("Choose a document."))
    except (InvalidInput, OutsideScope, PermissionError, NoResults) as exc:
        return _page(request, error=error_text(exc), status=400)
    response = HttpResponse(content, content_type=CONTENT_TYPES["zip" if name.endswith(".zip") else fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def publish(request):
    if not access.can_administer_region(request.user):
        return HttpResponseForbidden(_("Only the region's administrators may publish the baseline report."))
    try:
        do_publish_baseline(year=_chosen_year(request, scope_for(request.user)), actor=request.user)
    except (InvalidInput, NoResults) as exc:
        return _page(request, error=error_text(exc), status=400)
    return redirect(reverse("public_region"))


def published_baseline(request, year: int):
    """The published baseline report (public, no sign-in)."""
    path = document_selectors.published_baseline_path(year)
    if year not in document_selectors.published_baselines() or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=False, filename=path.name, content_type=CONTENT_TYPES["pdf"])


@login_required
@require_POST
def decision(request):
    """An organisation's decision on the case (services/documents.do_record_decision)."""
    orgnr = request.POST.get("organisation", "").strip()
    if not _may_decide(request.user, orgnr or None):
        return HttpResponseForbidden(_("Only the organisation's administrators may record its decision."))
    scope = scope_for(request.user)
    try:
        try:
            organisation = org_selectors.organisation(scope, orgnr)
        except org_selectors.NotFound:
            raise InvalidInput(_("Choose an organisation.")) from None
        try:
            decided_on = dt.date.fromisoformat(request.POST.get("date", ""))
        except ValueError:
            raise InvalidInput(_("Give the date of the decision as YYYY-MM-DD.")) from None
        do_record_decision(scope, organisation=organisation, decided_on=decided_on,
                           body=request.POST.get("body", ""), case_number=request.POST.get("case_number", ""),
                           package_name=request.POST.get("package", ""), actor=request.user)
    except (InvalidInput, OutsideScope) as exc:
        return _page(request, error=error_text(exc), status=400)
    return redirect(reverse("documents") + "?vedtak=1")
