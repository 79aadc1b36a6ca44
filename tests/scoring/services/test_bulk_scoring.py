"""Bulk scoring jobs, run in-process: the worker's side is called directly with the job's id."""

import csv
import dataclasses
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage

from creditportal.errors import JobQueueUnavailable
from ml.cleaning import MAX_FIELD_CHARS, read_csv_chunks
from ml.scorecards import get_scorecard
from scoring.jobs import lifecycle, pipeline
from scoring.models import (
    BatchRowError,
    BatchScoringJob,
    JobStatus,
    Prediction,
)
from scoring.services import bulk_chunks, bulk_scoring
from scoring.serving import model_version_load
from tests.scorecardkit import use_scorecard
from tests.scoring.jobkit import IMPLAUSIBLE, INVALID, card_default_csv, upload


def result_rows(job: BatchScoringJob) -> list[dict]:
    with job.result_file.open("rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode())))


def test_bulk_job_scores_valid_rows_and_reports_invalid_ones(officer, production_model, settings):
    settings.BATCH_CHUNK_ROWS = 40
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(100)), owner=officer
    )
    assert job.status == JobStatus.QUEUED and job.chunk_rows == 40

    bulk_scoring.batch_job_run(job_id=job.pk)

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
    assert not default_storage.exists(bulk_chunks.part_name(job, 0))


def test_implausible_values_are_scored_as_missing_and_flagged(officer, production_model, settings):
    """Issue 14: a value outside the range or an unseen choice does not refuse the row: it
    is scored as missing, flagged on the prediction, in the result file and in the job's
    counts. Values that cannot be read still make the row an error."""
    settings.BATCH_CHUNK_ROWS = 10  # the counts add up over chunks
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default",
        upload=upload(card_default_csv(30, implausible=True)),
        owner=officer,
    )
    bulk_scoring.batch_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    flagged_rows = {row for row, *_ in IMPLAUSIBLE}
    assert (job.rows_valid, job.rows_invalid, job.rows_flagged) == (27, 3, len(flagged_rows))
    assert job.flag_counts == {
        "limit_bal": {"out_of_range": 1},
        "education": {"unknown_choice": 1},
        "age": {"out_of_range": 1},
        "pay_amt1": {"out_of_range": 1},
    }
    assert job.flag_summary.startswith("3 rows scored with 1 or more values set missing: ")
    assert "education unknown choice 1" in job.flag_summary
    errors = {(e.row_number, e.field) for e in BatchRowError.objects.filter(job=job)}
    assert errors == {(row, field) for row, (_, _, field) in INVALID.items()}

    predictions = Prediction.objects.filter(batch_job=job)
    stored = {p.row_number: p for p in predictions}
    assert set(stored) == set(range(1, 31)) - set(INVALID)
    assert stored[15].flags == [
        {"field": "age", "rule": "out_of_range", "value": "-500"},
        {"field": "pay_amt1", "rule": "out_of_range", "value": "99000000"},
    ]
    assert stored[15].inputs["age"] is None and stored[15].inputs["pay_amt1"] is None
    assert stored[12].flags == [
        {"field": "education", "rule": "unknown_choice", "value": "doctorate"}
    ]
    assert stored[12].inputs["education"] is None
    assert stored[4].inputs["limit_bal"] is None
    assert all(p.flags == [] for n, p in stored.items() if n not in flagged_rows)
    assert predictions.exclude(flags=[]).count() == len(flagged_rows)

    rows = result_rows(job)
    assert rows[14]["flags"] == "age out of range: -500; pay_amt1 out of range: 99000000"
    assert rows[14]["error"] == "" and rows[14]["score"] == str(stored[15].points)
    assert rows[11]["flags"] == "education unknown choice: doctorate"
    assert rows[0]["flags"] == "" and rows[2]["flags"] == "" and rows[2]["error"]


def test_a_field_declared_refuse_makes_an_implausible_row_an_error(
    officer, production_model, monkeypatch
):
    """`on_invalid="refuse"`: the row is an error naming its number and the field, as
    before; the other fields keep the default (scored as missing, flagged)."""
    scorecard = get_scorecard("card_default")
    fields = tuple(
        dataclasses.replace(f, on_invalid="refuse") if f.name == "limit_bal" else f
        for f in scorecard.fields
    )
    use_scorecard(dataclasses.replace(scorecard, fields=fields))
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default",
        upload=upload(card_default_csv(20, implausible=True)),
        owner=officer,
    )
    bulk_scoring.batch_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    error = BatchRowError.objects.get(job=job, row_number=4)
    assert error.field == "limit_bal"
    assert error.message == "Must be between 10000 and 1000000 (got 5700000)."
    assert not Prediction.objects.filter(batch_job=job, row_number=4).exists()
    assert Prediction.objects.get(batch_job=job, row_number=12).flags[0]["field"] == "education"
    assert (job.rows_invalid, job.rows_flagged) == (4, 2)
    assert job.flag_counts == {
        "education": {"unknown_choice": 1},
        "age": {"out_of_range": 1},
        "pay_amt1": {"out_of_range": 1},
    }
    assert result_rows(job)[3]["error"].startswith("limit_bal: Must be between")


def test_bulk_prediction_is_stored_as_a_single_prediction_would_be(officer, production_model):
    """The bulk path writes rows with its own statement (COPY on PostgreSQL): every column
    must come back as the ORM path stores it for the same inputs, reasons included."""
    from scoring.services.predictions import prediction_create_stateless

    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
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
        # The whole reason, not only its field: one builder makes both (ml/reasons.py). The
        # contributions come from two exact computations of the same sums (a walk of the
        # trees, a table of leaves), equal up to floating-point rounding, then both kept to
        # CONTRIBUTION_DIGITS places (one may round up where the other rounds down).
        assert len(bulk.reasons) == len(single.reasons) > 0
        for stored, scored in zip(bulk.reasons, single.reasons, strict=True):
            assert stored.keys() == scored.keys()
            assert stored["contribution"] == pytest.approx(scored["contribution"], abs=1.01e-6)
            assert {**stored, "contribution": 0} == {**scored, "contribution": 0}
        assert (bulk.scorecard, bulk.model_version_id) == ("card_default", production_model.pk)
        assert bulk.requested_by == officer and bulk.created_at is not None


def test_result_neutralises_formulas_but_keeps_negative_numbers(officer, production_model):
    content = card_default_csv(5, invalid={}).decode().splitlines()
    header, rows = content[0], content[1:]
    rows[0] = rows[0].replace("C0000001", '=HYPERLINK("http://x")', 1)
    rows[1] = rows[1].replace("C0000002", "@SUM(A1)", 1)
    rows[2] = rows[2].replace("C0000003", "-2+3", 1)
    data = "\n".join([header + ",note", *(r + ",-12.5" for r in rows)]).encode()
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(data), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
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
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(70)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    complete = set(Prediction.objects.filter(batch_job=job).values_list("row_number", "points"))

    # Same file again, interrupted: run two chunks, then "die" holding the job.
    job2 = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(70)), owner=officer
    )

    def die_at_the_third(chunk_index):
        if chunk_index == 2:
            raise KeyboardInterrupt("worker killed")

    with pipeline.inject_fault(die_at_the_third), pytest.raises(KeyboardInterrupt):
        bulk_scoring.batch_job_run(job_id=job2.pk)
    job2.refresh_from_db()
    assert (job2.status, job2.rows_done) == (JobStatus.RUNNING, 40)
    assert Prediction.objects.filter(batch_job=job2).count() == 37  # rows 3, 7, 10 invalid

    settings.JOB_STALE_SECONDS = 0  # its heartbeat is now stale: the job is orphaned
    assert lifecycle.is_orphaned(job2)
    bulk_scoring.batch_job_run(job_id=job2.pk)
    job2.refresh_from_db()
    assert job2.status == JobStatus.SUCCEEDED, job2.error
    assert job2.attempts == 2
    assert (job2.rows_valid, job2.rows_invalid) == (67, 3)
    resumed = set(Prediction.objects.filter(batch_job=job2).values_list("row_number", "points"))
    assert resumed == complete
    assert len(result_rows(job2)) == 70


def test_rows_with_a_wrong_number_of_values_are_reported_and_the_job_goes_on(
    officer, production_model, settings
):
    settings.BATCH_CHUNK_ROWS = 8
    header, *lines = card_default_csv(30).decode().splitlines()
    width = len(header.split(","))
    lines[11] += ",extra"  # row 12: one value too many (pandas would stop the file)
    lines[19] = lines[19].rsplit(",", 2)[0]  # row 20: two too few (values would shift)
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default",
        upload=upload("\n".join([header, *lines]).encode()),
        owner=officer,
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
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
        bulk_scoring.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
        )
        for _ in range(3)
    )
    for job in (old, recent):
        bulk_scoring.batch_job_run(job_id=job.pk)
    now = timezone.now()
    BatchScoringJob.objects.filter(pk=old.pk).update(finished_at=now - timedelta(days=31))
    BatchScoringJob.objects.filter(pk=recent.pk).update(finished_at=now - timedelta(days=29))
    BatchScoringJob.objects.filter(pk=queued.pk).update(created_at=now - timedelta(days=90))
    old.refresh_from_db()
    leftover = default_storage.save(bulk_chunks.part_name(old, 4), ContentFile(b"a dead attempt's"))
    old_files = [old.input_file.name, old.result_file.name, leftover]
    assert all(default_storage.exists(name) for name in old_files)

    assert bulk_scoring.batch_job_files_purge(now=now) == [old.pk]

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
    assert bulk_scoring.batch_job_files_purge(now=now) == []  # done once

    settings.BATCH_FILE_RETENTION_DAYS = 0  # keep for ever
    assert bulk_scoring.batch_job_files_purge(now=now + timedelta(days=365)) == []


def test_purge_runs_periodically_under_beat(settings):
    from scoring.tasks import purge_expired_job_files

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-job-files"]
    assert entry["task"] == purge_expired_job_files.name


def test_scoring_a_chunk_never_touches_the_database(
    officer, production_model, django_assert_num_queries
):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(20)), owner=officer
    )
    job.model_version = production_model
    scorecard = get_scorecard("card_default")
    context = bulk_chunks.ChunkContext(
        job=job, scorecard=scorecard, model=model_version_load(production_model), vendor="sqlite"
    )
    chunk = next(read_csv_chunks(card_default_csv(20), rows=100))
    with django_assert_num_queries(0):  # in a scoring process it would share a socket
        result = bulk_chunks.chunk_score(context, chunk, 0)
    assert (result.last_row, result.rows, result.valid, result.invalid) == (20, 20, 17, 3)
    assert [row[0] for row in result.row_errors] == sorted(INVALID)


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
            bulk_scoring.batch_job_create(scorecard_key="card_default", upload=bad, owner=officer)
    assert not BatchScoringJob.objects.exists()


def test_upload_over_the_size_limit_is_refused(officer, production_model, settings):
    settings.MAX_BATCH_UPLOAD_MB = 0
    with pytest.raises(ValidationError, match="limit is 0 MB"):
        bulk_scoring.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
        )


def test_broker_unreachable_gives_a_clear_error_and_no_queued_job(
    officer, production_model, task_queue
):
    task_queue.down()
    with pytest.raises(JobQueueUnavailable, match="broker is unreachable"):
        bulk_scoring.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
        )
    job = BatchScoringJob.objects.get()
    assert job.status == JobStatus.FAILED and "Connection refused" in job.error
    assert not BatchScoringJob.objects.filter(status=JobStatus.QUEUED).exists()
    assert not default_storage.exists(job.input_file.name)


def test_officer_cannot_bulk_score_without_the_permission(no_role_user, production_model):
    with pytest.raises(PermissionDenied):
        bulk_scoring.batch_job_create(
            scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=no_role_user
        )


def test_input_columns_named_like_result_columns_are_kept(officer, production_model):
    """A lender's file with its own `score` and `error` columns: both survive, and the
    result's own columns get a prefix instead of overwriting them."""
    lines = card_default_csv(5).decode().splitlines()
    content = "\n".join(
        [lines[0] + ",score,error"] + [line + ",old-700,none" for line in lines[1:]]
    )
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(content.encode()), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
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


def test_a_value_over_the_limit_past_the_checked_head_fails_the_job_before_any_row(
    officer, production_model
):
    """The request reads the first 1 MB for values; a longer one further on stops the job in
    its first pass, before a row is scored or a result written."""
    lines = card_default_csv(8_000, invalid={}).decode().splitlines()
    header, rows = lines[0] + ",note", [line + ",n" for line in lines[1:]]
    rows[7_500] = rows[7_500][:-1] + "v" * (MAX_FIELD_CHARS + 1)
    content = ("\n".join([header, *rows]) + "\n").encode()
    assert content.index(b"v" * 100) > 1024 * 1024
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(content), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Row 7,501, column 'note': the value is 100,001 characters long" in job.error
    assert job.rows_done == 0 and not Prediction.objects.filter(batch_job=job).exists()


def wide_rows(count: int) -> bytes:
    """`count` valid rows of about 9 KB each: about 110 to a chunk of 1 MB."""
    lines = card_default_csv(count, invalid={}).decode().splitlines()
    lines = [lines[0] + ",note"] + [line + "," + "n" * 9_000 for line in lines[1:]]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("worker_chunk_mb", [100, 0])
def test_a_job_resumed_under_another_chunk_size_splits_its_file_as_it_was_created(
    officer, production_model, settings, worker_chunk_mb
):
    """The byte bound is the job's, like its rows: the result is assembled from part files
    by chunk index, so a worker configured with another CREDITPORTAL_BATCH_CHUNK_MB must not
    move the boundaries of a job it resumes (rows lost or scored twice)."""
    settings.BATCH_CHUNK_ROWS = 10_000
    settings.BATCH_CHUNK_MB = 1
    whole = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(wide_rows(300)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=whole.pk)
    whole.refresh_from_db()
    complete = set(Prediction.objects.filter(batch_job=whole).values_list("row_number", "points"))
    assert len(complete) == 300

    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(wide_rows(300)), owner=officer
    )
    assert job.chunk_bytes == 1024 * 1024

    def die_at_the_second(chunk_index):
        if chunk_index == 1:
            raise KeyboardInterrupt("worker killed")

    with pipeline.inject_fault(die_at_the_second), pytest.raises(KeyboardInterrupt):
        bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and 0 < job.rows_done < 300

    settings.BATCH_CHUNK_MB = worker_chunk_mb  # the worker that recovers it
    settings.JOB_STALE_SECONDS = 0
    scored = []
    with pipeline.inject_fault(scored.append):
        bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert scored == [1, 2]  # the chunks left, at the job's own boundaries
    resumed = list(Prediction.objects.filter(batch_job=job).values_list("row_number", "points"))
    assert len(resumed) == 300 and set(resumed) == complete
    assert (job.rows_valid, job.rows_invalid) == (300, 0)
    with whole.result_file.open("rb") as a, job.result_file.open("rb") as b:
        assert a.read() == b.read()


def test_a_job_created_before_the_byte_bound_was_kept_reads_rows_only(
    officer, production_model, settings
):
    settings.BATCH_CHUNK_ROWS = 10_000
    settings.BATCH_CHUNK_MB = 1
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(wide_rows(300)), owner=officer
    )
    BatchScoringJob.objects.filter(pk=job.pk).update(chunk_bytes=None)
    scored = []
    with pipeline.inject_fault(scored.append):
        bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.rows_valid, scored) == (300, [0])  # one chunk of 300 rows, 2.8 MB
