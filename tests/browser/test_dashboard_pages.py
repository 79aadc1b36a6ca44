"""A credit manager opens every dashboard page in chromium; screenshots go to test-artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard import services
from dashboard.models import MonitoringSnapshot
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame
from scoring.services.decisions import decision_create, outcome_record
from scoring.services.predictions import prediction_create
from tests.dashboard.conftest import (
    _charts_cache_in_memory,  # noqa: F401 (a fixture)
    split_rows,
    store_predictions,
)
from tests.factories import ApplicationFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("_charts_cache_in_memory")]


@pytest.fixture(autouse=True)
def _roles_back_after_the_flush(django_db_blocker):
    """A live-server test empties every table when it ends; later transactional tests need
    the role groups that data migrations made (permissions come back by post_migrate).

    Autouse, so it is set up before the database fixtures and torn down after their flush.
    """
    yield
    from django.contrib.auth.models import Group, Permission

    from creditportal.roles import ADMINISTRATOR, ROLE_PERMISSIONS, section_app_label

    with django_db_blocker.unblock():
        for section, by_role in ROLE_PERMISSIONS.items():
            app_label = section_app_label(section)
            for role, codenames in by_role.items():
                group, _ = Group.objects.get_or_create(name=role)
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label=app_label, codename__in=codenames
                    )
                )
        administrator, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
        administrator.permissions.add(*Permission.objects.all())


@pytest.fixture
def dashboard_data(production_model, manager, officer, other_officer, trained_card_default_alt):
    from scoring.services.registry import model_version_register

    frame = synthetic_frame(get_scorecard("card_default"), n=800, seed=1)
    services.model_version_profile_compute(version=production_model, frame=frame)
    candidate = model_version_register(
        result=trained_card_default_alt, training_data_description="second sample"
    )
    services.model_version_profile_compute(
        version=candidate, frame=synthetic_frame(get_scorecard("card_default"), n=800, seed=2)
    )
    # Three snapshots over three days: stable, then a drifting credit limit.
    rows = split_rows(frame, "train")
    for days_ago, shift in ((2, 1.0), (1, 1.4), (0, 2.5)):
        shifted = rows.copy()
        shifted["limit_bal"] = shifted["limit_bal"] * shift
        store_predictions(production_model, manager, shifted.iloc[:200])
        snapshot = services.monitoring_snapshot_take(scorecard_key="card_default")
        MonitoringSnapshot.objects.filter(pk=snapshot.pk).update(
            computed_at=timezone.now() - timedelta(days=days_ago)
        )
        from scoring.models import Prediction

        Prediction._base_manager.filter(model_version=production_model).update(
            created_at=timezone.now() - timedelta(days=60)
        )
    # Decisions by two officers, one override, realised outcomes.
    for i, owner in enumerate([officer] * 4 + [other_officer] * 3):
        application = ApplicationFactory(applicant__owner=owner)
        prediction = prediction_create(application=application, requested_by=owner)
        override = i in (2, 5)
        outcome = "approve" if prediction.recommendation != "approve" else "decline"
        decision_create(
            application=application,
            outcome=outcome if override else prediction.recommendation,
            note="Override after a call" if override else "",
            by=owner,
        )
        outcome_record(
            application=application,
            outcome_class="default" if i % 3 == 0 else "no_default",
            by=manager,
        )
    services.dataset_insight_compute(
        scorecard_key="card_default", frame=frame, description="synthetic sample (800 rows)"
    )
    return {"production": production_model, "candidate": candidate}


def login(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/applicants/")


def test_manager_opens_every_dashboard_page(live_server, page, screenshot, manager, dashboard_data):
    production, candidate = dashboard_data["production"], dashboard_data["candidate"]
    login(page, live_server, manager)
    page.click("nav >> text=Dashboard")
    page.wait_for_selector("h1:has-text('Dashboard')")
    assert page.is_visible("li.alert-act")
    screenshot(page, "dashboard-home")

    page.click(".subnav >> text=Portfolio")
    page.wait_for_selector("h1:has-text('Portfolio')")
    assert page.locator("figure.chart svg").count() == 5
    screenshot(page, "dashboard-portfolio")

    page.goto(f"{live_server.url}/dashboard/models/{production.pk}/")
    page.wait_for_selector("h2:has-text('ROC curve')")
    screenshot(page, "dashboard-model-report")
    page.select_option("#compare", str(candidate.pk))
    page.click("button:has-text('Compare')")
    page.wait_for_selector(".report-columns.two")
    screenshot(page, "dashboard-model-report-side-by-side")

    page.goto(f"{live_server.url}/dashboard/models/{production.pk}/fairness/")
    page.wait_for_selector("text=Protected fields are excluded from the model's inputs.")
    screenshot(page, "dashboard-fairness")

    page.goto(f"{live_server.url}/dashboard/monitoring/card_default/")
    page.wait_for_selector("h2:has-text('PSI over time')")
    screenshot(page, "dashboard-monitoring")

    page.goto(f"{live_server.url}/dashboard/insights/card_default/")
    page.wait_for_selector("h2:has-text('Statistics')")
    screenshot(page, "dashboard-insights")

    with page.expect_download() as download:
        page.click("#class_balance >> text=Download CSV")
    assert download.value.suggested_filename == "class_balance.csv"
