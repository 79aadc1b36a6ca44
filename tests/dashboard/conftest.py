"""Fixtures of the dashboard tests: the production model's own training frame and its profile."""

import math

import numpy as np
import pytest

from dashboard import services
from ml.pipeline import model_input_frame
from ml.scorecards import get_scorecard
from ml.split import split_indices, target_codes
from ml.synthetic import synthetic_frame
from scoring.models import Prediction
from scoring.serving import model_version_load

CARD = get_scorecard("card_default")


@pytest.fixture(autouse=True)
def _charts_cache_in_memory(settings):
    """Charts drawn by a test stay in this process (not in the developer's var/ folder)."""
    settings.CACHES = {
        **settings.CACHES,
        "charts": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    }
    from django.core.cache import caches

    caches["charts"].clear()


@pytest.fixture(scope="session")
def training_frame():
    """The exact frame `trained_card_default` (tests/conftest.py) was trained on."""
    return synthetic_frame(CARD, n=800, seed=1)


@pytest.fixture
def profile(production_model, training_frame):
    return services.model_version_profile_compute(version=production_model, frame=training_frame)


def json_inputs(row, fields) -> dict:
    values = {}
    for name in fields:
        value = row[name]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        values[name] = value
    return values


def store_predictions(version, user, frame, *, created_at=None) -> list[Prediction]:
    """Predictions of `version` for every row of a cleaned frame, as the portal would store."""
    model = model_version_load(version)
    proba = model.pipeline.predict_proba(model_input_frame(CARD, frame))
    points = model.scaling.points(model.population_risk(proba))
    rows = []
    for i, (_, row) in enumerate(frame.iterrows()):
        risk = float(proba[i, -1])
        rows.append(
            Prediction(
                scorecard=CARD.key,
                model_version=version,
                inputs=json_inputs(row, model.input_fields),
                predicted_class=CARD.classes[int(proba[i].argmax())],
                probabilities={c: float(p) for c, p in zip(CARD.classes, proba[i], strict=True)},
                risk=risk,
                points=int(points[i]),
                band="C",
                recommendation=model.policy.decide_one(risk),
                requested_by=user,
                source=Prediction.Source.API,
                latency_ms=1.0,
            )
        )
    created = Prediction.objects.bulk_create(rows)
    if created_at is not None:
        # created_at is auto_now_add; tests move rows in time with the plain base manager.
        Prediction._base_manager.filter(pk__in=[p.pk for p in created]).update(
            created_at=created_at
        )
    return created


def split_rows(frame, side: str, random_state: int = 1):
    """The rows of one side of the training split (train / validation / test)."""
    labelled = frame[frame[CARD.target].notna()].reset_index(drop=True)
    y = target_codes(CARD, labelled[CARD.target])
    key = CARD.grouping_key
    groups = labelled[key].to_numpy() if key and key in labelled else None
    split = split_indices(y, groups, random_state=random_state)
    return labelled.iloc[getattr(split, side)]
