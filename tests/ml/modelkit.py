"""Small seeded frames and tiny trained models shared by the model-layer tests."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from ml.features import kind_name
from ml.scorecards import get_scorecard
from ml.train import TrainingResult, train_scorecard

TINY_FOREST = {"n_estimators": 15, "max_depth": 8, "min_samples_leaf": 3}


def make_frame(key: str, n: int = 400, seed: int = 0, missing: float = 0.03) -> pd.DataFrame:
    """A cleaned-layout frame for scorecard `key` whose target depends on a few fields."""
    scorecard = get_scorecard(key)
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    signal = np.zeros(n)
    numeric_seen = 0
    categorical_seen = False
    for field in scorecard.fields:
        kind = kind_name(field.kind)
        if kind in ("numeric", "integer"):
            low = field.min_value if field.min_value is not None else 0.0
            high = field.max_value if field.max_value is not None else 100.0
            share = rng.beta(1.2, 4.0, n)
            values = low + (high - low) * share
            if kind == "integer":
                values = np.round(values)
            if not field.protected and numeric_seen < 3:
                signal += (share - share.mean()) / share.std()
                numeric_seen += 1
            values = np.where(rng.random(n) < missing, np.nan, values)
            columns[field.name] = values.astype(float)
        elif kind == "categorical":
            choices = np.array(field.choice_values, dtype=object)
            picked = rng.integers(0, len(choices), n)
            if not field.protected and not categorical_seen:
                signal += (picked == 0) * 1.0
                categorical_seen = True
            columns[field.name] = pd.Series(choices[picked], dtype=object)
        elif kind == "boolean":
            columns[field.name] = pd.array(rng.random(n) < 0.5, dtype="boolean")
        else:
            items = field.choice_values
            cells = [
                ", ".join(rng.choice(items, size=rng.integers(0, 4)).tolist()) for _ in range(n)
            ]
            columns[field.name] = pd.Series(cells, dtype=object)
    frame = pd.DataFrame(columns)
    latent = signal + rng.normal(0, 0.8, n)
    k = len(scorecard.classes)
    cuts = (
        np.quantile(latent, np.linspace(0, 1, k + 1)[1:-1]) if k > 2 else [np.quantile(latent, 0.7)]
    )
    codes = np.searchsorted(cuts, latent)
    frame[scorecard.target] = pd.Series(
        np.array(scorecard.classes, dtype=object)[codes], dtype=object
    )
    if scorecard.grouping_key:
        frame[scorecard.grouping_key] = [f"CUS_{i // 2:05d}" for i in range(n)]
    frame["row_number"] = np.arange(1, n + 1)
    return frame


@cache
def trained(key: str, n: int = 400, seed: int = 0) -> TrainingResult:
    """A tiny model trained on `make_frame` (cached for the whole test session)."""
    return train_scorecard(
        get_scorecard(key),
        make_frame(key, n, seed),
        search=False,
        params=TINY_FOREST,
        random_state=seed,
        permutation=False,
    )


def one_row(key: str, index: int = 0, seed: int = 0) -> dict:
    """One applicant's values (protected fields included) as a plain dict."""
    frame = make_frame(key, 400, seed, missing=0.0)
    scorecard = get_scorecard(key)
    row = frame.iloc[index]
    return {name: _plain(row[name]) for name in scorecard.field_names}


def _plain(value):
    if value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
