"""The scikit-learn pipelines: Random Forest (production) and logistic-regression baselines.

Every pipeline runs from the cleaned model-field columns to a prediction:
``features`` (ScorecardFeatures) -> ``preprocess`` (ColumnTransformer: median imputation of
numeric columns, one-hot encoding of categorical ones) -> the estimator. Protected fields
are not in `ScorecardFeatures.input_kinds`, so they never reach the estimator.
The estimator is trained on class *codes* 0..K-1 in the scorecard's order (best -> worst).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ml.features import features_for

FOREST_STEP = "forest"

# Used by `train_scorecard(search=False)` (first start-up, demo models) under what a
# scorecard declares in its `forest` (the shipped ones declare the winners of the
# randomized search, ml.train.SEARCH_SPACE with seed 42, on the real extracts).
DEFAULT_FOREST_PARAMS: dict[str, object] = {
    "n_estimators": 300,
    "max_depth": 16,
    "min_samples_leaf": 8,
    "max_features": "sqrt",
    "max_samples": None,
    "class_weight": "balanced_subsample",
    "criterion": "gini",
}


def forest_params_for(scorecard, params: dict | None = None) -> dict[str, object]:
    """The defaults, overridden by the scorecard's declared `forest`, then by `params`."""
    merged = {**DEFAULT_FOREST_PARAMS, **scorecard.forest}
    merged.update(params or {})
    return merged


def _numeric_columns():
    return make_column_selector(dtype_include="number")


def _categorical_columns():
    return make_column_selector(dtype_exclude="number")


def _one_hot() -> OneHotEncoder:
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)


def forest_preprocessor() -> ColumnTransformer:
    """Median imputation and one-hot encoding; trees need no scaling."""
    return ColumnTransformer(
        [
            (
                "numeric",
                SimpleImputer(strategy="median", keep_empty_features=True),
                _numeric_columns(),
            ),
            ("categorical", _one_hot(), _categorical_columns()),
        ],
        verbose_feature_names_out=False,
    )


def build_forest_pipeline(
    scorecard, *, params: dict | None = None, random_state: int = 42, n_jobs: int = 1
) -> Pipeline:
    """Features -> imputation / one-hot -> RandomForestClassifier."""
    forest = RandomForestClassifier(
        **forest_params_for(scorecard, params), random_state=random_state, n_jobs=n_jobs
    )
    return Pipeline(
        [
            ("features", features_for(scorecard)),
            ("preprocess", forest_preprocessor()),
            (FOREST_STEP, forest),
        ]
    )


def _signed_log(values):
    # Money amounts span six orders of magnitude; a linear model needs them compressed.
    return np.arcsinh(values)


def linear_preprocessor() -> ColumnTransformer:
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("compress", FunctionTransformer(_signed_log, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, _numeric_columns()),
            ("categorical", _one_hot(), _categorical_columns()),
        ],
        verbose_feature_names_out=False,
    )


def build_logistic_pipeline(
    scorecard, *, penalty: str = "l2", C: float = 1.0, random_state: int = 42
) -> Pipeline:
    """The logistic-regression baseline (L1 or L2) on scaled features."""
    if penalty not in ("l1", "l2"):
        raise ValueError(f"penalty must be 'l1' or 'l2', not {penalty!r}")
    model = LogisticRegression(
        C=C,
        l1_ratio=1.0 if penalty == "l1" else 0.0,
        solver="saga" if penalty == "l1" else "lbfgs",
        class_weight="balanced",
        max_iter=2000,
        random_state=random_state,
    )
    return Pipeline(
        [
            ("features", features_for(scorecard)),
            ("preprocess", linear_preprocessor()),
            ("logistic", model),
        ]
    )


def model_input_frame(scorecard, frame: pd.DataFrame) -> pd.DataFrame:
    """The model-field columns of a cleaned frame (protected fields dropped)."""
    return frame.loc[:, list(scorecard.model_field_names)]


def encoded_columns(pipeline: Pipeline) -> list[tuple[str, str]]:
    """(encoded column, feature it came from) for every column the estimator sees, in order."""
    preprocess: ColumnTransformer = pipeline.named_steps["preprocess"]
    names = preprocess.get_feature_names_out()
    owners: list[str] = []
    for name, transformer, columns in preprocess.transformers_:
        if name == "numeric":
            owners.extend(columns)
        elif name == "categorical" and len(columns):
            for column, categories in zip(columns, transformer.categories_, strict=True):
                owners.extend([column] * len(categories))
    if len(owners) != len(names):
        raise ValueError("Unexpected preprocessor layout.")
    return list(zip(names.tolist(), owners, strict=True))


class CompiledPreprocessor:
    """The fitted ColumnTransformer of a forest pipeline, replayed with plain numpy.

    Gives the same matrix as ``pipeline["preprocess"].transform`` without pandas overhead,
    for the single-row path.
    """

    def __init__(self, pipeline: Pipeline):
        preprocess: ColumnTransformer = pipeline.named_steps["preprocess"]
        self.numeric_columns: list[str] = []
        self.fill_values = np.empty(0)
        self.categorical_columns: list[str] = []
        self.category_positions: list[dict[str, int]] = []
        for name, transformer, columns in preprocess.transformers_:
            if name == "numeric":
                self.numeric_columns = list(columns)
                self.fill_values = np.asarray(transformer.statistics_, dtype=np.float64)
            elif name == "categorical" and len(columns):
                self.categorical_columns = list(columns)
                self.category_positions = [
                    {str(category): i for i, category in enumerate(categories)}
                    for categories in transformer.categories_
                ]
        self.n_numeric = len(self.numeric_columns)
        self.n_columns = self.n_numeric + sum(len(p) for p in self.category_positions)

    def transform(self, columns) -> np.ndarray:
        """Encoded float64 matrix from the feature step's output columns."""
        n_rows = len(next(iter(columns.values())))
        out = np.zeros((n_rows, self.n_columns), dtype=np.float64)
        if self.n_numeric:
            numeric = np.column_stack([columns[c] for c in self.numeric_columns])
            out[:, : self.n_numeric] = np.where(np.isnan(numeric), self.fill_values, numeric)
        offset = self.n_numeric
        for column, positions in zip(
            self.categorical_columns, self.category_positions, strict=True
        ):
            for row, value in enumerate(columns[column]):
                position = positions.get(value)
                if position is not None:  # unseen categories encode as all zeros
                    out[row, offset + position] = 1.0
            offset += len(positions)
        return out
