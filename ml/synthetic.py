"""Seeded synthetic data in the cleaned layout, for demo models and tests (never real people).

Each field is drawn from its declared range or choices; the target depends on the risk
drivers the scorecard declares in `synthetic` (plus noise), so a model trained on it learns
something real-looking while being clearly labelled *demo — synthetic data*. A scorecard
that declares no `synthetic` gets none: labels drawn from nothing would make a model that
looks trained and means nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml.cleaning import ROW_NUMBER, CleaningError
from ml.schema import Field, FieldKind, Scorecard, split_multi

MISSING_SHARE = 0.05
ROWS_PER_CUSTOMER = 2


def _draw_number(field_: Field, rng: np.random.Generator, n: int) -> np.ndarray:
    """Right-skewed values inside the field's range (most people are not at the extremes)."""
    low = field_.min_value if field_.min_value is not None else 0.0
    high = field_.max_value if field_.max_value is not None else low + 1000.0
    if low < 0 < high and not field_.value_labels:
        # Negative amounts (credit balances) are the exception, not a fifth of the rows.
        values = rng.beta(1.5, 12, n) * high
        negative = rng.random(n) < 0.05
        values[negative] = rng.uniform(low / 20, 0, negative.sum())
    else:
        values = low + rng.beta(2, 5, n) * (high - low)
    if field_.kind == FieldKind.INTEGER:
        values = np.clip(np.round(values), low, high) + 0.0  # no negative zeros
    return values.astype("float64")


def _draw_field(field_: Field, rng: np.random.Generator, n: int) -> pd.Series:
    if field_.kind in (FieldKind.NUMERIC, FieldKind.INTEGER):
        series = pd.Series(_draw_number(field_, rng, n), dtype="float64")
    elif field_.kind == FieldKind.CATEGORICAL:
        series = pd.Series(rng.choice(list(field_.choice_values), n), dtype=object)
    elif field_.kind == FieldKind.BOOLEAN:
        series = pd.Series(rng.random(n) < 0.5, dtype="boolean")
    else:
        values = list(field_.choice_values)
        counts = np.minimum(rng.poisson(2.0, n), 9)
        series = pd.Series([", ".join(rng.choice(values, k)) for k in counts], dtype=object)
    if not field_.required:
        series = series.mask(rng.random(n) < MISSING_SHARE)
    return series


def _risk(spec: Mapping[str, Any], frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Risk drivers: (field, weight) for numbers, standardised first; (field, value, weight)
    for a category. A positive weight pushes towards the worst class."""
    risk = rng.normal(0.0, 1.0, len(frame))
    for name, weight in spec.get("numeric_drivers", ()):
        values = frame[name].astype("float64")
        standardised = (values - values.mean()) / (values.std() or 1.0)
        risk += weight * standardised.fillna(0.0).to_numpy()
    for name, value, weight in spec.get("category_drivers", ()):
        risk += weight * frame[name].eq(value).to_numpy(dtype=float)
    return risk


class NoSyntheticSpec(CleaningError):
    """The scorecard declares no way to draw synthetic data."""


def synthetic_frame(scorecard: Scorecard, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """`n` seeded rows in the cleaned layout: fields, target, grouping key and row_number.

    `NoSyntheticSpec` when the scorecard declares no `synthetic`."""
    spec = scorecard.synthetic
    if spec is None:
        raise NoSyntheticSpec(
            f"The scorecard {scorecard.label!r} declares no synthetic data: train it on a "
            "data file."
        )
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f.name: _draw_field(f, rng, n) for f in scorecard.fields})
    for count_name, list_name in scorecard.item_counts.items():
        counts = frame[list_name].map(lambda text: len(split_multi(text)), na_action="ignore")
        frame[count_name] = counts.fillna(frame[count_name]).astype("float64")
    risk = _risk(spec, frame, rng)
    shares = spec["class_shares"]
    cut_points = np.quantile(risk, np.cumsum(shares)[:-1])
    frame[scorecard.target] = pd.Series(
        np.asarray(scorecard.classes, dtype=object)[np.searchsorted(cut_points, risk)],
        dtype=object,
    )
    if scorecard.grouping_key:
        customers = np.arange(n) // ROWS_PER_CUSTOMER
        frame[scorecard.grouping_key] = pd.Series(
            [f"SYN_{number:06d}" for number in customers], dtype=object
        )
    frame[ROW_NUMBER] = np.arange(1, n + 1, dtype="int64")
    return frame
