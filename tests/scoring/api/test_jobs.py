"""The job resources of the REST API: /api/v1/batch-jobs/, training-datasets/, training-jobs/."""

import pytest

from scoring.models import BatchScoringJob, JobStatus, Prediction, TrainingDataset, TrainingJob
from scoring.services import bulk_scoring, datasets
from tests.apikit import client_for
from tests.scoring.jobkit import card_default_csv, upload

BATCH = "/api/v1/batch-jobs/"


api = client_for


@pytest.fixture
def finished_job(officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(12)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_post_a_csv_queues_a_job(officer, production_model, task_queue):
    response = api(officer).post(
        BATCH,
        {"scorecard": "card_default", "file": upload(card_default_csv(10))},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["result_url"] is None
    assert body["url"].endswith(f"{BATCH}{body['id']}/")
    assert task_queue.args_of("scoring.run_batch_scoring_job") == [(body["id"],)]


def test_broker_down_is_a_503(officer, production_model, task_queue):
    task_queue.down()
    response = api(officer).post(
        BATCH,
        {"scorecard": "card_default", "file": upload(card_default_csv(5))},
        format="multipart",
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "broker_unavailable"
    assert not BatchScoringJob.objects.filter(status=JobStatus.QUEUED).exists()


def test_bad_file_is_a_400_naming_the_file(officer, production_model):
    response = api(officer).post(
        BATCH, {"scorecard": "card_default", "file": upload(b"ID,AGE\n1,30\n")}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_get_shows_progress_counts_and_the_result_url(officer, finished_job):
    body = api(officer).get(f"{BATCH}{finished_job.pk}/").json()
    assert body["status"] == "succeeded" and body["progress_percent"] == 100.0
    assert (body["rows_total"], body["rows_valid"], body["rows_invalid"]) == (12, 9, 3)
    assert body["result_url"].endswith(f"{BATCH}{finished_job.pk}/result/")
    errors = api(officer).get(f"{BATCH}{finished_job.pk}/row-errors/").json()
    assert errors["count"] == 3 and errors["results"][0]["row_number"] == 3


def test_result_download_is_for_owner_and_managers_only(
    officer, other_officer, manager, finished_job
):
    url = f"{BATCH}{finished_job.pk}/result/"
    response = api(officer).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"ID,LIMIT_BAL")
    assert api(manager).get(url).status_code == 200
    assert api(other_officer).get(url).status_code == 404
    assert api(other_officer).get(f"{BATCH}{finished_job.pk}/").status_code == 404
    assert api(other_officer).get(BATCH).json()["count"] == 0
    assert api(manager).get(BATCH).json()["count"] == 1


def test_cancel_a_queued_job(officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    response = api(officer).post(f"{BATCH}{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = api(officer).post(f"{BATCH}{job.pk}/cancel/")
    assert again.status_code == 409


def test_training_resources_are_for_managers(officer, manager):
    assert api(officer).get("/api/v1/training-datasets/").status_code == 403
    assert api(officer).post(
        "/api/v1/training-jobs/", {"scorecard": "card_default"}
    ).status_code == (403)
    response = api(manager).post(
        "/api/v1/training-datasets/",
        {"scorecard": "card_default", "file": upload(card_default_csv(150, invalid={}))},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    dataset = TrainingDataset.objects.get()
    assert response.json()["cleaning_report"]["rows_read"] == 150
    response = api(manager).post(
        "/api/v1/training-jobs/",
        {"scorecard": "card_default", "dataset": dataset.pk},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = TrainingJob.objects.get()
    body = api(manager).get(f"/api/v1/training-jobs/{job.pk}/").json()
    assert body["status"] == "queued" and body["dataset"] == dataset.pk


def test_result_of_a_job_past_retention_is_gone_with_the_reason(officer, finished_job, settings):
    from datetime import timedelta

    from django.utils import timezone

    BatchScoringJob.objects.filter(pk=finished_job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.BATCH_FILE_RETENTION_DAYS + 1)
    )
    assert bulk_scoring.batch_job_files_purge() == [finished_job.pk]
    client = api(officer)
    body = client.get(f"{BATCH}{finished_job.pk}/").json()
    assert body["result_url"] is None and body["files_deleted_at"]
    assert body["rows_valid"] == 9
    response = client.get(f"{BATCH}{finished_job.pk}/result/")
    assert response.status_code == 410
    error = response.json()["error"]
    assert error["code"] == "gone" and "retention policy" in error["message"]


def test_a_large_training_upload_is_accepted_for_validation(manager, settings, task_queue):
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    response = api(manager).post(
        "/api/v1/training-datasets/",
        {"scorecard": "card_default", "file": upload(card_default_csv(150, invalid={}))},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["rows_kept"]) == ("validating", 0)
    assert task_queue.args_of("scoring.validate_training_dataset") == [(body["id"],)]
    datasets.training_dataset_validate(dataset_id=body["id"])
    body = api(manager).get(f"/api/v1/training-datasets/{body['id']}/").json()
    assert (body["status"], body["rows_kept"], body["error"]) == ("ready", 150, "")


def test_broker_down_for_a_large_training_upload_is_a_503(manager, settings, task_queue):
    task_queue.down()
    settings.TRAINING_INLINE_VALIDATION_MB = 0
    response = api(manager).post(
        "/api/v1/training-datasets/",
        {"scorecard": "card_default", "file": upload(card_default_csv(150, invalid={}))},
        format="multipart",
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "broker_unavailable"
    dataset = TrainingDataset.objects.get()  # kept as the record of a refused upload
    assert dataset.status == "rejected" and "broker is unreachable" in dataset.error
    assert not dataset.file


def _queries_of(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: the token's and the permissions' caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert all(row["waiting_note"] for row in response.json()["results"])  # no worker: said
    return len(captured)


def test_a_batch_job_list_asks_for_the_workers_once_however_long(
    manager, production_model, task_queue, django_assert_num_queries
):
    """The waiting note of a queued job needs the workers' heartbeats: asked once per list,
    so a page of twenty queued jobs costs the queries of a page of one."""

    def add(count: int) -> None:
        for _ in range(count):
            bulk_scoring.batch_job_create(
                scorecard_key="card_default", upload=upload(card_default_csv(2)), owner=manager
            )

    client = api(manager)
    add(1)
    one = _queries_of(client, BATCH)
    add(19)
    with django_assert_num_queries(one):
        response = client.get(BATCH)
    assert response.json()["count"] == 20


def test_a_training_job_list_asks_for_the_workers_once(
    manager, task_queue, django_assert_num_queries
):
    """The same for retraining jobs (one queued per scorecard at most)."""
    from ml.scorecards import SCORECARDS
    from scoring.services import training

    url = "/api/v1/training-jobs/"
    keys = sorted(SCORECARDS)
    client = api(manager)
    training.training_job_create(scorecard_key=keys[0], by=manager)
    one = _queries_of(client, url)
    for key in keys[1:]:
        training.training_job_create(scorecard_key=key, by=manager)
    with django_assert_num_queries(one):
        response = client.get(url)
    assert response.json()["count"] == len(keys) > 1


def test_a_job_counts_its_flagged_rows_and_their_predictions_keep_the_flags(
    officer, production_model
):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default",
        upload=upload(card_default_csv(16, implausible=True)),
        owner=officer,
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    body = api(officer).get(f"{BATCH}{job.pk}/").json()
    assert (body["rows_valid"], body["rows_invalid"], body["rows_flagged"]) == (13, 3, 3)
    assert body["flag_counts"]["education"] == {"unknown_choice": 1}
    assert body["flag_summary"].startswith("3 rows scored with 1 or more values set missing:")
    flagged = Prediction.objects.get(batch_job=job, row_number=12)
    prediction = api(officer).get(f"/api/v1/predictions/{flagged.pk}/").json()
    assert prediction["flags"] == [
        {"field": "education", "rule": "unknown_choice", "value": "doctorate"}
    ]
    assert prediction["inputs"]["education"] is None
