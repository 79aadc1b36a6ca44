"""Training datasets: uploads cleaned inline or by a worker, outcome exports."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage

from creditportal.errors import ApplicationError
from ml.scorecards import get_scorecard
from scoring.models import (
    TrainingDataset,
)
from scoring.services import datasets, training
from tests.factories import ApplicationFactory
from tests.scoring.jobkit import card_default_csv, upload


def training_csv(rows: int = 400, seed: int = 3) -> bytes:
    return card_default_csv(rows, seed=seed, invalid={})


def test_manager_uploads_a_training_dataset_with_its_cleaning_report(manager):
    dataset = datasets.training_dataset_create(
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
        datasets.training_dataset_create(
            scorecard_key="card_default", upload=upload(content), by=manager
        )
    assert not TrainingDataset.objects.exists()


@pytest.mark.parametrize("inline_mb", [10, 0], ids=["cleaned-inline", "validated-by-a-worker"])
def test_training_upload_without_the_target_is_refused(manager, inline_mb, settings):
    settings.TRAINING_INLINE_VALIDATION_MB = inline_mb
    content = b"\n".join(line.rsplit(b",", 1)[0] for line in training_csv(20).splitlines())
    with pytest.raises(ValidationError, match="default.payment.next.month"):
        datasets.training_dataset_create(
            scorecard_key="card_default", upload=upload(content), by=manager
        )


def test_a_large_training_upload_is_validated_by_a_worker(manager, settings, task_queue):
    inline = datasets.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(), "uci.csv"), by=manager
    )
    settings.TRAINING_INLINE_VALIDATION_MB = 0  # every file is "large"
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(), "uci.csv"), by=manager
    )
    assert task_queue.args_of("scoring.validate_training_dataset") == [(dataset.pk,)]
    assert inline.status == TrainingDataset.Status.READY
    assert (dataset.status, dataset.rows_kept) == (TrainingDataset.Status.VALIDATING, 0)
    with pytest.raises(ValidationError, match="being validated"):
        training.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)

    datasets.training_dataset_validate(dataset_id=dataset.pk)

    dataset.refresh_from_db()
    assert dataset.status == TrainingDataset.Status.READY and dataset.validation_attempts == 1
    described = ("rows_read", "rows_kept", "class_counts", "cleaning_report")
    assert [getattr(dataset, f) for f in described] == [getattr(inline, f) for f in described]
    datasets.training_dataset_validate(dataset_id=dataset.pk)  # a duplicate message: nothing
    dataset.refresh_from_db()
    assert dataset.validation_attempts == 1


def test_a_large_upload_with_no_usable_row_is_rejected_and_its_file_deleted(manager, settings):
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    header, *rows = training_csv(300).decode().splitlines()
    unlabelled = [row.rsplit(",", 1)[0] + ",maybe" for row in rows]  # every target invalid
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default",
        upload=upload("\n".join([header, *unlabelled]).encode()),
        by=manager,
    )
    stored = dataset.file.name
    assert default_storage.exists(stored)

    datasets.training_dataset_validate(dataset_id=dataset.pk)

    dataset.refresh_from_db()
    assert dataset.status == TrainingDataset.Status.REJECTED
    assert dataset.error == "No labelled row is left after cleaning."
    assert not dataset.file and not default_storage.exists(stored)


def test_officer_cannot_upload_training_data(officer):
    with pytest.raises(PermissionDenied):
        datasets.training_dataset_create(
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
    dataset = datasets.training_dataset_from_outcomes(scorecard_key="card_default", by=manager)
    assert dataset.source == TrainingDataset.Source.OUTCOMES
    assert dataset.rows_kept == 6
    assert dataset.class_counts == {"no_default": 3, "default": 3}


def test_outcomes_export_with_no_outcome_is_refused(manager):
    with pytest.raises(ApplicationError, match="nothing to export"):
        datasets.training_dataset_from_outcomes(scorecard_key="card_default", by=manager)


@pytest.mark.parametrize("scorecard_key", ["card_default", "german_credit", "credit_score"])
def test_outcomes_export_round_trips_every_scorecards_inputs(manager, scorecard_key):
    from applicants.models import Application
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
    dataset = datasets.training_dataset_from_outcomes(scorecard_key=scorecard_key, by=manager)
    assert dataset.rows_kept == 4
    assert dataset.cleaning_report["rows_with_errors"] == 0, dataset.cleaning_report
