"""Reads of reports, report schedules and publications, scoped; who may see a report is decided in access.py."""
from __future__ import annotations

from klimainnkjop import access
from klimainnkjop.access import Scope
from klimainnkjop.storage.models import Publication, Report, ReportSchedule

# The vocabulary of reports for the faces (so that they need not import the models)
LAYOUT_STANDARD, LAYOUT_FUNDER = Report.LAYOUT_STANDARD, Report.LAYOUT_FUNDER
STATUS_QUEUED, STATUS_RUNNING, STATUS_DONE = Report.STATUS_QUEUED, Report.STATUS_RUNNING, Report.STATUS_DONE
CADENCE_QUARTER, CADENCE_HALF_YEAR = ReportSchedule.CADENCE_QUARTER, ReportSchedule.CADENCE_HALF_YEAR
CADENCE_TERTIAL, CADENCE_YEAR = ReportSchedule.CADENCE_TERTIAL, ReportSchedule.CADENCE_YEAR


def visible_reports(scope: Scope):
    """Reports the scope may see (access.may_see_report), newest first as the model orders them."""
    query = Report.objects.select_related("organisation", "run", "created_by")
    if scope.everything:
        return query
    allowed = [r.pk for r in query.filter(organisation__orgnr__in=scope.orgnrs or [])
               if access.may_see_report(scope, r)]
    return query.filter(pk__in=allowed)


def schedules(scope: Scope) -> list[ReportSchedule]:
    """Report schedules of the organisations the scope sees, and the region's for region-wide scopes."""
    return [s for s in ReportSchedule.objects.select_related("organisation", "last_report")
            if (s.organisation is None and scope.everything)
            or (s.organisation is not None and scope.allows(s.organisation.orgnr))]


def schedule(scope: Scope, pk: int) -> ReportSchedule | None:
    """One schedule, or None if there is none or the scope does not see its subject."""
    found = ReportSchedule.objects.select_related("organisation").filter(pk=pk).first()
    if found is None:
        return None
    if found.organisation_id is None:
        return found if scope.everything else None
    return found if scope.allows(found.organisation.orgnr) else None


def publications(scope: Scope, orgnr: str | None = None, *, region: bool = False) -> list[Publication]:
    """Published figures the scope sees, newest year first: of one organisation, of the region (`region`), or
    (neither) all, at most 50."""
    query = Publication.objects.select_related("organisation")
    if region:
        return list(query.filter(organisation__isnull=True).order_by("-year")) if scope.everything else []
    if orgnr is not None:
        if not scope.allows(orgnr):
            return []
        return list(query.filter(organisation__orgnr=orgnr).order_by("-year"))
    if not scope.everything:
        query = query.filter(organisation__orgnr__in=scope.orgnrs or [])
    return list(query[:50])


def published_organisations(scope: Scope):
    """Organisations with published figures, by name."""
    return scope.organisations().filter(publications__isnull=False).distinct().order_by("name")
