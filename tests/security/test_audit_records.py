"""Audit records are never rewritten: corrections are new records, decisions name the score
they were made on, and the admin cannot change what a score or a decision rests on."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from applicants.models import Application
from creditportal.errors import ApplicationError
from creditportal.roles import ADMINISTRATOR
from scoring.models import ApplicationOutcome, Decision
from scoring.selectors import outcome_of
from scoring.services.decisions import decision_create, outcome_record
from scoring.services.predictions import prediction_create
from tests.apikit import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(application, officer, production_model):
    prediction = prediction_create(application=application, requested_by=officer)
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    application.refresh_from_db()
    return application


def test_a_corrected_outcome_keeps_the_first_record_as_it_was(decided, manager):
    first = outcome_record(application=decided, outcome_class="default", note="90 days", by=manager)
    again = outcome_record(application=decided, outcome_class="default", note="90 days", by=manager)
    assert again.pk == first.pk  # said twice, recorded once
    corrected = outcome_record(
        application=decided, outcome_class="no_default", note="paid late", by=manager
    )
    assert corrected.corrects_id == first.pk
    first.refresh_from_db()
    assert (first.outcome_class, first.note) == ("default", "90 days")
    assert outcome_of(application=decided).pk == corrected.pk
    assert ApplicationOutcome.objects.filter(application=decided).count() == 2


def test_an_outcome_cannot_be_changed_or_deleted(decided, manager):
    outcome = outcome_record(application=decided, outcome_class="default", by=manager)
    outcome.outcome_class = "no_default"
    with pytest.raises(PermissionError):
        outcome.save()
    with pytest.raises(PermissionError):
        outcome.delete()
    with pytest.raises(PermissionError):
        ApplicationOutcome.objects.filter(pk=outcome.pk).update(outcome_class="no_default")


def test_the_application_page_shows_the_corrected_records(decided, manager, client):
    outcome_record(application=decided, outcome_class="default", note="first note", by=manager)
    outcome_record(application=decided, outcome_class="no_default", by=manager)
    client.force_login(manager)
    page = client.get(reverse("applicants:application_detail", args=[decided.pk]))
    text = page.content.decode()
    assert "Earlier records, kept as they were (1)" in text and "first note" in text


def test_a_decision_on_a_score_that_is_no_longer_the_latest_is_refused(
    application, officer, production_model
):
    seen = prediction_create(application=application, requested_by=officer)
    newer = prediction_create(application=application, requested_by=officer)
    with pytest.raises(ApplicationError) as raised:
        decision_create(
            application=application,
            outcome=seen.recommendation,
            note="override",
            by=officer,
            prediction_id=seen.pk,
        )
    assert raised.value.extra["code"] == "stale_prediction"
    assert not Decision.objects.exists()
    decision = decision_create(
        application=application,
        outcome=newer.recommendation,
        by=officer,
        prediction_id=newer.pk,
    )
    assert decision.prediction_id == newer.pk


def test_the_portal_says_a_newer_score_exists(
    officer_client, application, officer, production_model
):
    seen = prediction_create(application=application, requested_by=officer)
    prediction_create(application=application, requested_by=officer)
    url = reverse("scoring:application_decide", args=[application.pk])
    response = officer_client.post(
        url, {"prediction": seen.pk, "outcome": seen.recommendation, "note": "x"}, follow=True
    )
    assert "A newer score exists" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_api_answers_409_for_a_stale_prediction(
    officer_api, application, officer, production_model
):
    seen = prediction_create(application=application, requested_by=officer)
    prediction_create(application=application, requested_by=officer)
    body = {"application": application.pk, "prediction": seen.pk, "outcome": "approve", "note": "x"}
    assert_error(
        officer_api.post("/api/v1/decisions/", body, format="json"), 409, "stale_prediction"
    )


def test_a_prediction_of_another_application_is_a_field_error(
    officer_api, application, other_application, officer, other_officer, production_model
):
    prediction_create(application=application, requested_by=officer)
    foreign = prediction_create(application=other_application, requested_by=other_officer)
    body = {
        "application": application.pk,
        "prediction": foreign.pk,
        "outcome": "approve",
        "note": "x",
    }
    response = officer_api.post("/api/v1/decisions/", body, format="json")
    assert_error(response, 400, "validation_error", fields=["prediction"])


def test_the_admin_cannot_rewrite_a_decided_application(decided, client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    admin_user.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(admin_user)
    url = reverse("admin:applicants_application_change", args=[decided.pk])
    page = client.get(url).content.decode()
    for name in ("inputs", "requested_amount", "scorecard", "status", "applicant"):
        assert f'name="{name}"' not in page, name
    before = Application.objects.values().get(pk=decided.pk)
    client.post(
        url,
        {
            "applicant": decided.applicant_id,
            "scorecard": "german_credit",
            "requested_amount": "1",
            "term_months": "1",
            "status": "submitted",
            "inputs": "{}",
            "created_by": decided.created_by_id,
        },
    )
    after = Application.objects.values().get(pk=decided.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
