import json

import numpy as np
import pytest

from ml.evaluate import (
    aggregate_importances,
    best_precision_at_recall,
    calibration_table,
    classification_metrics,
    comparison_table,
    curve_points,
    decision_report,
    evaluate_predictions,
    precision_recall_at,
    roc_auc,
    threshold_for_recall,
)
from ml.policy import DecisionPolicy

GERMAN = ((0.0, 1.0), (5.0, 0.0))


def binary_case(n=400, seed=0):
    rng = np.random.default_rng(seed)
    risk = rng.random(n)
    y = (rng.random(n) < risk).astype(int)
    return y, np.column_stack([1 - risk, risk])


def test_classification_metrics_binary():
    y, proba = binary_case()
    metrics = classification_metrics(y, proba, ["good", "bad"])
    assert 0.6 < metrics["roc_auc"] < 0.9
    assert (
        metrics["confusion_matrix"]["matrix"][0][0] + metrics["confusion_matrix"]["matrix"][0][1]
        == (y == 0).sum()
    )
    assert set(metrics["per_class"]) == {"good", "bad"}
    assert metrics["macro"]["f1"] == pytest.approx(
        np.mean([metrics["per_class"][c]["f1"] for c in ("good", "bad")]), abs=1e-6
    )
    json.dumps(metrics)


def test_roc_auc_three_classes_is_one_vs_rest_macro():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    proba[np.arange(300), y] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    from sklearn.metrics import roc_auc_score

    assert roc_auc(y, proba) == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"), abs=1e-6)
    assert roc_auc(np.zeros(5, dtype=int), np.full((5, 2), 0.5)) is None


def test_precision_at_recall_on_a_crafted_ranking():
    y_bad = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
    risk = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    threshold = threshold_for_recall(y_bad, risk, 0.75)  # 3 of 4 bads
    assert threshold == 0.6
    result = precision_recall_at(y_bad, risk, threshold)
    assert result["recall"] == 0.75 and result["precision"] == 0.75
    assert best_precision_at_recall(y_bad, risk, 1.0)["precision"] == pytest.approx(4 / 7, abs=1e-6)


def test_calibration_table_and_curves():
    y, proba = binary_case(1000)
    table = calibration_table(y, proba[:, 1], n_bins=5)
    assert sum(row["rows"] for row in table) == 1000
    for row in table:
        assert abs(row["mean_predicted"] - row["observed_rate"]) < 0.15
    curves = curve_points(y, proba[:, 1], max_points=21)
    assert len(curves["roc"]["false_positive_rate"]) <= 21
    assert curves["pr"]["recall"][0] <= curves["pr"]["recall"][-1]


def test_decision_report_counts_good_applicants_wrongly_declined():
    y = np.array([0, 0, 0, 0, 1, 1])
    risk = np.array([0.1, 0.3, 0.6, 0.7, 0.65, 0.9])
    report = decision_report(
        y, risk, DecisionPolicy(0.5, 0.5), GERMAN, ["good", "bad"], cut_off=0.5
    )
    assert report["good_wrongly_declined_rate"] == 0.5
    assert report["bad_approved_rate"] == 0.0
    assert report["expected_cost"] == pytest.approx(2 / 6, abs=1e-6)
    assert report["decision_matrix"]["matrix"] == [[2, 0, 2], [0, 0, 2]]


def test_importances_aggregate_to_fields():
    result = aggregate_importances(
        np.array([0.2, 0.1, 0.1, 0.6]),
        ["limit_bal", "education", "education", "utilisation"],
        {"utilisation": ("bill_amt1", "limit_bal")},
    )
    by_field = {row["name"]: row["importance"] for row in result["by_field"]}
    assert by_field == {"limit_bal": 0.5, "education": 0.2, "bill_amt1": 0.3}
    assert result["by_feature"][0]["name"] == "utilisation"


def test_full_report_is_json_and_renders_a_table():
    y, proba = binary_case()
    report = evaluate_predictions(
        y,
        proba,
        classes=["good", "bad"],
        policy=DecisionPolicy(0.3, 0.6, refer_cost=0.25),
        cost_matrix=GERMAN,
        cut_off=0.4,
        recall_target=0.68,
        recall_threshold=0.4,
    )
    text = json.dumps(report, allow_nan=False)
    assert "precision_at_recall" in text
    summary = {
        "random_forest": {"roc_auc": 0.8, "macro_f1": 0.7, "accuracy": None},
        "logistic_l2": {"roc_auc": 0.75, "macro_f1": None, "accuracy": None},
    }
    table = comparison_table(summary)
    assert "| ROC-AUC (test) | 0.800 | 0.750 |" in table
    assert "Accuracy" not in table
