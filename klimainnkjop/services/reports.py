"""Generating and archiving reports; publishing figures for the public page. Every write has an audit entry."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django_tasks import task

from klimainnkjop import access, paths
from klimainnkjop.access import Scope
from klimainnkjop.reports import data as report_data
from klimainnkjop.reports.periods import parse_period
from klimainnkjop.selectors import results
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage.models import Organisation, Publication, Report, ReportSchedule
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.access import operator
from klimainnkjop.core.actors import SCHEDULER, WORKER, ActorLike, as_actor
from klimainnkjop.core.figures import ore

FORMATS = ("pdf", "xlsx", "csv")
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "zip": "application/zip",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# A report's progress, kept on its row in English and shown through gettext (web/templates/web/reports.html).
PROGRESS_QUEUED = gettext_noop("Waiting for its turn")
PROGRESS_READING = gettext_noop("Reading the figures (step 1 of 2)")
PROGRESS_WRITING = {"pdf": gettext_noop("Writing the PDF file (step 2 of 2)"),
                    "xlsx": gettext_noop("Writing the Excel file (step 2 of 2)"),
                    "csv": gettext_noop("Writing the CSV file (step 2 of 2)")}
PROGRESS_DONE = gettext_noop("Done")
PROGRESS_FAILED = gettext_noop("Failed")


def _organisation(orgnr: str) -> Organisation:
    """The organisation with this orgnr, or a clear error naming the option."""
    organisation = Organisation.objects.filter(orgnr=orgnr).first()
    if organisation is None:
        raise InvalidInput.at("--org", gettext("no organisation with orgnr %(orgnr)s"), orgnr=orgnr)
    return organisation


def render(data: report_data.ReportData, fmt: str) -> bytes:
    if fmt == "pdf":
        from klimainnkjop.reports import pdf
        return pdf.write(data)
    if fmt == "xlsx":
        from klimainnkjop.reports import xlsx
        return xlsx.write(data)
    if fmt == "csv":
        from klimainnkjop.reports import csv_writer
        return csv_writer.write(data)
    raise InvalidInput.at("--format", gettext("%(format)r must be one of %(formats)s"), format=fmt,
                          formats=", ".join(FORMATS))


def _file_name(report: Report, data: report_data.ReportData) -> str:
    subject = data.orgnr or "region"
    if data.unit_code:
        subject += "-" + re.sub(r"[^A-Za-z0-9_-]", "_", data.unit_code)
    # the funder's layout is named as the funder calls it: framdriftsrapport (progress) or sluttrapport (final)
    kind = report_data.KIND_TITLES[report_data.KIND_FINAL if data.final else report_data.KIND_PROGRESS].lower() \
        if data.layout == report_data.LAYOUT_FUNDER else "klimaregnskap"
    return f"{kind}-{subject}-{data.period.code}-{report.pk}.{report.format}"


def _new_report(scope: Scope, *, scope_kind: str, period: str, fmt: str, orgnr: str | None, unit_code: str | None,
                actor: ActorLike, status: str, progress: str, layout: str, texts: dict | None) -> Report:
    """Checks the request (period, format, organisation, and that the scope may see it) and records the Report
    row; nothing is built yet."""
    parsed = parse_period(period)
    layout, texts = report_data.clean_layout(layout, texts, parsed)  # a bad layout or text: no row, no file
    if fmt not in FORMATS:
        raise InvalidInput.at("--format", gettext("%(format)r must be one of %(formats)s"), format=fmt,
                              formats=", ".join(FORMATS))
    if scope_kind not in (Report.SCOPE_ORG, Report.SCOPE_UNIT, Report.SCOPE_REGION):
        raise InvalidInput.at("scope", gettext("%(scope)r must be org, unit or region"), scope=scope_kind)
    if scope_kind == Report.SCOPE_UNIT and not unit_code:
        raise InvalidInput.at("--unit", gettext("a unit report needs a unit code"))
    organisation = None
    if scope_kind != report_data.SCOPE_REGION and not orgnr:
        raise InvalidInput.at("--org", gettext("an organisation report needs an organisation number"))
    access.check_report_subject(scope, scope_kind=scope_kind, orgnr=orgnr, unit_code=unit_code)
    if scope_kind != report_data.SCOPE_REGION:
        organisation = _organisation(orgnr)
    user = as_actor(actor).user
    return Report.objects.create(
        scope_kind=scope_kind, organisation=organisation, unit_code=(unit_code or "") if organisation else "",
        period=parsed.code, format=fmt, layout=layout or Report.LAYOUT_STANDARD, texts=texts or {},
        status=status, progress=progress, created_by=user)


def _progress(report: Report, status: str, progress: str) -> None:
    report.status, report.progress = status, progress
    Report.objects.filter(pk=report.pk).update(status=status, progress=progress)


def make_report(report: Report, scope: Scope, *, actor: ActorLike = None) -> Report:
    """Builds a recorded report: reads the figures, writes the file to the data directory (reports/), and marks
    the row done with its run, factor sets and sha256, with an audit entry. On an error the row is marked failed
    with the error, and the error is raised. The one builder of the CLI, the web's background job and the
    schedules. The baseline report and the case documents asked for on the web are made by
    services/documents.make_document."""
    from klimainnkjop.services.documents import DOCUMENT_LAYOUTS, make_document

    if report.layout in DOCUMENT_LAYOUTS:
        return make_document(report, scope, actor=actor)
    _progress(report, Report.STATUS_RUNNING, PROGRESS_READING)
    try:
        data = report_data.build(scope, scope_kind=report.scope_kind, period=parse_period(report.period),
                                 orgnr=report.organisation.orgnr if report.organisation_id else None,
                                 unit_code=report.unit_code or None, layout=report.layout, texts=report.texts)
        _progress(report, Report.STATUS_RUNNING, PROGRESS_WRITING[report.format])
        content = render(data, report.format)
        folder = paths.data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        name = _file_name(report, data)
        (folder / name).write_bytes(content)
        report.run_id = data.run_id
        report.factor_sets = [fs.label for fs in data.factor_sets] or [data.factor_set]
        report.file_path = f"reports/{name}"
        report.sha256 = hashlib.sha256(content).hexdigest()
        report.status, report.progress, report.error = Report.STATUS_DONE, PROGRESS_DONE, ""
        report.save()
    except Exception as exc:
        report.status, report.progress, report.error = Report.STATUS_FAILED, PROGRESS_FAILED, str(exc)[:2000]
        report.save()
        raise
    orgnr = report.organisation.orgnr if report.organisation_id else None
    record_audit(actor=actor, action=Action.GENERATE_REPORT, obj=report, organisation=report.organisation,
                 after={"scope": report.scope_kind, "orgnr": orgnr, "unit": report.unit_code or None,
                        "period": report.period, "format": report.format, "layout": report.layout,
                        "texts": report.texts, "run": report.run_id, "factor_sets": report.factor_sets,
                        "file": report.file_path, "sha256": report.sha256})
    return report


def do_generate_report(scope: Scope, *, scope_kind: str, period: str, fmt: str, orgnr: str | None = None,
                       unit_code: str | None = None, actor: ActorLike = None, layout: str = Report.LAYOUT_STANDARD,
                       texts: dict | None = None) -> Report:
    """Makes a report now, in this process (the CLI): records it, builds it (make_report) and returns it done;
    raises if it failed (the row says failed, with the error)."""
    report = _new_report(scope, scope_kind=scope_kind, period=period, fmt=fmt, orgnr=orgnr, unit_code=unit_code,
                         actor=actor, status=Report.STATUS_RUNNING, progress=PROGRESS_READING, layout=layout,
                         texts=texts)
    return make_report(report, scope, actor=actor)


def do_request_report(scope: Scope, *, scope_kind: str, period: str, fmt: str, orgnr: str | None = None,
                      unit_code: str | None = None, actor: ActorLike = None, layout: str = Report.LAYOUT_STANDARD,
                      texts: dict | None = None) -> Report:
    """Records a report as queued and hands it to the background worker (the web). Returns at once with the
    database queue; with the immediate backend (tests, KLIMAINNKJOP_TASKS=immediate) the report is already
    made, or failed, when this returns. Bad input and a scope that may not see the subject raise here."""
    report = _new_report(scope, scope_kind=scope_kind, period=period, fmt=fmt, orgnr=orgnr, unit_code=unit_code,
                         actor=actor, status=Report.STATUS_QUEUED, progress=PROGRESS_QUEUED, layout=layout,
                         texts=texts)
    user = as_actor(actor).user
    generate_report_job.enqueue(report_id=report.pk, user_id=user.pk if user else None)
    report.refresh_from_db()
    return report


@task()
@operator()  # the worker's entry point: the job checks the asker's right itself
def generate_report_job(report_id: int, user_id: int | None = None, schedule_id: int | None = None,
                        previous_period: str = "") -> str:
    """The background job: makes a queued report with the scope of the person who asked for it (checked again
    now), or the system's scope for schedules. A failed schedule report gives its period back to the schedule,
    so the next run-due tries again. Returns the report's status."""
    report = Report.objects.select_related("organisation").filter(pk=report_id).first()
    if report is None or report.status not in (Report.STATUS_QUEUED, Report.STATUS_RUNNING):
        return report.status if report else "missing"  # already made (a job run twice) or deleted
    actor: ActorLike = SCHEDULER if schedule_id else WORKER
    scope = access.system_scope()
    if user_id is not None:
        actor = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        scope = access.scope_for(actor)
        if actor is None:
            report.status, report.progress = Report.STATUS_FAILED, PROGRESS_FAILED
            report.error = "the person who asked for the report no longer has an active account"
            report.save()
            return report.status
    try:
        make_report(report, scope, actor=actor)
    except Exception:
        if schedule_id:
            ReportSchedule.objects.filter(pk=schedule_id, last_period=report.period).update(
                last_period=previous_period)
        raise
    return report.status


def do_request_document(scope: Scope, *, document: str, fmt: str, year: int | None = None, orgnr: str | None = None,
                        package_name: str | None = None, every: bool = False, language: str | None = None,
                        actor: ActorLike = None) -> Report:
    """Records the baseline report (of the region or an organisation) or the case documents (one organisation's or
    every organisation's, a zip) as a queued report and hands it to the background worker. Bad input and a scope
    that may not see the subject raise here, before anything is queued."""
    from klimainnkjop.reports import documents
    from klimainnkjop.services.documents import DOCUMENT_LAYOUTS, check_format, document_language

    check_format(fmt)
    language = document_language(language)
    if document == "baseline":
        if year is None or not 1990 <= int(year) <= 2100:
            raise InvalidInput.at("--year", gettext("%(year)s is not a year"), year=year)
        period, params = str(int(year)), {"year": int(year), "package": package_name or None}
        scope_kind = Report.SCOPE_REGION if orgnr is None else Report.SCOPE_ORG
    elif document == "saksfremlegg":
        if every == bool(orgnr):
            raise InvalidInput.at(None, gettext("--org or --all: name one organisation or ask for all of them"))
        pkg = documents.find_package(scope, package_name)
        period, params = str(pkg.baseline_year), {"package": pkg.name, "all": every}
        scope_kind = Report.SCOPE_REGION if every else Report.SCOPE_ORG
    else:
        raise InvalidInput.at("document", gettext("%(document)r must be one of %(documents)s"), document=document,
                              documents=", ".join(DOCUMENT_LAYOUTS))
    access.check_report_subject(scope, scope_kind=scope_kind, orgnr=orgnr, unit_code=None)
    organisation = None
    if orgnr is not None:
        organisation = Organisation.objects.filter(orgnr=orgnr).first()
        if organisation is None:
            raise InvalidInput.at("--org", gettext("no organisation with orgnr %(orgnr)s"), orgnr=orgnr)
    user = actor if getattr(actor, "is_authenticated", False) else None
    report = Report.objects.create(scope_kind=scope_kind, organisation=organisation, period=period, format=fmt,
                                   layout=document, texts={**params, "language": language},
                                   status=Report.STATUS_QUEUED, progress=PROGRESS_QUEUED, created_by=user)
    generate_report_job.enqueue(report_id=report.pk, user_id=user.pk if user else None)
    report.refresh_from_db()
    return report


INTERRUPTED_AFTER = dt.timedelta(hours=2)  # no report takes this long; one still running was interrupted


def do_fail_interrupted_reports(*, now: dt.datetime | None = None, actor: ActorLike = WORKER) -> int:
    """Marks as failed the reports still 'running' long after they were asked for: their worker was stopped
    while making them (killed, machine restarted) and no job will finish them. Called when a worker starts.
    The person asks again; the error says so. A schedule whose report it was gives its period back, so the next
    `run-due` makes it again while it is still the schedule's due period. Returns how many."""
    limit = (now or timezone.now()) - INTERRUPTED_AFTER
    count = 0
    with transaction.atomic():
        for report in Report.objects.select_for_update().filter(status=Report.STATUS_RUNNING, created_at__lt=limit):
            report.status, report.progress = Report.STATUS_FAILED, PROGRESS_FAILED
            report.error = ("interrupted: the report worker stopped while making this report; ask for it again")
            report.save(update_fields=["status", "progress", "error"])
            record_audit(actor=actor, action=Action.INTERRUPT_REPORT, obj=report, organisation=report.organisation,
                         before={"status": Report.STATUS_RUNNING}, after={"status": Report.STATUS_FAILED})
            ReportSchedule.objects.filter(last_report=report, last_period=report.period).update(last_period="")
            count += 1
    return count


# --- schedules: a report for every completed period ------------------------------------------------------

def due_period(cadence: str, today: dt.date) -> str:
    """The most recently completed period of the cadence on `today`: on 2026-04-02 a quarter gives 2026Q1, a
    half-year 2025H2, a tertial 2025T3, a year 2025."""
    year, month = today.year, today.month
    if cadence == ReportSchedule.CADENCE_YEAR:
        return str(year - 1)
    kind, length = {ReportSchedule.CADENCE_QUARTER: ("Q", 3), ReportSchedule.CADENCE_HALF_YEAR: ("H", 6),
                    ReportSchedule.CADENCE_TERTIAL: ("T", 4)}.get(cadence, ("", 0))
    if not kind:
        raise InvalidInput.at("--cadence", gettext("%(cadence)r must be one of %(cadences)s"), cadence=cadence,
                              cadences=", ".join(ReportSchedule.CADENCES))
    current = (month - 1) // length + 1
    return f"{year - 1}{kind}{12 // length}" if current == 1 else f"{year}{kind}{current - 1}"


def _check_schedule_rights(actor: ActorLike, orgnr: str | None) -> None:
    person = as_actor(actor).user  # a person must administer; the CLI and the scheduler act as the operator
    if person is not None:
        allowed = access.can_administer(person, orgnr) if orgnr else access.can_administer_region(person)
        if not allowed:
            raise PermissionError("only the organisation's or the region's administrators may change report "
                                  "schedules")


def _schedule_facts(schedule: ReportSchedule) -> dict:
    return {"orgnr": schedule.organisation.orgnr if schedule.organisation_id else None,
            "unit": schedule.unit_code or None, "cadence": schedule.cadence, "format": schedule.format,
            "layout": schedule.layout, "active": schedule.active, "last_period": schedule.last_period or None}


def do_add_report_schedule(*, cadence: str, fmt: str, orgnr: str | None = None, unit_code: str | None = None,
                           layout: str = Report.LAYOUT_STANDARD, actor: ActorLike = None) -> ReportSchedule:
    """Adds a schedule for an organisation (optionally one of its units) or, with orgnr None, the region. A person
    must administer the organisation (or the region); the CLI acts as the operator."""
    if cadence not in ReportSchedule.CADENCES:
        raise InvalidInput.at("--cadence", gettext("%(cadence)r must be one of %(cadences)s"), cadence=cadence,
                              cadences=", ".join(ReportSchedule.CADENCES))
    if fmt not in FORMATS:
        raise InvalidInput.at("--format", gettext("%(format)r must be one of %(formats)s"), format=fmt,
                              formats=", ".join(FORMATS))
    if layout != Report.LAYOUT_STANDARD:
        raise InvalidInput.at("--layout", gettext("schedules make the %(layout)s layout; the funder's report takes "
                                                  "texts written for it"), layout=Report.LAYOUT_STANDARD)
    unit_code = (unit_code or "").strip()
    if unit_code and not orgnr:
        raise InvalidInput.at("--unit", gettext("only with --org"))
    organisation = None
    if orgnr:
        organisation = _organisation(orgnr)
        if unit_code and not organisation.units.filter(code=unit_code).exists():
            raise InvalidInput.at("--unit", gettext("%(name)s has no unit %(unit)r"), name=organisation.name,
                                  unit=unit_code)
    _check_schedule_rights(actor, orgnr)
    user = as_actor(actor).user
    with transaction.atomic():
        schedule = ReportSchedule.objects.create(organisation=organisation, unit_code=unit_code, cadence=cadence,
                                                 format=fmt, layout=layout, created_by=user)
        record_audit(actor=actor, action=Action.ADD_REPORT_SCHEDULE, obj=schedule, organisation=organisation,
                     after=_schedule_facts(schedule))
    return schedule


def do_remove_report_schedule(*, schedule_id: int, actor: ActorLike = None) -> None:
    """Removes a schedule; the reports it made stay in the archive."""
    schedule = ReportSchedule.objects.select_related("organisation").filter(pk=schedule_id).first()
    if schedule is None:
        raise InvalidInput.at("schedule", gettext("there is no report schedule %(schedule)s"), schedule=schedule_id)
    _check_schedule_rights(actor, schedule.organisation.orgnr if schedule.organisation_id else None)
    with transaction.atomic():
        record_audit(actor=actor, action=Action.REMOVE_REPORT_SCHEDULE, obj=schedule,
                     organisation=schedule.organisation, before=_schedule_facts(schedule))
        schedule.delete()


@dataclass
class DueRun:
    """One schedule's report made (or queued) by do_run_due_schedules; error is set when it failed."""

    schedule: ReportSchedule
    report: Report
    error: str = ""


def do_run_due_schedules(*, today: dt.date | None = None, queue: bool = False,
                         actor: ActorLike = SCHEDULER) -> list[DueRun]:
    """Makes, for each active schedule, its most recently completed period on `today` unless the schedule has
    made it already: a second run on the same day adds nothing, so cron may call it daily. The schedule takes
    the period before making the report (two runs at once make it once); a report that fails gives it back, so
    the next run tries again. With queue the reports go to the background worker instead of being made here."""
    today = today or timezone.localdate()
    done: list[DueRun] = []
    for schedule in ReportSchedule.objects.filter(active=True).select_related("organisation"):
        period = due_period(schedule.cadence, today)
        previous = schedule.last_period
        if previous == period:
            continue
        if not ReportSchedule.objects.filter(pk=schedule.pk, last_period=previous).update(last_period=period):
            continue  # another run took it
        orgnr = schedule.organisation.orgnr if schedule.organisation_id else None
        try:
            report = _new_report(access.system_scope(), scope_kind=schedule.scope_kind, period=period,
                                 fmt=schedule.format, orgnr=orgnr, unit_code=schedule.unit_code or None, actor=None,
                                 status=Report.STATUS_QUEUED, progress=PROGRESS_QUEUED, layout=schedule.layout,
                                 texts=None)
        except Exception:
            ReportSchedule.objects.filter(pk=schedule.pk).update(last_period=previous)
            raise
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_report=report)
        record_audit(actor=actor, action=Action.RUN_REPORT_SCHEDULE, obj=schedule, organisation=schedule.organisation,
                     after={"period": period, "report": report.pk, "queued": queue})
        run = DueRun(schedule=schedule, report=report)
        if queue:
            generate_report_job.enqueue(report_id=report.pk, schedule_id=schedule.pk, previous_period=previous)
            report.refresh_from_db()  # the immediate backend has made it already
            run.error = report.error if report.status == Report.STATUS_FAILED else ""
        else:
            try:
                make_report(report, access.system_scope(), actor=actor)
            except Exception as exc:  # noqa: BLE001 - recorded on the report; the schedule tries again next run
                ReportSchedule.objects.filter(pk=schedule.pk, last_period=period).update(last_period=previous)
                run.error = str(exc) or type(exc).__name__
        schedule.refresh_from_db()
        done.append(run)
    return done


def report_path(report: Report):
    return paths.data_dir() / report.file_path


# --- publication of figures on the public page -----------------------------------------------------------

def published_figures(orgnr: str | None, year: int) -> dict:
    """The figures that a publication shows: totals and per category of one year (consolidated for the region),
    read with the system's scope through selectors.results."""
    scope = access.system_scope()
    document = results.totals(scope, org=orgnr, year=year, by=["category", "investment"])
    categories: dict[str, dict] = {}
    total = {"kg_co2e": 0.0, "kg_co2e_operating": 0.0, "kg_co2e_investment": 0.0, "kg_co2e_low": 0.0,
             "kg_co2e_high": 0.0, "kg_co2e_market": 0.0, "spend_ore": 0}
    for row in document["rows"]:
        code = row["category"] or ""
        entry = categories.setdefault(code, {"category": code, "kg_co2e": 0.0, "spend_ore": 0})
        spend = ore(row["spend_nok"])
        entry["kg_co2e"] += row["kg_co2e"]
        entry["spend_ore"] += spend
        total["kg_co2e"] += row["kg_co2e"]
        total["kg_co2e_investment" if row["investment"] else "kg_co2e_operating"] += row["kg_co2e"]
        total["kg_co2e_low"] += row["kg_co2e_low"]
        total["kg_co2e_high"] += row["kg_co2e_high"]
        # market-based (electricity at the residual mix); None for a run made before the figure
        market = row.get("kg_co2e_market")
        total["kg_co2e_market"] = None if market is None or total["kg_co2e_market"] is None \
            else total["kg_co2e_market"] + market
        total["spend_ore"] += spend
    rows = sorted(categories.values(), key=lambda c: -c["kg_co2e"])
    for entry in [total, *rows]:
        entry["kg_co2e"] = round(entry["kg_co2e"], 3)
        entry["spend_nok"] = round(entry.pop("spend_ore") / 100, 2)
    # the total's range as the dashboards and reports give it: the 95 % range combined from the lines' spreads
    # (selectors.results.combined_range), where the run keeps the moments; the summed low-high otherwise
    combined = (results.combined_range(scope, org=orgnr, year=year) or {}).get(())
    if combined is not None:
        total["kg_co2e_low"], total["kg_co2e_high"] = combined
    for key in ("kg_co2e_operating", "kg_co2e_investment", "kg_co2e_low", "kg_co2e_high", "kg_co2e_market"):
        total[key] = None if total[key] is None else round(total[key], 3)
    return {"orgnr": orgnr, "year": year, "consolidated": document["consolidated"], "run": document["run"],
            "factor_sets": document["factor_sets"], "total": total, "categories": rows}


def do_publish_figures(*, year: int, orgnr: str | None = None, actor: ActorLike = None) -> Publication:
    """Publishes (or republishes, replacing) one year's figures of an organisation, or of the region with
    orgnr None. A person must administer the organisation (or the region); the CLI acts as the operator."""
    person = as_actor(actor).user  # a person must administer; the CLI and the scheduler act as the operator
    if person is not None:
        allowed = access.can_administer(person, orgnr) if orgnr else access.can_administer_region(person)
        if not allowed:
            raise PermissionError("only the organisation's or the region's administrators may publish figures")
    organisation = None
    if orgnr:
        organisation = _organisation(orgnr)
    if not 1900 <= int(year) <= 2999:
        raise InvalidInput.at("--year", gettext("%(year)r is not a year"), year=year)
    figures = published_figures(orgnr, int(year))
    if not figures["categories"]:
        if orgnr:
            raise InvalidInput.at("--year", gettext("no computed figures for %(orgnr)s in %(year)s"), orgnr=orgnr,
                                  year=year)
        raise InvalidInput.at("--year", gettext("no computed figures for the region in %(year)s"), year=year)
    user = as_actor(actor).user
    with transaction.atomic():
        previous = Publication.objects.filter(organisation=organisation, year=year).first()
        before = {"run": previous.run_id, "total": previous.figures.get("total")} if previous else None
        Publication.objects.filter(organisation=organisation, year=year).delete()
        publication = Publication.objects.create(organisation=organisation, year=year, run_id=figures["run"],
                                                 figures=figures, published_by=user)
        publication.published_at = timezone.now()
        record_audit(actor=actor, action=Action.PUBLISH_FIGURES, obj=publication, organisation=organisation,
                     before=before, after={"orgnr": orgnr, "year": year, "run": figures["run"],
                                           "total": figures["total"]})
    return publication
