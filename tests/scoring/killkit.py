"""Seeds the database of the kill test's worker processes (run through `manage.py shell`)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from creditportal.roles import LOAN_OFFICER
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame
from ml.train import train_scorecard
from scoring.services import bulk_scoring
from scoring.services.registry import model_version_promote_initial, model_version_register
from tests.scoring.jobkit import card_default_csv, upload


def seed(rows: int) -> int:
    """A production model, an officer, and a queued bulk job of `rows` rows; the job's id."""
    scorecard = get_scorecard("card_default")
    result = train_scorecard(
        scorecard,
        synthetic_frame(scorecard, n=800, seed=1),
        search=False,
        params={"n_estimators": 25, "min_samples_leaf": 5},
        random_state=1,
        synthetic=True,
        baselines=False,
        permutation=False,
    )
    version = model_version_register(result=result, training_data_description="kill test")
    model_version_promote_initial(version=version)
    officer = get_user_model().objects.create_user("kill_test_officer")
    officer.groups.add(Group.objects.get(name=LOAN_OFFICER))
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(rows)), owner=officer
    )
    return job.pk
