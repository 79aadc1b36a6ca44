"""Training pages: datasets, retraining jobs and their progress, job settings (managers only)."""

from django.urls import reverse

from scoring.models import TrainingDataset, TrainingJob
from scoring.services import datasets, training
from tests.scoring.jobkit import card_default_csv, upload


def test_officers_cannot_reach_training_pages(officer_client):
    assert officer_client.get(reverse("scoring:training_overview")).status_code == 403
    response = officer_client.post(
        reverse("scoring:training_dataset_upload"),
        {"scorecard": "card_default", "file": upload(card_default_csv(10))},
    )
    assert response.status_code == 403
    assert officer_client.post(reverse("scoring:training_job_start")).status_code == 403


def test_manager_uploads_training_data_and_sees_its_report(manager_client):
    response = manager_client.post(
        reverse("scoring:training_dataset_upload"),
        {"scorecard": "card_default", "file": upload(card_default_csv(150, invalid={}), "uci.csv")},
    )
    dataset = TrainingDataset.objects.get()
    assert response.status_code == 302
    page = manager_client.get(response["Location"]).content.decode()
    assert "Cleaning report" in page and dataset.sha256 in page


def test_bad_training_upload_is_refused_with_a_reason(manager_client):
    response = manager_client.post(
        reverse("scoring:training_dataset_upload"),
        {"scorecard": "card_default", "file": upload(b"", "empty.csv")},
    )
    assert response.status_code == 400
    assert not TrainingDataset.objects.exists()


def test_manager_starts_a_retraining_and_follows_it(manager_client):
    response = manager_client.post(
        reverse("scoring:training_job_start"), {"scorecard": "card_default"}
    )
    job = TrainingJob.objects.get()
    assert response.status_code == 302
    page = manager_client.get(response["Location"])
    assert page.status_code == 200 and b"Waiting for a worker" in page.content
    data = manager_client.get(reverse("scoring:training_job_progress", args=[job.pk])).json()
    assert data["status"] == "queued" and data["percent"] == 0.0
    assert manager_client.get(reverse("scoring:training_overview")).status_code == 200


def test_manager_switches_auto_promotion_on(manager_client, manager):
    response = manager_client.post(
        reverse("scoring:scorecard_settings_update", args=["card_default"]),
        {
            "auto_promote": "on",
            "auto_promote_metric": "roc_auc",
            "auto_promote_min_gain": "0.01",
            "retrain_every_days": "",
        },
    )
    assert response.status_code == 302
    config = training.scorecard_job_settings_get(scorecard_key="card_default")
    assert config.auto_promote and config.updated_by == manager
    assert config.retrain_every_days is None


def test_finished_retraining_page_compares_candidate_and_production(
    manager_client, manager, production_model, settings
):
    settings.TRAINING_JOB_OPTIONS = {
        "params": {"n_estimators": 20, "min_samples_leaf": 5},
        "baselines": False,
        "permutation": False,
    }
    job = training.training_job_create(scorecard_key="card_default", by=manager)
    training.training_job_run(job_id=job.pk)
    page = manager_client.get(reverse("scoring:training_job_detail", args=[job.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Candidate against production" in text and "ROC-AUC" in text
    assert "auto-promotion is off" in text
    assert 'http-equiv="refresh"' not in text  # finished: no self-refresh


def test_a_dataset_being_validated_says_so_and_cannot_be_trained_on(
    manager_client, manager, settings
):
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    dataset = datasets.training_dataset_create(
        scorecard_key="card_default", upload=upload(card_default_csv(150, invalid={})), by=manager
    )
    page = manager_client.get(reverse("scoring:training_dataset_detail", args=[dataset.pk]))
    assert b"A worker is reading and cleaning" in page.content
    assert b"Start retraining" not in page.content
    overview = manager_client.get(reverse("scoring:training_overview"))
    assert b"being validated" in overview.content
    datasets.training_dataset_validate(dataset_id=dataset.pk)
    page = manager_client.get(reverse("scoring:training_dataset_detail", args=[dataset.pk]))
    assert b"Cleaning report" in page.content and b"Start retraining" in page.content
