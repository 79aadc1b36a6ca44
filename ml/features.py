"""Derived features: the first step of every scorecard pipeline.

`ScorecardFeatures` turns the cleaned model-field columns into a frame of numeric
columns (inputs, per-type counts of multi-choice fields, derived ratios) and categorical
columns (strings, ``"missing"`` for blanks). It works on a mapping of column name to
numpy array, so the fast single-row path in `ml.model` reuses the exact same code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ml.schema import split_multi

MISSING_CATEGORY = "missing"
NUMERIC_KINDS = ("numeric", "integer", "boolean")
CATEGORICAL_KIND = "categorical"
MULTI_KIND = "multi_categorical"

Columns = Mapping[str, np.ndarray]


def kind_name(kind: object) -> str:
    """Return a field kind (enum or string) as its lower-case name."""
    value = getattr(kind, "value", kind)
    return str(value).lower()


# --- small vectorised helpers ------------------------------------------------------------


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _paid_share(paid: np.ndarray, billed: np.ndarray) -> np.ndarray:
    """Share of a bill that was paid; nothing owed counts as fully paid, capped at 5x."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(billed > 0, paid / np.where(billed > 0, billed, 1), 1.0)
    share = np.where(np.isnan(paid) | np.isnan(billed), np.nan, share)
    return np.clip(share, 0.0, 5.0)


def _stack(columns: Columns, names: Sequence[str]) -> np.ndarray:
    return np.column_stack([columns[name] for name in names])


# --- recipes -----------------------------------------------------------------------------

CARD_PAY_STATUS = ("pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6")
CARD_BILLS = tuple(f"bill_amt{i}" for i in range(1, 7))
CARD_PAYMENTS = tuple(f"pay_amt{i}" for i in range(1, 7))


def _card_utilisation_recent(c: Columns) -> np.ndarray:
    return _ratio(c["bill_amt1"], c["limit_bal"])


def _card_utilisation_mean(c: Columns) -> np.ndarray:
    return _ratio(_stack(c, CARD_BILLS).mean(axis=1), c["limit_bal"])


def _card_bill_trend(c: Columns) -> np.ndarray:
    return _ratio(c["bill_amt1"] - c["bill_amt6"], c["limit_bal"])


def _card_paid_share_recent(c: Columns) -> np.ndarray:
    # A payment in month t settles the statement of month t-1 (PAY_AMT1 pays BILL_AMT2).
    return _paid_share(c["pay_amt1"], c["bill_amt2"])


def _card_paid_share_mean(c: Columns) -> np.ndarray:
    paid = _stack(c, CARD_PAYMENTS[:5]).sum(axis=1)
    billed = _stack(c, CARD_BILLS[1:]).sum(axis=1)
    return _paid_share(paid, billed)


def _card_months_delinquent(c: Columns) -> np.ndarray:
    status = _stack(c, CARD_PAY_STATUS)
    counts = (status >= 1).sum(axis=1).astype(float)
    return np.where(np.isnan(status).all(axis=1), np.nan, counts)


def _card_max_delay(c: Columns) -> np.ndarray:
    status = _stack(c, CARD_PAY_STATUS)
    with np.errstate(invalid="ignore"):
        worst = np.fmax.reduce(status, axis=1)
    return np.where(np.isnan(worst), np.nan, np.maximum(worst, 0.0))


def _german_amount_per_month(c: Columns) -> np.ndarray:
    return _ratio(c["credit_amount"], c["duration"])


def _score_debt_to_income(c: Columns) -> np.ndarray:
    return _ratio(c["outstanding_debt"], c["annual_income"])


def _score_emi_to_salary(c: Columns) -> np.ndarray:
    return _ratio(c["total_emi_per_month"], c["monthly_inhand_salary"])


def _score_invested_to_salary(c: Columns) -> np.ndarray:
    return _ratio(c["amount_invested_monthly"], c["monthly_inhand_salary"])


def _score_balance_to_salary(c: Columns) -> np.ndarray:
    return _ratio(c["monthly_balance"], c["monthly_inhand_salary"])


@dataclass(frozen=True)
class DerivedFeature:
    """A feature computed from source fields, with the words used in reason codes."""

    name: str
    label: str
    sources: tuple[str, ...]
    compute: Callable[[Columns], np.ndarray]
    unit: str = ""  # "percent" shows the value as a percentage

    def describe(self, value: object) -> str:
        """Officer-readable phrase such as 'credit used in September of 95% of the limit'."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{self.label} unknown"
        number = float(value)
        if self.unit == "percent":
            return f"{self.label} of {number:.0%}"
        if self.unit == "count":
            return f"{self.label}: {number:.0f}"
        return f"{self.label} of {number:,.2f}"


DERIVED_FEATURES: dict[str, tuple[DerivedFeature, ...]] = {
    "card_default": (
        DerivedFeature(
            "utilisation_recent",
            "Credit used in September (bill as share of limit)",
            ("bill_amt1", "limit_bal"),
            _card_utilisation_recent,
            "percent",
        ),
        DerivedFeature(
            "utilisation_mean",
            "Average credit used April–September (bill as share of limit)",
            (*CARD_BILLS, "limit_bal"),
            _card_utilisation_mean,
            "percent",
        ),
        DerivedFeature(
            "bill_trend",
            "Growth of the bill April→September (as share of limit)",
            ("bill_amt1", "bill_amt6", "limit_bal"),
            _card_bill_trend,
            "percent",
        ),
        DerivedFeature(
            "paid_share_recent",
            "Share of the August bill paid in September",
            ("pay_amt1", "bill_amt2"),
            _card_paid_share_recent,
            "percent",
        ),
        DerivedFeature(
            "paid_share_mean",
            "Share of bills paid April–September",
            (*CARD_PAYMENTS[:5], *CARD_BILLS[1:]),
            _card_paid_share_mean,
            "percent",
        ),
        DerivedFeature(
            "months_delinquent",
            "Months with a delayed payment (April–September)",
            CARD_PAY_STATUS,
            _card_months_delinquent,
            "count",
        ),
        DerivedFeature(
            "max_delay",
            "Longest payment delay in months",
            CARD_PAY_STATUS,
            _card_max_delay,
            "count",
        ),
    ),
    "german_credit": (
        DerivedFeature(
            "amount_per_month",
            "Loan amount per month of duration (DM)",
            ("credit_amount", "duration"),
            _german_amount_per_month,
        ),
    ),
    "credit_score": (
        DerivedFeature(
            "debt_to_income",
            "Outstanding debt as share of annual income",
            ("outstanding_debt", "annual_income"),
            _score_debt_to_income,
            "percent",
        ),
        DerivedFeature(
            "emi_to_salary",
            "Monthly instalments (EMI) as share of in-hand salary",
            ("total_emi_per_month", "monthly_inhand_salary"),
            _score_emi_to_salary,
            "percent",
        ),
        DerivedFeature(
            "invested_to_salary",
            "Monthly investment as share of in-hand salary",
            ("amount_invested_monthly", "monthly_inhand_salary"),
            _score_invested_to_salary,
            "percent",
        ),
        DerivedFeature(
            "balance_to_salary",
            "Monthly balance as share of in-hand salary",
            ("monthly_balance", "monthly_inhand_salary"),
            _score_balance_to_salary,
            "percent",
        ),
    ),
}


def derived_features_for(
    recipes: str | None, numeric_inputs: Sequence[str]
) -> list[DerivedFeature]:
    """The recipes of a scorecard whose source fields are all numeric inputs."""
    available = set(numeric_inputs)
    return [f for f in DERIVED_FEATURES.get(recipes or "", ()) if set(f.sources) <= available]


# --- value normalisation -----------------------------------------------------------------


def to_float_array(values: object) -> np.ndarray:
    """Coerce numbers, booleans and blanks to float64 with NaN for missing."""
    array = np.asarray(values)
    if array.dtype.kind in "fiu":
        return array.astype(np.float64)
    if array.dtype.kind == "b":
        return array.astype(np.float64)
    out = np.empty(array.shape, dtype=np.float64)
    for i, value in enumerate(array.ravel()):
        out.flat[i] = _one_float(value)
    return out


_TRUE_WORDS = {"true", "yes", "y", "1"}
_FALSE_WORDS = {"false", "no", "n", "0"}


def _one_float(value: object) -> float:
    if value is None or value is pd.NA:
        return math.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return 1.0
        if word in _FALSE_WORDS:
            return 0.0
        try:
            return float(word)
        except ValueError:
            return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def category_string(value: object) -> str:
    """The category token a value is one-hot encoded under (blank -> 'missing')."""
    if value is None or value is pd.NA:
        return MISSING_CATEGORY
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return MISSING_CATEGORY
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    text = str(value).strip()
    return text or MISSING_CATEGORY


def to_category_array(values: object) -> np.ndarray:
    """Coerce any values to an object array of category strings."""
    array = np.asarray(values, dtype=object).ravel()
    if len(array) < 16:
        return np.array([category_string(v) for v in array], dtype=object)
    # Few distinct values in a long column: convert each distinct value once.
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    tokens = np.array([category_string(v) for v in uniques] + [MISSING_CATEGORY], dtype=object)
    return tokens[codes]


def as_item_list(value: object) -> list[str] | None:
    """A multi-choice cell as its list of items; None when unknown (NaN / None)."""
    if isinstance(value, np.ndarray | pd.Series):
        value = list(value)
    if value is pd.NA:
        return None
    return split_multi(value)


def slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_")


# --- the transformer ---------------------------------------------------------------------


class ScorecardFeatures(TransformerMixin, BaseEstimator):
    """Typed input columns plus per-item counts and derived ratios.

    Parameters
    ----------
    input_kinds : dict mapping each model field to its kind name
        ("numeric", "integer", "boolean", "categorical", "multi_categorical").
        Columns not listed (protected fields, ids, the target) are ignored.
    multi_choices : dict mapping a multi-choice field to its known items, or None.
    recipes : key into `DERIVED_FEATURES` (the scorecard key), or None.
    """

    def __init__(
        self,
        input_kinds: dict[str, str] | None = None,
        multi_choices: dict[str, tuple[str, ...]] | None = None,
        recipes: str | None = None,
    ):
        self.input_kinds = input_kinds
        self.multi_choices = multi_choices
        self.recipes = recipes

    def fit(self, X, y=None):
        kinds = {name: kind_name(kind) for name, kind in (self.input_kinds or {}).items()}
        unknown = set(kinds.values()) - {*NUMERIC_KINDS, CATEGORICAL_KIND, MULTI_KIND}
        if unknown:
            raise ValueError(f"Unknown field kinds: {sorted(unknown)}")
        missing = [name for name in kinds if name not in X.columns]
        if missing:
            raise ValueError(f"Columns missing from the training frame: {missing}")
        self.numeric_inputs_ = [n for n, k in kinds.items() if k in NUMERIC_KINDS]
        self.categorical_inputs_ = [n for n, k in kinds.items() if k == CATEGORICAL_KIND]
        self.multi_inputs_ = [n for n, k in kinds.items() if k == MULTI_KIND]
        self.multi_items_ = {}
        for name in self.multi_inputs_:
            known = list((self.multi_choices or {}).get(name, ()))
            cells = [as_item_list(cell) for cell in _object_cells(X[name])]
            seen = sorted({item for cell in cells if cell for item in cell} - set(known))
            self.multi_items_[name] = [*known, *seen]
        self.derived_ = derived_features_for(self.recipes, self.numeric_inputs_)
        self.feature_names_in_ = np.array(list(kinds), dtype=object)
        self.n_features_in_ = len(kinds)
        self.feature_sources_ = self._feature_sources()
        return self

    def _feature_sources(self) -> dict[str, tuple[str, ...]]:
        sources = {name: (name,) for name in self.numeric_inputs_}
        for field, items in self.multi_items_.items():
            sources[f"{field}__count"] = (field,)
            for item in items:
                sources[f"{field}__{slug(item)}"] = (field,)
        for feature in self.derived_:
            sources[feature.name] = feature.sources
        for name in self.categorical_inputs_:
            sources[name] = (name,)
        return sources

    def transform_columns(self, columns: Columns) -> dict[str, np.ndarray]:
        """Compute the output columns from a mapping of input name to 1-D array."""
        numeric = {name: to_float_array(columns[name]) for name in self.numeric_inputs_}
        out: dict[str, np.ndarray] = dict(numeric)
        for field in self.multi_inputs_:
            cells = [as_item_list(cell) for cell in _object_cells(columns[field])]
            out[f"{field}__count"] = _counts(cells, None)
            for item in self.multi_items_[field]:
                out[f"{field}__{slug(item)}"] = _counts(cells, item)
        with np.errstate(invalid="ignore", divide="ignore"):
            for feature in self.derived_:
                out[feature.name] = np.asarray(feature.compute(numeric), dtype=np.float64)
        for name in self.categorical_inputs_:
            out[name] = to_category_array(columns[name])
        return out

    def transform(self, X):
        columns = {
            name: _column_array(X[name], name in self.numeric_inputs_)
            for name in self.feature_names_in_
        }
        out = self.transform_columns(columns)
        return pd.DataFrame(
            {
                name: pd.Series(
                    values, index=X.index, dtype=object if values.dtype == object else np.float64
                )
                for name, values in out.items()
            },
            index=X.index,
        )

    def get_feature_names_out(self, input_features=None):
        return np.array(list(self.feature_sources_), dtype=object)


def _object_cells(values) -> list:
    """Cells of a column as a list (a list-valued cell stays one cell)."""
    if isinstance(values, pd.Series):
        return values.tolist()
    if isinstance(values, np.ndarray):
        return list(values) if values.ndim == 1 else [values]
    return list(values)


def _counts(cells: list[list[str] | None], item: str | None) -> np.ndarray:
    """Per-cell number of items (all items when `item` is None); NaN for unknown cells."""
    return np.array(
        [
            np.nan if cell is None else float(len(cell) if item is None else cell.count(item))
            for cell in cells
        ],
        dtype=np.float64,
    )


def _column_array(series: pd.Series, numeric: bool) -> np.ndarray:
    """A frame column as numpy, numbers as float64 without a Python loop when possible."""
    if numeric and (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=object)


def features_for(scorecard) -> ScorecardFeatures:
    """The unfitted feature step for a scorecard's non-protected fields."""
    input_kinds = {field.name: kind_name(field.kind) for field in scorecard.model_fields}
    multi_choices = {
        field.name: tuple(str(value) for value, _label in (field.choices or ()))
        for field in scorecard.model_fields
        if kind_name(field.kind) == MULTI_KIND
    }
    return ScorecardFeatures(
        input_kinds=input_kinds, multi_choices=multi_choices or None, recipes=scorecard.key
    )
