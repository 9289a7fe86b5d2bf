"""Reports as background jobs (django-tasks): the web queues a report and returns at once, the worker makes it
(done with its file and checksum, or failed with the error), the page shows status and progress and polls while
something is pending, scoped like the archive; report schedules and `reports run-due`; the CLI commands."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.services import reports as report_service
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reports import (do_add_report_schedule, do_generate_report, do_remove_report_schedule,
                                           do_request_report, do_run_due_schedules, due_period, report_path)
from klimainnkjop.storage.models import AuditEntry, Report, ReportSchedule
from tests.conftest import run_cli
from tests.factories import DATABASE_QUEUE, GRUE, KONGSVINGER, WEB_PROFILE, run_worker
from tests.factories import REPORTS_KONGSVINGER_CSV as KONGSVINGER_CSV

APRIL_2 = dt.date(2026, 4, 2)


@pytest.fixture
def database_queue(settings):
    """The production set-up: jobs wait in the database for a worker (conftest runs them inline otherwise)."""
    settings.TASKS = DATABASE_QUEUE


# --- the web queues, the worker makes --------------------------------------------------------------------

@pytest.mark.django_db
def test_asking_for_a_report_on_the_web_returns_at_once_with_the_report_queued_and_its_progress_shown(
        report_people, client, database_queue):
    from django_tasks_db.models import DBTaskResult

    client.force_login(report_people["reader"])
    response = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2025Q3", "format": "pdf", "unit": ""})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == Report.STATUS_QUEUED and not report.file_path and not report.sha256
    job = DBTaskResult.objects.get()
    assert job.status == "READY" and job.args_kwargs["kwargs"]["report_id"] == report.pk
    page = client.get(response["Location"]).content.decode()
    assert 'id="report-announcer" role="status"' in page  # the live region that announces completion
    assert "står i kø" in page and "Venter på tur" in page and "oppdaterer seg selv" in page
    assert 'src="/static/web/reports.js"' in page
    fragment = client.get("/rapporter/status/").content.decode()
    assert f'id="report-{report.pk}"' in fragment and 'data-status="queued"' in fragment
    assert f"/rapporter/{report.pk}/last-ned/" not in fragment  # nothing to download yet


@pytest.mark.django_db(transaction=True)
def test_the_worker_makes_a_queued_report_done_with_its_file_and_sha256_and_the_list_says_so(
        report_people, client, database_queue):
    from django_tasks_db.models import DBTaskResult

    client.force_login(report_people["reader"])
    client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2025Q3", "format": "csv", "unit": ""})
    run_worker()
    report = Report.objects.get()
    assert report.status == Report.STATUS_DONE and report.progress == report_service.PROGRESS_DONE
    content = report_path(report).read_bytes()
    assert report.sha256 == hashlib.sha256(content).hexdigest() and content.startswith("\ufeffSammendrag".encode())
    assert report.run_id and report.factor_sets
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    entry = AuditEntry.objects.get(action="generate_report", object_id=str(report.pk))
    assert entry.actor == report_people["reader"] and entry.after["sha256"] == report.sha256
    fragment = client.get("/rapporter/status/").content.decode()
    assert 'data-status="done"' in fragment and f"/rapporter/{report.pk}/last-ned/" in fragment
    assert "er ferdig og kan lastes ned" in fragment  # the message the page's live region announces
    assert "oppdaterer seg selv" not in fragment  # nothing pending: the page stops polling


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_marks_the_report_failed_and_the_page_shows_the_error(report_people, client, database_queue,
                                                                            monkeypatch):
    from django_tasks_db.models import DBTaskResult

    def broken(data, fmt):
        raise OSError("the disk is full")

    monkeypatch.setattr(report_service, "render", broken)
    client.force_login(report_people["reader"])
    response = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2025", "format": "pdf", "unit": ""})
    assert response.status_code == 302
    run_worker()
    report = Report.objects.get()
    assert report.status == Report.STATUS_FAILED and report.error == "the disk is full"
    assert DBTaskResult.objects.get().status == "FAILED"
    page = client.get(response["Location"]).content.decode()
    assert "Feilet" in page and "the disk is full" in page
    assert f"/rapporter/{report.pk}/last-ned/" not in page
    assert client.get(f"/rapporter/{report.pk}/last-ned/").status_code == 404


@pytest.mark.django_db
def test_with_jobs_run_inline_a_failed_report_is_shown_failed_and_the_request_still_succeeds(report_people, client,
                                                                                            monkeypatch):
    def broken(data, fmt):
        raise OSError("the disk's full")

    monkeypatch.setattr(report_service, "render", broken)
    client.force_login(report_people["reader"])
    # the request is accepted, the job fails
    response = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2025", "format": "csv", "unit": ""})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == Report.STATUS_FAILED and report.error == "the disk's full"
    page = client.get(response["Location"]).content.decode()
    assert "feilet" in page and report.error.replace("'", "&#x27;") in page


@pytest.mark.django_db
def test_the_job_checks_the_persons_scope_again_when_it_runs(report_people, database_queue):
    report = do_request_report(system_scope(), scope_kind="org", orgnr=GRUE, period="2025", fmt="csv",
                               actor=report_people["reader"])  # queued under a scope wider than the person's
    assert report.status == Report.STATUS_QUEUED
    with pytest.raises(PermissionError):
        report_service.generate_report_job.call(report_id=report.pk, user_id=report_people["reader"].pk)
    report.refresh_from_db()
    assert report.status == Report.STATUS_FAILED and not report.file_path
    # a report already made is not made again when its job runs twice
    made = do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025", fmt="csv",
                              actor="test")
    assert report_service.generate_report_job.call(report_id=made.pk) == Report.STATUS_DONE
    assert AuditEntry.objects.filter(action="generate_report", object_id=str(made.pk)).count() == 1


# --- who sees which report's status ---------------------------------------------------------------------

@pytest.mark.django_db
def test_a_unit_leader_sees_the_status_of_their_units_reports_only(report_people, client, database_queue):
    unit_report = do_request_report(system_scope(), scope_kind="unit", orgnr=KONGSVINGER, unit_code="1100",
                                    period="2025", fmt="csv", actor="test")
    other_unit = do_request_report(system_scope(), scope_kind="unit", orgnr=KONGSVINGER, unit_code="1200",
                                   period="2025", fmt="csv", actor="test")
    whole_org = do_request_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025", fmt="csv",
                                  actor="test")
    grue = do_request_report(system_scope(), scope_kind="org", orgnr=GRUE, period="2025", fmt="csv", actor="test")
    region = do_request_report(system_scope(), scope_kind="region", period="2025", fmt="csv", actor="test")
    client.force_login(report_people["unit_leader"])
    fragment = client.get("/rapporter/status/").content.decode()
    assert f'id="report-{unit_report.pk}"' in fragment
    for hidden in (other_unit, whole_org, grue, region):
        assert f'id="report-{hidden.pk}"' not in fragment
    page = client.get(f"/rapporter/?ny={grue.pk}").content.decode()
    assert "Grue" not in page and f'id="report-{grue.pk}"' not in page
    # the form offers their units only (no whole organisation it would always refuse)
    assert "Ingen: hele organisasjonen" not in page and 'value="1100"' in page
    # nor may they ask for a report of the whole organisation or of another unit, told why in bokmål
    for unit in ("", "1200"):
        response = client.post("/rapporter/", {"subject": KONGSVINGER, "period": "2025", "format": "csv",
                                               "unit": unit})
        assert response.status_code == 400
        assert "an organisation report covers every unit" not in response.content.decode()
    assert Report.objects.count() == 5


@pytest.mark.django_db
def test_the_region_admin_sees_every_reports_status_and_another_organisations_reader_none(report_people, client,
                                                                                          database_queue):
    grue = do_request_report(system_scope(), scope_kind="org", orgnr=GRUE, period="2025", fmt="csv", actor="test")
    client.force_login(report_people["region_admin"])
    assert f'id="report-{grue.pk}"' in client.get("/rapporter/status/").content.decode()
    client.force_login(report_people["reader"])
    assert f'id="report-{grue.pk}"' not in client.get("/rapporter/status/").content.decode()


# --- schedules ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cadence,today,period", [
    ("quarter", APRIL_2, "2026Q1"), ("half-year", APRIL_2, "2025H2"), ("year", APRIL_2, "2025"),
    ("tertial", APRIL_2, "2025T3"), ("quarter", dt.date(2026, 1, 1), "2025Q4"),
    ("quarter", dt.date(2026, 12, 31), "2026Q3"), ("half-year", dt.date(2026, 7, 1), "2026H1"),
    ("tertial", dt.date(2026, 9, 1), "2026T2"), ("year", dt.date(2026, 12, 31), "2025")])
def test_the_due_period_is_the_most_recently_completed_one(cadence, today, period):
    assert due_period(cadence, today) == period


def test_an_unknown_cadence_is_refused_naming_the_field():
    with pytest.raises(InvalidInput, match="--cadence"):
        due_period("weekly", APRIL_2)


@pytest.mark.django_db
def test_run_due_makes_each_schedules_last_completed_period_once(report_people):
    quarterly = do_add_report_schedule(orgnr=KONGSVINGER, cadence="quarter", fmt="csv", actor="test")
    half_yearly = do_add_report_schedule(orgnr=GRUE, cadence="half-year", fmt="xlsx", actor="test")
    yearly = do_add_report_schedule(cadence="year", fmt="csv", actor="test")  # the region
    unit = do_add_report_schedule(orgnr=KONGSVINGER, unit_code="1200", cadence="year", fmt="csv", actor="test")
    runs = do_run_due_schedules(today=APRIL_2)
    made = {run.schedule.pk: run.report for run in runs}
    assert not [run.error for run in runs if run.error]
    assert (made[quarterly.pk].period, made[quarterly.pk].scope_kind) == ("2026Q1", "org")
    assert (made[half_yearly.pk].period, made[half_yearly.pk].format) == ("2025H2", "xlsx")
    assert (made[yearly.pk].period, made[yearly.pk].scope_kind) == ("2025", "region")
    assert (made[unit.pk].period, made[unit.pk].unit_code) == ("2025", "1200")
    assert all(r.status == Report.STATUS_DONE and report_path(r).is_file() for r in made.values())
    assert made[half_yearly.pk].organisation.orgnr == GRUE
    for schedule in (quarterly, half_yearly, yearly):
        schedule.refresh_from_db()
        assert schedule.last_period == made[schedule.pk].period and schedule.last_report == made[schedule.pk]
    # a second run, the same day or the next, adds nothing
    assert do_run_due_schedules(today=APRIL_2) == []
    assert do_run_due_schedules(today=APRIL_2 + dt.timedelta(days=1)) == []
    assert Report.objects.count() == 4
    # when the next quarter is over, only the quarterly schedule has something to do
    runs = do_run_due_schedules(today=dt.date(2026, 7, 1))
    assert [(run.schedule.pk, run.report.period) for run in runs] == [(quarterly.pk, "2026Q2"),
                                                                     (half_yearly.pk, "2026H1")]
    assert AuditEntry.objects.filter(action="run_report_schedule").count() == 6


@pytest.mark.django_db
def test_a_schedule_report_that_fails_is_tried_again_on_the_next_run(report_people, monkeypatch):
    schedule = do_add_report_schedule(orgnr=KONGSVINGER, cadence="year", fmt="pdf", actor="test")
    real_render = report_service.render

    def broken(data, fmt):
        raise OSError("the disk is full")

    monkeypatch.setattr(report_service, "render", broken)
    [run] = do_run_due_schedules(today=APRIL_2)
    assert run.error == "the disk is full" and run.report.status == Report.STATUS_FAILED
    schedule.refresh_from_db()
    assert schedule.last_period == ""
    monkeypatch.setattr(report_service, "render", real_render)
    [again] = do_run_due_schedules(today=APRIL_2)
    assert not again.error and again.report.status == Report.STATUS_DONE and again.report.period == "2025"
    assert do_run_due_schedules(today=APRIL_2) == []


@pytest.mark.django_db
def test_run_due_with_queue_hands_the_reports_to_the_worker(report_people, database_queue):
    schedule = do_add_report_schedule(orgnr=KONGSVINGER, cadence="quarter", fmt="csv", actor="test")
    [run] = do_run_due_schedules(today=APRIL_2, queue=True)
    assert run.report.status == Report.STATUS_QUEUED and run.report.period == "2026Q1"
    assert do_run_due_schedules(today=APRIL_2, queue=True) == []  # taken: not queued twice
    # the job gives the period back when it fails, so the next run queues it again
    schedule.refresh_from_db()
    assert schedule.last_period == "2026Q1"
    Report.objects.filter(pk=run.report.pk).update(unit_code="no-such-unit", scope_kind="unit")
    with pytest.raises(InvalidInput):
        report_service.generate_report_job.call(report_id=run.report.pk, schedule_id=schedule.pk,
                                                previous_period="")
    schedule.refresh_from_db()
    assert schedule.last_period == ""
    assert len(do_run_due_schedules(today=APRIL_2, queue=True)) == 1


@pytest.mark.django_db
def test_schedule_changes_are_checked_and_audited(report_people):
    schedule = do_add_report_schedule(orgnr=KONGSVINGER, unit_code="1100", cadence="half-year", fmt="pdf",
                                      actor=report_people["org_admin"])
    entry = AuditEntry.objects.get(action="add_report_schedule")
    assert entry.actor == report_people["org_admin"] and entry.organisation.orgnr == KONGSVINGER
    assert entry.after == {"orgnr": KONGSVINGER, "unit": "1100", "cadence": "half-year", "format": "pdf",
                           "layout": "standard", "active": True, "last_period": None}
    assert schedule.created_by == report_people["org_admin"]
    for bad, field in ((dict(cadence="weekly", fmt="pdf", orgnr=KONGSVINGER), "--cadence"),
                       (dict(cadence="year", fmt="docx", orgnr=KONGSVINGER), "--format"),
                       (dict(cadence="year", fmt="pdf", orgnr=KONGSVINGER, unit_code="9999"), "--unit"),
                       (dict(cadence="year", fmt="pdf", unit_code="1100"), "--unit"),
                       (dict(cadence="year", fmt="pdf", orgnr="999999999"), "--org"),
                       (dict(cadence="year", fmt="pdf", orgnr=KONGSVINGER, layout="funder"), "--layout")):
        with pytest.raises(InvalidInput, match=field):
            do_add_report_schedule(actor="test", **bad)
    for who, orgnr in (("reader", KONGSVINGER), ("grue_admin", KONGSVINGER), ("org_admin", None)):
        with pytest.raises(PermissionError):
            do_add_report_schedule(orgnr=orgnr, cadence="year", fmt="pdf", actor=report_people[who])
    with pytest.raises(PermissionError):
        do_remove_report_schedule(schedule_id=schedule.pk, actor=report_people["grue_admin"])
    do_remove_report_schedule(schedule_id=schedule.pk, actor=report_people["region_admin"])
    assert not ReportSchedule.objects.exists()
    removed = AuditEntry.objects.get(action="remove_report_schedule")
    assert removed.actor == report_people["region_admin"] and removed.before["cadence"] == "half-year"
    assert removed.object_id == str(schedule.pk)


@pytest.mark.django_db
def test_administrators_add_and_remove_schedules_on_the_reports_page(report_people, client):
    client.force_login(report_people["org_admin"])
    page = client.get("/rapporter/").content.decode()
    assert "Planlegg en rapport" in page and 'value="region"' not in page.split("schedule-add-heading")[1]
    response = client.post("/rapporter/planer/", {"plan-subject": KONGSVINGER, "plan-unit": "",
                                                  "plan-cadence": "quarter", "plan-format": "xlsx"})
    assert response.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert (schedule.organisation.orgnr, schedule.cadence, schedule.format) == (KONGSVINGER, "quarter", "xlsx")
    assert AuditEntry.objects.filter(action="add_report_schedule", actor=report_people["org_admin"]).exists()
    assert "Hvert kvartal" in client.get("/rapporter/").content.decode()
    # an org admin may not schedule the region; a reader sees no schedules and may not add or remove one
    refused = client.post("/rapporter/planer/", {"plan-subject": "region", "plan-cadence": "year",
                                                 "plan-format": "pdf"})
    assert refused.status_code == 400 and ReportSchedule.objects.count() == 1
    client.force_login(report_people["reader"])
    assert "Planlegg en rapport" not in client.get("/rapporter/").content.decode()
    assert client.post(f"/rapporter/planer/{schedule.pk}/slett/").status_code == 403
    client.force_login(report_people["grue_admin"])  # outside Grue's scope: not found
    assert client.post(f"/rapporter/planer/{schedule.pk}/slett/").status_code == 404
    region = do_add_report_schedule(cadence="year", fmt="pdf", actor=report_people["region_admin"])
    client.force_login(report_people["org_admin"])
    assert client.post(f"/rapporter/planer/{region.pk}/slett/").status_code == 404
    assert client.post(f"/rapporter/planer/{schedule.pk}/slett/").status_code == 302
    assert list(ReportSchedule.objects.all()) == [region]
    assert AuditEntry.objects.filter(action="remove_report_schedule", actor=report_people["org_admin"]).exists()


# --- the command line ----------------------------------------------------------------------------------

def cli(*args, data_dir):
    return run_cli("--data-dir", data_dir, *args)


@pytest.mark.django_db
def test_the_cli_adds_lists_runs_and_removes_schedules(tmp_path, settings):
    PROFILE = WEB_PROFILE

    var = tmp_path / "var"
    profile, ledger = tmp_path / "profile.json", tmp_path / "ledger.csv"
    profile.write_text(json.dumps(PROFILE), encoding="utf-8")
    ledger.write_text(KONGSVINGER_CSV, encoding="utf-8")
    for args in (["org", "add", KONGSVINGER, "Kongsvinger kommune"],
                 ["profile", "import", str(profile), "--org", KONGSVINGER],
                 ["import", "ledger", str(ledger), "--org", KONGSVINGER], ["compute"],
                 ["reports", "schedule", "add", "--org", KONGSVINGER, "--cadence", "half-year", "--format", "csv"]):
        result = cli(*args, data_dir=var)
        assert result.returncode == 0, (args, result.stderr)
    schedule = ReportSchedule.objects.get()  # ids come from the database's sequence, not from 1 in a fresh one
    assert result.stdout.startswith(f"schedule {schedule.pk}:")
    bad = cli("reports", "schedule", "add", "--region", "--cadence", "weekly", "--format", "csv", data_dir=var)
    assert bad.returncode == 2 and "--cadence" in bad.stderr
    due = cli("reports", "run-due", "--today", "2026-04-02", data_dir=var)
    assert due.returncode == 0, due.stderr
    report = Report.objects.get()
    assert f"schedule {schedule.pk}: report {report.pk} 2025H2 csv: done, reports/" in due.stdout
    again = cli("reports", "run-due", "--today", "2026-04-02", data_dir=var)
    assert again.returncode == 0 and again.stdout.strip() == "nothing due"
    assert len(list((var / "reports").iterdir())) == 1
    listing = json.loads(cli("reports", "schedule", "list", "--format", "json", data_dir=var).stdout)
    assert listing == [{"id": schedule.pk, "subject": KONGSVINGER, "unit": None, "cadence": "half-year",
                        "format": "csv", "layout": "standard", "active": True, "last_period": "2025H2",
                        "last_report": report.pk}]
    assert cli("reports", "run-due", "--today", "2026-13-01", data_dir=var).returncode == 2
    assert cli("reports", "schedule", "remove", str(schedule.pk), data_dir=var).returncode == 0
    assert cli("reports", "schedule", "remove", str(schedule.pk), data_dir=var).returncode == 2
    settings.KLIMAINNKJOP_TASKS = "immediate"  # what KLIMAINNKJOP_TASKS=immediate in the environment gives
    worker = cli("worker", "--batch", data_dir=var)
    assert worker.returncode == 2 and "no worker is needed" in worker.stderr


@pytest.mark.django_db
def test_a_report_left_running_by_a_stopped_worker_is_marked_failed_with_a_clear_error(report_people, database_queue):
    from klimainnkjop.services.reports import INTERRUPTED_AFTER, do_fail_interrupted_reports

    old = do_request_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025Q3", fmt="csv")
    fresh = do_request_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025Q2", fmt="csv")
    queued = do_request_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025Q1", fmt="csv")
    Report.objects.filter(pk__in=[old.pk, fresh.pk]).update(status=Report.STATUS_RUNNING)
    long_ago = old.created_at - INTERRUPTED_AFTER - dt.timedelta(minutes=1)
    Report.objects.filter(pk__in=[old.pk, queued.pk]).update(created_at=long_ago)

    assert do_fail_interrupted_reports() == 1
    old.refresh_from_db(), fresh.refresh_from_db(), queued.refresh_from_db()
    assert old.status == Report.STATUS_FAILED and "interrupted" in old.error
    assert fresh.status == Report.STATUS_RUNNING  # may still be in the making
    assert queued.status == Report.STATUS_QUEUED  # waits for a worker, not interrupted
    assert AuditEntry.objects.filter(action="interrupt_report", object_id=str(old.pk)).count() == 1
    assert do_fail_interrupted_reports() == 0


@pytest.mark.django_db
def test_a_scheduled_report_interrupted_by_a_stopped_worker_is_made_again_by_the_next_run(report_people, database_queue):
    from klimainnkjop.services.reports import INTERRUPTED_AFTER, do_fail_interrupted_reports

    schedule = do_add_report_schedule(orgnr=KONGSVINGER, cadence="quarter", fmt="csv", actor="test")
    [run] = do_run_due_schedules(today=APRIL_2, queue=True)  # queued for the worker, which then dies mid-way
    Report.objects.filter(pk=run.report.pk).update(
        status=Report.STATUS_RUNNING, created_at=run.report.created_at - INTERRUPTED_AFTER - dt.timedelta(minutes=1))
    assert do_run_due_schedules(today=APRIL_2, queue=True) == []  # still taken while it may be in the making
    assert do_fail_interrupted_reports() == 1
    schedule.refresh_from_db()
    assert schedule.last_period == ""
    [again] = do_run_due_schedules(today=APRIL_2, queue=True)
    assert again.report.period == run.report.period == "2026Q1" and again.report.pk != run.report.pk
    schedule.refresh_from_db()
    assert schedule.last_period == "2026Q1" and schedule.last_report_id == again.report.pk
