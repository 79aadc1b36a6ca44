"""Handing work to the Celery workers: the one place a task message is published.

`publish` sends a task with the broker retry policy of the settings and turns any failure
to publish into `JobQueueUnavailable`, which the API answers with 503 and portal views with
a 503 page (`creditportal.views.submits_jobs`). What a failed publish means for the work
itself (a job marked failed, an upload deleted) is the caller's business.
"""

import logging

from celery import Task
from celery.result import AsyncResult
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .errors import JobQueueUnavailable

log = logging.getLogger(__name__)

UNREACHABLE = "the task broker is unreachable"


def publish(
    task: Task, *args, what: str = "the work", outcome: str = "Nothing was done"
) -> AsyncResult:
    """Send `task(*args)` to the workers now; JobQueueUnavailable if the broker cannot take it.

    The message a person reads names the work (`what`: "the job", "the file's validation")
    and what became of it (`outcome`: "Nothing was processed"). The broker's own error is
    the exception's `__cause__`, for the caller to record.
    """
    policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    try:
        return task.apply_async(args=args, retry=True, retry_policy=policy)
    except Exception as error:  # any failure to publish means nobody will do the work
        log.warning("Could not queue %s %s: %s", task.name, args, error)
        raise JobQueueUnavailable(
            f"Could not queue {what}: {UNREACHABLE}. {outcome}; try again when the background "
            "workers are back."
        ) from error


# The one retry policy of every task (`@shared_task(**TASK_OPTIONS)`): only transient errors
# (the database or the broker briefly unreachable) are retried, with exponential back-off
# and a bounded count. Every other failure is the service's to record on its row, so the
# tasks ignore their results: state lives on the rows, not in the result backend.
TASK_OPTIONS = {
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "ignore_result": True,
}
