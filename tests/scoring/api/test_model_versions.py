"""/api/v1/model-versions/ and /api/v1/model-promotions/: every role reads, managers promote."""

import pytest

from scoring.models import ModelPromotion, ModelVersion
from scoring.services.registry import model_version_register
from tests.apikit import assert_error, client_for, ids, results

URL = "/api/v1/model-versions/"
HISTORY = "/api/v1/model-promotions/"


@pytest.fixture
def second_candidate(production_model, trained_card_default_alt):
    return model_version_register(result=trained_card_default_alt, training_data_description="alt")


def test_manager_lists_and_reads_versions(manager_api, production_model, second_candidate):
    assert ids(manager_api.get(URL)) == {production_model.pk, second_candidate.pk}
    assert ids(manager_api.get(URL, {"status": "candidate"})) == {second_candidate.pk}
    assert ids(manager_api.get(URL, {"scorecard": "german_credit"})) == set()
    versions = [r["version"] for r in results(manager_api.get(URL, {"ordering": "version"}))]
    assert versions == [1, 2]
    body = manager_api.get(f"{URL}{production_model.pk}/").json()
    assert body["status"] == "production" and body["is_synthetic"] is True
    assert "report" in body and body["metrics"]
    assert "report" not in results(manager_api.get(URL))[0]
    assert_error(manager_api.get(f"{URL}999999/"), 404, "not_found")
    assert_error(manager_api.get(URL, {"status": "retired"}), 400, fields=["status"])


def test_officers_read_the_registry_but_cannot_promote(officer_api, production_model):
    assert officer_api.get(URL).status_code == 200
    assert officer_api.get(f"{URL}{production_model.pk}/").json()["status"] == "production"
    assert officer_api.get(HISTORY).status_code == 200


def test_users_without_a_role_may_not_read_the_registry(no_role_user, production_model):
    assert_error(client_for(no_role_user).get(URL), 403, "permission_denied")


def test_promote_and_roll_back(manager_api, manager, production_model, second_candidate):
    response = manager_api.post(f"{URL}{second_candidate.pk}/promote/", {"reason": "Better AUC."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["to_version"]["id"] == second_candidate.pk
    assert body["from_version"]["id"] == production_model.pk
    assert body["promoted_by"]["id"] == manager.pk
    production_model.refresh_from_db()
    assert production_model.status == ModelVersion.Status.ARCHIVED
    rollback = manager_api.post(f"{URL}{production_model.pk}/promote/", {"reason": "Roll back."})
    assert rollback.status_code == 201
    production_model.refresh_from_db()
    assert production_model.status == ModelVersion.Status.PRODUCTION
    history = results(manager_api.get(HISTORY))
    assert [row["to_version"]["id"] for row in history][:2] == [
        production_model.pk,
        second_candidate.pk,
    ]
    assert ids(manager_api.get(HISTORY, {"scorecard": "credit_score"})) == set()
    first = history[0]["id"]
    assert manager_api.get(f"{HISTORY}{first}/").json()["reason"] == "Roll back."
    assert_error(manager_api.get(f"{HISTORY}999999/"), 404)


def test_promote_rules(manager_api, officer_api, production_model, second_candidate):
    url = f"{URL}{second_candidate.pk}/promote/"
    assert_error(officer_api.post(url, {"reason": "Me"}), 403, "permission_denied")
    assert_error(manager_api.post(url, {"reason": ""}), 400, "validation_error", ["reason"])
    already = manager_api.post(f"{URL}{production_model.pk}/promote/", {"reason": "Again"})
    assert_error(already, 409, "conflict")
    assert_error(manager_api.post(f"{URL}999999/promote/", {"reason": "x"}), 404)
    assert ModelPromotion.objects.count() == 1


def test_no_role_user_cannot_promote(no_role_api, second_candidate):
    response = no_role_api.post(f"{URL}{second_candidate.pk}/promote/", {"reason": "x"})
    assert_error(response, 403, "permission_denied")
