"""Seeded synthetic data in the cleaned layout, for demo models and tests (never real people).

Each field is drawn from its declared range or choices; the target depends on a few risk
drivers per scorecard (plus noise), so a model trained on it learns something real-looking
while being clearly labelled *demo — synthetic data*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.cleaning import ROW_NUMBER
from ml.schema import Field, FieldKind, Scorecard, split_multi

# Risk drivers: (field, weight) for numbers, standardised first; (field, value, weight) for
# a category. A positive weight pushes towards the worst class.
NUMERIC_DRIVERS: dict[str, tuple[tuple[str, float], ...]] = {
    "card_default": (("pay_0", 1.4), ("pay_2", 0.5), ("limit_bal", -0.6), ("pay_amt1", -0.4)),
    "german_credit": (("duration", 0.7), ("credit_amount", 0.4), ("age", -0.3)),
    "credit_score": (
        ("num_of_delayed_payment", 0.8),
        ("interest_rate", 0.7),
        ("outstanding_debt", 0.5),
        ("annual_income", -0.4),
        ("credit_history_age", -0.4),
    ),
}
CATEGORY_DRIVERS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "card_default": (("education", "high_school", 0.2),),
    "german_credit": (
        ("checking_status", "<0", 0.9),
        ("checking_status", "no checking", -0.9),
        ("credit_history", "critical/other existing credit", -0.4),
        ("savings_status", "<100", 0.4),
    ),
    "credit_score": (("credit_mix", "Bad", 1.0), ("credit_mix", "Good", -0.8)),
}
# Share of each class, best to worst (close to the public data sets).
CLASS_SHARES: dict[str, tuple[float, ...]] = {
    "card_default": (0.78, 0.22),
    "german_credit": (0.70, 0.30),
    "credit_score": (0.18, 0.53, 0.29),
}
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


def _risk(scorecard: Scorecard, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    risk = rng.normal(0.0, 1.0, len(frame))
    for name, weight in NUMERIC_DRIVERS.get(scorecard.key, ()):
        values = frame[name].astype("float64")
        standardised = (values - values.mean()) / (values.std() or 1.0)
        risk += weight * standardised.fillna(0.0).to_numpy()
    for name, value, weight in CATEGORY_DRIVERS.get(scorecard.key, ()):
        risk += weight * frame[name].eq(value).to_numpy(dtype=float)
    if scorecard.key not in NUMERIC_DRIVERS:
        numeric = [f.name for f in scorecard.model_fields if f.kind in (FieldKind.NUMERIC,)]
        for position, name in enumerate(numeric[:3]):
            values = frame[name].astype("float64")
            sign = 1.0 if position % 2 == 0 else -1.0
            risk += sign * ((values - values.mean()) / (values.std() or 1.0)).fillna(0.0)
    return risk


def synthetic_frame(scorecard: Scorecard, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """`n` seeded rows in the cleaned layout: fields, target, grouping key and row_number."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f.name: _draw_field(f, rng, n) for f in scorecard.fields})
    for count_name, list_name in scorecard.item_counts.items():
        counts = frame[list_name].map(lambda text: len(split_multi(text)), na_action="ignore")
        frame[count_name] = counts.fillna(frame[count_name]).astype("float64")
    risk = _risk(scorecard, frame, rng)
    shares = CLASS_SHARES.get(scorecard.key) or tuple(
        1 / len(scorecard.classes) for _ in scorecard.classes
    )
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
