"""The chunk pipeline: scoring processes, their deaths, and the fault-injection hook."""

import os

from scoring.jobs import pipeline
from scoring.models import (
    BatchRowError,
    BatchScoringJob,
    JobStatus,
    Prediction,
)
from scoring.services import bulk_scoring
from tests.scoring.jobkit import card_default_csv, upload


def _job_outcome(job: BatchScoringJob) -> tuple:
    """Everything a bulk job leaves behind: counts, stored predictions, row errors, result."""
    stored = Prediction.objects.filter(batch_job=job).order_by("row_number")
    fields = ("row_number", "inputs", "predicted_class", "probabilities", "risk", "points")
    fields += ("band", "recommendation", "reasons", "segment", "source", "requested_by")
    errors = BatchRowError.objects.filter(job=job).order_by("row_number", "field")
    with job.result_file.open("rb") as handle:
        result = handle.read()
    return (
        (job.rows_total, job.rows_done, job.rows_valid, job.rows_invalid),
        list(stored.values_list(*fields)),
        list(errors.values_list("row_number", "field", "message")),
        result,
    )


def test_scoring_processes_leave_exactly_what_inline_scoring_does(
    officer, production_model, settings, monkeypatch, tmp_path
):
    settings.BATCH_CHUNK_ROWS = 30  # 7 chunks: more than the 3 kept in flight
    scored_in = tmp_path / "pids"

    def noting_the_process(chunk_index):
        with scored_in.open("a") as pids:
            pids.write(f"{os.getpid()}\n")

    monkeypatch.setattr(pipeline, "fault_hook", noting_the_process)  # forked with the pool
    outcomes = {}
    for processes in (1, 2):
        settings.BATCH_SCORING_PROCESSES = processes
        scored_in.write_text("")
        job = bulk_scoring.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(200)), owner=officer
        )
        bulk_scoring.batch_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        outcomes[processes] = _job_outcome(job)
        pids = scored_in.read_text().split()
        assert len(pids) == 7
        if processes == 1:
            assert set(pids) == {str(os.getpid())}
        else:
            assert len(set(pids)) == 2 and str(os.getpid()) not in pids

    assert outcomes[1][0] == (200, 200, 197, 3)
    assert outcomes[2] == outcomes[1]


def test_a_scoring_process_that_dies_fails_the_job_with_a_reason(
    officer, production_model, settings, monkeypatch
):
    settings.BATCH_CHUNK_ROWS = 20
    settings.BATCH_SCORING_PROCESSES = 2

    def dies_on_the_third(chunk_index):
        if chunk_index == 2:
            os._exit(9)  # as the kernel's OOM killer would end it

    monkeypatch.setattr(pipeline, "fault_hook", dies_on_the_third)  # forked with the pool
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(100)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "A scoring process stopped unexpectedly" in job.error
    assert job.rows_done in (0, 20, 40)  # chunks before the third may have committed
    assert Prediction.objects.filter(batch_job=job).count() == job.rows_valid
    assert not job.result_file
