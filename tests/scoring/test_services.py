import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from applicants.models import Application
from creditportal.errors import ApplicationError
from scoring.models import ApplicationOutcome, Decision, Prediction
from scoring.services import (
    decision_create,
    decision_reopen,
    outcome_record,
    prediction_create,
    prediction_create_stateless,
)
from tests.factories import ApplicationFactory, valid_inputs

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(application, officer, production_model):
    prediction = prediction_create(application=application, requested_by=officer)
    application.refresh_from_db()
    return application, prediction


def _other(recommendation: str) -> str:
    return "approve" if recommendation != "approve" else "decline"


def test_prediction_is_an_audit_record(scored, production_model, officer):
    application, prediction = scored
    assert application.status == Application.Status.SCORED
    assert prediction.model_version == production_model
    assert prediction.inputs == application.inputs
    assert prediction.requested_by == officer
    assert prediction.source == "portal"
    assert set(prediction.probabilities) == {"no_default", "default"}
    assert abs(sum(prediction.probabilities.values()) - 1) < 1e-9
    assert prediction.risk == pytest.approx(prediction.probabilities["default"])
    assert 300 <= prediction.points <= 850
    assert prediction.recommendation in {"approve", "refer", "decline"}
    assert 1 <= len(prediction.reasons) <= 4
    assert all(reason["sentence"] for reason in prediction.reasons)
    assert "description" in prediction.segment
    assert prediction.latency_ms > 0


def test_invalid_inputs_are_never_scored(applicant, officer, production_model):
    application = ApplicationFactory(
        applicant=applicant, inputs={**valid_inputs("card_default"), "limit_bal": -1}
    )
    with pytest.raises(ValidationError) as error:
        prediction_create(application=application, requested_by=officer)
    assert "limit_bal" in error.value.message_dict
    assert not Prediction.objects.exists()


def test_scoring_without_production_model_is_refused(application, officer):
    with pytest.raises(ApplicationError, match="no production model"):
        prediction_create(application=application, requested_by=officer)


def test_user_without_role_cannot_score(application, no_role_user, production_model):
    with pytest.raises(PermissionDenied):
        prediction_create(application=application, requested_by=no_role_user)


def test_predictions_are_immutable(scored):
    _, prediction = scored
    prediction.points = 1
    with pytest.raises(PermissionError):
        prediction.save()
    with pytest.raises(PermissionError):
        prediction.delete()
    with pytest.raises(PermissionError):
        Prediction.objects.filter(pk=prediction.pk).update(points=1)
    with pytest.raises(PermissionError):
        Prediction.objects.all().delete()
    assert Prediction.objects.get(pk=prediction.pk).points != 1


def test_stateless_prediction_is_recorded(officer, production_model):
    prediction = prediction_create_stateless(
        scorecard_key="card_default",
        inputs=valid_inputs("card_default"),
        requested_by=officer,
        source="api",
    )
    assert prediction.application is None
    assert Prediction.objects.filter(source="api").count() == 1


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


def test_decided_application_cannot_be_scored_again(scored, officer):
    application, prediction = scored
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    with pytest.raises(ApplicationError, match="decided"):
        prediction_create(application=application, requested_by=officer)


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
