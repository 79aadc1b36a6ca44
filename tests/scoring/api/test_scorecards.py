"""/api/v1/scorecards/: the field schema a client builds its form from."""

from ml.scorecards import SCORECARDS, get_scorecard
from tests.apikit import assert_error, results


def test_list_every_scorecard(officer_api, production_model):
    rows = results(officer_api.get("/api/v1/scorecards/"))
    assert [row["key"] for row in rows] == list(SCORECARDS)
    by_key = {row["key"]: row for row in rows}
    assert by_key["card_default"]["production_model"]["id"] == production_model.pk
    assert by_key["german_credit"]["production_model"] is None


def test_fields_as_declared_in_ml(officer_api, db):
    body = officer_api.get("/api/v1/scorecards/card_default/").json()
    scorecard = get_scorecard("card_default")
    assert [f["name"] for f in body["fields"]] == list(scorecard.field_names)
    assert [c["value"] for c in body["classes"]] == list(scorecard.classes)
    by_name = {f["name"]: f for f in body["fields"]}
    limit = scorecard.field("limit_bal")
    assert by_name["limit_bal"]["min_value"] == limit.min_value
    assert by_name["limit_bal"]["kind"] == limit.kind.value
    education = by_name["education"]
    assert education["choices"][0] == dict(
        zip(("value", "label"), scorecard.field("education").choices[0], strict=True)
    )
    assert by_name["sex"]["protected"] is True


def test_unknown_scorecard(officer_api, db):
    assert_error(officer_api.get("/api/v1/scorecards/mortgage/"), 404, "not_found")
