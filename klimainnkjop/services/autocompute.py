"""Computing follows the data: every change of what the account is computed from (an import, a deleted import, a
correction in the review queue, a classification rule, a factor set, a supplier factor, a rate, a retrained model:
selectors.audit.DATA_ACTIONS) asks for a compute run, so the pages are never stale without saying so.

The request is made where every such change already passes, the audit entry: services/audit.py sends `data_changed`
once the change is committed, and this module listens (connected at start-up by web/apps.py).
It queues `compute_job` in the background worker's queue (the report worker, `klimainnkjop worker`, also
started by `serve`), debounced: the job runs KLIMAINNKJOP_COMPUTE_DEBOUNCE seconds (default 30) after the first change,
and while one is queued a further change adds none (the queued run will see it). The job computes only when the data
changed after the latest run started, and one at a time (storage.locks.compute_lock). KLIMAINNKJOP_AUTO_COMPUTE=0
turns it off (`klimainnkjop compute` by hand, as before). The pages show when the figures were computed and whether a
run is queued or under way (selectors.results.compute_status).
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from klimainnkjop.selectors import results
from klimainnkjop.services.audit import data_changed
from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.locks import compute_lock
from klimainnkjop.access import operator
from klimainnkjop.core.actors import AUTOCOMPUTE


@receiver(data_changed, dispatch_uid="klimainnkjop.autocompute")
def _on_data_changed(sender, action: str, **kwargs) -> None:
    request_compute()


def request_compute() -> bool:
    """Queues an automatic compute unless one is queued already or it is turned off. True when one was queued (or,
    with the immediate backend, has run)."""
    if not settings.KLIMAINNKJOP_AUTO_COMPUTE or results.compute_status().queued:
        return False
    job = compute_job
    if job.get_backend().supports_defer:
        job = job.using(run_after=timezone.now() + dt.timedelta(seconds=settings.KLIMAINNKJOP_COMPUTE_DEBOUNCE))
    job.enqueue()
    return True


@task()
@operator()  # the worker's entry point: the job checks the asker's right itself
def compute_job() -> str:
    """The background job: computes the account if its data changed after the latest run started."""
    with compute_lock():
        if not results.compute_status().stale:
            return "up to date"
        run = do_compute(actor=AUTOCOMPUTE)
    return f"computed run {run.pk}"
