import pytest

from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame
from ml.train import train_scorecard
from scoring.registry import forget_loaded_models
from scoring.services import model_version_promote_initial, model_version_register

SMALL_FOREST = {"n_estimators": 25, "min_samples_leaf": 5}


def _train(scorecard_key: str, seed: int):
    scorecard = get_scorecard(scorecard_key)
    frame = synthetic_frame(scorecard, n=800, seed=seed)
    return train_scorecard(
        scorecard,
        frame,
        search=False,
        params=SMALL_FOREST,
        random_state=seed,
        synthetic=True,
        baselines=False,
        permutation=False,
    )


@pytest.fixture(scope="session")
def trained_card_default():
    return _train("card_default", seed=1)


@pytest.fixture(scope="session")
def trained_card_default_alt():
    return _train("card_default", seed=2)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    forget_loaded_models()
    yield
    forget_loaded_models()


@pytest.fixture
def candidate(db, trained_card_default):
    return model_version_register(result=trained_card_default, training_data_description="test")


@pytest.fixture
def production_model(candidate):
    model_version_promote_initial(version=candidate)
    candidate.refresh_from_db()
    return candidate
