"""Bulk scoring jobs: a CSV of applicants scored in the background, row by row validated,
every valid row stored as a prediction, the invalid ones reported by row number, and a
result file of the input with the predictions or errors beside it.

The file is read in chunks of `job.chunk_rows` rows or `job.chunk_bytes` bytes of input,
both fixed when the job is created, scored by the job's pipeline
(`scoring/jobs/pipeline.py`) and committed in file order: a chunk's predictions, row errors
and the job's progress in one transaction, so a killed worker loses at most the chunks in
flight; a resumed job skips the rows already committed, and the unique (batch_job,
row_number) constraint makes a duplicate impossible even if two workers ever raced.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from creditportal.errors import ApplicationError, JobQueueUnavailable
from ml.cleaning import CleaningError, count_csv_rows, read_csv_chunks
from ml.model import ScoringModel
from ml.scorecards import get_scorecard
from scoring import selectors
from scoring.jobs import bulk_insert, lifecycle
from scoring.jobs.models import FINISHED_JOB_STATUSES, JobStatus
from scoring.jobs.pipeline import ChunkPipeline
from scoring.models import BatchRowError, BatchScoringJob, ModelVersion, Prediction
from scoring.serving import model_version_load

from .bulk_chunks import (
    PREDICTION_COLUMNS,
    ChunkContext,
    ChunkResult,
    chunk_score,
    part_name,
    result_write,
)
from .uploads import scorecard_or_error, stored_name, upload_check, upload_check_header

log = logging.getLogger(__name__)


def batch_job_create(*, scorecard_key: str, upload, owner) -> BatchScoringJob:
    """Store a CSV of applicants and queue its scoring; the header is checked now."""
    from scoring import tasks

    if not owner.has_perm("scoring.add_batchscoringjob"):
        raise PermissionDenied("Your role does not allow bulk scoring.")
    scorecard = scorecard_or_error(scorecard_key)
    upload_check(upload, max_mb=settings.MAX_BATCH_UPLOAD_MB)
    if not selectors.scorecard_has_production(scorecard_key=scorecard.key):
        raise ApplicationError(
            f"There is no production model for '{scorecard.key}' yet: a credit manager must "
            "train and promote one.",
            extra={"code": "no_production_model"},
        )
    upload_check_header(scorecard, upload)
    job = BatchScoringJob(
        scorecard=scorecard.key,
        original_name=os.path.basename(upload.name)[:255],
        size_bytes=upload.size,
        owner=owner,
        chunk_rows=settings.BATCH_CHUNK_ROWS,
        chunk_bytes=settings.BATCH_CHUNK_MB * 1024 * 1024,
    )
    job.input_file.save(f"inputs/{stored_name(upload.name)}", upload, save=False)
    try:
        with transaction.atomic(durable=True):
            job.full_clean()
            job.save()
    except Exception:
        job.input_file.delete(save=False)
        raise
    try:
        lifecycle.queue(job, tasks.run_batch_scoring_job)
    except JobQueueUnavailable:
        job.input_file.delete(save=False)
        raise
    return job


def batch_job_run(*, job_id: int) -> None:
    """The worker's side of a bulk scoring job; resumes after the last committed chunk."""
    lifecycle.run(BatchScoringJob, job_id, _score_file, readable=(CleaningError,))


_loaded_versions: dict[tuple[int, str], ScoringModel] = {}


def _model_for(version: ModelVersion) -> ScoringModel:
    """The job's pinned model version, loaded once per process (sha256-checked)."""
    key = (version.pk, version.artifact_sha256)
    model = _loaded_versions.get(key)
    if model is None:
        model = model_version_load(version)
        if len(_loaded_versions) >= 3:
            _loaded_versions.clear()
        _loaded_versions[key] = model
    return model


def _score_file(job: BatchScoringJob, token: str) -> None:
    scorecard = get_scorecard(job.scorecard)
    if job.model_version_id is None:
        version = selectors.model_version_production(scorecard_key=job.scorecard)
        if version is None:
            raise ApplicationError(f"There is no production model for '{job.scorecard}'.")
        job.model_version = version
        lifecycle.beat(BatchScoringJob, job.pk, token, model_version=version)
    model = _model_for(job.model_version)
    if job.rows_total is None:
        with job.input_file.open("rb") as handle:
            job.rows_total = count_csv_rows(_raw(handle))  # as the job reads: blanks skipped
        lifecycle.beat(BatchScoringJob, job.pk, token, rows_total=job.rows_total)
    # Rows per second of this attempt (a resumed job does not count the rows it skips).
    progress = _ChunkCommitter(job, token)
    context = ChunkContext(job=job, scorecard=scorecard, model=model, vendor=connection.vendor)
    header: list[str] | None = None
    chunks = 0
    with (
        ChunkPipeline(
            score=functools.partial(chunk_score, context),
            commit=progress.commit,
            processes=settings.BATCH_SCORING_PROCESSES,
        ) as pipeline,
        job.input_file.open("rb") as handle,
    ):
        # Both bounds come from the job, never from the settings: the result is assembled
        # from part files by chunk index, so a job resumed by a worker configured otherwise
        # must split its file exactly where the first attempt did. The byte bound keeps the
        # worker tree's memory bounded by the chunks in flight, whatever the rows' width
        # (docs/benchmarks.md); a job created before it was kept has none (rows only).
        chunks_read = read_csv_chunks(_raw(handle), rows=job.chunk_rows, max_bytes=job.chunk_bytes)
        for chunk_index, chunk in enumerate(chunks_read):
            header = header or list(chunk.frame.columns)
            chunks = chunk_index + 1
            if chunk.last_row <= job.rows_done:  # committed by an earlier attempt
                continue
            lifecycle.stop_if_cancelled(BatchScoringJob, job.pk)
            pipeline.submit(chunk, chunk_index)
        pipeline.flush()
        if header is None:
            raise ApplicationError("The file has no data row.")
        # Every part is written: assemble the result while the last chunk commits.
        result_name = result_write(job, model, header, chunks)
        try:
            pipeline.wait()
        except BaseException:
            default_storage.delete(result_name)
            raise
    finished = lifecycle.finish(
        BatchScoringJob,
        job.pk,
        status=JobStatus.SUCCEEDED,
        token=token,
        result_file=result_name,
        rows_total=job.rows_done,
    )
    if not finished:
        default_storage.delete(result_name)
        raise lifecycle.JobLost()
    for chunk_index in range(chunks):
        default_storage.delete(part_name(job, chunk_index))


def _raw(handle):
    """The file object under Django's `File` wrappers: the CSV reader's text layer asks its
    buffer whether it is closed at every read, a property call on Django's wrapper."""
    while isinstance(handle, File):
        handle = handle.file
    return handle


class _ChunkCommitter:
    """Commits scored chunks (in file order, on the pipeline's writer thread) and keeps the
    job's counters: a chunk's predictions, row errors and progress in one transaction, so a
    worker killed at any moment leaves either all of them or none."""

    def __init__(self, job: BatchScoringJob, token: str):
        self.job, self.token = job, token
        self.started, self.rows = time.monotonic(), 0

    def commit(self, result: ChunkResult) -> None:
        job = self.job
        self.rows += result.rows
        job.rows_per_second = self.rows / max(time.monotonic() - self.started, 1e-6)
        job.rows_done = result.last_row
        job.rows_valid += result.valid
        job.rows_invalid += result.invalid
        job.rows_flagged += result.flagged
        for name, rules in result.flag_counts.items():
            per_field = job.flag_counts.setdefault(name, {})
            for rule, n in rules.items():
                per_field[rule] = per_field.get(rule, 0) + n
        row_errors = [
            BatchRowError(job_id=job.pk, row_number=row_number, field=name, message=message)
            for row_number, name, message in result.row_errors
        ]
        with transaction.atomic():
            # The conditional heartbeat locks the job's row for this worker first, so no
            # other worker can be inserting the same rows.
            lifecycle.beat(
                BatchScoringJob,
                job.pk,
                self.token,
                rows_done=job.rows_done,
                rows_valid=job.rows_valid,
                rows_invalid=job.rows_invalid,
                rows_flagged=job.rows_flagged,
                flag_counts=job.flag_counts,
                rows_per_second=job.rows_per_second,
            )
            bulk_insert.insert(Prediction, PREDICTION_COLUMNS, result.predictions)
            BatchRowError.objects.bulk_create(row_errors, batch_size=2000, ignore_conflicts=True)


def batch_job_files_purge(*, now: datetime | None = None) -> list[int]:
    """Delete the uploaded file, the result and any leftover result parts of the bulk jobs
    that finished more than BATCH_FILE_RETENTION_DAYS ago (0 keeps them for ever); the ids
    of the jobs purged. The job rows, their predictions and row errors stay: they are the
    lender's records, while the files are copies of applicants' data.

    The files go first, then the row says so: a purge stopped in between is finished by
    the next run (deleting a file that is already gone does nothing)."""
    days = settings.BATCH_FILE_RETENTION_DAYS
    if days <= 0:
        return []
    now = now or timezone.now()
    expired = BatchScoringJob.objects.filter(
        status__in=FINISHED_JOB_STATUSES,
        finished_at__lt=now - timedelta(days=days),
        files_deleted_at__isnull=True,
    ).only("pk", "input_file", "result_file")
    purged = []
    for job in expired.iterator():
        folder = f"batch/results/job-{job.pk}"
        try:
            names = [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]
        except FileNotFoundError:
            names = []
        for name in [job.input_file.name, job.result_file.name, *names]:
            if name:
                default_storage.delete(name)
        BatchScoringJob.objects.filter(pk=job.pk).update(
            input_file="", result_file="", files_deleted_at=now
        )
        purged.append(job.pk)
    if purged:
        log.info("Deleted the files of %d bulk jobs older than %d days.", len(purged), days)
    return purged


def files_deleted_message(job: BatchScoringJob) -> str:
    return (
        "The uploaded file and the result of this job were deleted on "
        f"{timezone.localtime(job.files_deleted_at):%Y-%m-%d} under the file retention "
        "policy; its counts, stored predictions and invalid rows remain."
    )
