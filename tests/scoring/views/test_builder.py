"""The builder's pages: who may use them, the review form, its errors, saving, training."""

import pytest

from applicants.models import ScorecardDeclaration
from scoring.models import ScorecardDraft
from scoring.services import builder
from tests.scoring.jobkit import upload
from tests.scoring.lenderkit import lender_csv


@pytest.fixture
def draft(manager):
    created = builder.scorecard_draft_create(
        upload=upload(lender_csv(400), "loans.csv"), by=manager
    )
    builder.scorecard_draft_profile(draft_id=created.pk)
    created.refresh_from_db()
    return created


def review_post(draft, **changes) -> dict:
    """The review form as the page sends it, untouched, with `changes`."""
    data = {"action": "save", "key": draft.proposal["key"], "label": draft.proposal["label"]}
    for index, column in enumerate(draft.profile["columns"]):
        data[f"col-{index}-source"] = column["header"]
    data.update(changes)
    return data


def test_officers_cannot_open_the_builder(officer_client, draft):
    assert officer_client.get("/scorecards/").status_code == 403
    assert officer_client.get(f"/scorecards/drafts/{draft.pk}/").status_code == 403


def test_upload_queues_profiling_and_shows_progress(manager_client, task_queue):
    response = manager_client.post(
        "/scorecards/upload/", {"file": upload(lender_csv(200), "loans.csv")}
    )
    draft = ScorecardDraft.objects.get()
    assert response.status_code == 302
    assert task_queue.args_of("scoring.profile_scorecard_draft") == [(draft.pk,)]
    page = manager_client.get(f"/scorecards/drafts/{draft.pk}/").content.decode()
    assert "Reading the file" in page and "data-progress-url" in page


def test_an_upload_that_is_not_a_csv_is_refused_with_its_reason(manager_client):
    response = manager_client.post(
        "/scorecards/upload/", {"file": upload(b"\x89PNG....", "loans.png")}
    )
    assert response.status_code == 400
    assert "Upload a CSV file" in response.content.decode()
    assert not ScorecardDraft.objects.exists()


def test_review_page_shows_every_column_with_its_proposed_use(manager_client, draft):
    page = manager_client.get(f"/scorecards/drafts/{draft.pk}/").content.decode()
    for column in draft.profile["columns"]:
        assert column["header"] in page
    assert "Leak suspected" in page  # CollectionsFee
    assert "Outcomes from best to worst" in page


def test_saving_the_review_stores_a_declaration_with_the_edits(manager_client, draft):
    index = [c["header"] for c in draft.profile["columns"]].index("HomeStatus")
    response = manager_client.post(
        f"/scorecards/drafts/{draft.pk}/",
        review_post(
            draft,
            key="home_loans",
            label="Home loans",
            currency="SEK",
            **{f"col-{index}-label": "Housing", f"col-{index}-role": "input"},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    declaration = ScorecardDeclaration.objects.get(key="home_loans")
    fields = {f["source"]: f for f in declaration.document["fields"]}
    assert fields["HomeStatus"]["label"] == "Housing"
    assert declaration.document["currency"] == "SEK"


def test_a_review_breaking_rules_lists_them_and_stores_nothing(manager_client, draft):
    response = manager_client.post(
        f"/scorecards/drafts/{draft.pk}/",
        review_post(draft, key="Not A Key!", cost_0_1="abc"),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Cost of predicting" in page and "enter a number" in page
    assert not ScorecardDeclaration.objects.exists()

    response = manager_client.post(
        f"/scorecards/drafts/{draft.pk}/", review_post(draft, key="Not A Key!")
    )
    assert response.status_code == 400
    assert "key" in response.content.decode()
    assert not ScorecardDeclaration.objects.exists()


def test_choosing_another_outcome_column_profiles_the_file_again(manager_client, draft, task_queue):
    response = manager_client.post(
        f"/scorecards/drafts/{draft.pk}/",
        review_post(draft, action="retarget", target="HomeStatus"),
    )
    again = ScorecardDraft.objects.exclude(pk=draft.pk).get()
    assert response.status_code == 302 and again.requested_target == "HomeStatus"
    builder.scorecard_draft_profile(draft_id=again.pk)
    again.refresh_from_db()
    assert again.proposal["target"]["source"] == "HomeStatus"


def test_editing_the_words_of_a_scorecard_stores_a_version_in_use_at_once(manager_client, db):
    from applicants.scorecards import ensure_shipped_declarations
    from ml.scorecards import get_scorecard

    declaration = next(d for d in ensure_shipped_declarations() if d.key == "german_credit")
    fields = declaration.document["fields"]
    data = {"label": "Consumer loan", "description": "Loans to households."}
    for index, field in enumerate(fields):
        data[f"col-{index}-source"] = field.get("source") or field["name"]
        data[f"col-{index}-role"] = "protected" if field.get("protected") else "input"
        data[f"col-{index}-label"] = field.get("label", "")
    data["col-0-label"] = "Current account"

    response = manager_client.post(f"/scorecards/declarations/{declaration.pk}/edit/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert get_scorecard("german_credit").fields[0].label == "Current account"
    assert get_scorecard("german_credit").description == "Loans to households."
    page = manager_client.get(response["Location"]).content.decode()
    assert "in use now" in page or "yes" in page


def test_an_edit_changing_what_the_model_reads_waits_for_its_model(manager_client, db):
    from applicants.scorecards import ensure_shipped_declarations
    from ml.scorecards import get_scorecard

    declaration = next(d for d in ensure_shipped_declarations() if d.key == "german_credit")
    fields = declaration.document["fields"]
    data = {}
    for index, field in enumerate(fields):
        data[f"col-{index}-source"] = field.get("source") or field["name"]
        data[f"col-{index}-role"] = "protected" if field.get("protected") else "input"
    job = [f["name"] for f in fields].index("job")
    data[f"col-{job}-role"] = "ignored"

    response = manager_client.post(f"/scorecards/declarations/{declaration.pk}/edit/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    page = manager_client.get(response["Location"]).content.decode()
    assert "field &#x27;job&#x27; removed" in page
    assert "job" in get_scorecard("german_credit").field_names


def test_a_column_left_out_can_be_made_an_input(manager_client, draft):
    headers = [c["header"] for c in draft.profile["columns"]]
    index = headers.index("CollectionsFee")  # proposed as ignored: a leak
    response = manager_client.post(
        f"/scorecards/drafts/{draft.pk}/",
        review_post(draft, key="with_fee", **{f"col-{index}-role": "input"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document = ScorecardDeclaration.objects.get(key="with_fee").document
    assert "CollectionsFee" in {f.get("source") or f["name"] for f in document["fields"]}
    assert document["target"]["source"] not in document["id_columns"]


def test_only_the_latest_version_is_edited(manager_client, db):
    from applicants.scorecards import ensure_shipped_declarations

    first = next(d for d in ensure_shipped_declarations() if d.key == "german_credit")
    manager_client.post(f"/scorecards/declarations/{first.pk}/edit/", {"label": "Consumer"})
    response = manager_client.post(f"/scorecards/declarations/{first.pk}/edit/", {"label": "Other"})
    assert response.status_code == 400
    assert "Edit the latest version (v2)" in response.content.decode()
