"""Computing follows the data: a committed change of what the account is computed from queues one compute run
(debounced), the worker computes it, and the pages say when the figures were computed and whether new data waits."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.services import autocompute
from klimainnkjop.services.auth import record_sign_in
from klimainnkjop.storage.models import ComputeRun
from tests.factories import (DATABASE_QUEUE, GRUE_CSV, KONGSVINGER_CSV, WEB_PROFILE, import_ledger, kg, make_user,
                             page, run_worker)



@pytest.fixture
def auto(settings):
    settings.KLIMAINNKJOP_AUTO_COMPUTE = True
    return settings


def queued_jobs():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=results.AUTO_COMPUTE_TASK)


@pytest.mark.django_db
def test_an_import_computes_the_account_without_a_command(auto, reference, org, django_capture_on_commit_callbacks):
    assert not ComputeRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        import_ledger(org, GRUE_CSV.replace("2100", "1100"), "grue-format.csv", profile=WEB_PROFILE)
    run = ComputeRun.objects.get()
    assert run.status == "done" and run.kg_co2e == pytest.approx(kg(77_777, "goods.office", 2024), rel=1e-9)
    assert not results.compute_status().stale


@pytest.mark.django_db(transaction=True)  # the worker runs in this process and closes its connection (PostgreSQL)
def test_changes_queue_one_debounced_run_that_the_worker_computes_once(settings, reference, org, other_org,
                                                                       django_capture_on_commit_callbacks):
    # switched on here, after the organisations were made (in a transactional test their creation commits too)
    settings.KLIMAINNKJOP_AUTO_COMPUTE = True
    settings.TASKS = DATABASE_QUEUE
    settings.KLIMAINNKJOP_COMPUTE_DEBOUNCE = 30
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        import_ledger(org, KONGSVINGER_CSV, "k.csv", profile=WEB_PROFILE)
    with django_capture_on_commit_callbacks(execute=True):
        import_ledger(other_org, GRUE_CSV, "g.csv", profile=WEB_PROFILE)
    [job] = queued_jobs()
    assert before + dt.timedelta(seconds=29) < job.run_after <= timezone.now() + dt.timedelta(seconds=30)
    status = results.compute_status()
    assert status.queued and status.stale and not status.running and status.last_run_at is None

    run_worker()  # not due yet: the run waits for the debounce
    assert not ComputeRun.objects.exists()
    queued_jobs().update(run_after=timezone.now() - dt.timedelta(seconds=1))
    run_worker()
    run = ComputeRun.objects.get()
    assert run.status == "done" and queued_jobs().get().return_value == f"computed run {run.pk}"
    expected = kg(123_456, "goods.office", 2024) + kg(77_777, "goods.office", 2024)
    totals = dashboard.period_overview(system_scope(), period=dashboard.parse_period("2024"))
    assert totals.total.tonnes * 1000 > expected  # both organisations' lines are in the one run
    status = results.compute_status()
    assert not status.stale and not status.queued and status.last_run_at == run.created_at


@pytest.mark.django_db
def test_a_job_finds_nothing_to_do_when_a_run_already_covers_the_change(auto, reference, org,
                                                                        django_capture_on_commit_callbacks):
    from klimainnkjop.services.compute import do_compute

    import_ledger(org, KONGSVINGER_CSV, "k.csv", profile=WEB_PROFILE)  # no commit captured: nothing queued
    do_compute(actor="test")
    assert autocompute.compute_job.call() == "up to date"
    assert ComputeRun.objects.count() == 1


@pytest.mark.django_db
def test_a_sign_in_or_a_switched_off_setting_queues_nothing(auto, reference, org, django_capture_on_commit_callbacks):
    auto.TASKS = DATABASE_QUEUE
    with django_capture_on_commit_callbacks(execute=True):
        record_sign_in(user=make_user("kari", org, "reader"), ip="127.0.0.1", method="password")
    assert not queued_jobs().exists()
    auto.KLIMAINNKJOP_AUTO_COMPUTE = False
    with django_capture_on_commit_callbacks(execute=True):
        import_ledger(org, KONGSVINGER_CSV, "k.csv", profile=WEB_PROFILE)
    assert not queued_jobs().exists() and results.compute_status().stale


@pytest.mark.django_db
def test_the_pages_say_when_the_figures_were_computed_and_that_new_data_waits(auto, region_data, client,
                                                                              django_capture_on_commit_callbacks):
    auto.TASKS = DATABASE_QUEUE
    kongsvinger, _ = region_data
    client.force_login(make_user("leser", kongsvinger, "reader"))
    html, _ = page(client, "/")
    assert "Tallene ble beregnet" in html and "venter" not in html
    with django_capture_on_commit_callbacks(execute=True):
        import_ledger(kongsvinger, KONGSVINGER_CSV.replace("Papir", "Blekk"), "mer.csv", profile=WEB_PROFILE)
    html, _ = page(client, f"/org/{kongsvinger.orgnr}/")
    assert "Nye data venter på neste beregning" in html
