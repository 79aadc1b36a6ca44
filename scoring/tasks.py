"""Celery tasks of the scoring app: each takes an id, and calls a service in scoring/jobs.py.

State lives on the job rows, so the tasks ignore their results. Only transient errors (the
database or the broker briefly unreachable) are retried, with exponential back-off and a
bounded count; every other failure is written on the job as a readable reason by the
service. Time limits come from CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT (soft
below hard): the soft one fails the job with a clear message before the hard one kills it.
"""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import close_old_connections, connection

from . import jobs

log = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": jobs.TRANSIENT_ERRORS,
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "ignore_result": True,
}


@shared_task(name="scoring.run_batch_scoring_job", **RETRY)
def run_batch_scoring_job(job_id: int) -> None:
    jobs.batch_job_run(job_id=job_id)


@shared_task(name="scoring.run_training_job", **RETRY)
def run_training_job(job_id: int) -> None:
    jobs.training_job_run(job_id=job_id)


@shared_task(name="scoring.recover_orphaned_jobs", **RETRY)
def recover_orphaned_jobs() -> list[str]:
    return jobs.jobs_recover_orphaned()


@shared_task(name="scoring.start_due_retraining", **RETRY)
def start_due_retraining() -> list[int]:
    return [job.pk for job in jobs.retraining_start_due()]


@shared_task(name="scoring.validate_training_dataset", **RETRY)
def validate_training_dataset(dataset_id: int) -> None:
    jobs.training_dataset_validate(dataset_id=dataset_id)


@shared_task(name="scoring.purge_expired_job_files", **RETRY)
def purge_expired_job_files() -> list[int]:
    return jobs.batch_job_files_purge()


@worker_ready.connect
def recover_jobs_on_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts (typically after one was killed) picks up orphaned jobs at once."""
    close_old_connections()
    try:
        recovered = jobs.jobs_recover_orphaned()
    except Exception:  # a worker must start even if the database is not reachable yet
        log.exception("Recovering orphaned jobs at worker start failed; beat will retry.")
    else:
        if recovered:
            log.warning("Recovered at worker start: %s", ", ".join(recovered))
    finally:
        # The parent of a prefork pool must not hand an open connection to its children.
        connection.close()
