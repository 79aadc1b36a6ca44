"""Training a scorecard: split, search, fit, tune the policy, evaluate, explain, segment.

The Random Forest is fitted on the train split, the decision thresholds are tuned on the
validation split, and every reported metric is measured on the test split, which no
fitting or tuning step has seen. Rows are split by the grouping key.
"""

from __future__ import annotations

import hashlib
import platform
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterSampler

from ml.evaluate import aggregate_importances, evaluate_predictions, threshold_for_recall
from ml.model import ScoringModel
from ml.pipeline import (
    FOREST_STEP,
    build_forest_pipeline,
    build_logistic_pipeline,
    encoded_columns,
    forest_params_for,
    model_input_frame,
)
from ml.policy import approve_classes, tune_policy, tune_single_threshold
from ml.scaling import ScoreScaling
from ml.schema import Scorecard
from ml.segments import fit_segmenter
from ml.split import grouped_folds, split_scorecard_frame

Progress = Callable[[str, float, str], None]

SEARCH_SPACE: dict[str, list] = {
    "max_depth": [10, 14, 18, 24, None],
    "min_samples_leaf": [2, 4, 8, 16, 32],
    "max_features": ["sqrt", 0.2, 0.35, 0.5],
    "max_samples": [None, 0.5, 0.75],
    "class_weight": [None, "balanced", "balanced_subsample"],
    "criterion": ["gini", "entropy"],
}
SEARCH_ITERATIONS = 20
SEARCH_FOLDS = 3
SEARCH_TREES = 150  # candidates are compared on smaller forests; the final one is larger
SEARCH_BUDGET_SECONDS = 160.0
PERMUTATION_ROWS = 2000
PERMUTATION_REPEATS = 3
# The recall at which precision is reported, the `precision_at_recall_0.68` quality bar.
RECALL_TARGET = 0.68
N_JOBS = 2

# Share of the job's progress bar each stage ends at.
STAGE_END = {
    "splitting": 0.05,
    "searching": 0.55,
    "fitting": 0.7,
    "evaluating": 0.88,
    "explaining": 0.95,
    "segmenting": 1.0,
}


@dataclass
class TrainingResult:
    model: ScoringModel
    report: dict[str, Any]


def frame_sha256(frame: pd.DataFrame) -> str:
    """A content hash of a cleaned frame (columns, order and values)."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import joblib
    import numpy
    import pandas
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def class_prior_weights(class_weight, y_train: np.ndarray, n_classes: int) -> np.ndarray:
    """Weights that turn the forest's probabilities back into population probabilities."""
    if class_weight in ("balanced", "balanced_subsample"):
        return np.bincount(y_train, minlength=n_classes) / len(y_train)
    return np.ones(n_classes)


def _tuned_policy(proba_val: np.ndarray, y_val: np.ndarray, cost_matrix):
    """(approve / refer / decline policy, yes/no cut-off), both tuned on validation rows."""
    risk = proba_val[:, -1]
    approved_as = approve_classes(proba_val)
    policy = tune_policy(risk, y_val, cost_matrix, approved_as=approved_as)
    cut_off = tune_single_threshold(risk, y_val, cost_matrix, approved_as=approved_as)
    return policy, cut_off


def _scorer_name(n_classes: int) -> str:
    return "roc_auc" if n_classes == 2 else "roc_auc_ovr"


def _auc(y: np.ndarray, proba: np.ndarray) -> float:
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro"))


class _Reporter:
    """Turns stage-local fractions into one monotone job fraction for `progress`."""

    def __init__(self, progress: Progress | None, stages: list[str]):
        self.progress = progress
        self.starts = {}
        start = 0.0
        for stage in stages:
            self.starts[stage] = start
            start = STAGE_END[stage]

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        if self.progress is None:
            return
        start, end = self.starts[stage], STAGE_END[stage]
        self.progress(
            stage, round(start + (end - start) * min(max(fraction, 0.0), 1.0), 4), message
        )


def search_hyperparameters(
    scorecard: Scorecard,
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray | None,
    *,
    random_state: int = 42,
    n_iter: int = SEARCH_ITERATIONS,
    n_folds: int = SEARCH_FOLDS,
    budget_seconds: float = SEARCH_BUDGET_SECONDS,
    report: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Randomized search over the forest's knobs with grouped, stratified CV on `X`.

    Folds never split a group. Stops early (after a whole candidate) when the time budget
    is spent, so a search on 24k rows stays within minutes on two cores.
    """
    folds = grouped_folds(y, groups, n_splits=n_folds, random_state=random_state)
    candidates = list(ParameterSampler(SEARCH_SPACE, n_iter=n_iter, random_state=random_state))
    results = []
    started = time.monotonic()
    for number, params in enumerate(candidates, start=1):
        scores = []
        for train, held_out in folds:
            pipeline = build_forest_pipeline(
                scorecard,
                params={**params, "n_estimators": SEARCH_TREES},
                random_state=random_state,
                n_jobs=N_JOBS,
            )
            pipeline.fit(X.iloc[train], y[train])
            scores.append(_auc(y[held_out], pipeline.predict_proba(X.iloc[held_out])))
        results.append(
            {
                "params": params,
                "mean_score": float(np.mean(scores)),
                "std_score": float(np.std(scores)),
            }
        )
        if report:
            best = max(r["mean_score"] for r in results)
            report(
                number / len(candidates),
                f"candidate {number}/{len(candidates)}, best AUC {best:.4f}",
            )
        if time.monotonic() - started > budget_seconds:
            break
    best = max(results, key=lambda r: r["mean_score"])
    return {
        "scoring": _scorer_name(len(scorecard.classes)),
        "folds": n_folds,
        "trees_per_candidate": SEARCH_TREES,
        "candidates_tried": len(results),
        "candidates_planned": len(candidates),
        "seconds": round(time.monotonic() - started, 1),
        "best_params": best["params"],
        "best_score": best["mean_score"],
        "results": sorted(results, key=lambda r: -r["mean_score"]),
    }


def _numeric_labels(model: ScoringModel) -> list[str]:
    """Readable labels of the numeric feature columns used for segments."""
    features = model.pipeline.named_steps["features"]
    derived = {f.name: f.label for f in features.derived_}
    labels = []
    for column in model.segment_columns:
        if column in derived:
            labels.append(derived[column])
        else:
            labels.append(model.scorecard.field(column).label)
    return labels


def _importances(model: ScoringModel, X_test: pd.DataFrame, y_test: np.ndarray, random_state: int):
    features = model.pipeline.named_steps["features"]
    derived = {f.name: f.sources for f in features.derived_}
    columns = encoded_columns(model.pipeline)
    column_items = [model.reason_item_of(feature) for _, feature in columns]
    impurity = model.pipeline.named_steps[FOREST_STEP].feature_importances_
    result = {"impurity": aggregate_importances(impurity, column_items, derived)}
    sample = min(len(X_test), PERMUTATION_ROWS)
    if sample >= 50 and len(np.unique(y_test)) == len(model.classes):
        permuted = permutation_importance(
            model.pipeline,
            X_test,
            y_test,
            scoring=_scorer_name(len(model.classes)),
            n_repeats=PERMUTATION_REPEATS,
            max_samples=sample,
            random_state=random_state,
        )
        ranked = sorted(
            zip(X_test.columns, permuted.importances_mean, permuted.importances_std, strict=True),
            key=lambda t: -t[1],
        )
        result["permutation"] = {
            "scoring": _scorer_name(len(model.classes)),
            "rows": sample,
            "by_field": [
                {"name": name, "importance": round(float(m), 6), "std": round(float(s), 6)}
                for name, m, s in ranked
            ],
        }
    return result


def train_scorecard(
    scorecard: Scorecard,
    frame: pd.DataFrame,
    *,
    search: bool = True,
    params: dict | None = None,
    random_state: int = 42,
    progress: Progress | None = None,
    synthetic: bool = False,
    data_sha256: str | None = None,
    baselines: bool = True,
    permutation: bool = True,
) -> TrainingResult:
    """Train, tune, evaluate and package a scorecard model from a cleaned frame.

    `frame` is a cleaned frame (`ml.cleaning.load_raw(...).frame`): one column per field,
    the target, and the grouping key when the scorecard has one. Rows without a target are
    ignored. `params` override the forest hyperparameters (after the search, if any).
    `progress(stage, fraction, message)` receives the job's overall fraction 0..1.
    """
    started = time.monotonic()
    timings: dict[str, float] = {}
    stages = ["splitting", *(["searching"] if search else []), "fitting", "evaluating"]
    stages += ["explaining", "segmenting"]
    report_progress = _Reporter(progress, stages)

    report_progress("splitting", 0.0, "splitting by group")
    split_frame = split_scorecard_frame(scorecard, frame, random_state=random_state)
    y, groups, split = split_frame.y, split_frame.groups, split_frame.indices
    labelled, group_key = split_frame.labelled, scorecard.grouping_key
    X = model_input_frame(scorecard, labelled)
    X_train, X_val, X_test = (X.iloc[idx] for idx in (split.train, split.validation, split.test))
    y_train, y_val, y_test = (y[idx] for idx in (split.train, split.validation, split.test))
    report_progress("splitting", 1.0, f"split {split.sizes()}")
    timings["splitting"] = time.monotonic() - started

    search_report = None
    chosen = dict(forest_params_for(scorecard))
    if search:
        mark = time.monotonic()
        search_report = search_hyperparameters(
            scorecard,
            X_train,
            y_train,
            None if groups is None else groups[split.train],
            random_state=random_state,
            report=lambda f, m: report_progress("searching", f, m),
        )
        chosen.update(search_report["best_params"])
        timings["searching"] = time.monotonic() - mark
    chosen.update(params or {})

    mark = time.monotonic()
    report_progress("fitting", 0.0, f"fitting {chosen['n_estimators']} trees")
    pipeline = build_forest_pipeline(
        scorecard, params=chosen, random_state=random_state, n_jobs=N_JOBS
    )
    pipeline.fit(X_train, y_train)
    report_progress("fitting", 1.0, "forest fitted")
    timings["fitting"] = time.monotonic() - mark

    mark = time.monotonic()
    classes = list(scorecard.classes)
    worst = len(classes) - 1
    proba_val = pipeline.predict_proba(X_val)
    proba_test = pipeline.predict_proba(X_test)
    policy, cut_off = _tuned_policy(proba_val, y_val, scorecard.cost_matrix)
    recall_threshold = threshold_for_recall(y_val == worst, proba_val[:, worst], RECALL_TARGET)
    evaluation_args = {"classes": classes, "cost_matrix": scorecard.cost_matrix}
    metrics = {
        "random_forest": evaluate_predictions(
            y_test,
            proba_test,
            policy=policy,
            cut_off=cut_off,
            recall_target=RECALL_TARGET,
            recall_threshold=recall_threshold,
            **evaluation_args,
        )
    }
    report_progress("evaluating", 0.5, "random forest evaluated")
    if baselines:
        for penalty in ("l1", "l2"):
            baseline = build_logistic_pipeline(
                scorecard, penalty=penalty, random_state=random_state
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                baseline.fit(X_train, y_train)
            base_val = baseline.predict_proba(X_val)
            base_policy, base_cut_off = _tuned_policy(base_val, y_val, scorecard.cost_matrix)
            metrics[f"logistic_{penalty}"] = evaluate_predictions(
                y_test,
                baseline.predict_proba(X_test),
                policy=base_policy,
                cut_off=base_cut_off,
                recall_target=RECALL_TARGET,
                recall_threshold=threshold_for_recall(
                    y_val == worst, base_val[:, worst], RECALL_TARGET
                ),
                **evaluation_args,
            )
            report_progress(
                "evaluating", 0.75 if penalty == "l1" else 1.0, f"LR {penalty} evaluated"
            )
    timings["evaluating"] = time.monotonic() - mark

    metadata = {
        "scorecard": scorecard.key,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthetic": bool(synthetic),
        "data_sha256": data_sha256 or frame_sha256(labelled),
        "hyperparameters": _plain(chosen),
        "random_state": random_state,
        "rows": split.sizes(),
        "libraries": library_versions(),
    }
    model = ScoringModel(
        scorecard=scorecard,
        pipeline=pipeline,
        policy=policy,
        scaling=ScoreScaling(),
        segmenter=None,
        metadata=metadata,
        prior_weights=class_prior_weights(chosen.get("class_weight"), y_train, len(classes)),
    )

    mark = time.monotonic()
    report_progress("explaining", 0.0, "feature importances")
    importances = _importances(
        model,
        X_test if permutation else X_test.iloc[:0],
        y_test,
        random_state,
    )
    report_progress("explaining", 1.0, "importances computed")
    timings["explaining"] = time.monotonic() - mark

    mark = time.monotonic()
    report_progress("segmenting", 0.0, "k-means segments")
    encoded_train = model.segment_inputs(model.encode_frame(X_train))
    try:
        model.segmenter = fit_segmenter(
            encoded_train, model.segment_columns, _numeric_labels(model), random_state=random_state
        )
        segments_message = f"{model.segmenter.n_segments} segments"
    except ValueError as error:  # too few distinct rows: predictions carry no segment
        segments_message = f"no segments: {error}"
    report_progress("segmenting", 1.0, segments_message)
    timings["segmenting"] = time.monotonic() - mark
    timings["total"] = time.monotonic() - started

    report = {
        "scorecard": scorecard.key,
        "synthetic": bool(synthetic),
        "data_sha256": metadata["data_sha256"],
        "rows": {**split.sizes(), "ignored_without_target": int(len(frame) - len(labelled))},
        "grouped_by": group_key if groups is not None else None,
        "class_counts": {
            side: {c: int((y_side == k).sum()) for k, c in enumerate(classes)}
            for side, y_side in (("train", y_train), ("validation", y_val), ("test", y_test))
        },
        "hyperparameters": _plain(chosen),
        "search": _plain(search_report),
        "policy": policy.to_dict(),
        "cut_off": cut_off,
        "score_scaling": model.scaling.to_dict(),
        "metrics": metrics,
        "quality": quality_summary(scorecard.quality_bars, metrics),
        "importances": importances,
        "segments": model.segmenter.to_dict() if model.segmenter else None,
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        "features": {
            "inputs": model.input_fields,
            "encoded": [name for name, _ in encoded_columns(pipeline)],
            "protected_excluded": [f.name for f in scorecard.protected_fields],
        },
    }
    model.metadata["metrics"] = report["quality"]
    return TrainingResult(model=model, report=report)


def headline_metrics(metrics: dict) -> dict[str, Any]:
    """The handful of numbers shown in tables for one model's evaluation."""
    decisions = metrics["decisions"]
    at_recall = metrics.get("precision_at_recall") or {}
    from_validation = at_recall.get("threshold_from_validation") or {}
    best_here = at_recall.get("best_on_this_split") or {}
    return {
        "roc_auc": metrics["roc_auc"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro"]["f1"],
        "brier": metrics["brier"],
        "expected_cost_cut_off": decisions.get("cut_off", {}).get("expected_cost"),
        "expected_cost_policy": decisions["expected_cost"],
        "good_wrongly_declined_rate": decisions["good_wrongly_declined_rate"],
        "refer_rate": decisions["refer_rate"],
        "precision_at_recall_0.68": best_here.get("precision"),
        "precision_at_recall_0.68_validation_threshold": from_validation.get("precision"),
        "recall_at_validation_threshold": from_validation.get("recall"),
    }


def quality_summary(bars: Mapping[str, float], metrics: dict) -> dict[str, Any]:
    """Headline numbers of every model and whether the forest meets the scorecard's
    declared quality bars (`Scorecard.quality_bars`)."""
    summary = {name: headline_metrics(m) for name, m in metrics.items()}
    forest = summary["random_forest"]
    checks = {}
    for bar, limit in bars.items():
        if bar == "expected_cost_max":
            value = forest["expected_cost_cut_off"]
            checks[bar] = {
                "limit": limit,
                "value": value,
                "met": value is not None and value <= limit,
            }
        else:
            value = forest[bar]
            checks[bar] = {
                "limit": limit,
                "value": value,
                "met": value is not None and value >= limit,
            }
    summary["bars"] = checks
    return summary


def _plain(value: Any) -> Any:
    """Hyperparameters and search results as JSON-able values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
