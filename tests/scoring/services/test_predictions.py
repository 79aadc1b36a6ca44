"""Scoring an application or bare inputs: the audit record and who may score."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from applicants.models import Application
from creditportal.errors import ApplicationError
from scoring.models import Prediction
from scoring.services.decisions import decision_create
from scoring.services.predictions import prediction_create, prediction_create_stateless
from tests.factories import ApplicationFactory, valid_inputs


@pytest.fixture
def scored(application, officer, production_model):
    prediction = prediction_create(application=application, requested_by=officer)
    application.refresh_from_db()
    return application, prediction


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


def test_decided_application_cannot_be_scored_again(scored, officer):
    application, prediction = scored
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    with pytest.raises(ApplicationError, match="decided"):
        prediction_create(application=application, requested_by=officer)
