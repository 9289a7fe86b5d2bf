"""Administration on the web for region administrators (issue 16 item 9, issue 18 item 2): publishing a year of the
region and its organisations in one step, adding supplier factors and exchange rates, and retraining the text model
in the background. Each write checks the person's right (access.can_administer_region) when a person acts, writes
audit entries, and, where it changes what the account is computed from (supplier factor, rate, model: the audit
actions in selectors.audit.DATA_ACTIONS), queues a compute through services/autocompute.py like any other change.

The supplier factor and the rate are the existing services (services/factors.do_add_supplier_factor,
services/reference.do_set_exchange_rate) that the command line uses; retraining is services/training's, run by
`train_text_model_job` in the report worker's queue with its status in a TrainingJob row."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django_tasks import task

from klimainnkjop import access
from klimainnkjop.core.errors import InvalidInput, NoResults
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.services.audit import record_audit
from klimainnkjop.access import operator
from klimainnkjop.storage.models import Organisation, Publication, TrainingJob

PROGRESS_QUEUED = gettext_noop("Waiting for its turn")
PROGRESS_TRAINING = gettext_noop("Training on the labelled set and the corrections, then predicting every line")
PROGRESS_DONE = gettext_noop("Done")
PROGRESS_FAILED = gettext_noop("Failed: the model in use is unchanged")


def _check(actor: Any) -> None:
    if getattr(actor, "is_authenticated", False) and not access.can_administer_region(actor):
        raise PermissionError("only region administrators may do this")


def _user(actor: Any):
    return actor if getattr(actor, "is_authenticated", False) else None


# ---------------------------------------------------------------- publishing (issue 18 item 2)

def do_publish_region_figures(*, year: int, region: bool, orgnrs: list[str], actor: Any = None) -> list[Publication]:
    """Publishes one year's figures of the region (when `region`) and of each organisation in `orgnrs`, all or
    nothing: a subject without computed figures of that year refuses the whole form with the names to untick.
    Each publication writes its own audit entry (services/reports.do_publish_figures)."""
    from klimainnkjop.services.reports import do_publish_figures, published_figures

    _check(actor)
    if not 1900 <= int(year) <= 2999:
        raise InvalidInput.at("year", gettext("%(year)r is not a year"), year=year)
    orgnrs = list(dict.fromkeys(orgnrs))
    if not region and not orgnrs:
        raise InvalidInput.at(None, gettext("choose the region or at least one organisation to publish"))
    known = dict(Organisation.objects.filter(orgnr__in=orgnrs).values_list("orgnr", "name"))
    unknown = [o for o in orgnrs if o not in known]
    if unknown:
        raise InvalidInput.at("organisations", gettext("no organisation %(orgnrs)s"), orgnrs=", ".join(unknown))
    try:
        without = [(gettext("the region") if o is None else f"{known[o]} ({o})")
                   for o in ([None] if region else []) + orgnrs if not published_figures(o, int(year))["categories"]]
    except NoResults:
        raise InvalidInput.at(None, gettext("nothing is computed yet; compute the account before publishing")) \
            from None
    if without:
        raise InvalidInput.at(None, gettext("year %(year)s: no computed figures for %(names)s; untick them or choose "
                                            "another year (nothing was published)"),
                              year=year, names=", ".join(without))
    with transaction.atomic():
        done = [do_publish_figures(year=int(year), orgnr=None, actor=actor)] if region else []
        done += [do_publish_figures(year=int(year), orgnr=o, actor=actor) for o in orgnrs]
    return done


# ---------------------------------------------------------------- supplier factors and exchange rates

def do_add_supplier_factor(*, actor: Any = None, **fields):
    """services/factors.do_add_supplier_factor for a region administrator (audited there; queues a compute)."""
    from klimainnkjop.services.factors import do_add_supplier_factor as add

    _check(actor)
    return add(actor=actor, **fields)


def do_set_exchange_rate(*, year: int, currency: str, nok_per_unit: float, source: str, actor: Any = None):
    """services/reference.do_set_exchange_rate for a region administrator (audited there; queues a compute)."""
    from klimainnkjop.services.reference import do_set_exchange_rate as set_rate

    _check(actor)
    return set_rate(year=year, currency=currency, nok_per_unit=nok_per_unit, source=source, actor=actor)


# ---------------------------------------------------------------- retraining the text model in the background

INTERRUPTED_AFTER = dt.timedelta(hours=2)  # no retraining takes this long: its worker was stopped


def pending_training(*, now: dt.datetime | None = None) -> TrainingJob | None:
    """The retraining queued or running, if any; one left pending longer than INTERRUPTED_AFTER (its worker was
    stopped or never ran) is marked failed, so it does not block the next request forever."""
    now = now or timezone.now()
    TrainingJob.objects.filter(status__in=TrainingJob.PENDING, created_at__lt=now - INTERRUPTED_AFTER).update(
        status=TrainingJob.STATUS_FAILED, progress=PROGRESS_FAILED, finished_at=now,
        error="interrupted: no worker finished it within two hours; ask again (is `klimainnkjop worker` running?)")
    return TrainingJob.objects.filter(status__in=TrainingJob.PENDING).order_by("id").first()


def do_request_training(*, actor: Any = None) -> TrainingJob:
    """Queues a retraining for the background worker (run inline with the immediate backend); while one is queued or
    running, that one is returned and no second is queued."""
    _check(actor)
    waiting = pending_training()
    if waiting is not None:
        return waiting
    with transaction.atomic():
        job = TrainingJob.objects.create(requested_by=_user(actor), progress=PROGRESS_QUEUED)
        record_audit(actor=actor, action=Action.REQUEST_TEXT_MODEL_TRAINING, obj=job, after={"job": job.pk})
    user = _user(actor)
    train_text_model_job.enqueue(job_id=job.pk, user_id=user.pk if user else None)
    job.refresh_from_db()
    return job


def run_training(job: TrainingJob, *, actor: Any = None) -> TrainingJob:
    """Trains a new version for the job (services/training.do_train_text_model, which audits it and so queues a
    compute) and records the outcome on the job."""
    from klimainnkjop.services.training import do_train_text_model

    TrainingJob.objects.filter(pk=job.pk).update(status=TrainingJob.STATUS_RUNNING, progress=PROGRESS_TRAINING,
                                                 started_at=timezone.now())
    try:
        version = do_train_text_model(actor=actor)
    except Exception as exc:  # noqa: BLE001 - the page must say failed; the worker logs the traceback
        job.status, job.progress, job.error = TrainingJob.STATUS_FAILED, PROGRESS_FAILED, \
            f"{type(exc).__name__}: {exc}"[:2000]
    else:
        job.status, job.progress, job.version = TrainingJob.STATUS_DONE, PROGRESS_DONE, version
    job.finished_at = timezone.now()
    with transaction.atomic():
        job.save(update_fields=["status", "progress", "error", "version", "finished_at"])
        record_audit(actor=actor, action=(Action.COMPLETE_TEXT_MODEL_TRAINING if job.status == TrainingJob.STATUS_DONE
                                         else Action.FAIL_TEXT_MODEL_TRAINING), obj=job,
                     after={"job": job.pk, "status": job.status, "version": job.version_id, "error": job.error})
    return job


@task()
@operator()  # the worker's entry point: the job checks the asker's right itself
def train_text_model_job(job_id: int, user_id: int | None = None) -> str:
    """The background job: retrains as the person who asked (their right checked again)."""
    job = TrainingJob.objects.filter(pk=job_id).first()
    if job is None or job.status != TrainingJob.STATUS_QUEUED:
        return job.status if job else "missing"
    actor: Any = "worker"
    if user_id is not None:
        actor = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if actor is None or not access.can_administer_region(actor):
            TrainingJob.objects.filter(pk=job.pk).update(
                status=TrainingJob.STATUS_FAILED, progress=PROGRESS_FAILED, finished_at=timezone.now(),
                error="the person who asked may no longer administer the region")
            return TrainingJob.STATUS_FAILED
    return run_training(job, actor=actor).status
