"""Derived features: the first step of every scorecard pipeline.

`ScorecardFeatures` turns the cleaned model-field columns into a frame of numeric
columns (inputs, per-type counts of multi-choice fields, derived ratios) and categorical
columns (strings, ``"missing"`` for blanks). It works on a mapping of column name to
numpy array, so the fast single-row path in `ml.model` reuses the exact same code.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ml import recipes
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


# --- derived features --------------------------------------------------------------------


class DerivedFeature:
    """A feature computed by a declared recipe (ml.recipes), with the words of reason codes.

    Built from a resolved recipe document (plain data, so a fitted pipeline pickles
    without any code of its scorecard)."""

    # Artifacts pickled before declarations held a module function as `compute` in the
    # instance and no recipe; see `__getattr__` below.
    recipe: dict | None = None

    def __init__(self, recipe: Mapping):
        self.recipe = dict(recipe)
        self.name: str = self.recipe["name"]
        self.label: str = self.recipe["label"]
        self.unit: str = self.recipe.get("unit", "")
        self.sources: tuple[str, ...] = recipes.sources(self.recipe)

    def compute(self, columns: Columns) -> np.ndarray:
        return recipes.evaluate(self.recipe, columns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DerivedFeature) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"DerivedFeature({self.name!r})"

    def describe(self, value: object) -> str:
        """Officer-readable phrase such as 'credit used last month of 95%'."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{self.label} unknown"
        number = float(value)
        if self.unit == "percent":
            return f"{self.label} of {number:.0%}"
        if self.unit == "count":
            return f"{self.label}: {number:.0f}"
        currency = (self.recipe or {}).get("currency", "")
        return f"{self.label} of {number:,.2f}" + (f" {currency}" if currency else "")


def derived_features_for(
    recipe_documents: Sequence[Mapping] | None, numeric_inputs: Sequence[str]
) -> list[DerivedFeature]:
    """The derived features whose source fields are all numeric inputs."""
    available = set(numeric_inputs)
    features = [DerivedFeature(recipe) for recipe in recipe_documents or ()]
    return [f for f in features if set(f.sources) <= available]


def resolved_recipes(scorecard) -> tuple[dict, ...]:
    """The scorecard's recipe documents with its groups replaced by their members."""
    groups = {group.name: scorecard.group_members(group.name) for group in scorecard.groups}
    return tuple(
        recipes.resolve(recipe, groups, scorecard.currency) for recipe in scorecard.derived
    )


# Read old artifacts only. Models pickled before scorecards were declarations hold
# `DerivedFeature`s whose `compute` is one of these module functions, looked up by name
# when the artifact is loaded; each is now the equivalent recipe. Their sums and means let
# a missing value propagate, as the functions did (declared recipes ignore it), so an old
# model gives the same probabilities on every row. The figures of the comparison (old
# artifact vs this code) are in docs/models.md.
_LEGACY_RECIPES: dict[str, dict] = {
    "_card_utilisation_recent": {
        "recipe": "ratio",
        "numerator": "bill_amt1",
        "denominator": "limit_bal",
    },
    "_card_utilisation_mean": {
        "recipe": "ratio",
        recipes.STRICT_KEY: True,
        "numerator": {"mean": [f"bill_amt{i}" for i in range(1, 7)]},
        "denominator": "limit_bal",
    },
    "_card_bill_trend": {
        "recipe": "ratio",
        "numerator": {"difference": ["bill_amt1", "bill_amt6"]},
        "denominator": "limit_bal",
    },
    "_card_paid_share_recent": {
        "recipe": "ratio",
        "numerator": "pay_amt1",
        "denominator": "bill_amt2",
        "if_not_positive": 1.0,
        "clip": [0.0, 5.0],
    },
    "_card_paid_share_mean": {
        "recipe": "ratio",
        recipes.STRICT_KEY: True,
        "numerator": {"sum": [f"pay_amt{i}" for i in range(1, 6)]},
        "denominator": {"sum": [f"bill_amt{i}" for i in range(2, 7)]},
        "if_not_positive": 1.0,
        "clip": [0.0, 5.0],
    },
    "_card_months_delinquent": {
        "recipe": "count_at_least",
        "of": ["pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6"],
        "threshold": 1,
    },
    "_card_max_delay": {
        "recipe": "max",
        "of": ["pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6"],
        "floor": 0,
    },
    "_german_amount_per_month": {
        "recipe": "ratio",
        "numerator": "credit_amount",
        "denominator": "duration",
    },
    "_score_debt_to_income": {
        "recipe": "ratio",
        "numerator": "outstanding_debt",
        "denominator": "annual_income",
    },
    "_score_emi_to_salary": {
        "recipe": "ratio",
        "numerator": "total_emi_per_month",
        "denominator": "monthly_inhand_salary",
    },
    "_score_invested_to_salary": {
        "recipe": "ratio",
        "numerator": "amount_invested_monthly",
        "denominator": "monthly_inhand_salary",
    },
    "_score_balance_to_salary": {
        "recipe": "ratio",
        "numerator": "monthly_balance",
        "denominator": "monthly_inhand_salary",
    },
}


def __getattr__(name: str) -> Callable[[Columns], np.ndarray]:
    """Read old artifacts only: the recipe standing for a removed per-scorecard function."""
    if name in _LEGACY_RECIPES:
        return functools.partial(recipes.evaluate, _LEGACY_RECIPES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    recipes : tuple of resolved recipe documents (see `resolved_recipes`), or None.
        Plain data, so the fitted step pickles without code of its scorecard.
    """

    def __init__(
        self,
        input_kinds: dict[str, str] | None = None,
        multi_choices: dict[str, tuple[str, ...]] | None = None,
        recipes: tuple[dict, ...] | None = None,
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
        input_kinds=input_kinds,
        multi_choices=multi_choices or None,
        recipes=resolved_recipes(scorecard) or None,
    )
