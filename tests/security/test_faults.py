"""Faults are reported, not hidden and not turned into 500s: a model that cannot be loaded, no
worker running, a broker that cannot be reached."""

import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from creditportal.models import WorkerHeartbeat
from creditportal.views import HEALTH_CACHE_KEY
from creditportal.workers import NO_WORKER, heartbeat_write
from scoring.services import bulk_scoring
from scoring.serving import forget_loaded_models
from tests.apikit import assert_error
from tests.factories import valid_inputs
from tests.scoring.jobkit import card_default_csv, upload

pytestmark = pytest.mark.django_db
SCORE_URL = "/api/v1/scorecards/card_default/score/"


def remove_artifact(version) -> None:
    version.artifact.storage.delete(version.artifact.name)
    forget_loaded_models()


def test_a_missing_model_file_is_a_503_not_a_500(officer_api, production_model):
    remove_artifact(production_model)
    response = officer_api.post(SCORE_URL, valid_inputs("card_default"), format="json")
    error = assert_error(response, 503, "model_unavailable")
    assert "cannot be loaded" in error["message"]


def test_a_tampered_model_file_is_refused_without_rehashing_each_request(
    officer_api, production_model, monkeypatch
):
    name = production_model.artifact.name
    storage = production_model.artifact.storage
    with storage.open(name, "rb") as handle:
        data = handle.read()
    storage.delete(name)
    storage.save(name, io.BytesIO(data[:-10] + b"0123456789"))
    forget_loaded_models()
    reads = []
    original_open = type(production_model.artifact).open

    def counting_open(self, mode="rb"):
        reads.append(self.name)
        return original_open(self, mode)

    monkeypatch.setattr(type(production_model.artifact), "open", counting_open)
    for _ in range(3):
        response = officer_api.post(SCORE_URL, valid_inputs("card_default"), format="json")
        assert_error(response, 503, "model_unavailable")
    assert len(reads) == 1  # the failure is remembered; the file is not read on every request


def test_the_portal_says_the_model_is_unavailable(officer_client, application, production_model):
    remove_artifact(production_model)
    url = reverse("scoring:application_score", args=[application.pk])
    response = officer_client.post(url, follow=True)
    assert response.status_code == 200
    assert "cannot be loaded" in response.content.decode()


def health(client) -> dict:
    cache.delete(HEALTH_CACHE_KEY)  # a report is reused for a few seconds
    response = client.get(reverse("health"))
    assert response.status_code == 200  # the process serves; a load balancer keeps it
    return response.json()


def test_health_reports_each_part(client, production_model, admin_client):
    heartbeat_write("worker@host")
    ok = {"status": "ok", "database": "ok", "broker": "ok", "workers": 1}
    assert health(client) == {**ok, "models": "ok"}
    assert health(admin_client) == {**ok, "models": {"card_default": "ok"}}
    remove_artifact(production_model)
    WorkerHeartbeat.objects.all().delete()
    anonymous = health(client)
    assert anonymous["status"] == "degraded" and anonymous["workers"] == 0
    assert anonymous["models"] == "degraded"  # which one, and why, is for staff
    assert "missing" in health(admin_client)["models"]["card_default"]


def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError, connections

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(type(connections["default"]), "cursor", refused)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "unreachable"}


def test_a_worker_that_stopped_beating_is_not_running(client, production_model, settings):
    old = timezone.now() - timezone.timedelta(seconds=10 * settings.WORKER_HEARTBEAT_SECONDS)
    WorkerHeartbeat.objects.create(name="gone@host", started_at=old, seen_at=old)
    assert health(client)["workers"] == 0


def test_a_queued_job_says_no_worker_is_running(officer_client, officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    page = officer_client.get(reverse("scoring:batch_job_detail", args=[job.pk]))
    assert NO_WORKER.split(":")[0] in page.content.decode()
    progress = officer_client.get(reverse("scoring:batch_job_progress", args=[job.pk])).json()
    assert progress["waiting_note"] == NO_WORKER
    heartbeat_write("worker@host")
    progress = officer_client.get(reverse("scoring:batch_job_progress", args=[job.pk])).json()
    assert progress["waiting_note"] == ""


def test_the_api_says_no_worker_is_running(officer_api, officer, production_model):
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(5)), owner=officer
    )
    body = officer_api.get(f"/api/v1/batch-jobs/{job.pk}/").json()
    assert body["waiting_note"] == NO_WORKER


def test_the_dashboard_says_what_stops_work(manager_client, production_model):
    remove_artifact(production_model)
    page = manager_client.get(reverse("dashboard:home")).content.decode()
    assert "Needs attention now" in page
    assert "the production model cannot be loaded" in page
    assert "No background worker is running" in page
