"""Evaluation as pure functions returning plain, JSON-able dicts.

Conventions: ``y`` holds class codes 0..K-1 in the scorecard's order (best -> worst);
``proba`` is (rows, K); "risk" is the probability of the worst class and "bad" means the
worst class. "Good applicants" are those of any other class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from ml.policy import DECISIONS, DecisionPolicy, approve_classes, expected_cost

CURVE_POINTS = 101


def _r(value: float, digits: int = 6) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, digits)


def roc_auc(y, proba) -> float | None:
    """ROC-AUC of the worst class (binary) or one-vs-rest macro (3+ classes)."""
    y = np.asarray(y)
    proba = np.asarray(proba)
    if len(np.unique(y)) < 2:
        return None
    if proba.shape[1] == 2:
        return _r(roc_auc_score(y, proba[:, 1]))
    present = np.unique(y)
    if len(present) < proba.shape[1]:
        return None
    return _r(roc_auc_score(y, proba, multi_class="ovr", average="macro"))


def classification_metrics(y, proba, classes: Sequence[str]) -> dict:
    """Accuracy, per-class / macro precision-recall-F1, ROC-AUC, confusion matrix, Brier."""
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    labels = list(range(len(classes)))
    predicted = proba.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    per_class = {
        name: {
            "precision": _r(precision[k]),
            "recall": _r(recall[k]),
            "f1": _r(f1[k]),
            "support": int(support[k]),
        }
        for k, name in enumerate(classes)
    }
    worst = len(classes) - 1
    per_class_auc = {}
    for k, name in enumerate(classes):
        truth = (y == k).astype(int)
        per_class_auc[name] = (
            _r(roc_auc_score(truth, proba[:, k])) if 0 < truth.sum() < len(y) else None
        )
    onehot = np.eye(len(classes))[y]
    return {
        "rows": int(len(y)),
        "accuracy": _r(accuracy_score(y, predicted)),
        "per_class": per_class,
        "macro": {
            "precision": _r(precision.mean()),
            "recall": _r(recall.mean()),
            "f1": _r(f1.mean()),
        },
        "roc_auc": roc_auc(y, proba),
        "roc_auc_per_class": per_class_auc,
        "confusion_matrix": {
            "labels": list(classes),
            "matrix": confusion_matrix(y, predicted, labels=labels).tolist(),
            "note": "rows = true class, columns = predicted class (highest probability)",
        },
        "brier": _r(((proba - onehot) ** 2).sum(axis=1).mean()),
        "brier_worst_class": _r(brier_score_loss((y == worst).astype(int), proba[:, worst])),
    }


def _downsample(*arrays: np.ndarray, max_points: int = CURVE_POINTS) -> list[list[float]]:
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(int))
    return [[_r(v, 4) for v in array[keep]] for array in arrays]


def curve_points(y, risk, *, max_points: int = CURVE_POINTS) -> dict:
    """ROC and precision-recall curve points of the worst class, downsampled for charts."""
    bad = (np.asarray(y) == np.max(y)).astype(int) if len(y) else np.asarray(y)
    if len(np.unique(bad)) < 2:
        return {"roc": None, "pr": None}
    fpr, tpr, _ = roc_curve(bad, risk)
    precision, recall, _ = precision_recall_curve(bad, risk)
    fpr_s, tpr_s = _downsample(fpr, tpr, max_points=max_points)
    recall_s, precision_s = _downsample(recall[::-1], precision[::-1], max_points=max_points)
    return {
        "roc": {"false_positive_rate": fpr_s, "true_positive_rate": tpr_s},
        "pr": {"recall": recall_s, "precision": precision_s},
    }


def calibration_table(y_bad, risk, *, n_bins: int = 10) -> list[dict]:
    """Mean predicted risk against the observed bad rate in equal-width risk bins."""
    y_bad = np.asarray(y_bad, dtype=float)
    risk = np.asarray(risk, dtype=float)
    edges = np.linspace(0, 1, n_bins + 1)
    index = np.clip(np.digitize(risk, edges[1:-1]), 0, n_bins - 1)
    table = []
    for b in range(n_bins):
        mask = index == b
        if not mask.any():
            continue
        table.append(
            {
                "bin": [_r(edges[b], 3), _r(edges[b + 1], 3)],
                "rows": int(mask.sum()),
                "mean_predicted": _r(risk[mask].mean()),
                "observed_rate": _r(y_bad[mask].mean()),
            }
        )
    return table


def threshold_for_recall(y_bad, risk, min_recall: float) -> float | None:
    """The highest risk cut-off (flag when risk >= it) whose recall on bads is >= min_recall."""
    y_bad = np.asarray(y_bad).astype(bool)
    if not y_bad.any():
        return None
    bad_risks = np.sort(np.asarray(risk)[y_bad])[::-1]
    needed = int(np.ceil(min_recall * len(bad_risks)))
    return float(bad_risks[max(needed - 1, 0)])


def precision_recall_at(y_bad, risk, threshold: float) -> dict:
    """Precision and recall on bads when flagging risk >= threshold."""
    y_bad = np.asarray(y_bad).astype(bool)
    flagged = np.asarray(risk) >= threshold
    true_positive = (flagged & y_bad).sum()
    return {
        "threshold": _r(threshold),
        "precision": _r(true_positive / flagged.sum()) if flagged.any() else None,
        "recall": _r(true_positive / y_bad.sum()) if y_bad.any() else None,
        "flagged_rate": _r(flagged.mean()),
    }


def best_precision_at_recall(y_bad, risk, min_recall: float) -> dict:
    """Precision at the cut-off on this same data that keeps recall >= min_recall."""
    threshold = threshold_for_recall(y_bad, risk, min_recall)
    if threshold is None:
        return {"threshold": None, "precision": None, "recall": None, "flagged_rate": None}
    return precision_recall_at(y_bad, risk, threshold)


def decision_report(
    y,
    risk,
    policy: DecisionPolicy,
    cost_matrix,
    classes: Sequence[str],
    *,
    cut_off: float | None = None,
    approved_as=None,
) -> dict:
    """Outcome of the approve / refer / decline policy and of a yes/no cut-off."""
    y = np.asarray(y)
    decisions = policy.decision_codes(risk)
    worst = len(classes) - 1
    good = y != worst
    matrix = np.zeros((len(classes), len(DECISIONS)), dtype=int)
    np.add.at(matrix, (y, decisions), 1)
    declined = decisions == 2
    report = {
        "policy": policy.to_dict(),
        "decision_matrix": {
            "rows": list(classes),
            "columns": list(DECISIONS),
            "matrix": matrix.tolist(),
        },
        "approve_rate": _r((decisions == 0).mean()),
        "refer_rate": _r((decisions == 1).mean()),
        "decline_rate": _r(declined.mean()),
        "good_wrongly_declined_rate": _r((declined & good).sum() / good.sum())
        if good.any()
        else None,
        "bad_approved_rate": _r(((decisions == 0) & ~good).sum() / (~good).sum())
        if (~good).any()
        else None,
        "expected_cost": _r(
            expected_cost(y, decisions, cost_matrix, policy.refer_cost, approved_as)
        ),
    }
    if cut_off is not None:
        yes_no = np.where(np.asarray(risk) >= cut_off, 2, 0)
        report["cut_off"] = {
            "threshold": _r(cut_off),
            "expected_cost": _r(expected_cost(y, yes_no, cost_matrix, 0.0, approved_as)),
            "good_wrongly_declined_rate": _r(((yes_no == 2) & good).sum() / good.sum())
            if good.any()
            else None,
            "note": "approve / decline only, no referrals: decline when risk >= threshold",
        }
    return report


def aggregate_importances(
    column_importances: np.ndarray,
    column_items: Sequence[str],
    item_sources: Mapping[str, Sequence[str]],
) -> dict:
    """Importances per reason item, and per source field (derived ones split evenly)."""
    by_item: dict[str, float] = {}
    for value, item in zip(column_importances, column_items, strict=True):
        by_item[item] = by_item.get(item, 0.0) + float(value)
    by_field: dict[str, float] = {}
    for item, value in by_item.items():
        sources = item_sources.get(item, (item,))
        for source in sources:
            by_field[source] = by_field.get(source, 0.0) + value / len(sources)

    def ranked(values: dict[str, float]) -> list[dict]:
        return [
            {"name": k, "importance": _r(v)}
            for k, v in sorted(values.items(), key=lambda kv: -kv[1])
        ]

    return {"by_feature": ranked(by_item), "by_field": ranked(by_field)}


def evaluate_predictions(
    y,
    proba,
    *,
    classes: Sequence[str],
    policy: DecisionPolicy,
    cost_matrix,
    cut_off: float | None = None,
    recall_target: float | None = None,
    recall_threshold: float | None = None,
) -> dict:
    """The full validation report of one model on one split."""
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    worst = len(classes) - 1
    risk = proba[:, worst]
    y_bad = (y == worst).astype(int)
    report = classification_metrics(y, proba, classes)
    report["curves"] = curve_points(y, risk)
    report["calibration"] = calibration_table(y_bad, risk)
    report["decisions"] = decision_report(
        y, risk, policy, cost_matrix, classes, cut_off=cut_off, approved_as=approve_classes(proba)
    )
    if recall_target is not None:
        report["precision_at_recall"] = {
            "target_recall": recall_target,
            "threshold_from_validation": precision_recall_at(y_bad, risk, recall_threshold)
            if recall_threshold is not None
            else None,
            "best_on_this_split": best_precision_at_recall(y_bad, risk, recall_target),
        }
    return report


TABLE_ROWS = (
    ("roc_auc", "ROC-AUC (test)"),
    ("accuracy", "Accuracy"),
    ("macro_f1", "Macro F1"),
    ("brier", "Brier score (summed over classes)"),
    ("precision_at_recall_0.68", "Precision at recall ≥ 0.68 (best cut-off on test)"),
    ("precision_at_recall_0.68_validation_threshold", "Precision at the validation cut-off"),
    ("recall_at_validation_threshold", "Recall at the validation cut-off (target 0.68)"),
    ("expected_cost_cut_off", "Expected cost per applicant (approve/decline)"),
    ("expected_cost_policy", "Expected cost per applicant (with refer band)"),
    ("good_wrongly_declined_rate", "Good applicants wrongly declined"),
    ("refer_rate", "Referred to an officer"),
)
MODEL_TITLES = {
    "random_forest": "Random Forest",
    "logistic_l1": "LR (L1)",
    "logistic_l2": "LR (L2)",
}


def comparison_table(summary: Mapping[str, Mapping]) -> str:
    """Markdown table of headline metrics, one column per model (see train.quality_summary)."""
    models = [name for name in MODEL_TITLES if name in summary]
    lines = [
        "| metric | " + " | ".join(MODEL_TITLES[m] for m in models) + " |",
        "| --- |" + " ---: |" * len(models),
    ]
    for key, title in TABLE_ROWS:
        values = [summary[m].get(key) for m in models]
        if all(v is None for v in values):
            continue
        cells = ["–" if v is None else f"{v:.3f}" for v in values]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
