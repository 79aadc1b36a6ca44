"""Job pages: uploads, progress, cancel, downloads and who may see what."""

import pytest
from django.urls import reverse

from scoring import jobs
from scoring.models import BatchScoringJob, JobStatus, TrainingDataset, TrainingJob
from tests.scoring.jobkit import card_default_csv, upload


@pytest.fixture
def finished_job(officer, production_model):
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
    )
    jobs.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


# Transactional: submission views are not atomic requests, so the job is published right after
# its row is committed (inside a test's transaction it would wait for a commit that never comes).
@pytest.mark.django_db(transaction=True)
def test_officer_uploads_a_bulk_file_and_is_sent_to_its_progress(
    officer_client, production_model, monkeypatch
):
    queued = []
    monkeypatch.setattr(jobs, "_publish", lambda job: queued.append(job.pk))
    response = officer_client.post(
        reverse("scoring:batch_job_list"),
        {"scorecard": "card_default", "file": upload(card_default_csv(20))},
    )
    job = BatchScoringJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:batch_job_detail", args=[job.pk])
    assert queued == [job.pk]  # published after the row was committed, not on commit
    page = officer_client.get(response["Location"])
    assert page.status_code == 200
    assert b"js/progress.js" in page.content and b'http-equiv="refresh"' in page.content


def test_bad_bulk_upload_shows_the_reason(officer_client, production_model):
    response = officer_client.post(
        reverse("scoring:batch_job_list"),
        {"scorecard": "card_default", "file": upload(b"ID,AGE\n1,30\n")},
    )
    assert response.status_code == 400
    assert "lacks required columns" in response.content.decode()
    assert not BatchScoringJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_broker_down_answers_503_and_leaves_no_queued_job(
    officer_client, production_model, monkeypatch
):
    from kombu.exceptions import OperationalError

    from scoring import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.run_batch_scoring_job, "apply_async", refuse)
    response = officer_client.post(
        reverse("scoring:batch_job_list"),
        {"scorecard": "card_default", "file": upload(card_default_csv(5))},
    )
    assert response.status_code == 503
    assert "broker is unreachable" in response.content.decode()
    assert not BatchScoringJob.objects.filter(status=JobStatus.QUEUED).exists()


def test_progress_endpoint_reports_counts(officer_client, finished_job):
    data = officer_client.get(reverse("scoring:batch_job_progress", args=[finished_job.pk])).json()
    assert data["status"] == "succeeded" and data["finished"] is True
    assert (data["rows_total"], data["rows_valid"], data["rows_invalid"]) == (12, 9, 3)
    assert data["percent"] == 100.0
    assert data["result_url"] == reverse("scoring:batch_job_result", args=[finished_job.pk])


def test_owner_and_managers_download_results_others_get_404(
    client, officer, other_officer, manager, finished_job
):
    url = reverse("scoring:batch_job_result", args=[finished_job.pk])
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"ID,LIMIT_BAL")
    client.force_login(manager)
    assert client.get(url).status_code == 200
    client.force_login(other_officer)
    assert client.get(url).status_code == 404
    for name in ("batch_job_detail", "batch_job_progress"):
        assert client.get(reverse(f"scoring:{name}", args=[finished_job.pk])).status_code == 404
    assert client.post(reverse("scoring:batch_job_cancel", args=[finished_job.pk])).status_code == (
        404
    )


def test_job_lists_show_own_jobs_to_officers_and_all_to_managers(
    client, officer, other_officer, manager, finished_job
):
    client.force_login(other_officer)
    assert (
        finished_job.original_name
        not in client.get(reverse("scoring:batch_job_list")).content.decode()
    )
    client.force_login(manager)
    assert "applicants.csv" in client.get(reverse("scoring:batch_job_list")).content.decode()


def test_owner_cancels_a_queued_job(officer_client, officer, production_model):
    job = jobs.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    response = officer_client.post(reverse("scoring:batch_job_cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


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


def test_manager_starts_a_retraining_and_follows_it(manager_client, monkeypatch):
    monkeypatch.setattr(jobs, "_publish", lambda job: None)
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
    config = jobs.scorecard_job_settings_get(scorecard_key="card_default")
    assert config.auto_promote and config.updated_by == manager
    assert config.retrain_every_days is None


def test_nav_links(officer_client):
    page = officer_client.get(reverse("scoring:batch_job_list")).content.decode()
    assert "Bulk scoring" in page and reverse("scoring:training_overview") not in page


def test_finished_retraining_page_compares_candidate_and_production(
    manager_client, manager, production_model, settings, monkeypatch
):
    settings.TRAINING_JOB_OPTIONS = {
        "params": {"n_estimators": 20, "min_samples_leaf": 5},
        "baselines": False,
        "permutation": False,
    }
    monkeypatch.setattr(jobs, "_publish", lambda job: None)
    job = jobs.training_job_create(scorecard_key="card_default", by=manager)
    jobs.training_job_run(job_id=job.pk)
    page = manager_client.get(reverse("scoring:training_job_detail", args=[job.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Candidate against production" in text and "ROC-AUC" in text
    assert "auto-promotion is off" in text
    assert 'http-equiv="refresh"' not in text  # finished: no self-refresh


def test_batch_page_lists_invalid_rows(officer_client, finished_job):
    text = officer_client.get(reverse("scoring:batch_job_detail", args=[finished_job.pk])).content
    assert b"Invalid rows" in text and b"Download result CSV" in text


def test_job_past_retention_says_its_files_were_deleted(officer_client, finished_job, settings):
    from datetime import timedelta

    from django.utils import timezone

    BatchScoringJob.objects.filter(pk=finished_job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.BATCH_FILE_RETENTION_DAYS + 1)
    )
    jobs.batch_job_files_purge()
    page = officer_client.get(reverse("scoring:batch_job_detail", args=[finished_job.pk]))
    assert b"under the file retention policy" in page.content
    assert b"Download result CSV" not in page.content
    listing = officer_client.get(reverse("scoring:batch_job_list"))
    assert b"deleted " in listing.content
    result = officer_client.get(reverse("scoring:batch_job_result", args=[finished_job.pk]))
    assert result.status_code == 404


def test_a_dataset_being_validated_says_so_and_cannot_be_trained_on(
    manager_client, manager, settings, monkeypatch
):
    monkeypatch.setattr(jobs, "_queue_validation", lambda dataset: None)
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    dataset = jobs.training_dataset_create(
        scorecard_key="card_default", upload=upload(card_default_csv(150, invalid={})), by=manager
    )
    page = manager_client.get(reverse("scoring:training_dataset_detail", args=[dataset.pk]))
    assert b"A worker is reading and cleaning" in page.content
    assert b"Start retraining" not in page.content
    overview = manager_client.get(reverse("scoring:training_overview"))
    assert b"being validated" in overview.content
    jobs.training_dataset_validate(dataset_id=dataset.pk)
    page = manager_client.get(reverse("scoring:training_dataset_detail", args=[dataset.pk]))
    assert b"Cleaning report" in page.content and b"Start retraining" in page.content
