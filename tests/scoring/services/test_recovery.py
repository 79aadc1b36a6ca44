"""Queueing again the work whose worker died."""

import os

from scoring.jobs import lifecycle
from scoring.models import (
    BatchScoringJob,
    JobStatus,
    TrainingDataset,
)
from scoring.services import bulk_scoring, datasets, recovery
from tests.scoring.jobkit import card_default_csv, upload


def test_recovery_requeues_orphaned_jobs_only(officer, production_model, task_queue):
    live = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    dead = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    import socket

    lifecycle.claim(BatchScoringJob, live.pk, f"{socket.gethostname()}:{os.getpid()}:live")
    lifecycle.claim(BatchScoringJob, dead.pk, f"{socket.gethostname()}:999999999:dead")
    task_queue.published.clear()
    recovery.jobs_recover_orphaned()
    assert task_queue.published == [("scoring.run_batch_scoring_job", (dead.pk,))]
    dead.refresh_from_db()
    assert dead.worker == "" and dead.status == JobStatus.RUNNING


def training_csv(rows: int = 400, seed: int = 3) -> bytes:
    return card_default_csv(rows, seed=seed, invalid={})


def test_a_validation_whose_worker_died_is_queued_again_then_given_up(
    manager, settings, task_queue
):
    from datetime import timedelta

    from django.utils import timezone

    settings.TRAINING_INLINE_VALIDATION_MB = 0
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv()), by=manager
    )
    published = task_queue.args_of("scoring.validate_training_dataset")
    assert published == [(dataset.pk,)]
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    TrainingDataset.objects.filter(pk=dataset.pk).update(
        validation_attempts=1,
        validation_started_at=long_ago,  # a worker started, then died
    )
    assert recovery.jobs_recover_orphaned() == [str(dataset)]
    published = task_queue.args_of("scoring.validate_training_dataset")
    assert published == [(dataset.pk,), (dataset.pk,)]
    assert recovery.jobs_recover_orphaned() == []  # once per stale period

    TrainingDataset.objects.filter(pk=dataset.pk).update(
        validation_attempts=settings.JOB_MAX_ATTEMPTS, validation_started_at=long_ago
    )
    recovery.jobs_recover_orphaned()
    dataset.refresh_from_db()
    assert dataset.status == TrainingDataset.Status.REJECTED
    assert "stopped 3 times" in dataset.error and not dataset.file
