"""Dashboard pages: managers and administrators only; every chart has its numbers as CSV."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from creditportal.roles import ADMINISTRATOR
from dashboard import services
from scoring.services.decisions import decision_create
from scoring.services.predictions import prediction_create
from tests.dashboard.conftest import split_rows, store_predictions
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


def page_urls(version) -> list[str]:
    return [
        reverse("dashboard:home"),
        reverse("dashboard:portfolio"),
        reverse("dashboard:model_report", args=[version.pk]),
        reverse("dashboard:fairness", args=[version.pk]),
        reverse("dashboard:monitoring", args=["card_default"]),
        reverse("dashboard:insights", args=["card_default"]),
    ]


def post_urls(version) -> list[str]:
    return [
        reverse("dashboard:profile_compute", args=[version.pk]),
        reverse("dashboard:snapshot_take", args=["card_default"]),
        reverse("dashboard:insights_compute", args=["card_default"]),
    ]


def test_officers_are_refused_every_page(officer_client, production_model):
    for url in page_urls(production_model):
        assert officer_client.get(url).status_code == 403, url
    for url in post_urls(production_model):
        assert officer_client.post(url).status_code == 403, url


def test_anonymous_users_are_sent_to_the_login(client, production_model):
    response = client.get(reverse("dashboard:portfolio"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_nav_shows_the_dashboard_to_managers_only(officer_client, manager, client):
    assert b"Dashboard</a>" not in officer_client.get(reverse("applicants:list")).content
    client.force_login(manager)
    assert b"Dashboard</a>" in client.get(reverse("applicants:list")).content


def test_administrators_see_the_dashboard(client, production_model):
    admin = UserFactory(username="admin_x")
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(admin)
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_every_page_answers_a_manager_even_before_anything_is_computed(
    manager_client, production_model
):
    for url in page_urls(production_model):
        response = manager_client.get(url)
        assert response.status_code == 200, url


def test_pages_with_data(
    manager_client, manager, officer, production_model, profile, training_frame
):
    store_predictions(production_model, manager, split_rows(training_frame, "test"))
    application = ApplicationFactory(applicant__owner=officer)
    prediction_create(application=application, requested_by=officer)
    decision_create(application=application, outcome="decline", note="Known fraud", by=officer)
    services.monitoring_snapshot_take(scorecard_key="card_default")

    home = manager_client.get(reverse("dashboard:home")).content.decode()
    assert production_model.label in home

    portfolio = manager_client.get(reverse("dashboard:portfolio")).content.decode()
    assert portfolio.count("<svg") >= 5
    assert officer.get_full_name() in portfolio

    report = manager_client.get(reverse("dashboard:model_report", args=[production_model.pk]))
    text = report.content.decode()
    for title in (
        "ROC curve",
        "Precision-recall",
        "Confusion matrix",
        "Calibration",
        "Feature importances",
        "Expected cost per applicant across",
    ):
        assert title in text, title

    fairness = manager_client.get(reverse("dashboard:fairness", args=[production_model.pk]))
    text = fairness.content.decode()
    assert "Protected fields are excluded from the model" in text
    assert "Sex" in text and "Age band" in text and "four-fifths" in text

    monitoring = manager_client.get(reverse("dashboard:monitoring", args=["card_default"]))
    assert "PSI of each input" in monitoring.content.decode()


def test_side_by_side_report(manager_client, production_model, trained_card_default_alt):
    from scoring.services.registry import model_version_register

    other = model_version_register(result=trained_card_default_alt, training_data_description="t")
    url = reverse("dashboard:model_report", args=[production_model.pk])
    response = manager_client.get(url, {"compare": other.pk})
    text = response.content.decode()
    assert response.status_code == 200
    assert production_model.label in text and other.label in text
    assert 'class="report-columns two"' in text


def test_charts_numbers_download_as_csv(manager_client, production_model, profile):
    url = reverse("dashboard:model_report", args=[production_model.pk])
    response = manager_client.get(url, {"csv": f"cost_curve_v{production_model.pk}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "threshold,expected cost,approval rate,good wrongly declined"
    assert len(lines) == 102
    assert manager_client.get(url, {"csv": "nope"}).status_code == 404


def test_managers_can_compute_on_demand(manager_client, production_model):
    response = manager_client.post(reverse("dashboard:snapshot_take", args=["card_default"]))
    assert response.status_code == 302
    page = manager_client.get(reverse("dashboard:monitoring", args=["card_default"]))
    assert "Window" in page.content.decode()


def test_unknown_scorecards_and_versions_are_404(manager_client):
    assert manager_client.get("/dashboard/monitoring/nope/").status_code == 404
    assert manager_client.get("/dashboard/insights/nope/").status_code == 404
    assert manager_client.get("/dashboard/models/999999/").status_code == 404


@pytest.mark.celery
def test_compute_buttons_hand_the_work_to_a_worker(celery_worker_thread, client, manager):
    """Insights take seconds: the button queues them and a real worker computes them."""
    import time

    from dashboard.models import DatasetInsight

    client.force_login(manager)
    response = client.post(reverse("dashboard:insights_compute", args=["german_credit"]))
    assert response.status_code == 302
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if DatasetInsight.objects.filter(scorecard="german_credit").exists():
            break
        time.sleep(0.5)
    assert DatasetInsight.objects.filter(scorecard="german_credit").exists()
