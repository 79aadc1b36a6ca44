"""`ScoringModel`: a fitted scorecard model and everything one prediction needs.

One row goes validate -> features -> encoded matrix -> probabilities and path
contributions -> points -> band -> recommendation -> reasons -> segment in plain numpy
(`FlatForest`, `CompiledPreprocessor`); the probabilities equal the pipeline's
``predict_proba`` (tested). Batches use the pipeline's own preprocessing in chunks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml.explain import FlatForest, LeafContributions, item_matrix
from ml.pipeline import FOREST_STEP, CompiledPreprocessor, encoded_columns
from ml.policy import DecisionPolicy
from ml.reasons import (
    MAX_REASONS,
    ReasonItem,
    ReasonMemo,
    batch_reason_codes,
    batch_reasons,
    reason,
    top_reasons,
    top_reasons_batch,
)
from ml.scaling import ScoreScaling
from ml.schema import Scorecard, validate_inputs
from ml.segments import Segmenter

BATCH_ROWS = 10_000


class InvalidInputError(ValueError):
    """The inputs of one applicant do not pass the scorecard's validation."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items())
        super().__init__(f"Invalid inputs: {details}")


@dataclass(frozen=True)
class Prediction:
    """Everything the app shows and stores for one scored applicant.

    `probabilities` and `risk` (probability of the worst class) are the forest's own;
    the recommendation and the reasons use them. `population_risk` is the same risk at
    the training population's class mix (the forest is trained class-balanced), and the
    points and band are computed from it, so 600 points really mean 50:1 good:bad odds.
    """

    scorecard: str
    predicted_class: str
    class_label: str
    probabilities: dict[str, float]
    risk: float
    population_risk: float
    points: int
    band: str
    band_label: str
    recommendation: str
    reasons: list[dict[str, Any]]
    segment: dict[str, Any]
    synthetic: bool = False
    model_version: str = ""  # metadata["version"], which the app may set after loading

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ScoringModel:
    """A fitted Random Forest scorecard with its policy, scaling, explainer and segments."""

    def __init__(
        self,
        *,
        scorecard: Scorecard,
        pipeline: Pipeline,
        policy: DecisionPolicy,
        scaling: ScoreScaling,
        segmenter: Segmenter | None,
        metadata: dict[str, Any] | None = None,
        prior_weights: Sequence[float] | None = None,
    ):
        self.scorecard = scorecard
        self.pipeline = pipeline
        self.policy = policy
        self.scaling = scaling
        self.segmenter = segmenter
        self.metadata = dict(metadata or {})
        # Class-balanced training treats the classes as equally likely; multiplying the
        # probabilities by the training class shares (and renormalising) restores the
        # population's odds, which the points are computed from. Ones = no adjustment.
        n_classes = len(scorecard.classes)
        weights = np.ones(n_classes) if prior_weights is None else np.asarray(prior_weights, float)
        self.prior_weights = weights / weights.sum() * n_classes
        self._prepare()

    # --- pickling: the flattened arrays are rebuilt from the pipeline on load ----------

    _DERIVED_STATE = (
        "_features",
        "_compiled",
        "_flat",
        "_items",
        "_item_matrix",
        "_derived_by_name",
        "_segment_positions",
        "_leaf_contributions",
        "_reason_memo",
        "_reason_weights",
    )

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in self._DERIVED_STATE}
        # The artifact carries its scorecard's declaration document (plain JSON): a model
        # loads without its scorecard being known to this process, and keeps the field
        # definitions it was trained with whatever the current declaration says.
        state["scorecard"] = self.scorecard.to_document()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from ml.declaration import load_declaration
        from ml.scorecards import get_scorecard

        state = dict(state)
        scorecard = state["scorecard"]
        # Artifacts written before declarations were data name their scorecard's key.
        if isinstance(scorecard, str):
            state["scorecard"] = get_scorecard(scorecard)
        else:
            state["scorecard"] = load_declaration(scorecard)
        self.__dict__.update(state)
        self._prepare()

    def _prepare(self) -> None:
        self._features = self.pipeline.named_steps["features"]
        self._leaf_contributions: LeafContributions | None = None
        self._reason_memo = ReasonMemo()
        self._compiled = CompiledPreprocessor(self.pipeline)
        self._flat = FlatForest(self.pipeline.named_steps[FOREST_STEP])
        self._derived_by_name = {f.name: f for f in self._features.derived_}
        column_items = [
            self.reason_item_of(feature) for _, feature in encoded_columns(self.pipeline)
        ]
        self._items = self._reason_items(column_items)
        # 0 for the fields declared `never_reason` (e.g. age): they still count in the risk
        # and its explanation, but a decision is never said to be because of them.
        self._reason_weights = np.array(
            [
                0.0 if not item.derived and self.scorecard.field(item.name).never_reason else 1.0
                for item in self._items
            ]
        )
        self._item_matrix = item_matrix(column_items, [item.name for item in self._items])
        numeric = self._compiled.numeric_columns
        self._segment_positions = [numeric.index(c) for c in self.segment_columns]

    def reason_item_of(self, feature: str) -> str:
        """The reason item (field or derived feature) a feature column belongs to."""
        if feature in self._derived_by_name:
            return feature
        return self._features.feature_sources_[feature][0]

    def _reason_items(self, column_items: list[str]) -> list[ReasonItem]:
        unique = list(dict.fromkeys(column_items))
        items = []
        for name in unique:
            derived = self._derived_by_name.get(name)
            label = derived.label if derived else self.scorecard.field(name).label
            items.append(ReasonItem(name=name, label=label, derived=derived is not None))
        return items

    # --- facts ---------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return self.scorecard.key

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.scorecard.classes)

    @property
    def worst_index(self) -> int:
        return len(self.scorecard.classes) - 1

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))

    @property
    def input_fields(self) -> list[str]:
        """The columns the model reads (never a protected field)."""
        return list(self._features.feature_names_in_)

    @property
    def segment_columns(self) -> list[str]:
        """Numeric fields and derived features (not yes/no fields or item counts)."""
        features = self._features
        booleans = {name for name, kind in features.input_kinds.items() if kind == "boolean"}
        keep = {*features.numeric_inputs_, *self._derived_by_name} - booleans
        return [c for c in self._compiled.numeric_columns if c in keep]

    def segment_inputs(self, X: np.ndarray) -> np.ndarray:
        """The columns of an encoded matrix the segmenter reads."""
        return X[:, self._segment_positions]

    # --- encoding ------------------------------------------------------------------------

    def encode_values(self, values: dict[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(encoded 1-row matrix, feature columns) from validated values, in plain numpy."""
        columns = {}
        for name in self.input_fields:
            cell = np.empty(1, dtype=object)
            cell[0] = values.get(name)
            columns[name] = cell
        feature_columns = self._features.transform_columns(columns)
        return self._compiled.transform(feature_columns), feature_columns

    def encode_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Encoded matrix of a cleaned frame through the pipeline's own transformers."""
        return self.pipeline[:-1].transform(frame.loc[:, self.input_fields])

    def predict_proba_fast(self, X: np.ndarray) -> np.ndarray:
        return self._flat.predict_proba(X)

    def population_risk(self, probabilities: np.ndarray) -> np.ndarray:
        """Probability of the worst class at the training population's class mix."""
        weighted = np.atleast_2d(probabilities) * self.prior_weights
        return weighted[:, self.worst_index] / weighted.sum(axis=1)

    # --- one row -------------------------------------------------------------------------

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validated, coerced values; InvalidInputError listing every problem otherwise."""
        result = validate_inputs(self.scorecard, values)
        if not result.is_valid:
            raise InvalidInputError(result.errors)
        return result.values

    def predict_one(self, values: dict[str, Any], *, validated: bool = False) -> Prediction:
        """Score one applicant given raw or validated values keyed by field name."""
        if not validated:
            values = self.validate(values)
        X, feature_columns = self.encode_values(values)
        probabilities, contributions = self._flat.contributions(X, class_index=self.worst_index)
        proba = probabilities[0]
        risk = float(proba[self.worst_index])
        population_risk = float(self.population_risk(proba)[0])
        points = int(self.scaling.points(population_risk))
        band = self.scaling.band(points)
        predicted = self.classes[int(np.argmax(proba))]
        item_contributions = contributions[0] @ self._item_matrix
        reasons = []
        for i in top_reasons(item_contributions * self._reason_weights):
            name = self._items[i].name
            raw = feature_columns[name][0] if self._items[i].derived else values.get(name)
            value, phrase = self.describe_reason_value(i, raw)
            reasons.append(reason(self._items[i], value, phrase, float(item_contributions[i])))
        return Prediction(
            scorecard=self.key,
            predicted_class=predicted,
            class_label=self.scorecard.class_labels.get(predicted, predicted),
            probabilities={c: float(p) for c, p in zip(self.classes, proba, strict=True)},
            risk=risk,
            population_risk=population_risk,
            points=points,
            band=band.code,
            band_label=band.label,
            recommendation=self.policy.decide_one(risk),
            reasons=reasons,
            segment=self._segment_of(X),
            synthetic=self.synthetic,
            model_version=str(self.metadata.get("version", "")),
        )

    def _segment_of(self, X: np.ndarray) -> dict[str, Any]:
        if self.segmenter is None:
            return {"id": None, "description": ""}
        segment = int(self.segmenter.predict(self.segment_inputs(X))[0])
        return {"id": segment, "description": self.segmenter.descriptions[segment]}

    def describe_reason_value(self, index: int, raw: Any) -> tuple[Any, str]:
        """(the value as plain JSON, the phrase in words) of reason item `index` for a row
        whose value of it is `raw`: the same for one applicant and for a bulk file."""
        item = self._items[index]
        if item.derived:
            number = None if raw is None else float(raw)
            value = None if number is None or math.isnan(number) else round(number, 4)
            return value, self._derived_by_name[item.name].describe(value)
        field = self.scorecard.field(item.name)
        value = field.plain_value(raw)
        return value, field.reason_phrase(value)

    # --- many rows -----------------------------------------------------------------------

    def explain_frame(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, risk contribution per reason item) for a cleaned frame."""
        return self._explain_encoded(self.encode_frame(frame))

    def _explain_encoded(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        leaves = self._flat.sklearn_leaves(self.pipeline.named_steps[FOREST_STEP], X)
        return self._leaf_table().explain(leaves)

    def _leaf_table(self) -> LeafContributions:
        if self._leaf_contributions is None:
            self._leaf_contributions = LeafContributions(
                self._flat, self.worst_index, self._item_matrix
            )
        return self._leaf_contributions

    def predict_frame(
        self, frame: pd.DataFrame, *, reasons: bool = True, details: bool = False
    ) -> pd.DataFrame:
        """Vectorised predictions for a cleaned frame (chunked); one output row per input row.

        Each row's reasons come as `reason_codes`; with `reasons`, as `reasons` too (their
        sentences, for a result file); with `details`, as `reason_details` too (the JSON text
        of the list of `ml.reasons.reason` dicts, as a single prediction stores them).
        """
        parts = [
            self._predict_chunk(frame.iloc[start : start + BATCH_ROWS], reasons, details)
            for start in range(0, len(frame), BATCH_ROWS)
        ]
        if not parts:
            columns = self.output_columns(reasons, details)
            return pd.DataFrame(columns=columns, index=frame.index)
        return pd.concat(parts)

    def output_columns(self, reasons: bool = True, details: bool = False) -> list[str]:
        """Columns of `predict_frame`'s result, in order."""
        columns = ["predicted_class", "class_label"]
        columns += [f"probability_{name}" for name in self.classes]
        columns += ["risk", "population_risk", "points", "band", "band_label", "recommendation"]
        columns += ["reason_codes", *(["reasons"] if reasons else [])]
        columns += ["reason_details"] if details else []
        if self.segmenter is not None:
            columns += ["segment", "segment_description"]
        return columns

    def _predict_chunk(self, frame: pd.DataFrame, reasons: bool, details: bool) -> pd.DataFrame:
        X = self.encode_frame(frame)
        proba, item_contributions = self._explain_encoded(X)
        risk = proba[:, self.worst_index]
        population_risk = self.population_risk(proba)
        points = self.scaling.points(population_risk)
        band_index = self.scaling.band_index(points)
        bands = self.scaling.bands
        classes = np.array(self.classes, dtype=object)
        predicted = classes[proba.argmax(axis=1)] if len(frame) else classes[:0]
        out = pd.DataFrame(index=frame.index)
        out["predicted_class"] = predicted
        out["class_label"] = [self.scorecard.class_labels.get(c, c) for c in predicted]
        for k, name in enumerate(self.classes):
            out[f"probability_{name}"] = proba[:, k]
        out["risk"] = risk
        out["population_risk"] = population_risk
        out["points"] = points
        out["band"] = np.array([b.code for b in bands], dtype=object)[band_index]
        out["band_label"] = np.array([b.label for b in bands], dtype=object)[band_index]
        out["recommendation"] = self.policy.decide(risk)
        chosen = top_reasons_batch(item_contributions * self._reason_weights, MAX_REASONS)
        if reasons or details:
            made = batch_reasons(
                self._items,
                chosen,
                item_contributions,
                self._reason_columns(chosen, frame),
                self.describe_reason_value,
                with_json=details,
                memo=self._reason_memo,
            )
            out["reason_codes"] = made.codes
            if reasons:
                out["reasons"] = made.sentences
            if details:
                out["reason_details"] = made.json
        else:
            out["reason_codes"] = batch_reason_codes(self._items, chosen, item_contributions)
        if self.segmenter is not None and len(frame):
            segment = self.segmenter.predict(self.segment_inputs(X))
            out["segment"] = segment
            out["segment_description"] = np.array(self.segmenter.descriptions, dtype=object)[
                segment
            ]
        return out

    def _reason_columns(self, chosen: np.ndarray, frame: pd.DataFrame) -> dict[int, pd.Series]:
        """Each chosen reason item's value on every row (derived features computed)."""
        used = [int(i) for i in np.unique(chosen) if i >= 0]
        needs_features = any(self._items[i].derived for i in used)
        features = self._features.transform(frame) if needs_features else None
        return {
            i: (features if self._items[i].derived else frame)[self._items[i].name].reset_index(
                drop=True
            )
            for i in used
        }
