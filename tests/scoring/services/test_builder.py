"""The scorecard builder, end to end on a lender's own file: upload → profile → review →
declaration → training → promotion → scoring one applicant and a bulk file. No code names
the scorecard; only the file and the manager's edits define it."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from applicants.models import ScorecardDeclaration
from ml.scorecards import SCORECARDS, get_scorecard
from scoring.models import JobStatus, ModelVersion, Prediction, ScorecardDraft
from scoring.services import builder, bulk_scoring, predictions, registry, training
from tests.scoring.jobkit import upload
from tests.scoring.lenderkit import lender_csv, lender_frame

SMALL_TRAINING = {"params": {"n_estimators": 30, "min_samples_leaf": 3}, "baselines": False}


@pytest.fixture
def small_training(settings):
    settings.TRAINING_JOB_OPTIONS = {**SMALL_TRAINING, "permutation": False}


def profiled(manager, content: bytes, name: str = "sek_loans.csv") -> ScorecardDraft:
    draft = builder.scorecard_draft_create(upload=upload(content, name), by=manager)
    builder.scorecard_draft_profile(draft_id=draft.pk)
    draft.refresh_from_db()
    return draft


def roles(draft: ScorecardDraft) -> dict[str, str]:
    document = draft.proposal
    found = {
        f["source"]: ("protected" if f.get("protected") else "input") for f in document["fields"]
    }
    found.update({c: "ignored" for c in document.get("id_columns", [])})
    found[document["target"]["source"]] = "target"
    return found


def test_a_lender_file_is_profiled_into_a_proposal(manager):
    draft = profiled(manager, lender_csv(600))

    assert draft.status == JobStatus.SUCCEEDED, draft.error
    proposed = roles(draft)
    assert proposed["Outcome"] == "target"
    assert proposed["LoanRef"] == "ignored"
    assert proposed["Gender"] == "protected"
    assert proposed["CollectionsFee"] == "ignored"  # known only after the outcome: a leak
    assert proposed["AmountRequestedSEK"] == "input"
    classes = [c["value"] for c in draft.proposal["target"]["classes"]]
    assert classes == ["Repaid", "Defaulted"]
    assert not ScorecardDeclaration.objects.exists()  # nothing stored before the review


def test_only_a_credit_manager_uses_the_builder(officer):
    with pytest.raises(PermissionDenied):
        builder.scorecard_draft_create(upload=upload(lender_csv(100)), by=officer)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a,b,c\n1,2,3\n", "target"),
        (lender_frame(200).assign(Outcome="Repaid").to_csv(index=False).encode(), "one class"),
        (lender_frame(120).to_csv(index=False).encode(), "50"),
        (("x," * 300 + "Outcome\n" + "1," * 300 + "Repaid\n").encode(), "300"),
        (b"Outcome,Amount,Amount\nRepaid,1,2\n", "Amount"),
        ("Outcome,Name\nRepaid,M\xfcller\n".encode("latin-1"), "latin-1"),
    ],
    ids=["no-target", "one-class", "few-rows", "too-many-columns", "duplicate-header", "latin-1"],
)
def test_a_file_that_cannot_make_a_scorecard_says_why(manager, content, expected):
    draft = profiled(manager, content)

    assert draft.status == JobStatus.FAILED
    assert expected.lower() in draft.error.lower(), draft.error
    assert not draft.proposal
    assert not ScorecardDeclaration.objects.exists()


def test_an_invalid_review_stores_nothing_and_names_the_rule(manager):
    draft = profiled(manager, lender_csv(400))
    document = builder.apply_edits(draft.proposal, {"costs": [[0, -1], [5, 0]]})

    with pytest.raises(ValidationError) as raised:
        builder.scorecard_draft_save(draft=draft, document=document, by=manager)

    assert any("costs" in message for message in raised.value.message_dict["declaration"])
    assert not ScorecardDeclaration.objects.exists()


def test_from_a_lender_file_to_scored_applicants_with_no_code(
    manager, officer, small_training, settings
):
    draft = profiled(manager, lender_csv(1200))
    edits = {
        "key": "sek_personal_loan",
        "label": "Personal loan",
        "currency": "SEK",
        "columns": {"YearsEmployed": {"label": "Years in current job", "never_reason": False}},
    }
    document = builder.draft_document(draft, edits)
    declaration = builder.scorecard_draft_save(draft=draft, document=document, by=manager)
    assert (declaration.key, declaration.version) == ("sek_personal_loan", 1)
    assert "sek_personal_loan" in SCORECARDS
    assert get_scorecard("sek_personal_loan").field("YearsEmployed").label == (
        "Years in current job"
    )

    job = builder.scorecard_draft_train(draft=draft, by=manager, search=False)
    training.training_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    candidate = job.model_version
    assert candidate.declaration == declaration
    assert candidate.report["quality"]["random_forest"]["roc_auc"] > 0.75
    registry.model_version_promote(version=candidate, by=manager, reason="first model")

    inputs = {
        "AmountRequestedSEK": 250_000,
        "MonthlyIncomeSEK": 4_000,
        "YearsEmployed": 2,
        "HomeStatus": "Tenant",
        **{f"LateDays_M{m}": 4 for m in range(1, 7)},
    }
    scorecard = get_scorecard("sek_personal_loan")
    named = {scorecard.field(source).name: value for source, value in inputs.items()}
    prediction = predictions.prediction_create_stateless(
        scorecard_key="sek_personal_loan", inputs=named, requested_by=officer, source="api"
    )
    assert prediction.model_version == candidate
    assert prediction.predicted_class in ("Repaid", "Defaulted")

    settings.BATCH_CHUNK_ROWS = 100
    bulk = bulk_scoring.batch_job_create(
        scorecard_key="sek_personal_loan", upload=upload(lender_csv(300, seed=7)), owner=officer
    )
    bulk_scoring.batch_job_run(job_id=bulk.pk)
    bulk.refresh_from_db()
    assert bulk.status == JobStatus.SUCCEEDED, bulk.error
    assert bulk.rows_valid >= 297, bulk.rows_invalid
    assert Prediction.objects.filter(batch_job=bulk).count() == bulk.rows_valid
    with bulk.result_file.open("rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
    assert len(rows) == 300 and "LoanRef" in rows[0]
    assert ModelVersion.objects.filter(scorecard="sek_personal_loan").count() == 1
