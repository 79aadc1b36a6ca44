"""Slow: bulk-scores the real credit_score extracts; skipped where they are absent.

Issue 14, "done when": the shipped `credit_score` scores at least 99 % of the customers of
its public file. Before implausible values were scored as missing, 15.6 % of the snapshot's
customers were refused (119 loans, an annual income of 5.7 million: values the training
cleaning repairs from a customer's other months, which a one-row snapshot cannot).
"""

import io

import pytest
from django.conf import settings

from ml.cleaning import load_raw, read_csv
from ml.datasets import scorecard_data_path
from ml.scorecards import get_scorecard
from ml.train import train_scorecard
from scoring.models import BatchRowError, JobStatus, Prediction
from scoring.services import bulk_scoring
from scoring.services.registry import model_version_promote_initial, model_version_register
from tests.scoring.jobkit import upload

pytestmark = pytest.mark.slow

SNAPSHOT = "credit_score_classification/customer_snapshot.csv"
MONTHLY = "credit_score_classification/train.csv"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
SCORED_SHARE = 0.99


def data_path(relative_path: str):
    path = scorecard_data_path(
        get_scorecard("credit_score"), settings.CREDITPORTAL_DATA_DIR, relative_path
    )
    if path is None:
        pytest.skip(f"real data for credit_score ({relative_path}) is not present")
    return path


@pytest.fixture(scope="module")
def trained_credit_score():
    """A small forest on the real snapshot, cleaned as training cleans it (repaired per
    customer): the model a lender would have in production, quickly."""
    scorecard = get_scorecard("credit_score")
    frame = load_raw(scorecard, data_path(SNAPSHOT), require_target=True).frame
    return train_scorecard(
        scorecard,
        frame,
        search=False,
        params={"n_estimators": 15, "min_samples_leaf": 5},
        random_state=0,
        baselines=False,
        permutation=False,
    )


@pytest.fixture
def credit_score_in_production(db, trained_credit_score):
    version = model_version_register(result=trained_credit_score, training_data_description="test")
    model_version_promote_initial(version=version)
    return version


def bulk_score(content: bytes, owner):
    job = bulk_scoring.batch_job_create(
        scorecard_key="credit_score", upload=upload(content, "customers.csv"), owner=owner
    )
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def test_bulk_scoring_scores_99_percent_of_the_snapshot_customers(
    officer, credit_score_in_production
):
    job = bulk_score(data_path(SNAPSHOT).read_bytes(), officer)
    assert job.rows_total == 10_017
    assert job.rows_valid / job.rows_total >= SCORED_SHARE, job.flag_summary
    # The dirty values are there, scored as missing and said so, not silently dropped.
    assert job.rows_flagged > 0.1 * job.rows_total
    assert job.flag_counts["num_of_loan"]["out_of_range"] > 0
    assert job.flag_counts["annual_income"]["out_of_range"] > 0
    flagged = Prediction.objects.filter(batch_job=job).exclude(flags=[])
    assert flagged.count() == job.rows_flagged
    assert BatchRowError.objects.filter(job=job).count() == job.rows_invalid


def test_bulk_scoring_scores_99_percent_of_the_monthly_files_customers_latest_month(
    officer, credit_score_in_production
):
    """train.csv, one row per customer: the latest month, as a lender's monthly extract."""
    raw = read_csv(data_path(MONTHLY))
    month = raw["Month"].map({name: number for number, name in enumerate(MONTHS)})
    latest = raw.loc[month.groupby(raw["Customer_ID"]).idxmax()]
    buffer = io.StringIO()
    latest.to_csv(buffer, index=False)
    job = bulk_score(buffer.getvalue().encode(), officer)
    assert job.rows_total == raw["Customer_ID"].nunique() == 98
    assert job.rows_valid / job.rows_total >= SCORED_SHARE, job.flag_summary
