"""Retraining jobs, the comparison with production, auto-promotion, schedules."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from creditportal.errors import ApplicationError
from scoring.models import (
    JobStatus,
    ModelPromotion,
    ModelVersion,
    ScorecardJobSettings,
    TrainingJob,
)
from scoring.services import datasets, training
from tests.scoring.jobkit import card_default_csv, upload

SMALL_TRAINING = {"params": {"n_estimators": 20, "min_samples_leaf": 5}, "baselines": False}


@pytest.fixture
def small_training(settings):
    settings.TRAINING_JOB_OPTIONS = {**SMALL_TRAINING, "permutation": False}


def training_csv(rows: int = 400, seed: int = 3) -> bytes:
    return card_default_csv(rows, seed=seed, invalid={})


def test_training_job_registers_a_candidate_compared_with_production(
    manager, production_model, small_training
):
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv()), by=manager
    )
    job = training.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)
    with pytest.raises(ApplicationError, match="already queued or running"):
        training.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)

    training.training_job_run(job_id=job.pk)

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
    training.scorecard_job_settings_update(
        scorecard_key="card_default",
        by=manager,
        auto_promote=True,
        auto_promote_metric="roc_auc",
        auto_promote_min_gain=-1.0,  # any candidate "beats" production for the test
    )
    # A synthetic candidate may replace a synthetic production model (both are demo data).
    job = training.training_job_create(scorecard_key="card_default", by=manager)
    training.training_job_run(job_id=job.pk)
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
    training.scorecard_job_settings_update(
        scorecard_key="card_default",
        by=manager,
        auto_promote=True,
        auto_promote_metric="roc_auc",
        auto_promote_min_gain=0.5,  # no candidate gains 0.5 ROC-AUC
    )
    job = training.training_job_create(scorecard_key="card_default", by=manager)
    training.training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.auto_promotion["enabled"] is True and job.auto_promotion["promoted"] is False
    assert "not promoted" in job.auto_promotion["summary"]
    assert ModelVersion.objects.get(status="production") == production_model


def test_training_job_refuses_a_tiny_dataset(manager):
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default", upload=upload(training_csv(30)), by=manager
    )
    with pytest.raises(ValidationError, match="At least 100"):
        training.training_job_create(scorecard_key="card_default", dataset=dataset, by=manager)


def test_cancelled_training_job_registers_nothing(manager, small_training):
    job = training.training_job_create(scorecard_key="card_default", by=manager)
    TrainingJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, worker="")
    TrainingJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    training.training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not ModelVersion.objects.exists()


def test_periodic_retraining_is_off_by_default_and_starts_when_due(manager):
    from datetime import timedelta

    from django.utils import timezone

    assert training.retraining_start_due() == []
    training.scorecard_job_settings_update(
        scorecard_key="card_default", by=manager, retrain_every_days=7
    )
    assert training.retraining_start_due() == []  # the first run is one period later
    later = timezone.now() + timedelta(days=7, minutes=1)
    started = training.retraining_start_due(now=later)
    assert len(started) == 1 and started[0].trigger == TrainingJob.Trigger.SCHEDULE
    assert started[0].requested_by is None
    assert training.retraining_start_due(now=later) == []
    assert ScorecardJobSettings.objects.get().last_scheduled_at == later


def test_periodic_retraining_due_while_the_broker_is_down_stays_due(manager, task_queue):
    from datetime import timedelta

    from django.utils import timezone

    training.scorecard_job_settings_update(
        scorecard_key="card_default", by=manager, retrain_every_days=7
    )
    training.retraining_start_due()
    scheduled = ScorecardJobSettings.objects.get().last_scheduled_at
    later = timezone.now() + timedelta(days=7, minutes=1)
    task_queue.down()
    assert training.retraining_start_due(now=later) == []  # no exception out of beat's task
    assert ScorecardJobSettings.objects.get().last_scheduled_at == scheduled
    task_queue.up()
    started = training.retraining_start_due(now=later + timedelta(minutes=1))
    assert len(started) == 1
    assert task_queue.args_of("scoring.run_training_job") == [(started[0].pk,)]


def test_officer_cannot_change_job_settings(officer):
    with pytest.raises(PermissionDenied):
        training.scorecard_job_settings_update(
            scorecard_key="card_default", by=officer, auto_promote=True
        )
