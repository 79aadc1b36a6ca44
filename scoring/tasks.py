"""Celery tasks of the scoring app: each takes an id and calls one service.

Time limits come from CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT (soft below
hard): the soft one fails the job with a clear message before the hard one kills it. The
retry policy is the project's one (`creditportal.queue.TASK_OPTIONS`).
"""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import close_old_connections, connection

from creditportal.queue import TASK_OPTIONS

from .services import builder, bulk_scoring, datasets, recovery, training

log = logging.getLogger(__name__)


@shared_task(name="scoring.run_batch_scoring_job", **TASK_OPTIONS)
def run_batch_scoring_job(job_id: int) -> None:
    bulk_scoring.batch_job_run(job_id=job_id)


@shared_task(name="scoring.run_training_job", **TASK_OPTIONS)
def run_training_job(job_id: int) -> None:
    training.training_job_run(job_id=job_id)


@shared_task(name="scoring.profile_scorecard_draft", **TASK_OPTIONS)
def profile_scorecard_draft(draft_id: int) -> None:
    builder.scorecard_draft_profile(draft_id=draft_id)


@shared_task(name="scoring.recover_orphaned_jobs", **TASK_OPTIONS)
def recover_orphaned_jobs() -> list[str]:
    return recovery.jobs_recover_orphaned()


@shared_task(name="scoring.start_due_retraining", **TASK_OPTIONS)
def start_due_retraining() -> list[int]:
    return [job.pk for job in training.retraining_start_due()]


@shared_task(name="scoring.validate_training_dataset", **TASK_OPTIONS)
def validate_training_dataset(dataset_id: int) -> None:
    datasets.training_dataset_validate(dataset_id=dataset_id)


@shared_task(name="scoring.purge_expired_job_files", **TASK_OPTIONS)
def purge_expired_job_files() -> list[int]:
    return bulk_scoring.batch_job_files_purge()


@worker_ready.connect
def recover_jobs_on_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts (typically after one was killed) picks up orphaned jobs at once."""
    close_old_connections()
    try:
        recovered = recovery.jobs_recover_orphaned()
    except Exception:  # a worker must start even if the database is not reachable yet
        log.exception("Recovering orphaned jobs at worker start failed; beat will retry.")
    else:
        if recovered:
            log.warning("Recovered at worker start: %s", ", ".join(recovered))
    finally:
        # The parent of a prefork pool must not hand an open connection to its children.
        connection.close()
