"""/api/v1/decisions/ and reopening / outcomes on /api/v1/applications/{id}/."""

from applicants.models import Application
from scoring.models import ApplicationOutcome, Decision
from scoring.services.decisions import decision_create
from tests.apikit import assert_error, ids

URL = "/api/v1/decisions/"


def other_outcome(recommendation: str) -> str:
    return "decline" if recommendation != "decline" else "approve"


def test_decide_on_the_recommendation(officer_api, application, prediction, officer):
    response = officer_api.post(
        URL, {"application": application.pk, "outcome": prediction.recommendation}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_override"] is False and body["is_active"] is True
    assert body["prediction"] == prediction.pk
    assert body["decided_by"]["id"] == officer.pk
    application.refresh_from_db()
    assert application.status == Application.Status.DECIDED


def test_override_needs_a_note(officer_api, application, prediction):
    outcome = other_outcome(prediction.recommendation)
    response = officer_api.post(URL, {"application": application.pk, "outcome": outcome})
    assert_error(response, 400, "validation_error", ["note"])
    ok = officer_api.post(
        URL, {"application": application.pk, "outcome": outcome, "note": "Known customer."}
    )
    assert ok.status_code == 201 and ok.json()["is_override"] is True


def test_decide_twice_is_a_conflict(officer_api, application, prediction):
    data = {"application": application.pk, "outcome": prediction.recommendation}
    assert officer_api.post(URL, data).status_code == 201
    assert_error(officer_api.post(URL, data), 409, "conflict")


def test_decide_unscored_is_a_conflict(officer_api, application):
    assert_error(officer_api.post(URL, {"application": application.pk, "outcome": "approve"}), 409)


def test_decide_anothers_application_is_a_field_error(officer_api, other_prediction):
    response = officer_api.post(
        URL, {"application": other_prediction.application_id, "outcome": "approve"}
    )
    assert_error(response, 400, "validation_error", ["application"])
    assert not Decision.objects.exists()


def test_bad_outcome_is_named(officer_api, application, prediction):
    response = officer_api.post(URL, {"application": application.pk, "outcome": "maybe"})
    assert_error(response, 400, "validation_error", ["outcome"])


def test_list_retrieve_and_404(
    officer_api, manager_api, prediction, other_prediction, officer, other_officer
):
    mine = decision_create(
        application=prediction.application, outcome=prediction.recommendation, by=officer
    )
    theirs = decision_create(
        application=other_prediction.application,
        outcome=other_prediction.recommendation,
        by=other_officer,
    )
    assert ids(officer_api.get(URL)) == {mine.pk}
    assert ids(manager_api.get(URL)) == {mine.pk, theirs.pk}
    assert officer_api.get(f"{URL}{mine.pk}/").status_code == 200
    assert_error(officer_api.get(f"{URL}{theirs.pk}/"), 404, "not_found")
    assert manager_api.get(f"{URL}{theirs.pk}/").status_code == 200
    assert ids(manager_api.get(URL, {"application": mine.application_id})) == {mine.pk}
    assert ids(manager_api.get(URL, {"is_override": "true"})) == set()
    assert_error(manager_api.get(URL, {"outcome": "nope"}), 400, fields=["outcome"])


def test_reopen_is_for_managers(officer_api, manager_api, prediction, officer, manager):
    application = prediction.application
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    url = f"/api/v1/applications/{application.pk}/reopen/"
    assert_error(officer_api.post(url, {"reason": "Please"}), 403, "permission_denied")
    assert_error(manager_api.post(url, {}), 400, "validation_error", ["reason"])
    response = manager_api.post(url, {"reason": "New income evidence."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_active"] is False and body["reopened_by"]["id"] == manager.pk
    application.refresh_from_db()
    assert application.status == Application.Status.SCORED
    assert_error(manager_api.post(url, {"reason": "Again"}), 409, "conflict")
    assert ids(manager_api.get(URL, {"active": "false"})) == {body["id"]}


def test_reopen_unknown_application_is_404(manager_api, db):
    assert_error(manager_api.post("/api/v1/applications/999999/reopen/", {"reason": "x"}), 404)


def test_record_outcome(manager_api, officer_api, prediction, officer):
    application = prediction.application
    url = f"/api/v1/applications/{application.pk}/outcome/"
    assert_error(manager_api.post(url, {"outcome_class": "default"}), 409, "conflict")
    decision_create(application=application, outcome=prediction.recommendation, by=officer)
    assert_error(officer_api.post(url, {"outcome_class": "default"}), 403)
    assert_error(manager_api.post(url, {"outcome_class": "gone"}), 400, fields=["outcome_class"])
    response = manager_api.post(url, {"outcome_class": "default", "note": "Missed 3 payments."})
    assert response.status_code == 200, response.content
    assert ApplicationOutcome.objects.get(application=application).outcome_class == "default"


def test_no_role_user_cannot_decide(no_role_api, application, prediction):
    assert_error(no_role_api.get(URL), 403)
    assert_error(no_role_api.post(URL, {"application": application.pk, "outcome": "approve"}), 403)
