"""Background jobs: training datasets, retraining jobs and bulk scoring jobs (services).

How a job runs (the Celery tasks in `scoring/tasks.py` only call these functions):

- A job is a row; its state (status, progress, counts, error) lives on the row. Status only
  moves forward: queued -> running -> succeeded / failed / cancelled. A finished job is never
  touched again, so a duplicate or late message is harmless.
- A worker *claims* a job by writing a token ("host:pid:random") into `worker`. Every write
  of a running job is conditional on that token, so a worker that lost the job (it was
  recovered after its heartbeat went stale) stops at its next step instead of writing twice.
- A bulk job reads its CSV in chunks of `job.chunk_rows` rows, scored by processes forked
  for the job (settings.BATCH_SCORING_PROCESSES) and committed in order by the worker. The
  predictions and row errors of a chunk are inserted in the same transaction that advances
  `rows_done` and the heartbeat, so a killed worker loses at most the chunks in flight; a
  resumed job skips the rows already committed, and the unique (batch_job, row_number)
  constraint makes a duplicate impossible even if two workers ever raced.
- A job whose worker died is found by `jobs_recover_orphaned` (run when a worker starts and
  every minute by Celery beat): the worker process no longer exists on this host, or its
  heartbeat is older than JOB_STALE_SECONDS. It is released and queued again, at most
  JOB_MAX_ATTEMPTS runs in all. This works on both brokers: kombu's filesystem transport
  never redelivers the message of a killed worker, and Redis only after its visibility
  timeout (an hour), by which time the job has finished and the late copy is skipped.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from applicants.models import Application
from creditportal.errors import ApplicationError
from ml.cleaning import (
    ROW_NUMBER,
    CleaningError,
    CsvChunk,
    clean_frame,
    count_csv_rows,
    load_raw,
    read_csv_chunks,
)
from ml.evaluate import evaluate_predictions
from ml.model import ScoringModel
from ml.pipeline import model_input_frame
from ml.schema import FieldKind, Scorecard, split_multi
from ml.scorecards import SCORECARDS, get_scorecard
from ml.split import split_indices
from ml.train import headline_metrics, target_codes, train_scorecard

from . import services
from .exports import safe_csv_rows, safe_csv_text
from .models import (
    FINISHED_JOB_STATUSES,
    BatchRowError,
    BatchScoringJob,
    JobStatus,
    ModelVersion,
    Prediction,
    ScorecardJobSettings,
    TrainingDataset,
    TrainingJob,
)
from .registry import model_version_load
from .training import training_data_load

log = logging.getLogger(__name__)

# Errors worth retrying: the database or the broker was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
MIN_TRAINING_ROWS = 100
CSV_SUFFIXES = (".csv", ".txt")
ERROR_COLUMN = "error"
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobQueueUnavailable(ApplicationError):
    """The job could not be queued: the task broker is unreachable (HTTP 503)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extra={"code": "broker_unavailable"})


class _JobCancelled(Exception):
    pass


class _JobLost(Exception):
    """Another worker took the job over (it was recovered as orphaned): stop quietly."""


# --- uploads ---------------------------------------------------------------------------------


def _scorecard_or_error(scorecard_key: str) -> Scorecard:
    if scorecard_key not in SCORECARDS:
        raise ValidationError({"scorecard": f"Unknown scorecard '{scorecard_key}'."})
    return get_scorecard(scorecard_key)


def _check_upload(upload, *, max_mb: int) -> None:
    name = getattr(upload, "name", "") or ""
    if not name.lower().endswith(CSV_SUFFIXES):
        raise ValidationError({"file": "Upload a CSV file (a name ending in .csv)."})
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    if upload.size > max_mb * 1024 * 1024:
        raise ValidationError(
            {"file": f"The file is {upload.size / 1024**2:.1f} MB; the limit is {max_mb} MB."}
        )


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for block in upload.chunks():
        digest.update(block)
    upload.seek(0)
    return digest.hexdigest()


def _stored_name(original_name: str) -> str:
    stem = os.path.splitext(os.path.basename(original_name))[0][:60] or "upload"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
    return f"{uuid.uuid4().hex[:12]}-{safe}.csv"


# --- training datasets ---------------------------------------------------------------------


def training_dataset_create(
    *, scorecard_key: str, upload, by, source: str = TrainingDataset.Source.UPLOAD
) -> TrainingDataset:
    """Validate a labelled CSV against the scorecard and store it with its cleaning report.

    Nothing is stored unless the file is a CSV within the size limit with the scorecard's
    required columns and its target. Cleaning needs the whole file in memory, so only an
    upload up to TRAINING_INLINE_VALIDATION_MB is cleaned here, and refused at once if no
    usable labelled row is left; a larger one is stored as *validating* and cleaned by a
    worker (`training_dataset_validate`), which makes it ready or rejects it and deletes
    its file. Called outside a transaction, a broker that cannot take that task gets
    JobQueueUnavailable (HTTP 503), and the upload is deleted.
    """
    if not by.has_perm("scoring.add_trainingdataset"):
        raise PermissionDenied("Only a credit manager can upload training data.")
    scorecard = _scorecard_or_error(scorecard_key)
    _check_upload(upload, max_mb=settings.MAX_TRAINING_UPLOAD_MB)
    sha256 = _sha256(upload)
    inline = upload.size <= settings.TRAINING_INLINE_VALIDATION_MB * 1024 * 1024
    if inline:
        cleaned = _clean_training_data(scorecard, upload)
    else:
        _check_header(scorecard, upload, require_target=True)
    dataset = TrainingDataset(
        scorecard=scorecard.key,
        original_name=os.path.basename(upload.name)[:255],
        sha256=sha256,
        size_bytes=upload.size,
        rows_read=0,
        rows_kept=0,
        source=source,
        uploaded_by=by,
        status=TrainingDataset.Status.READY if inline else TrainingDataset.Status.VALIDATING,
    )
    if inline:
        _describe_training_data(dataset, scorecard, cleaned)
    upload.seek(0)
    dataset.file.save(_stored_name(upload.name), upload, save=False)
    try:
        dataset.full_clean()
        dataset.save()
    except Exception:
        dataset.file.delete(save=False)
        raise
    if not inline:
        _queue_validation(dataset)
    return dataset


def _clean_training_data(scorecard: Scorecard, source) -> Any:
    """The whole file cleaned for training; ValidationError on `file` if it cannot be."""
    try:
        source.seek(0)
        cleaned = load_raw(scorecard, source, require_target=True)  # read from its file
    except CleaningError as error:
        raise ValidationError({"file": str(error)}) from None
    finally:
        source.seek(0)
    if cleaned.report.rows_kept == 0:
        raise ValidationError({"file": "No labelled row is left after cleaning."})
    return cleaned


def _describe_training_data(dataset: TrainingDataset, scorecard: Scorecard, cleaned) -> None:
    dataset.rows_read = cleaned.report.rows_read
    dataset.rows_kept = cleaned.report.rows_kept
    dataset.class_counts = {
        str(k): int(v) for k, v in cleaned.frame[scorecard.target].value_counts().items()
    }
    dataset.cleaning_report = cleaned.report.to_dict()


def _queue_validation(dataset: TrainingDataset) -> None:
    """Publish the dataset's validation (on commit inside a transaction, as `_queue`)."""
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _publish_validation(dataset, quietly=True))
    else:
        _publish_validation(dataset, quietly=False)


def _publish_validation(dataset: TrainingDataset, *, quietly: bool) -> None:
    from . import tasks

    try:
        tasks.validate_training_dataset.apply_async(
            args=[dataset.pk], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except Exception as error:  # any failure to publish means nobody will validate it
        log.warning("Could not queue the validation of %s: %s", dataset, error)
        message = (
            "Could not queue the file's validation: the task broker is unreachable. The "
            "upload was not kept; try again when the background workers are back."
        )
        _reject_dataset(dataset, f"{message} ({error})")
        if not quietly:
            raise JobQueueUnavailable(message) from error


def _reject_dataset(dataset: TrainingDataset, reason: str) -> None:
    """Reject a dataset still validating, then delete its file (never a ready one's: a
    worker may have finished it meanwhile)."""
    name = dataset.file.name
    rejected = TrainingDataset.objects.filter(
        pk=dataset.pk, status=TrainingDataset.Status.VALIDATING
    ).update(status=TrainingDataset.Status.REJECTED, error=reason, file="")
    if rejected and name:
        default_storage.delete(name)


def training_dataset_validate(*, dataset_id: int) -> None:
    """The worker's side of a large training upload: clean it whole, then store its counts
    and report (ready) or reject it with the reason and delete its file. A dataset that is
    no longer validating (a duplicate message) is left alone."""
    validating = TrainingDataset.objects.filter(
        pk=dataset_id, status=TrainingDataset.Status.VALIDATING
    )
    if not validating.update(
        validation_attempts=F("validation_attempts") + 1, validation_started_at=timezone.now()
    ):
        return
    dataset = TrainingDataset.objects.get(pk=dataset_id)
    scorecard = get_scorecard(dataset.scorecard)
    try:
        with dataset.file.open("rb") as handle:
            cleaned = _clean_training_data(scorecard, handle)
    except ValidationError as error:
        _reject_dataset(dataset, " ".join(error.message_dict.get("file", error.messages)))
        return
    _describe_training_data(dataset, scorecard, cleaned)
    validating.update(
        status=TrainingDataset.Status.READY,
        rows_read=dataset.rows_read,
        rows_kept=dataset.rows_kept,
        class_counts=dataset.class_counts,
        cleaning_report=dataset.cleaning_report,
    )


def training_dataset_from_outcomes(*, scorecard_key: str, by) -> TrainingDataset:
    """Export decided applications with a realised outcome as a training dataset."""
    if not by.has_perm("scoring.add_trainingdataset"):
        raise PermissionDenied("Only a credit manager can export training data.")
    scorecard = _scorecard_or_error(scorecard_key)
    applications = (
        Application.objects.filter(scorecard=scorecard.key, realised_outcome__isnull=False)
        .select_related("realised_outcome")
        .order_by("pk")
    )
    columns = [*scorecard.field_names, scorecard.target]
    if scorecard.grouping_key:
        columns.append(scorecard.grouping_key)
    rows = [columns]
    for application in applications.iterator(chunk_size=2000):
        row = [_export_value(application.inputs.get(name)) for name in scorecard.field_names]
        row.append(application.realised_outcome.outcome_class)
        if scorecard.grouping_key:
            row.append(f"applicant-{application.applicant_id}")
        rows.append(row)
    if len(rows) == 1:
        raise ApplicationError(
            f"No {scorecard.key} application has a recorded outcome yet: nothing to export."
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    upload = ContentFile(safe_csv_rows(rows).encode(), name=f"{scorecard.key}-outcomes-{stamp}.csv")
    return training_dataset_create(
        scorecard_key=scorecard.key,
        upload=upload,
        by=by,
        source=TrainingDataset.Source.OUTCOMES,
    )


def _export_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


# --- publishing ------------------------------------------------------------------------------


def _publish(job: TrainingJob | BatchScoringJob) -> None:
    """Send the job's task; if the broker cannot take it, fail the job with the reason."""
    from . import tasks

    task = (
        tasks.run_batch_scoring_job if isinstance(job, BatchScoringJob) else tasks.run_training_job
    )
    try:
        task.apply_async(
            args=[job.pk], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except Exception as error:  # any failure to publish means the job is not queued
        log.warning("Could not queue %s: %s", job, error)
        message = (
            "Could not queue the job: the task broker is unreachable. Nothing was processed; "
            "try again when the background workers are back."
        )
        _finish(type(job), job.pk, status=JobStatus.FAILED, error=f"{message} ({error})")
        raise JobQueueUnavailable(message) from error


def _queue(job: TrainingJob | BatchScoringJob) -> None:
    """Publish once the job's row is committed, so a worker never looks for a missing row.

    Called outside a transaction (portal and API views that submit jobs are not atomic),
    the publish happens now and a broker failure raises JobQueueUnavailable (HTTP 503) after
    marking the job failed with the reason: no job is left queued without a message.
    Inside a transaction, it happens on commit and a failure only marks the job failed.
    """
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _publish_quietly(job))
    else:
        _publish(job)


def _publish_quietly(job) -> None:
    with contextlib.suppress(JobQueueUnavailable):  # the job is marked failed with the reason
        _publish(job)


# --- claiming, heartbeats, finishing ------------------------------------------------------------


def _new_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_orphaned(job: TrainingJob | BatchScoringJob, *, now=None) -> bool:
    """A running job whose worker is gone: released, dead on this host, or silent too long."""
    if job.status != JobStatus.RUNNING:
        return False
    if not job.worker:
        return True
    host, _, rest = job.worker.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
        return True
    now = now or timezone.now()
    stale = timedelta(seconds=settings.JOB_STALE_SECONDS)
    return job.heartbeat_at is None or job.heartbeat_at < now - stale


@transaction.atomic
def _claim(model, job_id: int, token: str):
    """Mark the job running for this worker, or return None if it must not run here."""
    job = model.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        log.warning("%s #%s does not exist; message dropped.", model.__name__, job_id)
        return None
    if job.status in FINISHED_JOB_STATUSES:
        return None
    if job.cancel_requested:
        _finish(model, job.pk, status=JobStatus.CANCELLED)
        return None
    if job.status == JobStatus.RUNNING and not is_orphaned(job):
        log.info("%s is held by %s; duplicate message skipped.", job, job.worker)
        return None
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        _finish(
            model,
            job.pk,
            status=JobStatus.FAILED,
            error=f"The job's worker stopped {job.attempts} times before it could finish; "
            "it was not tried again.",
        )
        return None
    now = timezone.now()
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.worker = token
    job.heartbeat_at = now
    job.started_at = job.started_at or now
    job.save(update_fields=["status", "attempts", "worker", "heartbeat_at", "started_at"])
    return job


def _beat(model, job_pk: int, token: str, **fields) -> None:
    """Write progress (and the heartbeat) of a job this worker holds; stop if it does not."""
    updated = model.objects.filter(pk=job_pk, worker=token, status=JobStatus.RUNNING).update(
        heartbeat_at=timezone.now(), **fields
    )
    if not updated:
        raise _JobLost()


def _cancel_requested(model, job_pk: int) -> bool:
    return model.objects.filter(pk=job_pk, cancel_requested=True).exists()


def _finish(
    model, job_pk: int, *, status: str, token: str | None = None, error: str = "", **fields
):
    """Move an unfinished job to a final status (once); with `token`, only if still held."""
    queryset = model.objects.filter(pk=job_pk).exclude(status__in=FINISHED_JOB_STATUSES)
    if token is not None:
        queryset = queryset.filter(worker=token)
    return queryset.update(
        status=status, finished_at=timezone.now(), worker="", error=error[:4000], **fields
    )


def _release(model, job_pk: int, token: str) -> None:
    """Give a running job back (before a retry), so the next attempt may claim it at once."""
    try:
        model.objects.filter(pk=job_pk, worker=token, status=JobStatus.RUNNING).update(worker="")
    except DatabaseError:
        log.warning("Could not release %s #%s; recovery will find it.", model.__name__, job_pk)


def _failure_message(error: BaseException) -> str:
    if isinstance(error, SoftTimeLimitExceeded):
        return (
            f"The job took longer than the time limit ({settings.CELERY_TASK_SOFT_TIME_LIMIT} s) "
            "and was stopped."
        )
    if isinstance(error, CleaningError | ApplicationError):
        return str(error)
    if isinstance(error, BrokenProcessPool):
        return (
            "A scoring process stopped unexpectedly (killed, or out of memory); the job can "
            "be submitted again."
        )
    return f"Unexpected error ({type(error).__name__}): {error}"


def _run_claimed(model, job, token: str, body) -> None:
    """Run `body(job, token)` with the failure rules every job shares."""
    try:
        body(job, token)
    except _JobCancelled:
        _finish(model, job.pk, status=JobStatus.CANCELLED, token=token)
    except _JobLost:
        log.warning("%s was taken over by another worker; this run stops.", job)
    except TRANSIENT_ERRORS:
        _release(model, job.pk, token)
        raise
    except Exception as error:
        log.exception("%s failed", job)
        _finish(model, job.pk, status=JobStatus.FAILED, token=token, error=_failure_message(error))


def job_cancel(*, job: TrainingJob | BatchScoringJob, by) -> TrainingJob | BatchScoringJob:
    """Cancel a queued job at once, or ask a running one to stop after its current step."""
    model = type(job)
    with transaction.atomic():
        job = model.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            raise ApplicationError(f"This job has already {job.get_status_display().lower()}.")
        if job.status == JobStatus.QUEUED:
            _finish(model, job.pk, status=JobStatus.CANCELLED, cancel_requested=True)
        else:
            model.objects.filter(pk=job.pk).update(cancel_requested=True)
    log.info("%s cancelled by %s", job, by)
    job.refresh_from_db()
    return job


# --- recovery ----------------------------------------------------------------------------------


def jobs_recover_orphaned() -> list[str]:
    """Queue again every job whose worker died (and every job queued for too long).

    Safe to run anywhere, any number of times: a re-queued job is claimed by one worker only,
    and a duplicate message finds it held (or finished) and is dropped.
    """
    recovered = []
    now = timezone.now()
    stale_queued = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    for model in (BatchScoringJob, TrainingJob):
        # A queued job is re-published at most once per stale period (its heartbeat marks
        # the last time), not every minute while it waits behind a long job.
        waited = Q(heartbeat_at__isnull=True, created_at__lt=stale_queued) | Q(
            heartbeat_at__lt=stale_queued
        )
        candidates = model.objects.filter(status=JobStatus.RUNNING) | model.objects.filter(
            waited, status=JobStatus.QUEUED
        )
        for job in candidates.only("pk", "status", "worker", "heartbeat_at", "attempts"):
            if job.status == JobStatus.RUNNING and not is_orphaned(job, now=now):
                continue
            with transaction.atomic():
                job = model.objects.select_for_update().get(pk=job.pk)
                if job.status == JobStatus.RUNNING:
                    if not is_orphaned(job, now=now):
                        continue
                    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                        _finish(
                            model,
                            job.pk,
                            status=JobStatus.FAILED,
                            error=f"The job's worker stopped {job.attempts} times before it "
                            "could finish; it was not tried again.",
                        )
                        continue
                    model.objects.filter(pk=job.pk).update(worker="")
                elif job.status == JobStatus.QUEUED:
                    model.objects.filter(pk=job.pk).update(heartbeat_at=now)
                else:
                    continue
            try:
                _publish(job)
            except JobQueueUnavailable:
                continue
            log.warning("Re-queued %s (its worker stopped or its message was lost).", job)
            recovered.append(str(job))
    return recovered + _datasets_recover_validation(stale_queued)


def _datasets_recover_validation(stale: datetime) -> list[str]:
    """Queue again the validation of a large upload still validating since `stale` (its
    worker died, or its message was lost), at most JOB_MAX_ATTEMPTS times in all."""
    recovered = []
    waiting = Q(validation_started_at__isnull=True, uploaded_at__lt=stale) | Q(
        validation_started_at__lt=stale
    )
    validating = TrainingDataset.objects.filter(waiting, status=TrainingDataset.Status.VALIDATING)
    for dataset in validating.only("pk", "file", "validation_attempts"):
        if dataset.validation_attempts >= settings.JOB_MAX_ATTEMPTS:
            _reject_dataset(
                dataset,
                f"Its validation stopped {dataset.validation_attempts} times before it could "
                "finish (the file may be too large for the workers' memory).",
            )
            continue
        # Counts as a start, so it is re-queued once per stale period.
        TrainingDataset.objects.filter(pk=dataset.pk).update(validation_started_at=timezone.now())
        _publish_validation(dataset, quietly=True)
        log.warning("Re-queued the validation of %s.", dataset)
        recovered.append(str(dataset))
    return recovered


# --- training jobs -------------------------------------------------------------------------------


def training_job_create(
    *,
    scorecard_key: str,
    dataset: TrainingDataset | None = None,
    search: bool = False,
    by=None,
    trigger: str = TrainingJob.Trigger.MANUAL,
) -> TrainingJob:
    """Queue a retraining of a scorecard (on a stored dataset, else its configured extract)."""
    if by is not None and not by.has_perm("scoring.add_trainingjob"):
        raise PermissionDenied("Only a credit manager can start a retraining.")
    scorecard = _scorecard_or_error(scorecard_key)
    if dataset is not None:
        if dataset.scorecard != scorecard.key:
            raise ValidationError({"dataset": f"This dataset is for {dataset.scorecard}."})
        if dataset.status != TrainingDataset.Status.READY:
            raise ValidationError(
                {"dataset": f"This dataset is {dataset.get_status_display().lower()}."}
            )
        if dataset.rows_kept < MIN_TRAINING_ROWS:
            raise ValidationError(
                {"dataset": f"At least {MIN_TRAINING_ROWS} labelled rows are needed to train."}
            )
        missing = [c for c in scorecard.classes if not dataset.class_counts.get(c)]
        if missing:
            raise ValidationError(
                {"dataset": f"The dataset has no row of class {', '.join(missing)}."}
            )
    with transaction.atomic():
        if TrainingJob.objects.filter(scorecard=scorecard.key, status__in=ACTIVE).exists():
            raise ApplicationError(
                f"A retraining of {scorecard.key} is already queued or running; wait for it."
            )
        try:
            with transaction.atomic():
                job = TrainingJob.objects.create(
                    scorecard=scorecard.key,
                    dataset=dataset,
                    search=search,
                    trigger=trigger,
                    requested_by=by,
                )
        except IntegrityError:  # another request queued one meanwhile
            raise ApplicationError(
                f"A retraining of {scorecard.key} is already queued or running; wait for it."
            ) from None
    _queue(job)
    return job


def training_job_run(*, job_id: int) -> None:
    """The worker's side of a training job (a re-run after a crash starts over)."""
    token = _new_token()
    job = _claim(TrainingJob, job_id, token)
    if job is not None:
        _run_claimed(TrainingJob, job, token, _train)


class _TrainingProgress:
    """progress(stage, fraction, message) for ml.train: log, heartbeat, cancellation."""

    def __init__(self, job: TrainingJob, token: str):
        self.job, self.token = job, token
        self.log = list(job.log)
        self.last_write = 0.0
        self.stage = ""

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        self.log.append(
            {"at": timezone.now().isoformat(timespec="seconds"), "stage": stage, "message": message}
        )
        now = time.monotonic()
        if stage == self.stage and now - self.last_write < 1.0:
            return
        self.stage, self.last_write = stage, now
        if _cancel_requested(TrainingJob, self.job.pk):
            raise _JobCancelled()
        _beat(
            TrainingJob,
            self.job.pk,
            self.token,
            stage=stage,
            progress=min(max(float(fraction), 0.0), 1.0),
            log=self.log[-200:],
        )


class _Heartbeat:
    """Beats for a long step that reports no progress (fitting a big forest) in a thread."""

    def __init__(self, model, job_pk: int, token: str, every: float = 30.0):
        self.model, self.job_pk, self.token, self.every = model, job_pk, token, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{job_pk}", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                self.model.objects.filter(
                    pk=self.job_pk, worker=self.token, status=JobStatus.RUNNING
                ).update(heartbeat_at=timezone.now())
        except DatabaseError:
            log.warning("Heartbeat of %s #%s failed.", self.model.__name__, self.job_pk)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def _train(job: TrainingJob, token: str) -> None:
    with _Heartbeat(TrainingJob, job.pk, token):
        _train_with_heartbeat(job, token)


def _train_with_heartbeat(job: TrainingJob, token: str) -> None:
    scorecard = get_scorecard(job.scorecard)
    progress = _TrainingProgress(job, token)
    started = time.monotonic()
    progress("cleaning", 0.0, "reading the training data")
    cleaning = None
    if job.dataset is not None:
        dataset = job.dataset
        with dataset.file.open("rb") as handle:
            content = handle.read()
        if hashlib.sha256(content).hexdigest() != dataset.sha256:
            raise ApplicationError("The stored dataset file does not match its sha256.")
        cleaned = load_raw(scorecard, content, require_target=True)
        frame, synthetic, cleaning = cleaned.frame, False, cleaned.report.to_dict()
        description = f"{dataset.original_name} ({cleaned.report.rows_kept:,} rows after cleaning)"
    else:
        data = training_data_load(scorecard=scorecard)
        frame, synthetic, description = data.frame, data.synthetic, data.description
        cleaning = data.cleaning.to_dict() if data.cleaning else None
    progress("cleaning", 1.0, description)
    options = dict(getattr(settings, "TRAINING_JOB_OPTIONS", {}) or {})
    result = train_scorecard(
        scorecard, frame, search=job.search, progress=progress, synthetic=synthetic, **options
    )
    if cleaning is not None:
        result.report["cleaning"] = cleaning
    progress("comparing", 0.5, "evaluating the production model on the same test rows")
    comparison = compare_with_production(
        scorecard, frame, result.report, random_state=options.get("random_state", 42)
    )
    result.report["comparison_with_production"] = comparison
    with transaction.atomic():
        held = TrainingJob.objects.select_for_update().filter(
            pk=job.pk, worker=token, status=JobStatus.RUNNING
        )
        if not held.exists():
            raise _JobLost()
        version = services.model_version_register(
            result=result,
            created_by=job.requested_by,
            training_data_description=description,
            notes=f"Training job #{job.pk}",
        )
        auto_promotion = _auto_promote(version, comparison)
        progress.log.append(
            {
                "at": timezone.now().isoformat(timespec="seconds"),
                "stage": "done",
                "message": f"registered {version.label} as a candidate; "
                f"{auto_promotion['summary']}",
            }
        )
        _finish(
            TrainingJob,
            job.pk,
            status=JobStatus.SUCCEEDED,
            token=token,
            stage="done",
            progress=1.0,
            log=progress.log[-200:],
            model_version=version,
            comparison=comparison,
            auto_promotion=auto_promotion,
            timings={
                **result.report.get("timings_seconds", {}),
                "job_total": round(time.monotonic() - started, 2),
            },
        )


def compare_with_production(
    scorecard: Scorecard, frame: pd.DataFrame, report: dict, *, random_state: int = 42
) -> dict:
    """The candidate and the current production model, measured on the candidate's test rows.

    ml.train splits with a fixed seed, so the same frame gives the same test rows here. If
    production was trained on other data that overlaps these rows, its figures are flattered;
    the report says which data each was trained on.
    """
    candidate = report["quality"]["random_forest"]
    production = (
        ModelVersion.objects.filter(scorecard=scorecard.key, status=ModelVersion.Status.PRODUCTION)
        .only("pk", "version", "artifact", "artifact_sha256", "manifest", "report", "is_synthetic")
        .first()
    )
    comparison = {
        "test_rows": report["rows"]["test"],
        "candidate": candidate,
        "production": None,
        "production_version": None,
    }
    if production is None:
        comparison["note"] = "No production model yet."
        return comparison
    try:
        model = model_version_load(production)
        labelled = frame[frame[scorecard.target].notna()].reset_index(drop=True)
        y = target_codes(scorecard, labelled[scorecard.target])
        key = scorecard.grouping_key
        groups = labelled[key].to_numpy() if key and key in labelled else None
        split = split_indices(y, groups, random_state=random_state)
        X_test = model_input_frame(scorecard, labelled).iloc[split.test]
        proba = model.pipeline.predict_proba(X_test.loc[:, model.input_fields])
        metrics = evaluate_predictions(
            y[split.test],
            proba,
            classes=list(scorecard.classes),
            policy=model.policy,
            cost_matrix=scorecard.cost_matrix,
            cut_off=production.report.get("cut_off"),
        )
        comparison["production"] = headline_metrics(metrics)
    except Exception as error:  # a comparison that cannot be made must not lose the candidate
        log.exception("Could not evaluate %s on the candidate's test rows", production)
        comparison["note"] = f"Production could not be evaluated on these rows: {error}"
    comparison["production_version"] = {
        "id": production.pk,
        "label": str(production),
        "is_synthetic": production.is_synthetic,
    }
    return comparison


def _auto_promote(version: ModelVersion, comparison: dict) -> dict:
    config = ScorecardJobSettings.objects.filter(scorecard=version.scorecard).first()
    outcome: dict[str, Any] = {"enabled": bool(config and config.auto_promote), "promoted": False}
    if not outcome["enabled"]:
        outcome["summary"] = "auto-promotion is off: a credit manager decides on promotion"
        return outcome
    metric = config.auto_promote_metric
    lower_is_better = metric in ScorecardJobSettings.LOWER_IS_BETTER
    outcome.update(metric=metric, min_gain=config.auto_promote_min_gain)
    candidate_value = (comparison.get("candidate") or {}).get(metric)
    production_value = (comparison.get("production") or {}).get(metric)
    production_info = comparison.get("production_version")
    outcome.update(candidate=candidate_value, production=production_value)
    if candidate_value is None:
        outcome["summary"] = f"not promoted: the candidate has no {metric}"
        return outcome
    if version.is_synthetic and production_info and not production_info["is_synthetic"]:
        outcome["summary"] = "not promoted: a synthetic-data model never replaces a real one"
        return outcome
    if production_info is not None:
        if production_value is None:
            outcome["summary"] = "not promoted: production could not be measured on these rows"
            return outcome
        gain = (
            production_value - candidate_value
            if lower_is_better
            else candidate_value - production_value
        )
        outcome["gain"] = gain
        if gain <= 0 or gain < config.auto_promote_min_gain:
            outcome["summary"] = (
                f"not promoted: {metric} {candidate_value:.4f} does not beat production's "
                f"{production_value:.4f} by more than {config.auto_promote_min_gain}"
            )
            return outcome
    reason = (
        f"Automatic promotion (switched on for {version.scorecard}): {metric} "
        f"{candidate_value:.4f} vs production "
        f"{'none' if production_value is None else f'{production_value:.4f}'} "
        "on the same test rows."
    )
    services.model_version_promote_automatic(version=version, reason=reason)
    outcome.update(promoted=True, summary="promoted automatically: " + reason)
    return outcome


# --- scorecard job settings and the retraining schedule ---------------------------------------


def scorecard_job_settings_get(*, scorecard_key: str) -> ScorecardJobSettings:
    scorecard = _scorecard_or_error(scorecard_key)
    return ScorecardJobSettings.objects.filter(
        scorecard=scorecard.key
    ).first() or ScorecardJobSettings(scorecard=scorecard.key)


def scorecard_job_settings_update(*, scorecard_key: str, by, **values) -> ScorecardJobSettings:
    """Auto-promotion and periodic retraining of one scorecard (both off by default)."""
    if not by.has_perm("scoring.change_scorecardjobsettings"):
        raise PermissionDenied("Only a credit manager can change these settings.")
    allowed = {
        "auto_promote",
        "auto_promote_metric",
        "auto_promote_min_gain",
        "retrain_every_days",
        "retrain_dataset",
        "retrain_search",
    }
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"Unknown settings: {sorted(unknown)}")
    with transaction.atomic():
        config = scorecard_job_settings_get(scorecard_key=scorecard_key)
        was_scheduled = config.pk is not None and config.retrain_every_days
        for name, value in values.items():
            setattr(config, name, value)
        dataset = config.retrain_dataset
        if dataset is not None and dataset.scorecard != config.scorecard:
            raise ValidationError({"retrain_dataset": "That dataset is for another scorecard."})
        if config.retrain_every_days and not was_scheduled:
            # The first periodic run comes one period after switching the schedule on.
            config.last_scheduled_at = timezone.now()
        config.updated_by = by
        config.full_clean()
        config.save()
    return config


def retraining_start_due(*, now=None) -> list[TrainingJob]:
    """Start the periodic retrainings that are due (Celery beat calls this)."""
    now = now or timezone.now()
    started = []
    for config in ScorecardJobSettings.objects.filter(retrain_every_days__isnull=False):
        due_at = (config.last_scheduled_at or now) + timedelta(days=config.retrain_every_days)
        if config.last_scheduled_at is not None and due_at > now:
            continue
        dataset = (
            config.retrain_dataset
            or TrainingDataset.objects.filter(
                scorecard=config.scorecard, status=TrainingDataset.Status.READY
            ).first()
        )
        ScorecardJobSettings.objects.filter(pk=config.pk).update(last_scheduled_at=now)
        try:
            job = training_job_create(
                scorecard_key=config.scorecard,
                dataset=dataset,
                search=config.retrain_search,
                by=None,
                trigger=TrainingJob.Trigger.SCHEDULE,
            )
        except (ApplicationError, ValidationError) as error:
            log.warning("Periodic retraining of %s not started: %s", config.scorecard, error)
            continue
        started.append(job)
    return started


# --- bulk scoring jobs ---------------------------------------------------------------------------


def batch_job_create(*, scorecard_key: str, upload, owner) -> BatchScoringJob:
    """Store a CSV of applicants and queue its scoring; the header is checked now."""
    if not owner.has_perm("scoring.add_batchscoringjob"):
        raise PermissionDenied("Your role does not allow bulk scoring.")
    scorecard = _scorecard_or_error(scorecard_key)
    _check_upload(upload, max_mb=settings.MAX_BATCH_UPLOAD_MB)
    if not ModelVersion.objects.filter(
        scorecard=scorecard.key, status=ModelVersion.Status.PRODUCTION
    ).exists():
        raise ApplicationError(
            f"There is no production model for '{scorecard.key}' yet: a credit manager must "
            "train and promote one.",
            extra={"code": "no_production_model"},
        )
    _check_header(scorecard, upload)
    job = BatchScoringJob(
        scorecard=scorecard.key,
        original_name=os.path.basename(upload.name)[:255],
        size_bytes=upload.size,
        owner=owner,
        chunk_rows=settings.BATCH_CHUNK_ROWS,
    )
    job.input_file.save(f"inputs/{_stored_name(upload.name)}", upload, save=False)
    try:
        with transaction.atomic():
            job.full_clean()
            job.save()
    except Exception:
        job.input_file.delete(save=False)
        raise
    try:
        _queue(job)
    except JobQueueUnavailable:
        job.input_file.delete(save=False)
        raise
    return job


def _check_header(scorecard: Scorecard, upload, *, require_target: bool = False) -> None:
    """Refuse a file that is not a CSV, has no data row, or lacks required columns (or the
    target), judging by its first 200 rows."""
    upload.seek(0)
    head = upload.read(1024 * 1024)
    upload.seek(0)
    lines = head.splitlines()
    if len(head) == 1024 * 1024 and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    try:
        first = next(read_csv_chunks(b"\n".join(lines[:201]) + b"\n", rows=200), None)
        if first is not None:
            clean_frame(scorecard, first.frame, require_target=require_target, repair_groups=False)
    except CleaningError as error:
        raise ValidationError({"file": str(error)}) from None
    if first is None:
        raise ValidationError({"file": "The file has a header but no data row."})


def batch_job_run(*, job_id: int) -> None:
    """The worker's side of a bulk scoring job; resumes after the last committed chunk."""
    token = _new_token()
    job = _claim(BatchScoringJob, job_id, token)
    if job is not None:
        _run_claimed(BatchScoringJob, job, token, _score_file)


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


def _count_rows(job: BatchScoringJob) -> int:
    """Data rows of the file, as the job will read them (blank lines skipped)."""
    with job.input_file.open("rb") as handle:
        return count_csv_rows(handle)


def _part_name(job: BatchScoringJob, chunk_index: int) -> str:
    return f"batch/results/job-{job.pk}/part-{chunk_index:06d}.csv"


def _score_file(job: BatchScoringJob, token: str) -> None:
    scorecard = get_scorecard(job.scorecard)
    if job.model_version_id is None:
        version = ModelVersion.objects.filter(
            scorecard=job.scorecard, status=ModelVersion.Status.PRODUCTION
        ).first()
        if version is None:
            raise ApplicationError(f"There is no production model for '{job.scorecard}'.")
        job.model_version = version
        _beat(BatchScoringJob, job.pk, token, model_version=version)
    model = _model_for(job.model_version)
    if job.rows_total is None:
        job.rows_total = _count_rows(job)
        _beat(BatchScoringJob, job.pk, token, rows_total=job.rows_total)
    chunk_rows = job.chunk_rows or settings.BATCH_CHUNK_ROWS
    # Rows per second of this attempt (a resumed job does not count the rows it skips).
    job.attempt_started, job.attempt_rows = time.monotonic(), 0
    context = _ChunkContext(job=job, scorecard=scorecard, model=model, vendor=connection.vendor)
    header: list[str] | None = None
    chunks = 0
    # The scorers are forked before the writer starts its thread (a fork copies one thread).
    with (
        _ChunkScorers(context, settings.BATCH_SCORING_PROCESSES) as scorers,
        _ChunkWriter() as writer,
        job.input_file.open("rb") as handle,
    ):
        in_flight: deque[Future] = deque()
        for chunk_index, chunk in enumerate(read_csv_chunks(handle, rows=chunk_rows)):
            header = header or list(chunk.frame.columns)
            chunks = chunk_index + 1
            if chunk.last_row <= job.rows_done:  # committed by an earlier attempt
                continue
            if _cancel_requested(BatchScoringJob, job.pk):
                raise _JobCancelled()
            in_flight.append(scorers.submit(chunk, chunk_index))
            while len(in_flight) > scorers.ahead:
                writer.commit(job.pk, token, _chunk_commit_of(job, in_flight.popleft().result()))
        while in_flight:
            writer.commit(job.pk, token, _chunk_commit_of(job, in_flight.popleft().result()))
        if header is None:
            raise ApplicationError("The file has no data row.")
        # Every part is written: assemble the result while the last chunk commits.
        result_name = _write_result(job, model, header, chunks)
        try:
            writer.wait()
        except BaseException:
            default_storage.delete(result_name)
            raise
    finished = _finish(
        BatchScoringJob,
        job.pk,
        status=JobStatus.SUCCEEDED,
        token=token,
        result_file=result_name,
        rows_total=job.rows_done,
    )
    if not finished:
        default_storage.delete(result_name)
        raise _JobLost()
    for chunk_index in range(chunks):
        default_storage.delete(_part_name(job, chunk_index))


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


def result_columns(model: ScoringModel) -> list[str]:
    """The columns a bulk result adds after the input's own columns."""
    columns = ["predicted_class", *(f"probability_{c}" for c in model.classes)]
    columns += ["score", "band", "recommendation", "reasons", "reason_codes"]
    if model.segmenter is not None:
        columns += ["segment", "segment_description"]
    return [*columns, ERROR_COLUMN]


def result_header(input_columns: list[str], model: ScoringModel) -> list[str]:
    """Names of the added columns in a result file. One that an input column already uses
    (a lender's file may well have its own `score` or `error`) is prefixed with
    `creditportal_`, so both are kept, each under a name of its own."""
    taken = set(input_columns)
    header = []
    for name in result_columns(model):
        while name in taken:
            name = f"creditportal_{name}"
        taken.add(name)
        header.append(name)
    return header


@dataclass
class _ChunkContext:
    """What scoring a chunk needs besides the chunk: fixed for the job's run."""

    job: BatchScoringJob
    scorecard: Scorecard
    model: ScoringModel
    vendor: str  # the database's: PostgreSQL gets its rows as COPY text


@dataclass
class _ChunkResult:
    """A scored chunk: its result part is written; these are what its commit stores."""

    last_row: int  # the chunk's last row number
    rows: int
    valid: int
    invalid: int
    predictions: list[tuple] | str  # tuples in _PREDICTION_COLUMNS order, or COPY text
    row_errors: list[tuple[int, str, str]]  # (row number, field, message)


def _score_chunk(context: _ChunkContext, chunk: CsvChunk, chunk_index: int) -> _ChunkResult:
    """Score one chunk and write its part of the result file; return what its commit
    stores. It reads nothing from the database and writes only its part, so it can run in
    a scoring process (`_ChunkScorers`)."""
    job, scorecard, model = context.job, context.scorecard, context.model
    started = time.perf_counter()
    first_row, rows = chunk.first_row, chunk.last_row - chunk.first_row + 1
    cleaned = clean_frame(
        scorecard, chunk.frame, row_numbers=chunk.row_numbers, repair_groups=False
    )
    kept = set(cleaned.frame[ROW_NUMBER].tolist())
    errors: dict[int, dict[str, list[str]]] = dict(cleaned.row_errors)
    for row_number in chunk.row_numbers.tolist():
        if row_number not in kept:
            errors[row_number] = {"__all__": ["Empty row: no value in any column."]}
    for row_number, reason in chunk.malformed.items():
        errors[row_number] = {"__all__": [f"Not read: {reason}"]}
    valid = cleaned.frame[~cleaned.frame[ROW_NUMBER].isin(errors)].reset_index(drop=True)
    scored = (
        model.predict_frame(valid, sentences=True)
        if len(valid)
        else pd.DataFrame(columns=model.output_columns(True))
    )

    # The result part: the input row as read (blank for a malformed row), then the
    # prediction or the row's error.
    raw = chunk.frame
    if chunk.malformed:
        raw = pd.DataFrame("", index=range(rows), columns=raw.columns, dtype="str")
        raw.iloc[chunk.row_numbers - first_row] = chunk.frame.to_numpy()
    names = dict(zip(result_columns(model), result_header(list(raw.columns), model), strict=True))
    added = {name: np.full(rows, "", dtype=object) for name in names}
    positions = (valid[ROW_NUMBER].to_numpy() - first_row).astype(int)
    if len(valid):
        values = {
            "predicted_class": scored["predicted_class"],
            "score": scored["points"].astype(int).astype(str),
            "band": scored["band"],
            "recommendation": scored["recommendation"],
            "reasons": scored["reasons"],
            "reason_codes": scored["reason_codes"],
        }
        for name in model.classes:
            values[f"probability_{name}"] = scored[f"probability_{name}"].round(6).astype(str)
        if model.segmenter is not None:
            values["segment"] = scored["segment"].astype(int).astype(str)
            values["segment_description"] = scored["segment_description"]
        for column, series in values.items():
            added[column][positions] = series.to_numpy()
    for row_number, by_field in errors.items():
        added[ERROR_COLUMN][row_number - first_row] = "; ".join(
            f"{'row' if name == '__all__' else name}: {' '.join(messages)}"
            for name, messages in by_field.items()
        )
    out = pd.concat(
        [raw, pd.DataFrame({names[k]: v for k, v in added.items()}, index=raw.index)], axis=1
    )
    part = safe_csv_text(out, header=False)
    name = _part_name(job, chunk_index)
    if default_storage.exists(name):  # left by an attempt that died before committing
        default_storage.delete(name)
    default_storage.save(name, ContentFile(part.encode()))

    predictions = _prediction_rows(job, model, scorecard, valid, scored, started)
    return _ChunkResult(
        last_row=chunk.last_row,
        rows=rows,
        valid=len(valid),
        invalid=len(errors),
        predictions=_copy_text(predictions) if context.vendor == "postgresql" else predictions,
        row_errors=[
            (row_number, name, message[:500])
            for row_number, by_field in errors.items()
            for name, messages in by_field.items()
            for message in messages[:1]
        ],
    )


def _chunk_commit_of(job: BatchScoringJob, result: _ChunkResult) -> _ChunkCommit:
    """Move the job's counters in memory on past a scored chunk (chunks arrive in order);
    what the chunk's commit stores."""
    job.attempt_rows += result.rows
    job.rows_per_second = job.attempt_rows / max(time.monotonic() - job.attempt_started, 1e-6)
    job.rows_done = result.last_row
    job.rows_valid += result.valid
    job.rows_invalid += result.invalid
    return _ChunkCommit(
        progress={
            "rows_done": job.rows_done,
            "rows_valid": job.rows_valid,
            "rows_invalid": job.rows_invalid,
            "rows_per_second": job.rows_per_second,
        },
        predictions=result.predictions,
        row_errors=[
            BatchRowError(job_id=job.pk, row_number=row_number, field=name, message=message)
            for row_number, name, message in result.row_errors
        ],
    )


@dataclass
class _ChunkCommit:
    progress: dict[str, Any]  # the job's counters once this chunk is in
    predictions: list[tuple] | str  # see _ChunkResult
    row_errors: list[BatchRowError]


def _chunk_commit(job_pk: int, token: str, chunk: _ChunkCommit) -> None:
    """A chunk's predictions, row errors and progress in one transaction: a worker killed
    at any moment leaves either all of them or none."""
    with transaction.atomic():
        _beat(BatchScoringJob, job_pk, token, **chunk.progress)
        _insert_predictions(chunk.predictions)
        BatchRowError.objects.bulk_create(chunk.row_errors, batch_size=2000, ignore_conflicts=True)


class _ChunkWriter:
    """Commits chunks in order on a thread of its own while the next chunk is scored.

    Storing a chunk is mostly the database's work (parsing, indexes, foreign-key checks at
    commit: about 4 s per 100,000 rows on PostgreSQL), so it overlaps with scoring the next
    chunk on the other core. At most one commit is in flight: `commit` first waits for the
    previous one and raises its error, if any, so a failed chunk stops the job before the
    next is queued, and leaving the `with` block waits for the last one.

    Inside an enclosing transaction (a caller's `atomic`, the test suite's) the commits run
    on the caller's thread instead: a second connection could not see that transaction's rows.
    """

    def __init__(self):
        self.threaded = not connection.in_atomic_block
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer")
        self.pending: Future | None = None

    def commit(self, job_pk: int, token: str, chunk: _ChunkCommit) -> None:
        self.wait()
        if self.threaded:
            self.pending = self.pool.submit(_chunk_commit, job_pk, token, chunk)
        else:
            _chunk_commit(job_pk, token, chunk)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self.pending is not None:  # already failing: let the commit end, keep exc
                with contextlib.suppress(Exception):
                    self.pending.result()
        finally:
            if self.threaded:
                # The writer thread's own connection (looked up on that thread).
                self.pool.submit(lambda: connection.close()).result()
            self.pool.shutdown(wait=True)


class _ChunkScorers:
    """Scores chunks in `processes` forked processes while the worker reads the file and
    commits, or in the worker's own thread when `processes` is 1.

    Scoring is the larger half of a bulk job's work (about 0.8 s of CPU per 10,000 rows,
    against 0.5 s for the database to store them), and one Python thread scores on one core
    at a time (the GIL). Two processes keep both cores of a 2-core machine busy.

    The processes are forked from the worker when the job starts, so they have its loaded
    model and the job without pickling either; a chunk goes to them as a data frame and
    comes back as a `_ChunkResult`. They never use the database (the worker's connection is
    only a copied socket in them), and each exits by itself once the worker is gone,
    SIGKILL included, so a killed worker leaves no scorer behind. The worker takes results
    in the order it submitted them, so chunks still commit in order.
    """

    def __init__(self, context: _ChunkContext, processes: int):
        self.context = context
        self.pool: ProcessPoolExecutor | None = None
        if processes > 1:
            self.pool = ProcessPoolExecutor(
                max_workers=processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_scorer_start,
                initargs=(context, os.getpid()),
            )
            # Objects alive now are frozen out of the garbage collector while the processes
            # are forked: the scorers' collections then never write to them, so their memory
            # pages stay shared with the worker instead of being copied (Python's gc docs).
            gc.freeze()
            try:
                with _children_allowed():
                    self.pool.submit(os.getpid).result()  # forks all the processes
            except BaseException:
                self.pool.shutdown(wait=True, cancel_futures=True)
                raise
            finally:
                gc.unfreeze()
        # Chunks submitted before the oldest must be committed: one per process and one
        # more, so that a process that finishes a chunk has the next one waiting.
        self.ahead = processes + 1 if self.pool else 0

    def submit(self, chunk: CsvChunk, chunk_index: int) -> Future:
        if self.pool is not None:
            return self.pool.submit(_score_chunk_in_scorer, chunk, chunk_index)
        done: Future = Future()
        done.set_result(_score_chunk(self.context, chunk, chunk_index))
        return done

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _children_allowed():
    """Let this process fork scoring processes even as a Celery prefork pool process.

    Celery's pool marks its processes daemonic, and multiprocessing refuses to start
    children from a daemonic process, since they would outlive it when it is terminated.
    Scoring processes exit by themselves as soon as their parent is gone (_exit_without).
    """
    process = multiprocessing.current_process()
    daemon = process.daemon
    process.daemon = False
    try:
        yield
    finally:
        process.daemon = daemon


_scorer_context: _ChunkContext | None = None  # set in a scoring process by _scorer_start


def _scorer_start(context: _ChunkContext, worker_pid: int) -> None:
    """First thing in a scoring process: keep the job's context; leave the worker's signal
    handlers (Celery's) behind; exit when the worker is gone.

    Ctrl-C and SIGTERM reach a whole process group (a terminal, systemd stopping the
    service): the worker then finishes its job (a warm shutdown) and its scorers must
    finish with it, so they ignore both, and go when the pool is shut down or the worker
    dies."""
    global _scorer_context
    _scorer_context = context
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    for signum in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_DFL)
    threading.Thread(target=_exit_without, args=(worker_pid,), daemon=True).start()


def _exit_without(worker_pid: int) -> None:
    while os.getppid() == worker_pid:  # a dead parent's children are adopted by another
        time.sleep(0.5)
    os._exit(1)


def _score_chunk_in_scorer(chunk: CsvChunk, chunk_index: int) -> _ChunkResult:
    return _score_chunk(_scorer_context, chunk, chunk_index)


# Columns of the bulk insert of predictions (see _insert_predictions).
_PREDICTION_COLUMNS = (
    "scorecard",
    "model_version",
    "inputs",
    "predicted_class",
    "probabilities",
    "risk",
    "points",
    "band",
    "band_label",
    "recommendation",
    "reasons",
    "segment",
    "requested_by",
    "source",
    "latency_ms",
    "created_at",
    "batch_job",
    "row_number",
)


def _json_lines(frame: pd.DataFrame) -> list[str]:
    """Each row of a frame as a JSON object (pandas' C encoder: missing values are null)."""
    if frame.empty:
        return []
    return frame.to_json(orient="records", lines=True, double_precision=15).splitlines()


def _prediction_rows(job, model, scorecard, valid, scored, started) -> list[tuple]:
    """One tuple per valid row, in the order of _PREDICTION_COLUMNS (JSON already encoded)."""
    if not len(valid):
        return []
    inputs = valid[list(scorecard.field_names)].copy()
    for field_ in scorecard.fields:
        if field_.kind == FieldKind.MULTI_CATEGORICAL:
            inputs[field_.name] = inputs[field_.name].map(split_multi).astype(object)
    probability_columns = {f"probability_{c}": c for c in model.classes}
    probabilities = scored[list(probability_columns)].rename(columns=probability_columns)
    if model.segmenter is not None:
        segments = pd.DataFrame(
            {
                "id": scored["segment"].astype(int).to_numpy(),
                "description": scored["segment_description"].to_numpy(),
            }
        )
    else:
        segments = pd.DataFrame({"id": [None] * len(valid), "description": [""] * len(valid)})
    labels = _reason_labels(scorecard)
    reasons_json: dict[str, str] = {}  # the same few reason codes repeat over many rows
    latency_ms = (time.perf_counter() - started) * 1000 / len(valid)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = zip(
        valid[ROW_NUMBER].tolist(),
        _json_lines(inputs),
        scored["predicted_class"].tolist(),
        _json_lines(probabilities),
        scored["risk"].clip(0.0, 1.0).tolist(),
        scored["points"].astype(int).tolist(),
        scored["band"].tolist(),
        scored["band_label"].tolist(),
        scored["recommendation"].tolist(),
        scored["reason_codes"].tolist(),
        _json_lines(segments),
        strict=True,
    )
    source = Prediction.Source.BATCH.value
    out = []
    for (
        row_number,
        inputs_json,
        predicted,
        probabilities_json,
        risk,
        points,
        band,
        band_label,
        recommendation,
        codes,
        segment_json,
    ) in rows:
        reasons = reasons_json.get(codes)
        if reasons is None:
            reasons = reasons_json[codes] = json.dumps(_reasons(codes, labels))
        out.append(
            (
                job.scorecard,
                job.model_version_id,
                inputs_json,
                predicted,
                probabilities_json,
                risk,
                points,
                band,
                band_label,
                recommendation,
                reasons,
                segment_json,
                job.owner_id,
                source,
                latency_ms,
                now,
                job.pk,
                row_number,
            )
        )
    return out


def _insert_predictions(rows: list[tuple] | str) -> None:
    """Insert a chunk's predictions in one statement: COPY on PostgreSQL (`rows` may be
    its text already, see `_copy_text`), else executemany.

    The ORM's bulk_create spends most of a bulk job preparing values field by field; this
    statement is built once from the model's own table and column names. It runs in the
    chunk's transaction, after the conditional heartbeat update that locked the job row for
    this worker, so no other worker can be inserting the same rows; the unique
    (batch_job, row_number) constraint is the last guard (a duplicate fails the chunk).

    On PostgreSQL the rows travel in COPY's text format, one tab-separated line per row
    (psycopg's row-by-row `write_row` cost 2.3 s per 100,000 rows, Python's csv writer 1.9 s
    as it quotes every JSON document; these lines 0.3 s).
    """
    if not rows:
        return
    meta = Prediction._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in _PREDICTION_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = rows if isinstance(rows, str) else _copy_text(rows)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(text)
            return
        values = ", ".join("%s" for _ in _PREDICTION_COLUMNS)
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)


def _copy_text(rows: list[tuple]) -> str:
    """Rows in PostgreSQL's COPY text format: a line per row, values separated by tabs.

    Built column by column: most columns of a chunk are one repeated value or plain text
    that needs no escape, which one C-level pass over the column tells (value by value,
    this was a quarter of a scoring process's time)."""
    if not rows:
        return ""
    columns = [_copy_text_column(values) for values in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_text_column(values: tuple) -> list[str] | tuple[str, ...]:
    if set(map(type, values)) != {str}:  # numbers, None, datetimes, or a mix
        if len(set(map(id, values))) == 1:  # one object: the job's id, the chunk's time...
            return [_copy_text_value(values[0])] * len(values)
        return list(map(_copy_text_value, values))
    joined = "".join(values)
    if not any(special in joined for special in "\\\t\n\r"):
        return values
    distinct = set(values)
    if len(distinct) * 4 < len(values):  # reasons: a few combinations over many rows
        escaped = {value: value.translate(_COPY_SPECIAL) for value in distinct}
        return [escaped[value] for value in values]
    return [value.translate(_COPY_SPECIAL) for value in values]


_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text_value(value: Any) -> str:
    """One value in PostgreSQL's COPY text format: \\N for NULL; in text, a backslash, tab,
    newline or carriage return written as its backslash escape."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_SPECIAL)
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _reason_labels(scorecard: Scorecard) -> dict[str, str]:
    return {f.name: f.label for f in scorecard.fields}


def _reasons(codes: str, labels: dict[str, str]) -> list[dict]:
    reasons = []
    for code in filter(None, codes.split(";")):
        name, sign = code[:-1], code[-1]
        direction = "raises" if sign == "+" else "lowers"
        label = labels.get(name, name.replace("_", " ").capitalize())
        reasons.append(
            {
                "field": name,
                "label": label,
                "direction": direction,
                "sentence": f"{label} {direction} the risk.",
            }
        )
    return reasons


def _write_result(job: BatchScoringJob, model: ScoringModel, header: list[str], chunks: int):
    """Concatenate the chunks' parts under one safe header, through the storage API."""
    columns = [*header, *result_header(header, model)]
    with tempfile.TemporaryFile() as assembled:
        assembled.write(safe_csv_rows([columns]).encode())
        for chunk_index in range(chunks):
            with default_storage.open(_part_name(job, chunk_index), "rb") as part:
                shutil.copyfileobj(part, assembled, length=1024 * 1024)
        assembled.seek(0)
        stem = os.path.splitext(job.original_name)[0][:60] or "result"
        return default_storage.save(
            f"batch/results/job-{job.pk}/{_stored_name(stem + '-scored')}", File(assembled)
        )
