"""Finding jobs whose worker died, and queueing them again.

A job whose worker died is found by `recover_orphaned` (which the scoring services run when
a worker starts and every minute under Celery beat): the worker process no longer exists on
this host, or its heartbeat is older than JOB_STALE_SECONDS. It is released and queued
again, at most JOB_MAX_ATTEMPTS runs in all. This works on both brokers: kombu's filesystem
transport never redelivers the message of a killed worker, and Redis only after its
visibility timeout (an hour), by which time the job has finished and the late copy is
skipped by `lifecycle.claim`. Which models and tasks it is run for is the scoring
services' business (`scoring/services/recovery.py`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from creditportal.errors import JobQueueUnavailable

from . import lifecycle
from .models import Job, JobStatus

log = logging.getLogger(__name__)


def stale_since(now: datetime) -> datetime:
    """Older than this, a heartbeat (or a wait in the queue) counts as stale."""
    return now - timedelta(seconds=settings.JOB_STALE_SECONDS)


def recover_orphaned(model: type[Job], task: Task, *, now: datetime) -> list[str]:
    """Queue again every job of `model` whose worker died, and every job queued too long.

    Safe to run anywhere, any number of times: a re-queued job is claimed by one worker
    only, and a duplicate message finds it held (or finished) and is dropped.
    """
    recovered = []
    stale = stale_since(now)
    # A queued job is re-published at most once per stale period (its heartbeat marks the
    # last time), not every minute while it waits behind a long job.
    waited = Q(heartbeat_at__isnull=True, created_at__lt=stale) | Q(heartbeat_at__lt=stale)
    candidates = model.objects.filter(status=JobStatus.RUNNING) | model.objects.filter(
        waited, status=JobStatus.QUEUED
    )
    for job in candidates.only("pk", "status", "worker", "heartbeat_at", "attempts"):
        if job.status == JobStatus.RUNNING and not lifecycle.is_orphaned(job, now=now):
            continue
        with transaction.atomic():
            job = model.objects.select_for_update().get(pk=job.pk)
            if job.status == JobStatus.RUNNING:
                if not lifecycle.is_orphaned(job, now=now):
                    continue
                if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                    lifecycle.finish(
                        model,
                        job.pk,
                        status=JobStatus.FAILED,
                        error=lifecycle.too_many_attempts(job),
                    )
                    continue
                model.objects.filter(pk=job.pk).update(worker="")
            elif job.status == JobStatus.QUEUED:
                model.objects.filter(pk=job.pk).update(heartbeat_at=now)
            else:
                continue
        try:
            lifecycle.queue(job, task)
        except JobQueueUnavailable:
            continue
        log.warning("Re-queued %s (its worker stopped or its message was lost).", job)
        recovered.append(str(job))
    return recovered
