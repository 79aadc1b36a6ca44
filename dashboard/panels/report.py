"""A model version's report panels: quality, calibration, importances, cost curve."""

from __future__ import annotations

from ml.evaluate import MODEL_TITLES
from ml.scorecards import get_scorecard

from .. import charts
from .base import (
    Panel,
    field_label,
    num,
    pct,
)


def report_panels(version, profile) -> list[Panel]:
    """Charts of one version's validation report; `profile` adds the cost curve."""
    report = version.report or {}
    metrics = report.get("metrics") or {}
    scorecard = get_scorecard(version.scorecard)
    suffix = f"_v{version.pk}"
    panels = []
    models = [m for m in MODEL_TITLES if m in metrics]

    roc = {
        MODEL_TITLES[m]: (
            metrics[m]["curves"]["roc"]["false_positive_rate"],
            metrics[m]["curves"]["roc"]["true_positive_rate"],
        )
        for m in models
        if (metrics[m].get("curves") or {}).get("roc")
    }
    worst = scorecard.class_labels.get(scorecard.worst_class, scorecard.worst_class)
    auc_note = ", ".join(f"{MODEL_TITLES[m]} AUC {num(metrics[m].get('roc_auc'))}" for m in models)
    panels.append(
        Panel(
            "roc" + suffix,
            f"ROC curve, '{worst}' against the rest (test split)",
            charts.cached(
                "lines",
                charts.lines,
                curves=roc,
                diagonal=True,
                unit_square=True,
                xlabel="false positive rate",
                ylabel="true positive rate",
            ),
            ["model", "false positive rate", "true positive rate"],
            [[name, x, y] for name, (xs, ys) in roc.items() for x, y in zip(xs, ys, strict=True)],
            note=auc_note,
            collapsed=True,
        )
    )
    pr = {
        MODEL_TITLES[m]: (
            metrics[m]["curves"]["pr"]["recall"],
            metrics[m]["curves"]["pr"]["precision"],
        )
        for m in models
        if (metrics[m].get("curves") or {}).get("pr")
    }
    panels.append(
        Panel(
            "pr" + suffix,
            f"Precision-recall curve for '{worst}' (test split)",
            charts.cached(
                "lines",
                charts.lines,
                curves=pr,
                unit_square=True,
                xlabel="recall",
                ylabel="precision",
            ),
            ["model", "recall", "precision"],
            [[name, x, y] for name, (xs, ys) in pr.items() for x, y in zip(xs, ys, strict=True)],
            collapsed=True,
        )
    )
    forest = metrics.get("random_forest") or {}
    decisions = forest.get("decisions") or {}
    matrix = decisions.get("decision_matrix")
    if matrix:
        panels.append(
            Panel(
                "policy_matrix" + suffix,
                "Confusion matrix at the policy thresholds: true class against decision",
                charts.cached(
                    "heatmap",
                    charts.heatmap,
                    matrix=matrix["matrix"],
                    rows=matrix["rows"],
                    columns=matrix["columns"],
                    xlabel="policy decision",
                    ylabel="true class",
                ),
                ["true class", *matrix["columns"]],
                [
                    [row, *cells]
                    for row, cells in zip(matrix["rows"], matrix["matrix"], strict=True)
                ],
                note=f"approve {pct(decisions.get('approve_rate'))}, refer "
                f"{pct(decisions.get('refer_rate'))}, decline "
                f"{pct(decisions.get('decline_rate'))}; good applicants wrongly declined "
                f"{pct(decisions.get('good_wrongly_declined_rate'))}.",
            )
        )
    calibration = {
        MODEL_TITLES[m]: (
            [r["mean_predicted"] for r in metrics[m].get("calibration", [])],
            [r["observed_rate"] for r in metrics[m].get("calibration", [])],
        )
        for m in models
    }
    panels.append(
        Panel(
            "calibration" + suffix,
            f"Calibration: predicted risk against observed '{worst}' rate",
            charts.cached(
                "lines",
                charts.lines,
                curves=calibration,
                diagonal=True,
                unit_square=True,
                xlabel="mean predicted risk",
                ylabel="observed rate",
            ),
            ["model", "bin", "rows", "mean predicted", "observed rate"],
            [
                [
                    MODEL_TITLES[m],
                    f"{r['bin'][0]}–{r['bin'][1]}",
                    r["rows"],
                    r["mean_predicted"],
                    r["observed_rate"],
                ]
                for m in models
                for r in metrics[m].get("calibration", [])
            ],
            collapsed=True,
        )
    )
    importances = ((report.get("importances") or {}).get("impurity") or {}).get("by_field", [])
    top = importances[:15]
    labels = [field_label(scorecard, i["name"]) for i in top]
    permutation = {
        i["name"]: i["importance"]
        for i in ((report.get("importances") or {}).get("permutation") or {}).get("by_field", [])
    }
    panels.append(
        Panel(
            "importances" + suffix,
            "Feature importances of the forest (impurity, by input field; top 15)",
            charts.cached(
                "hbars",
                charts.horizontal_bars,
                labels=labels,
                values=[i["importance"] for i in top],
                xlabel="importance",
            ),
            ["field", "impurity importance", "permutation importance (AUC drop)"],
            [
                [
                    field_label(scorecard, i["name"]),
                    i["importance"],
                    permutation.get(i["name"]),
                ]
                for i in importances
            ],
        )
    )
    if profile is not None and profile.cost_curve.get("points"):
        curve = profile.cost_curve
        xs = [p["threshold"] for p in curve["points"]]
        ys = [p["expected_cost"] for p in curve["points"]]
        vlines = []
        if curve.get("cut_off") is not None:
            vlines.append((curve["cut_off"], f"tuned cut-off {curve['cut_off']:.2f}"))
        if curve.get("approve_below") is not None:
            vlines.append((curve["approve_below"], f"approve below {curve['approve_below']:.2f}"))
        if curve.get("decline_from") is not None and curve["decline_from"] != curve.get(
            "approve_below"
        ):
            vlines.append((curve["decline_from"], f"decline from {curve['decline_from']:.2f}"))
        panels.append(
            Panel(
                "cost_curve" + suffix,
                "Expected cost per applicant across decline cut-offs (test split)",
                charts.cached(
                    "lines",
                    charts.lines,
                    curves={"approve / decline at cut-off": (xs, ys)},
                    vlines=vlines,
                    xlabel="decline when risk ≥",
                    ylabel="expected cost",
                    hlines=[(curve["policy_expected_cost"], "policy with refer band")]
                    if curve.get("policy_expected_cost") is not None
                    else [],
                ),
                ["threshold", "expected cost", "approval rate", "good wrongly declined"],
                [
                    [
                        p["threshold"],
                        p["expected_cost"],
                        p["approval_rate"],
                        p["good_wrongly_declined_rate"],
                    ]
                    for p in curve["points"]
                ],
                note=f"Cost matrix: {scorecard.cost_rationale}",
                collapsed=True,
            )
        )
    return panels
