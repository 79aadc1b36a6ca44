"""The builder and the stored declarations over the API: /scorecard-drafts/, /declarations/."""

import copy

import pytest

from applicants.models import ScorecardDeclaration
from ml.scorecards import SHIPPED, get_scorecard
from scoring.models import ScorecardDraft, TrainingJob
from scoring.services import builder
from tests.apikit import assert_error, client_for, results
from tests.scoring.jobkit import upload
from tests.scoring.lenderkit import lender_csv

DRAFTS = "/api/v1/scorecard-drafts/"
DECLARATIONS = "/api/v1/declarations/"


def profiled_draft(manager) -> ScorecardDraft:
    response = client_for(manager).post(
        DRAFTS, {"file": upload(lender_csv(400), "loans.csv")}, format="multipart"
    )
    assert response.status_code == 202, response.content
    builder.scorecard_draft_profile(draft_id=response.json()["id"])
    return ScorecardDraft.objects.get(pk=response.json()["id"])


def test_officers_get_403_from_the_builder(officer):
    assert_error(client_for(officer).get(DRAFTS), 403)
    assert_error(client_for(officer).get(DECLARATIONS), 403)


def test_a_draft_is_profiled_then_saved_with_edits_then_trained(manager, task_queue):
    draft = profiled_draft(manager)
    body = client_for(manager).get(f"{DRAFTS}{draft.pk}/").json()
    assert body["status"] == "succeeded"
    assert body["proposal"]["target"]["source"] == "Outcome"
    assert {c["header"] for c in body["profile"]["columns"]} >= {"LoanRef", "Outcome"}

    edits = {"key": "api_loans", "label": "API loans", "currency": "SEK"}
    response = client_for(manager).post(
        f"{DRAFTS}{draft.pk}/save/", {"edits": edits}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["key"] == "api_loans" and response.json()["version"] == 1
    assert get_scorecard("api_loans").currency == "SEK"

    response = client_for(manager).post(f"{DRAFTS}{draft.pk}/train/", {"search": False})
    assert response.status_code == 202, response.content
    job = TrainingJob.objects.get(pk=response.json()["id"])
    assert job.scorecard == "api_loans"
    assert task_queue.args_of("scoring.run_training_job") == [(job.pk,)]


def test_an_invalid_declaration_is_a_400_naming_each_rule(manager):
    draft = profiled_draft(manager)
    document = copy.deepcopy(draft.proposal)
    document["costs"]["matrix"] = [[0, -1], [5, 0]]
    document["fields"][0]["kind"] = "colour"

    response = client_for(manager).post(
        f"{DRAFTS}{draft.pk}/save/", {"declaration": document}, format="json"
    )

    error = assert_error(response, 400, fields=["declaration"])
    messages = " ".join(error["fields"]["declaration"])
    assert "fields[0].kind" in messages and "costs" in messages
    assert not ScorecardDeclaration.objects.exists()


def test_declarations_are_listed_and_a_new_version_stored(manager):
    document = copy.deepcopy(SHIPPED["german_credit"].to_document())
    document["key"], document["label"] = "consumer_de", "Consumer loan"
    client = client_for(manager)

    first = client.post(DECLARATIONS, {"document": document}, format="json")
    document["fields"][0]["help"] = "Balance of the current account."
    second = client.post(DECLARATIONS, {"document": document, "note": "help"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert second.json()["version"] == 2
    listed = results(client.get(DECLARATIONS, {"key": "consumer_de"}))
    assert [d["version"] for d in listed] == [2, 1]
    assert_error(client.post(DECLARATIONS, {"document": "nope"}, format="json"), 400)


@pytest.mark.parametrize(
    "edits",
    [
        {"columns": ["HomeStatus"]},
        {"columns": "HomeStatus"},
        {"columns": {"HomeStatus": "input"}},
        {"columns": {"HomeStatus": {"role": "target"}}},
        {"classes": 5},
        {"classes": [{"a": 1}, {"b": 2}]},
        {"bad": 5},
        {"costs": [[0] * 5000]},
        {"label": ["x"]},
        {"surprise": 1},
    ],
)
def test_hostile_edits_are_a_400_naming_the_part(manager, edits):
    draft = profiled_draft(manager)
    response = client_for(manager).post(
        f"{DRAFTS}{draft.pk}/save/", {"edits": edits}, format="json"
    )
    assert_error(response, 400)
    assert not ScorecardDeclaration.objects.exists()


def test_the_builder_does_not_overwrite_an_existing_scorecard(manager):
    draft = profiled_draft(manager)
    response = client_for(manager).post(
        f"{DRAFTS}{draft.pk}/save/", {"edits": {"key": "german_credit"}}, format="json"
    )
    error = assert_error(response, 400, fields=["declaration"])
    assert "already a scorecard" in error["fields"]["declaration"][0]
