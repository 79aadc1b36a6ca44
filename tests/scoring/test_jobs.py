"""Job services, run in-process (the worker's side is called directly with the job's id)."""

import csv
import io
import json
import os

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from hypothesis import given
from hypothesis import strategies as st

from creditportal.errors import ApplicationError
from ml.cleaning import read_csv_chunks
from ml.scorecards import get_scorecard
from scoring import jobs
from scoring.models import (
    BatchRowError,
    BatchScoringJob,
    JobStatus,
    ModelPromotion,
    ModelVersion,
    Prediction,
    ScorecardJobSettings,
    TrainingDataset,
    TrainingJob,
)
from tests.factories import ApplicationFactory
from tests.scoring.jobkit import INVALID, card_default_csv, upload

SMALL_TRAINING = {"params": {"n_estimators": 20, "min_samples_leaf": 5}, "baselines": False}


@pytest.fixture
def small_training(settings):
    settings.TRAINING_JOB_OPTIONS = {**SMALL_TRAINING, "permutation": False}


def result_rows(job: BatchScoringJob) -> list[dict]:
    with job.result_file.open("rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode())))


# --- bulk scoring ------------------------------------------------------------------------------


def test_bulk_job_scores_valid_rows_and_reports_invalid_ones(officer, production_model, settings):
    settings.BATCH_CHUNK_ROWS = 40
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(100)), owner=officer
    )
    assert job.status == JobStatus.QUEUED and job.chunk_rows == 40

    jobs.batch_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.rows_total, job.rows_done, job.rows_valid, job.rows_invalid) == (100, 100, 97, 3)
    assert job.model_version == production_model
    predictions = Prediction.objects.filter(batch_job=job)
    assert predictions.count() == 97
    assert set(predictions.values_list("row_number", flat=True)) == set(range(1, 101)) - set(
        INVALID
    )
    first = predictions.get(row_number=1)
    assert first.source == Prediction.Source.BATCH and first.requested_by == officer
    assert first.inputs["limit_bal"] == 236270 and first.application is None
    errors = {(e.row_number, e.field) for e in BatchRowError.objects.filter(job=job)}
    assert errors == {(row, field) for row, (_, _, field) in INVALID.items()}

    rows = result_rows(job)
    assert len(rows) == 100
    assert rows[0]["ID"] == "C0000001"  # extra columns carried through
    assert rows[0]["default.payment.next.month"] == "no_default"  # the label too, unused
    assert rows[0]["predicted_class"] == first.predicted_class
    assert rows[0]["score"] == str(first.points)
    assert rows[2]["predicted_class"] == "" and rows[2]["error"].startswith("age:")
    # Result parts are removed once the result is assembled.
    assert not default_storage.exists(jobs._part_name(job, 0))


def test_bulk_prediction_is_stored_as_a_single_prediction_would_be(officer, production_model):
    """The bulk path writes rows with its own statement (COPY on PostgreSQL): every column
    must come back as the ORM path stores it for the same inputs."""
    from scoring.services import prediction_create_stateless

    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
    )
    jobs.batch_job_run(job_id=job.pk)
    for bulk in Prediction.objects.filter(batch_job=job).order_by("row_number")[:6]:
        single = prediction_create_stateless(
            scorecard_key="card_default", inputs=bulk.inputs, requested_by=officer, source="api"
        )
        single.refresh_from_db()
        assert bulk.inputs == single.inputs
        assert bulk.probabilities == pytest.approx(single.probabilities, abs=1e-12)
        assert bulk.risk == pytest.approx(single.risk, abs=1e-12)
        for name in ("predicted_class", "points", "band", "band_label", "recommendation"):
            assert getattr(bulk, name) == getattr(single, name), name
        assert bulk.segment == {k: single.segment[k] for k in bulk.segment}
        assert [(r["field"], r["direction"]) for r in bulk.reasons] == [
            (r["field"], r["direction"]) for r in single.reasons
        ]
        assert (bulk.scorecard, bulk.model_version_id) == ("card_default", production_model.pk)
        assert bulk.requested_by == officer and bulk.created_at is not None


def test_result_neutralises_formulas_but_keeps_negative_numbers(officer, production_model):
    content = card_default_csv(5, invalid={}).decode().splitlines()
    header, rows = content[0], content[1:]
    rows[0] = rows[0].replace("C0000001", '=HYPERLINK("http://x")', 1)
    rows[1] = rows[1].replace("C0000002", "@SUM(A1)", 1)
    rows[2] = rows[2].replace("C0000003", "-2+3", 1)
    data = "\n".join([header + ",note", *(r + ",-12.5" for r in rows)]).encode()
    job = jobs.batch_job_create(scorecard_key="card_default", upload=upload(data), owner=officer)
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    result = result_rows(job)
    assert result[0]["ID"] == '\'=HYPERLINK("http://x")'
    assert result[1]["ID"] == "'@SUM(A1)"
    assert result[2]["ID"] == "'-2+3"
    assert {row["note"] for row in result} == {"-12.5"}  # a plain number is data


def test_resumed_job_continues_after_the_last_committed_chunk(officer, production_model, settings):
    """A job whose worker died after two chunks: the next run scores only the rest."""
    settings.BATCH_CHUNK_ROWS = 20
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(70)), owner=officer
    )
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    complete = set(Prediction.objects.filter(batch_job=job).values_list("row_number", "points"))

    # Same file again, interrupted: run two chunks, then "die" holding the job.
    job2 = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(70)), owner=officer
    )
    token = "elsewhere:1:dead"
    claimed = jobs._claim(BatchScoringJob, job2.pk, token)
    calls = []
    real = jobs._score_chunk

    def two_chunks_then_die(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt("worker killed")
        calls.append(args[-1])
        return real(*args)

    jobs._score_chunk = two_chunks_then_die
    try:
        with pytest.raises(KeyboardInterrupt):
            jobs._score_file(claimed, token)
    finally:
        jobs._score_chunk = real
    job2.refresh_from_db()
    assert (job2.status, job2.rows_done) == (JobStatus.RUNNING, 40)
    assert Prediction.objects.filter(batch_job=job2).count() == 37  # rows 3, 7, 10 invalid

    settings.JOB_STALE_SECONDS = 0  # its heartbeat is now stale: the job is orphaned
    assert jobs.is_orphaned(job2)
    jobs.batch_job_run(job_id=job2.pk)
    job2.refresh_from_db()
    assert job2.status == JobStatus.SUCCEEDED, job2.error
    assert job2.attempts == 2
    assert (job2.rows_valid, job2.rows_invalid) == (67, 3)
    resumed = set(Prediction.objects.filter(batch_job=job2).values_list("row_number", "points"))
    assert resumed == complete
    assert len(result_rows(job2)) == 70


def test_duplicate_message_for_a_held_job_is_skipped(officer, production_model):
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    assert jobs._claim(BatchScoringJob, job.pk, "somehost:1:abc") is not None
    jobs.batch_job_run(job_id=job.pk)  # a second delivery while the first worker is alive
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_done) == (JobStatus.RUNNING, 1, 0)


def test_finished_job_is_never_run_again(officer, production_model):
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    jobs.batch_job_run(job_id=job.pk)
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.attempts == 1
    assert Prediction.objects.filter(batch_job=job).count() == 7


def test_job_fails_after_too_many_attempts(officer, production_model, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    settings.JOB_STALE_SECONDS = 0
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    jobs._claim(BatchScoringJob, job.pk, "h:1:a")
    jobs._claim(BatchScoringJob, job.pk, "h:1:b")
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped 2 times" in job.error


def test_cancelling_a_queued_job_stops_it_before_it_runs(officer, production_model):
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(10)), owner=officer
    )
    jobs.job_cancel(job=job, by=officer)
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.rows_done == 0
    with pytest.raises(ApplicationError, match="already cancelled"):
        jobs.job_cancel(job=job, by=officer)


def test_cancelling_a_running_job_stops_it_at_the_next_chunk(officer, production_model, settings):
    settings.BATCH_CHUNK_ROWS = 10
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(50)), owner=officer
    )
    real = jobs._score_chunk

    def cancel_after_first(*args):
        chunk = real(*args)
        BatchScoringJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        return chunk

    jobs._score_chunk = cancel_after_first
    try:
        jobs.batch_job_run(job_id=job.pk)
    finally:
        jobs._score_chunk = real
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (JobStatus.CANCELLED, 10)
    assert not job.result_file


def test_rows_with_a_wrong_number_of_values_are_reported_and_the_job_goes_on(
    officer, production_model, settings
):
    settings.BATCH_CHUNK_ROWS = 8
    header, *lines = card_default_csv(30).decode().splitlines()
    width = len(header.split(","))
    lines[11] += ",extra"  # row 12: one value too many (pandas would stop the file)
    lines[19] = lines[19].rsplit(",", 2)[0]  # row 20: two too few (values would shift)
    job = jobs.batch_job_create(
        scorecard_key="card_default",
        upload=upload("\n".join([header, *lines]).encode()),
        owner=officer,
    )
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.rows_total, job.rows_valid, job.rows_invalid) == (30, 25, 5)
    stored = set(Prediction.objects.filter(batch_job=job).values_list("row_number", flat=True))
    assert stored == set(range(1, 31)) - set(INVALID) - {12, 20}
    errors = dict(BatchRowError.objects.filter(job=job).values_list("row_number", "message"))
    assert errors[12] == f"Not read: {width + 1} values where the header has {width} columns."
    assert errors[20] == f"Not read: {width - 2} values where the header has {width} columns."

    rows = result_rows(job)
    ids = [line.split(",")[0] for line in lines]
    ids[11] = ids[19] = ""  # a malformed row's input cells are left blank, in its place
    assert [row["ID"] for row in rows] == ids
    assert rows[11]["error"] == f"row: {errors[12]}" and rows[11]["predicted_class"] == ""
    assert rows[12]["predicted_class"] and not rows[12]["error"]


def test_files_of_jobs_past_retention_are_deleted_and_their_records_kept(
    officer, production_model, settings
):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    settings.BATCH_FILE_RETENTION_DAYS = 30
    old, recent, queued = (
        jobs.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
        )
        for _ in range(3)
    )
    for job in (old, recent):
        jobs.batch_job_run(job_id=job.pk)
    now = timezone.now()
    BatchScoringJob.objects.filter(pk=old.pk).update(finished_at=now - timedelta(days=31))
    BatchScoringJob.objects.filter(pk=recent.pk).update(finished_at=now - timedelta(days=29))
    BatchScoringJob.objects.filter(pk=queued.pk).update(created_at=now - timedelta(days=90))
    old.refresh_from_db()
    leftover = default_storage.save(jobs._part_name(old, 4), ContentFile(b"a dead attempt's"))
    old_files = [old.input_file.name, old.result_file.name, leftover]
    assert all(default_storage.exists(name) for name in old_files)

    assert jobs.batch_job_files_purge(now=now) == [old.pk]

    old.refresh_from_db()
    assert old.files_deleted_at == now and not old.input_file and not old.result_file
    assert not any(default_storage.exists(name) for name in old_files)
    assert (old.status, old.rows_valid, old.rows_invalid) == (JobStatus.SUCCEEDED, 9, 3)
    assert Prediction.objects.filter(batch_job=old).count() == 9
    assert BatchRowError.objects.filter(job=old).count() == 3
    for kept in (recent, queued):
        kept.refresh_from_db()
        assert kept.files_deleted_at is None and default_storage.exists(kept.input_file.name)
    assert default_storage.exists(recent.result_file.name)
    assert jobs.batch_job_files_purge(now=now) == []  # done once

    settings.BATCH_FILE_RETENTION_DAYS = 0  # keep for ever
    assert jobs.batch_job_files_purge(now=now + timedelta(days=365)) == []


def test_purge_runs_periodically_under_beat(settings):
    from scoring.tasks import purge_expired_job_files

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-job-files"]
    assert entry["task"] == purge_expired_job_files.name


# --- scoring processes (settings.BATCH_SCORING_PROCESSES) --------------------------------------


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
    real = jobs._score_chunk

    def noting_the_process(*args):
        with scored_in.open("a") as pids:
            pids.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(jobs, "_score_chunk", noting_the_process)  # forked with the pool
    outcomes = {}
    for processes in (1, 2):
        settings.BATCH_SCORING_PROCESSES = processes
        scored_in.write_text("")
        job = jobs.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(200)), owner=officer
        )
        jobs.batch_job_run(job_id=job.pk)
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


def test_scoring_a_chunk_never_touches_the_database(
    officer, production_model, django_assert_num_queries
):
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(20)), owner=officer
    )
    job.model_version = production_model
    scorecard = get_scorecard("card_default")
    context = jobs._ChunkContext(
        job=job, scorecard=scorecard, model=jobs._model_for(production_model), vendor="sqlite"
    )
    chunk = next(read_csv_chunks(card_default_csv(20), rows=100))
    with django_assert_num_queries(0):  # in a scoring process it would share a socket
        result = jobs._score_chunk(context, chunk, 0)
    assert (result.last_row, result.rows, result.valid, result.invalid) == (20, 20, 17, 3)
    assert [row[0] for row in result.row_errors] == sorted(INVALID)


def test_a_scoring_process_that_dies_fails_the_job_with_a_reason(
    officer, production_model, settings, monkeypatch
):
    settings.BATCH_CHUNK_ROWS = 20
    settings.BATCH_SCORING_PROCESSES = 2
    real = jobs._score_chunk

    def dies_on_the_third(context, chunk, chunk_index):
        if chunk_index == 2:
            os._exit(9)  # as the kernel's OOM killer would end it
        return real(context, chunk, chunk_index)

    monkeypatch.setattr(jobs, "_score_chunk", dies_on_the_third)
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(100)), owner=officer
    )
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "A scoring process stopped unexpectedly" in job.error
    assert job.rows_done in (0, 20, 40)  # chunks before the third may have committed
    assert Prediction.objects.filter(batch_job=job).count() == job.rows_valid
    assert not job.result_file


def test_bad_uploads_are_refused_and_nothing_is_stored(officer, production_model):
    cases = [
        (upload(b"", "empty.csv"), "empty"),
        (upload(b"PK\x03\x04\x00\x00binary", "book.csv"), "not a CSV"),
        (upload(b"a,b\n1,2\n", "data.xlsx"), "CSV file"),
        (upload(b"ID,AGE\n1,30\n"), "lacks required columns"),
        (upload(card_default_csv(3).splitlines()[0] + b"\n"), "no data row"),
    ]
    for bad, message in cases:
        with pytest.raises(ValidationError, match=message):
            jobs.batch_job_create(scorecard_key="card_default", upload=bad, owner=officer)
    assert not BatchScoringJob.objects.exists()


def test_upload_over_the_size_limit_is_refused(officer, production_model, settings):
    settings.MAX_BATCH_UPLOAD_MB = 0
    with pytest.raises(ValidationError, match="limit is 0 MB"):
        jobs.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
        )


def test_broker_unreachable_gives_a_clear_error_and_no_queued_job(
    transactional_db, officer, production_model, monkeypatch
):
    from kombu.exceptions import OperationalError

    from scoring import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    monkeypatch.setattr(tasks.run_batch_scoring_job, "apply_async", refuse)
    with pytest.raises(jobs.JobQueueUnavailable, match="broker is unreachable"):
        jobs.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
        )
    job = BatchScoringJob.objects.get()
    assert job.status == JobStatus.FAILED and "Connection refused" in job.error
    assert not BatchScoringJob.objects.filter(status=JobStatus.QUEUED).exists()
    assert not default_storage.exists(job.input_file.name)


def test_officer_cannot_bulk_score_without_the_permission(no_role_user, production_model):
    with pytest.raises(PermissionDenied):
        jobs.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=no_role_user
        )


def test_recovery_requeues_orphaned_jobs_only(officer, production_model, monkeypatch):
    published = []
    monkeypatch.setattr(jobs, "_publish", lambda job: published.append(job.pk))
    live = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    dead = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    import os
    import socket

    jobs._claim(BatchScoringJob, live.pk, f"{socket.gethostname()}:{os.getpid()}:live")
    jobs._claim(BatchScoringJob, dead.pk, f"{socket.gethostname()}:999999999:dead")
    jobs.jobs_recover_orphaned()
    assert published == [dead.pk]
    dead.refresh_from_db()
    assert dead.worker == "" and dead.status == JobStatus.RUNNING


# --- training data and retraining ---------------------------------------------------------------


def training_csv(rows: int = 400, seed: int = 3) -> bytes:
    return card_default_csv(rows, seed=seed, invalid={})


def test_manager_uploads_a_training_dataset_with_its_cleaning_report(manager):
    dataset = jobs.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(), "uci.csv"), by=manager
    )
    assert dataset.rows_read == 400 and dataset.rows_kept == 400
    assert len(dataset.sha256) == 64 and dataset.size_bytes > 0
    assert set(dataset.class_counts) == {"no_default", "default"}
    assert dataset.cleaning_report["rows_read"] == 400
    assert dataset.file.read().startswith(b"ID,LIMIT_BAL")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"ID,AGE\n1,30\n", "lacks required columns"),
        (b"\x00\x01\x02binary", "not a CSV"),
    ],
)
@pytest.mark.parametrize("inline_mb", [10, 0], ids=["cleaned-inline", "validated-by-a-worker"])
def test_bad_training_uploads_store_nothing(manager, content, message, inline_mb, settings):
    settings.TRAINING_INLINE_VALIDATION_MB = inline_mb  # a large file gets the quick checks
    with pytest.raises(ValidationError, match=message):
        jobs.training_dataset_create(
            scorecard_key="card_default", upload=upload(content), by=manager
        )
    assert not TrainingDataset.objects.exists()


@pytest.mark.parametrize("inline_mb", [10, 0], ids=["cleaned-inline", "validated-by-a-worker"])
def test_training_upload_without_the_target_is_refused(manager, inline_mb, settings):
    settings.TRAINING_INLINE_VALIDATION_MB = inline_mb
    content = b"\n".join(line.rsplit(b",", 1)[0] for line in training_csv(20).splitlines())
    with pytest.raises(ValidationError, match="default.payment.next.month"):
        jobs.training_dataset_create(
            scorecard_key="card_default", upload=upload(content), by=manager
        )


def test_a_large_training_upload_is_validated_by_a_worker(manager, settings, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "_queue_validation", lambda dataset: queued.append(dataset.pk))
    inline = jobs.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(), "uci.csv"), by=manager
    )
    settings.TRAINING_INLINE_VALIDATION_MB = 0  # every file is "large"
    dataset = jobs.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(), "uci.csv"), by=manager
    )
    assert queued == [dataset.pk] and inline.status == TrainingDataset.Status.READY
    assert (dataset.status, dataset.rows_kept) == (TrainingDataset.Status.VALIDATING, 0)
    with pytest.raises(ValidationError, match="being validated"):
        jobs.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)

    jobs.training_dataset_validate(dataset_id=dataset.pk)

    dataset.refresh_from_db()
    assert dataset.status == TrainingDataset.Status.READY and dataset.validation_attempts == 1
    described = ("rows_read", "rows_kept", "class_counts", "cleaning_report")
    assert [getattr(dataset, f) for f in described] == [getattr(inline, f) for f in described]
    jobs.training_dataset_validate(dataset_id=dataset.pk)  # a duplicate message: nothing
    dataset.refresh_from_db()
    assert dataset.validation_attempts == 1


def test_a_large_upload_with_no_usable_row_is_rejected_and_its_file_deleted(
    manager, settings, monkeypatch
):
    monkeypatch.setattr(jobs, "_queue_validation", lambda dataset: None)
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    header, *rows = training_csv(300).decode().splitlines()
    unlabelled = [row.rsplit(",", 1)[0] + ",maybe" for row in rows]  # every target invalid
    dataset = jobs.training_dataset_create(
        scorecard_key="card_default",
        upload=upload("\n".join([header, *unlabelled]).encode()),
        by=manager,
    )
    stored = dataset.file.name
    assert default_storage.exists(stored)

    jobs.training_dataset_validate(dataset_id=dataset.pk)

    dataset.refresh_from_db()
    assert dataset.status == TrainingDataset.Status.REJECTED
    assert dataset.error == "No labelled row is left after cleaning."
    assert not dataset.file and not default_storage.exists(stored)


def test_a_validation_whose_worker_died_is_queued_again_then_given_up(
    manager, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    published = []
    monkeypatch.setattr(
        jobs, "_publish_validation", lambda dataset, quietly: published.append(dataset.pk)
    )
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    with django_capture_on_commit_callbacks(execute=True):  # published once committed
        dataset = jobs.training_dataset_create(
            scorecard_key="card_default", upload=upload(training_csv()), by=manager
        )
    assert published == [dataset.pk]
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    TrainingDataset.objects.filter(pk=dataset.pk).update(
        validation_attempts=1,
        validation_started_at=long_ago,  # a worker started, then died
    )
    assert jobs.jobs_recover_orphaned() == [str(dataset)]
    assert published == [dataset.pk, dataset.pk]
    assert jobs.jobs_recover_orphaned() == []  # once per stale period

    TrainingDataset.objects.filter(pk=dataset.pk).update(
        validation_attempts=settings.JOB_MAX_ATTEMPTS, validation_started_at=long_ago
    )
    jobs.jobs_recover_orphaned()
    dataset.refresh_from_db()
    assert dataset.status == TrainingDataset.Status.REJECTED
    assert "stopped 3 times" in dataset.error and not dataset.file


def test_officer_cannot_upload_training_data(officer):
    with pytest.raises(PermissionDenied):
        jobs.training_dataset_create(
            scorecard_key="card_default", upload=upload(training_csv(20)), by=officer
        )


def test_outcomes_export_becomes_a_training_dataset(manager, officer):
    from applicants.models import Application
    from scoring.models import ApplicationOutcome

    for n in range(6):
        application = ApplicationFactory(status=Application.Status.DECIDED)
        ApplicationOutcome.objects.create(
            application=application,
            outcome_class="default" if n % 2 else "no_default",
            recorded_by=manager,
        )
    ApplicationFactory(status=Application.Status.DECIDED)  # no outcome: not exported
    dataset = jobs.training_dataset_from_outcomes(scorecard_key="card_default", by=manager)
    assert dataset.source == TrainingDataset.Source.OUTCOMES
    assert dataset.rows_kept == 6
    assert dataset.class_counts == {"no_default": 3, "default": 3}


def test_outcomes_export_with_no_outcome_is_refused(manager):
    with pytest.raises(ApplicationError, match="nothing to export"):
        jobs.training_dataset_from_outcomes(scorecard_key="card_default", by=manager)


def test_training_job_registers_a_candidate_compared_with_production(
    manager, production_model, small_training
):
    dataset = jobs.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv()), by=manager
    )
    job = jobs.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)
    with pytest.raises(ApplicationError, match="already queued or running"):
        jobs.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)

    jobs.training_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 1.0 and job.stage == "done"
    version = job.model_version
    assert version.status == ModelVersion.Status.CANDIDATE and version.created_by == manager
    assert version.report["cleaning"]["rows_read"] == 400
    stages = [entry["stage"] for entry in job.log]
    assert {"cleaning", "splitting", "fitting", "evaluating", "done"} <= set(stages)
    comparison = job.comparison
    assert comparison["production_version"]["id"] == production_model.pk
    assert comparison["test_rows"] == version.report["rows"]["test"]
    assert 0 <= comparison["production"]["roc_auc"] <= 1
    assert comparison["candidate"]["roc_auc"] == version.metrics["random_forest"]["roc_auc"]
    assert job.auto_promotion["promoted"] is False and not job.auto_promotion["enabled"]
    assert ModelVersion.objects.get(status="production") == production_model


def test_auto_promotion_promotes_a_better_candidate(manager, production_model, small_training):
    jobs.scorecard_job_settings_update(
        scorecard_key="card_default",
        by=manager,
        auto_promote=True,
        auto_promote_metric="roc_auc",
        auto_promote_min_gain=-1.0,  # any candidate "beats" production for the test
    )
    # A synthetic candidate may replace a synthetic production model (both are demo data).
    job = jobs.training_job_create(scorecard_key="card_default", by=manager)
    jobs.training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    outcome = job.auto_promotion
    if outcome["candidate"] > outcome["production"]:
        assert outcome["promoted"] is True
        assert ModelVersion.objects.get(status="production") == job.model_version
        promotion = ModelPromotion.objects.first()
        assert promotion.promoted_by is None and "Automatic promotion" in promotion.reason
    else:
        assert outcome["promoted"] is False


def test_auto_promotion_refuses_a_worse_candidate(manager, production_model, small_training):
    jobs.scorecard_job_settings_update(
        scorecard_key="card_default",
        by=manager,
        auto_promote=True,
        auto_promote_metric="roc_auc",
        auto_promote_min_gain=0.5,  # no candidate gains 0.5 ROC-AUC
    )
    job = jobs.training_job_create(scorecard_key="card_default", by=manager)
    jobs.training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.auto_promotion["enabled"] is True and job.auto_promotion["promoted"] is False
    assert "not promoted" in job.auto_promotion["summary"]
    assert ModelVersion.objects.get(status="production") == production_model


def test_training_job_refuses_a_tiny_dataset(manager):
    dataset = jobs.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(30)), by=manager
    )
    with pytest.raises(ValidationError, match="At least 100"):
        jobs.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)


def test_cancelled_training_job_registers_nothing(manager, small_training):
    job = jobs.training_job_create(scorecard_key="card_default", by=manager)
    TrainingJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, worker="")
    TrainingJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    jobs.training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not ModelVersion.objects.exists()


def test_periodic_retraining_is_off_by_default_and_starts_when_due(manager, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    monkeypatch.setattr(jobs, "_queue", lambda job: None)
    assert jobs.retraining_start_due() == []
    jobs.scorecard_job_settings_update(
        scorecard_key="card_default", by=manager, retrain_every_days=7
    )
    assert jobs.retraining_start_due() == []  # the first run is one period later
    later = timezone.now() + timedelta(days=7, minutes=1)
    started = jobs.retraining_start_due(now=later)
    assert len(started) == 1 and started[0].trigger == TrainingJob.Trigger.SCHEDULE
    assert started[0].requested_by is None
    assert jobs.retraining_start_due(now=later) == []
    assert ScorecardJobSettings.objects.get().last_scheduled_at == later


def test_officer_cannot_change_job_settings(officer):
    with pytest.raises(PermissionDenied):
        jobs.scorecard_job_settings_update(
            scorecard_key="card_default", by=officer, auto_promote=True
        )


@pytest.mark.parametrize("scorecard_key", ["card_default", "german_credit", "credit_score"])
def test_outcomes_export_round_trips_every_scorecards_inputs(manager, scorecard_key):
    from applicants.models import Application
    from ml.scorecards import get_scorecard
    from scoring.models import ApplicationOutcome
    from tests.factories import valid_inputs

    classes = get_scorecard(scorecard_key).classes
    for n in range(4):
        application = ApplicationFactory(
            scorecard=scorecard_key,
            status=Application.Status.DECIDED,
            inputs=valid_inputs(scorecard_key, seed=n),
        )
        ApplicationOutcome.objects.create(
            application=application, outcome_class=classes[n % len(classes)], recorded_by=manager
        )
    dataset = jobs.training_dataset_from_outcomes(scorecard_key=scorecard_key, by=manager)
    assert dataset.rows_kept == 4
    assert dataset.cleaning_report["rows_with_errors"] == 0, dataset.cleaning_report


_copy_values = (
    st.none()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.text()
    | st.sampled_from(["reason\\u2013", "tab\there", "plain", "\\N"])
)


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.lists(st.tuples(*[_copy_values] * width), min_size=1, max_size=40)
    ),
    st.sampled_from([None, 7, -0.0, "same text"]),
)
def test_copy_text_writes_each_value_as_copy_text_value_does(rows, constant):
    """Column by column, with its shortcuts (one object repeated, text without a special
    character, repeated text), it writes what escaping value by value writes."""
    rows = [(*row, constant, row[0]) for row in rows]
    expected = "".join("\t".join(map(jobs._copy_text_value, row)) + "\n" for row in rows)
    assert jobs._copy_text(rows) == expected


def test_bulk_insert_keeps_every_character(officer, production_model):
    """The bulk statement (COPY text on PostgreSQL) stores text and JSON exactly: tabs,
    newlines, backslashes, quotes and non-ASCII included."""
    from django.db import connection
    from django.utils import timezone

    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(3)), owner=officer
    )
    awkward = 'tab\there, line\nbreak, back\\slash \\N, "quoted", carriage\rreturn – ok'
    values = {
        "scorecard": "card_default",
        "model_version": production_model.pk,
        "inputs": json.dumps({"note": awkward, "n": -1.5e-05}),
        "predicted_class": "default",
        "probabilities": json.dumps({"no_default": 0.25, "default": 0.75}),
        "risk": 0.75,
        "points": 512,
        "band": "C",
        "band_label": awkward,
        "recommendation": "refer",
        "reasons": json.dumps([{"field": "age", "sentence": awkward}]),
        "segment": json.dumps({"id": None, "description": ""}),
        "requested_by": officer.pk,
        "source": "batch",
        "latency_ms": 0.125,
        "created_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        "batch_job": job.pk,
        "row_number": 7,
    }
    jobs._insert_predictions([tuple(values[name] for name in jobs._PREDICTION_COLUMNS)])
    stored = Prediction.objects.get(batch_job=job, row_number=7)
    assert stored.inputs == {"note": awkward, "n": -1.5e-05}
    assert stored.band_label == awkward
    assert stored.reasons == [{"field": "age", "sentence": awkward}]
    assert stored.segment == {"id": None, "description": ""}
    assert (stored.points, stored.risk, stored.latency_ms) == (512, 0.75, 0.125)


def test_input_columns_named_like_result_columns_are_kept(officer, production_model):
    """A lender's file with its own `score` and `error` columns: both survive, and the
    result's own columns get a prefix instead of overwriting them."""
    lines = card_default_csv(5).decode().splitlines()
    content = "\n".join(
        [lines[0] + ",score,error"] + [line + ",old-700,none" for line in lines[1:]]
    )
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(content.encode()), owner=officer
    )
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    rows = result_rows(job)
    assert [row["score"] for row in rows] == ["old-700"] * 5
    assert [row["error"] for row in rows] == ["none"] * 5
    first = Prediction.objects.get(batch_job=job, row_number=1)
    assert rows[0]["creditportal_score"] == str(first.points)
    assert rows[2]["creditportal_error"].startswith("age:")  # row 3 is invalid
    with job.result_file.open("rb") as handle:
        header, *body = list(csv.reader(io.StringIO(handle.read().decode())))
    assert all(len(row) == len(header) for row in body)
