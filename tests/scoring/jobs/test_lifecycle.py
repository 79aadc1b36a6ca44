"""The job lifecycle on a real job: claims, duplicates, attempts, cancellation."""

import pytest

from creditportal.errors import ApplicationError
from scoring.jobs import lifecycle, pipeline
from scoring.models import (
    BatchScoringJob,
    JobStatus,
    Prediction,
)
from scoring.services import bulk_scoring
from tests.scoring.jobkit import card_default_csv, upload


def test_duplicate_message_for_a_held_job_is_skipped(officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    assert lifecycle.claim(BatchScoringJob, job.pk, "somehost:1:abc") is not None
    bulk_scoring.batch_job_run(job_id=job.pk)  # a second delivery while the first worker is alive
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_done) == (JobStatus.RUNNING, 1, 0)


def test_finished_job_is_never_run_again(officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.attempts == 1
    assert Prediction.objects.filter(batch_job=job).count() == 7


def test_job_fails_after_too_many_attempts(officer, production_model, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    settings.JOB_STALE_SECONDS = 0
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    lifecycle.claim(BatchScoringJob, job.pk, "h:1:a")
    lifecycle.claim(BatchScoringJob, job.pk, "h:1:b")
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped 2 times" in job.error


def test_cancelling_a_queued_job_stops_it_before_it_runs(officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    lifecycle.cancel(job=job, by=officer)
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.rows_done == 0
    with pytest.raises(ApplicationError, match="already cancelled"):
        lifecycle.cancel(job=job, by=officer)


def test_cancelling_a_running_job_stops_it_at_the_next_chunk(officer, production_model, settings):
    settings.BATCH_CHUNK_ROWS = 10
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(50)), owner=officer
    )

    def cancel_while_the_first_is_scored(chunk_index):
        BatchScoringJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    with pipeline.inject_fault(cancel_while_the_first_is_scored):
        bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (JobStatus.CANCELLED, 10)
    assert not job.result_file


def test_a_job_is_never_queued_from_inside_a_transaction(officer, production_model, task_queue):
    """A worker must not look for a row that is not committed, and a broker failure must be
    known before the answer: submitting a job inside a transaction (a view that forgot
    `submits_jobs` runs in its request's) fails loudly instead of queueing on commit."""
    from django.db import transaction

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        bulk_scoring.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
        )
    assert task_queue.published == []
