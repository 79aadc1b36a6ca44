"""Scoring over the API: an application, stateless inputs; predictions are read-only."""

from datetime import timedelta

from django.utils import timezone

from applicants.models import Application
from scoring.models import Prediction
from scoring.services.predictions import prediction_create
from tests.apikit import assert_error, ids, results
from tests.factories import ApplicationFactory, valid_inputs

PREDICTION_FIELDS = {
    "id",
    "application",
    "scorecard",
    "model_version",
    "predicted_class",
    "class_label",
    "probabilities",
    "risk",
    "points",
    "band",
    "band_label",
    "recommendation",
    "reasons",
    "segment",
    "inputs",
    "flags",
    "source",
    "requested_by",
    "latency_ms",
    "created_at",
}


def score_url(application) -> str:
    return f"/api/v1/applications/{application.pk}/score/"


def assert_full_prediction(body: dict, scorecard: str = "card_default") -> None:
    assert set(body) == PREDICTION_FIELDS
    assert body["scorecard"] == scorecard
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-6
    assert 0 <= body["risk"] <= 1
    assert 300 <= body["points"] <= 850
    assert body["recommendation"] in {"approve", "refer", "decline"}
    assert 1 <= len(body["reasons"]) <= 4
    assert set(body["reasons"][0]) == {
        "field",
        "label",
        "value",
        "direction",
        "contribution",
        "sentence",
    }
    assert set(body["segment"]) == {"id", "description"}
    assert body["flags"] == []  # one applicant's implausible value is refused, never flagged
    assert body["model_version"]["is_synthetic"] is True
    assert "demo" in body["model_version"]["label"]
    assert body["source"] == "api"


def test_score_an_application(officer_api, application, production_model, officer):
    response = officer_api.post(score_url(application))
    assert response.status_code == 201, response.content
    body = response.json()
    assert_full_prediction(body)
    assert body["application"] == application.pk
    assert body["requested_by"]["id"] == officer.pk
    application.refresh_from_db()
    assert application.status == Application.Status.SCORED
    assert Prediction.objects.get(pk=body["id"]).source == Prediction.Source.API


def test_score_anothers_application_is_404(officer_api, other_application, production_model):
    assert_error(officer_api.post(score_url(other_application)), 404, "not_found")
    assert not Prediction.objects.exists()


def test_manager_scores_any_application(manager_api, other_application, production_model):
    assert manager_api.post(score_url(other_application)).status_code == 201


def test_score_incomplete_draft_names_inputs(officer_api, applicant, production_model):
    draft = ApplicationFactory(
        applicant=applicant, status=Application.Status.DRAFT, inputs={"age": 40}
    )
    error = assert_error(officer_api.post(score_url(draft)), 400, "validation_error")
    assert "inputs.limit_bal" in error["fields"] and "inputs.age" not in error["fields"]


def test_score_without_production_model_is_a_conflict(officer_api, application):
    assert_error(officer_api.post(score_url(application)), 409, "no_production_model")


def test_score_decided_application_is_a_conflict(officer_api, application, production_model):
    application.status = Application.Status.DECIDED
    application.save()
    assert_error(officer_api.post(score_url(application)), 409, "conflict")


def test_no_role_user_cannot_score(no_role_api, application, production_model):
    assert_error(no_role_api.post(score_url(application)), 403, "permission_denied")


# --- stateless -------------------------------------------------------------------------------

STATELESS = "/api/v1/scorecards/card_default/score/"


def test_stateless_scoring_is_recorded_for_audit(officer_api, officer, production_model):
    response = officer_api.post(STATELESS, valid_inputs("card_default"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert_full_prediction(body)
    assert body["application"] is None
    stored = Prediction.objects.get(pk=body["id"])
    assert stored.application is None and stored.requested_by == officer
    assert stored.source == Prediction.Source.API


def test_stateless_accepts_labels_and_text_numbers(officer_api, production_model):
    inputs = {**valid_inputs("card_default"), "limit_bal": "20,000", "education": "University"}
    response = officer_api.post(STATELESS, inputs)
    assert response.status_code == 201, response.content
    assert response.json()["inputs"]["limit_bal"] == 20000
    assert response.json()["inputs"]["education"] == "university"


def test_stateless_errors_name_each_field(officer_api, production_model):
    inputs = {**valid_inputs("card_default"), "age": 7, "pay_0": "often"}
    del inputs["limit_bal"]
    error = assert_error(
        officer_api.post(STATELESS, inputs), 400, "validation_error", ["age", "pay_0", "limit_bal"]
    )
    assert "between 18 and 100" in error["fields"]["age"][0]
    assert not Prediction.objects.exists()


def test_stateless_refuses_the_implausible_values_bulk_scoring_flags(officer_api, production_model):
    """Issue 14: one applicant's request refuses a value out of range or an unknown choice
    (400 naming the field; the client can correct it), where a bulk row is scored with it
    set missing and flagged."""
    inputs = {**valid_inputs("card_default"), "limit_bal": 5700000, "education": "doctorate"}
    error = assert_error(
        officer_api.post(STATELESS, inputs, format="json"),
        400,
        "validation_error",
        ["limit_bal", "education"],
    )
    assert error["fields"]["limit_bal"] == ["Must be between 10000 and 1000000 (got 5700000)."]
    assert "(got 'doctorate')" in error["fields"]["education"][0]
    assert not Prediction.objects.exists()


def test_stateless_body_must_be_an_object(officer_api, production_model):
    response = officer_api.post(STATELESS, [1, 2], format="json")
    assert_error(response, 400, "validation_error", ["non_field_errors"])


def test_stateless_unknown_scorecard_is_404(officer_api, production_model):
    assert_error(officer_api.post("/api/v1/scorecards/mortgage/score/", {}), 404)


def test_stateless_without_production_model(officer_api, db):
    response = officer_api.post("/api/v1/scorecards/german_credit/score/", {})
    # Inputs are checked first: the client learns what to fix before the model matters.
    assert response.status_code in (400, 409)
    assert_error(
        officer_api.post("/api/v1/scorecards/german_credit/score/", valid_inputs("german_credit")),
        409,
        "no_production_model",
    )


def test_stateless_needs_the_scoring_permission(no_role_api, production_model):
    assert_error(no_role_api.post(STATELESS, valid_inputs("card_default")), 403)


# --- predictions -----------------------------------------------------------------------------

URL = "/api/v1/predictions/"


def test_officer_sees_only_predictions_of_their_applicants(
    officer_api, manager_api, prediction, other_prediction, officer, other_officer
):
    assert ids(officer_api.get(URL)) == {prediction.pk}
    assert ids(manager_api.get(URL)) == {prediction.pk, other_prediction.pk}
    assert officer_api.get(f"{URL}{prediction.pk}/").status_code == 200
    assert_error(officer_api.get(f"{URL}{other_prediction.pk}/"), 404, "not_found")
    assert manager_api.get(f"{URL}{other_prediction.pk}/").status_code == 200


def test_stateless_predictions_are_their_requesters(
    officer_api, other_officer_api, manager_api, production_model
):
    mine = officer_api.post(STATELESS, valid_inputs("card_default")).json()["id"]
    assert ids(officer_api.get(URL)) == {mine}
    assert ids(other_officer_api.get(URL)) == set()
    assert_error(other_officer_api.get(f"{URL}{mine}/"), 404)
    assert ids(manager_api.get(URL)) == {mine}


def test_prediction_filters(officer_api, officer, application, prediction, production_model):
    second = ApplicationFactory(applicant=application.applicant)
    other = prediction_create(application=second, requested_by=officer)
    assert ids(officer_api.get(URL, {"application": application.pk})) == {prediction.pk}
    assert ids(officer_api.get(URL, {"applicant": application.applicant_id})) == {
        prediction.pk,
        other.pk,
    }
    assert ids(officer_api.get(URL, {"model_version": production_model.pk})) == {
        prediction.pk,
        other.pk,
    }
    assert ids(officer_api.get(URL, {"model_version": production_model.pk + 1})) == set()
    rec = prediction.recommendation
    assert prediction.pk in ids(officer_api.get(URL, {"recommendation": rec}))
    today = timezone.now()
    window = {
        "created_after": (today - timedelta(hours=1)).isoformat(),
        "created_before": (today + timedelta(hours=1)).isoformat(),
    }
    assert ids(officer_api.get(URL, window)) == {prediction.pk, other.pk}
    assert (
        ids(officer_api.get(URL, {"created_after": (today + timedelta(days=1)).isoformat()}))
        == set()
    )
    ordered = [r["points"] for r in results(officer_api.get(URL, {"ordering": "points"}))]
    assert ordered == sorted(ordered)
    assert_error(officer_api.get(URL, {"recommendation": "maybe"}), 400, fields=["recommendation"])
    assert_error(
        officer_api.get(URL, {"created_after": "yesterday"}), 400, fields=["created_after"]
    )


def test_filter_by_anothers_application_shows_nothing(officer_api, other_prediction):
    assert ids(officer_api.get(URL, {"application": other_prediction.application_id})) == set()


def test_predictions_are_read_only(officer_api, prediction):
    assert_error(officer_api.post(URL, {}), 405, "method_not_allowed")
    assert_error(officer_api.delete(f"{URL}{prediction.pk}/"), 405)
    assert_error(officer_api.patch(f"{URL}{prediction.pk}/", {"points": 1}), 405)


def test_no_role_user_cannot_read_predictions(no_role_api, prediction):
    assert_error(no_role_api.get(URL), 403)


def test_hand_written_prediction_representation_matches_the_declared_fields(prediction):
    """PredictionSerializer.to_representation is written out for speed; the generic DRF
    representation of its declared fields (what the schema documents) must agree."""
    from rest_framework import serializers

    from scoring.api.serializers import PredictionSerializer

    prediction = Prediction.objects.select_related("model_version", "requested_by").get(
        pk=prediction.pk
    )
    fast = PredictionSerializer(prediction).data
    generic = serializers.ModelSerializer.to_representation(PredictionSerializer(), prediction)
    assert fast == generic
