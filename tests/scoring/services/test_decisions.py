"""Decisions, overrides, reopening and realised outcomes."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from applicants.models import Application
from creditportal.errors import ApplicationError
from scoring.models import ApplicationOutcome, Decision
from scoring.services.decisions import decision_create, decision_reopen, outcome_record
from scoring.services.predictions import prediction_create


@pytest.fixture
def scored(application, officer, production_model):
    prediction = prediction_create(application=application, requested_by=officer)
    application.refresh_from_db()
    return application, prediction


def _other(recommendation: str) -> str:
    return "approve" if recommendation != "approve" else "decline"


def test_decision_following_recommendation_needs_no_note(scored, officer):
    application, prediction = scored
    decision = decision_create(
        application=application, outcome=prediction.recommendation, by=officer
    )
    assert not decision.is_override
    assert decision.prediction == prediction
    assert Application.objects.get(pk=application.pk).status == Application.Status.DECIDED


def test_override_needs_a_note_and_is_flagged(scored, officer):
    application, prediction = scored
    outcome = _other(prediction.recommendation)
    with pytest.raises(ValidationError) as error:
        decision_create(application=application, outcome=outcome, note=" ", by=officer)
    assert "note" in error.value.message_dict
    assert not Decision.objects.exists()
    decision = decision_create(
        application=application, outcome=outcome, note="Known customer", by=officer
    )
    assert decision.is_override


def test_second_decision_is_refused_until_a_manager_reopens(scored, officer, manager):
    application, prediction = scored
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    with pytest.raises(ApplicationError, match="already been decided"):
        decision_create(application=application, outcome=prediction.recommendation, by=officer)
    with pytest.raises(PermissionDenied):
        decision_reopen(application=application, by=officer, reason="please")
    reopened = decision_reopen(application=application, by=manager, reason="New documents")
    assert reopened.reopened_by == manager and reopened.reopened_at is not None
    second = decision_create(
        application=application, outcome="refer", note="Check documents", by=officer
    )
    assert Decision.objects.filter(application=application).count() == 2
    assert second.reopened_at is None


def test_database_allows_one_active_decision(scored, officer):
    application, prediction = scored
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            application=application,
            prediction=prediction,
            outcome=prediction.recommendation,
            decided_by=officer,
        )


def test_deciding_needs_a_score(application, officer):
    with pytest.raises(ApplicationError, match="Score the application"):
        decision_create(application=application, outcome="approve", by=officer)


def test_realised_outcome_by_manager_only(scored, officer, manager):
    application, prediction = scored
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    with pytest.raises(PermissionDenied):
        outcome_record(application=application, outcome_class="default", by=officer)
    with pytest.raises(ValidationError):
        outcome_record(application=application, outcome_class="maybe", by=manager)
    outcome_record(application=application, outcome_class="default", by=manager)
    assert ApplicationOutcome.objects.get(application=application).outcome_class == "default"
