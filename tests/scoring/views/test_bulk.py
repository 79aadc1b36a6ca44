"""Bulk scoring pages: upload, progress, cancel, download, and who may see what."""

import pytest
from django.urls import reverse

from scoring.models import BatchScoringJob, JobStatus, Prediction
from scoring.services import bulk_scoring
from tests.scoring.jobkit import card_default_csv, upload


@pytest.fixture
def finished_job(officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_officer_uploads_a_bulk_file_and_is_sent_to_its_progress(
    officer_client, production_model, task_queue
):
    response = officer_client.post(
        reverse("scoring:batch_job_list"),
        {"scorecard": "card_default", "file": upload(card_default_csv(20))},
    )
    job = BatchScoringJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:batch_job_detail", args=[job.pk])
    # Published after the row was committed, before the answer.
    assert task_queue.args_of("scoring.run_batch_scoring_job") == [(job.pk,)]
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


def test_broker_down_answers_503_and_leaves_no_queued_job(
    officer_client, production_model, task_queue
):
    task_queue.down()
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
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    response = officer_client.post(reverse("scoring:batch_job_cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_nav_links(officer_client):
    page = officer_client.get(reverse("scoring:batch_job_list")).content.decode()
    assert "Bulk scoring" in page and reverse("scoring:training_overview") not in page


def test_batch_page_lists_invalid_rows(officer_client, finished_job):
    text = officer_client.get(reverse("scoring:batch_job_detail", args=[finished_job.pk])).content
    assert b"Invalid rows" in text and b"Download result CSV" in text


def test_job_past_retention_says_its_files_were_deleted(officer_client, finished_job, settings):
    from datetime import timedelta

    from django.utils import timezone

    BatchScoringJob.objects.filter(pk=finished_job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.BATCH_FILE_RETENTION_DAYS + 1)
    )
    bulk_scoring.batch_job_files_purge()
    page = officer_client.get(reverse("scoring:batch_job_detail", args=[finished_job.pk]))
    assert b"under the file retention policy" in page.content
    assert b"Download result CSV" not in page.content
    listing = officer_client.get(reverse("scoring:batch_job_list"))
    assert b"deleted " in listing.content
    result = officer_client.get(reverse("scoring:batch_job_result", args=[finished_job.pk]))
    assert result.status_code == 404


def test_flagged_rows_are_shown_on_the_job_page_and_on_their_prediction(
    officer_client, officer, production_model
):
    """Issue 14: the values a bulk row had set missing, in an officer's words."""
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default",
        upload=upload(card_default_csv(16, implausible=True)),
        owner=officer,
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    page = officer_client.get(reverse("scoring:batch_job_detail", args=[job.pk])).content.decode()
    assert "3 rows scored with 1 or more values set missing: " in page
    sentence = (
        "Credit limit 5,700,000 is outside the usual range (up to 1,000,000) and was "
        "scored as not given."
    )
    assert sentence in page
    assert "Age -500 years is outside the usual range (at least 18 years)" in page

    flagged = Prediction.objects.get(batch_job=job, row_number=12)
    result = officer_client.get(reverse("scoring:prediction_detail", args=[flagged.pk]))
    assert result.status_code == 200
    assert (
        "Education “doctorate” is not one of the known choices and was scored as not given."
        in result.content.decode()
    )
    plain = Prediction.objects.get(batch_job=job, row_number=1)
    result = officer_client.get(reverse("scoring:prediction_detail", args=[plain.pk]))
    assert "Values scored as not given" not in result.content.decode()
