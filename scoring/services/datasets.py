"""Training datasets: labelled CSVs a model can be trained on, validated before use.

A small upload is cleaned in the request and stored ready, with its cleaning report. Cleaning
needs the whole file in memory, so an upload over TRAINING_INLINE_VALIDATION_MB is checked by
its first rows, stored as *validating* and cleaned by a worker (`training_dataset_validate`),
which makes it ready or rejects it and deletes its file. Decided applications with a realised
outcome can be exported as a dataset too.
"""

import logging
import os
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F, OuterRef, Q
from django.utils import timezone

from applicants.models import Application
from applicants.scorecards import scorecard_to_train
from creditportal.errors import ApplicationError, JobQueueUnavailable
from creditportal.queue import publish
from ml.cleaning import CleaningError, load_raw
from ml.exports import safe_csv_rows
from ml.schema import Scorecard
from scoring import selectors
from scoring.jobs.lifecycle import refuse_inside_transaction
from scoring.models import TrainingDataset

from .uploads import (
    scorecard_or_error,
    stored_name,
    upload_check,
    upload_check_header,
    upload_sha256,
)

log = logging.getLogger(__name__)


def training_dataset_create(
    *, scorecard_key: str, upload, by, source: str = TrainingDataset.Source.UPLOAD
) -> TrainingDataset:
    """Validate a labelled CSV against the scorecard and store it with its cleaning report.

    Nothing is stored unless the file is a CSV within the size limit with the scorecard's
    required columns and its target; a small one is refused at once if no usable labelled
    row is left. A large one's validation is queued: a broker that cannot take it gets
    JobQueueUnavailable (HTTP 503), and the upload is not kept.
    """
    if not by.has_perm("scoring.add_trainingdataset"):
        raise PermissionDenied("Only a credit manager can upload training data.")
    scorecard_or_error(scorecard_key)
    scorecard, _ = scorecard_to_train(scorecard_key)  # what the next model will learn
    upload_check(upload, max_mb=settings.MAX_TRAINING_UPLOAD_MB)
    sha256 = upload_sha256(upload)
    inline = upload.size <= settings.TRAINING_INLINE_VALIDATION_MB * 1024 * 1024
    upload_check_header(scorecard, upload, require_target=True)
    if inline:
        cleaned = _clean(scorecard, upload)
    else:
        refuse_inside_transaction()
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
        _describe(dataset, scorecard, cleaned)
    upload.seek(0)
    dataset.file.save(stored_name(upload.name), upload, save=False)
    try:
        dataset.full_clean()
        dataset.save()
    except Exception:
        dataset.file.delete(save=False)
        raise
    if not inline:
        _queue_validation(dataset, quietly=False)
    return dataset


def _clean(scorecard: Scorecard, source) -> Any:
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


def _describe(dataset: TrainingDataset, scorecard: Scorecard, cleaned) -> None:
    dataset.rows_read = cleaned.report.rows_read
    dataset.rows_kept = cleaned.report.rows_kept
    dataset.class_counts = {
        str(k): int(v) for k, v in cleaned.frame[scorecard.target].value_counts().items()
    }
    dataset.cleaning_report = cleaned.report.to_dict()


def _queue_validation(dataset: TrainingDataset, *, quietly: bool) -> None:
    """Publish the dataset's validation; if the broker cannot take it, reject the dataset
    (and delete its file) and, unless `quietly`, raise JobQueueUnavailable."""
    from scoring import tasks

    try:
        publish(
            tasks.validate_training_dataset,
            dataset.pk,
            what="the file's validation",
            outcome="The upload was not kept",
        )
    except JobQueueUnavailable as error:
        _reject(dataset, f"{error} ({error.__cause__})")
        if not quietly:
            raise


def _reject(dataset: TrainingDataset, reason: str) -> None:
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
    scorecard, _ = scorecard_to_train(dataset.scorecard)
    try:
        with dataset.file.open("rb") as handle:
            cleaned = _clean(scorecard, handle)
    except ValidationError as error:
        _reject(dataset, " ".join(error.message_dict.get("file", error.messages)))
        return
    _describe(dataset, scorecard, cleaned)
    validating.update(
        status=TrainingDataset.Status.READY,
        rows_read=dataset.rows_read,
        rows_kept=dataset.rows_kept,
        class_counts=dataset.class_counts,
        cleaning_report=dataset.cleaning_report,
    )


def training_datasets_recover_validation(*, stale: datetime) -> list[str]:
    """Queue again the validation of a large upload still validating since `stale` (its
    worker died, or its message was lost), at most JOB_MAX_ATTEMPTS times in all."""
    recovered = []
    waiting = Q(validation_started_at__isnull=True, uploaded_at__lt=stale) | Q(
        validation_started_at__lt=stale
    )
    validating = TrainingDataset.objects.filter(waiting, status=TrainingDataset.Status.VALIDATING)
    for dataset in validating.only("pk", "file", "validation_attempts"):
        if dataset.validation_attempts >= settings.JOB_MAX_ATTEMPTS:
            _reject(
                dataset,
                f"Its validation stopped {dataset.validation_attempts} times before it could "
                "finish (the file may be too large for the workers' memory).",
            )
            continue
        # Counts as a start, so it is re-queued once per stale period.
        TrainingDataset.objects.filter(pk=dataset.pk).update(validation_started_at=timezone.now())
        _queue_validation(dataset, quietly=True)
        log.warning("Re-queued the validation of %s.", dataset)
        recovered.append(str(dataset))
    return recovered


def training_dataset_from_outcomes(*, scorecard_key: str, by) -> TrainingDataset:
    """Export decided applications with a realised outcome as a training dataset."""
    if not by.has_perm("scoring.add_trainingdataset"):
        raise PermissionDenied("Only a credit manager can export training data.")
    scorecard = scorecard_or_error(scorecard_key)
    applications = (
        Application.objects.filter(scorecard=scorecard.key)
        .annotate(outcome_class=selectors.outcome_class_of(OuterRef("pk")))
        .filter(outcome_class__isnull=False)
        .order_by("pk")
    )
    columns = [*scorecard.field_names, scorecard.target]
    if scorecard.grouping_key:
        columns.append(scorecard.grouping_key)
    rows = [columns]
    for application in applications.iterator(chunk_size=2000):
        row = [_export_value(application.inputs.get(name)) for name in scorecard.field_names]
        row.append(application.outcome_class)
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
