"""A scorecard added while the process runs is in the API at once, with no restart: its
stateless endpoint scores, the schema documents its operation and request body, every
`scorecard` choice takes it. A scorecard removed is gone as promptly.

`lender_x` (tests/conftest.py) puts a lender's scorecard into the live mapping of scorecards
after the URLconf, the serializers and the schema hook were all imported."""

import dataclasses

import pytest

from ml.scorecards import SCORECARDS
from scoring.api.serializers import (
    JobUploadSerializer,
    OutcomesExportSerializer,
    TrainingJobCreateSerializer,
    scorecard_inputs_serializer,
)
from scoring.models import Prediction, TrainingJob
from tests.apikit import assert_error, ids
from tests.factories import valid_inputs
from tests.scorecardkit import drop_scorecard, use_scorecard
from tests.scoring.api.test_predictions import assert_full_prediction

SCORE_URL = "/api/v1/scorecards/lender_x/score/"


def served_schema(api) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_stateless_endpoint_scores_a_scorecard_added_at_run_time(
    officer_api, officer, lender_x_model
):
    response = officer_api.post(SCORE_URL, valid_inputs("lender_x"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert_full_prediction(body, scorecard="lender_x")
    assert body["model_version"]["id"] == lender_x_model.pk
    stored = Prediction.objects.get(pk=body["id"])
    assert stored.scorecard == "lender_x" and stored.requested_by == officer
    # Its predictions are a choice of the predictions' filter too.
    assert ids(officer_api.get("/api/v1/predictions/", {"scorecard": "lender_x"})) == {stored.pk}


def test_inputs_of_an_added_scorecard_are_validated_as_any_others(officer_api, lender_x_model):
    inputs = {**valid_inputs("lender_x"), "duration": -4, "colour": "blue"}
    del inputs["credit_amount"]
    error = assert_error(
        officer_api.post(SCORE_URL, inputs, format="json"),
        400,
        "validation_error",
        ["duration", "colour", "credit_amount"],
    )
    assert error["fields"]["colour"] == ["Unknown field."]
    assert_error(
        officer_api.post(SCORE_URL, [1], format="json"),
        400,
        "validation_error",
        ["non_field_errors"],
    )
    assert not Prediction.objects.exists()


def test_added_scorecard_without_a_production_model_is_a_conflict(officer_api, lender_x):
    assert_error(
        officer_api.post(SCORE_URL, valid_inputs("lender_x"), format="json"),
        409,
        "no_production_model",
    )


def test_a_removed_scorecard_is_not_found(officer_api, lender_x_model, monkeypatch):
    assert officer_api.post(SCORE_URL, valid_inputs("lender_x"), format="json").status_code == 201
    drop_scorecard("lender_x")
    assert_error(
        officer_api.post(SCORE_URL, valid_inputs("german_credit"), format="json"), 404, "not_found"
    )
    assert Prediction.objects.count() == 1


def test_unknown_scorecard_is_not_found_in_the_api_format(officer_api, db):
    assert_error(officer_api.post(SCORE_URL, {}, format="json"), 404, "not_found")
    # A key no scorecard could have matches no route at all: the API's own 404 too.
    assert_error(officer_api.post("/api/v1/scorecards/Lender-X/score/", {}), 404, "not_found")


def test_schema_documents_an_added_scorecard_and_forgets_a_removed_one(
    officer_api, lender_x_declaration, monkeypatch
):
    assert "/api/v1/scorecards/lender_x/score/" not in served_schema(officer_api)["paths"]
    use_scorecard(lender_x_declaration)
    lender_x = lender_x_declaration
    assert officer_api.get("/api/v1/scorecards/lender_x/").status_code == 200

    schema = served_schema(officer_api)
    operation = schema["paths"]["/api/v1/scorecards/lender_x/score/"]["post"]
    assert operation["operationId"] == "scorecards_lender_x_score"
    assert operation["summary"] == "Score inputs with Lender X (stateless)"
    assert set(operation["responses"]) >= {"201", "400", "401", "403", "404", "409", "429"}
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/LenderXInputsRequest"
    body = schema["components"]["schemas"]["LenderXInputsRequest"]
    assert list(body["properties"]) == list(lender_x.field_names)
    assert set(body["required"]) == {f.name for f in lender_x.fields if f.required}
    duration = lender_x.field("duration")
    assert body["properties"]["duration"]["minimum"] == duration.min_value
    assert body["additionalProperties"] is False
    # The stateless route is never documented as one operation with a `{key}` parameter.
    assert "/api/v1/scorecards/{key}/score/" not in schema["paths"]
    # Every `scorecard` of a request body may be it.
    assert "lender_x" in schema["components"]["schemas"]["ScorecardEnum"]["enum"]

    drop_scorecard("lender_x")
    schema = served_schema(officer_api)
    assert "/api/v1/scorecards/lender_x/score/" not in schema["paths"]
    assert "LenderXInputsRequest" not in schema["components"]["schemas"]
    assert "lender_x" not in schema["components"]["schemas"]["ScorecardEnum"]["enum"]
    assert "/api/v1/scorecards/german_credit/score/" in schema["paths"]


def test_schema_follows_a_new_version_of_a_declaration(officer_api, lender_x, monkeypatch):
    assert scorecard_inputs_serializer("lender_x") is scorecard_inputs_serializer("lender_x")
    first = scorecard_inputs_serializer("lender_x")
    fewer = tuple(f for f in lender_x.fields if f.name != "job")
    use_scorecard(dataclasses.replace(lender_x, fields=fewer))
    second = scorecard_inputs_serializer("lender_x")
    assert second is not first
    assert "job" in first().fields and "job" not in second().fields
    body = served_schema(officer_api)["components"]["schemas"]["LenderXInputsRequest"]
    assert list(body["properties"]) == [f.name for f in fewer]


@pytest.mark.parametrize(
    "serializer_class", [JobUploadSerializer, OutcomesExportSerializer, TrainingJobCreateSerializer]
)
def test_scorecard_choices_are_read_per_request(serializer_class, lender_x, monkeypatch, db):
    assert "scorecard" not in errors_of(serializer_class, "lender_x")
    drop_scorecard("lender_x")
    assert errors_of(serializer_class, "lender_x")["scorecard"] == [
        '"lender_x" is not a valid choice.'
    ]


def errors_of(serializer_class, scorecard: str) -> dict:
    serializer = serializer_class(data={"scorecard": scorecard})
    serializer.is_valid()
    return serializer.errors


def test_retraining_an_added_scorecard_through_the_api(manager_api, lender_x, monkeypatch):
    response = manager_api.post("/api/v1/training-jobs/", {"scorecard": "lender_x"}, format="json")
    assert response.status_code == 202, response.content
    assert TrainingJob.objects.get().scorecard == "lender_x"
    drop_scorecard("lender_x")
    response = manager_api.post("/api/v1/training-jobs/", {"scorecard": "lender_x"}, format="json")
    assert_error(response, 400, "validation_error", ["scorecard"])


def test_api_root_links_each_scorecard_that_exists_now(officer_api, lender_x, monkeypatch):
    links = officer_api.get("/api/v1/").json()
    assert links["scorecards/lender_x/score"].endswith(SCORE_URL)
    assert {f"scorecards/{key}/score" for key in SCORECARDS} <= set(links)
    drop_scorecard("lender_x")
    assert "scorecards/lender_x/score" not in officer_api.get("/api/v1/").json()
