"""The dashboard's panels: each chart (an SVG drawn by `charts`) with its numbers beside it.

Pure functions of stored figures, used by the views to render pages and by the Celery tasks
to draw the charts into the shared cache as soon as the figures are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ml.evaluate import MODEL_TITLES
from ml.monitoring import PSI_ACT, PSI_WATCH
from ml.scorecards import SCORECARDS, get_scorecard

from . import charts, selectors

TOP_FEATURES = 6  # features shown by default on the insights page: the most associated
CLASS_COLOURS = {2: ["#1d7a46", "#b42318"], 3: ["#1d7a46", "#e08a00", "#b42318"]}


@dataclass
class Panel:
    name: str
    title: str
    svg: str
    columns: list[str]
    rows: list[list]
    note: str = ""
    wide: bool = False  # chart and table across the whole page, one under the other
    stack: bool = False  # chart above its table (tables with many columns)
    collapsed: bool = False  # long tables start folded; the CSV has every row
    extra: dict = field(default_factory=dict)


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _period_label(period, weekly: bool) -> str:
    if not hasattr(period, "strftime"):
        return str(period)
    return period.strftime("w/c %d %b %Y") if weekly else period.strftime("%b %Y")


def _pivot(
    rows: list[dict], key: str, series: list[str], weekly: bool
) -> tuple[list[str], dict[str, list]]:
    periods = sorted({r["period"] for r in rows})
    labels = [_period_label(p, weekly) for p in periods]
    values = {s: [0] * len(periods) for s in series}
    index = {p: i for i, p in enumerate(periods)}
    for r in rows:
        values.setdefault(r[key], [0] * len(periods))[index[r["period"]]] += r["n"]
    return labels, {k: v for k, v in values.items() if any(v)}


def portfolio_panels(*, months: int, weekly: bool) -> list[Panel]:
    """Applications, scorings, score distribution, officers, decisions vs recommendations."""
    period = "week" if weekly else "month"
    panels = []

    statuses = [s.value for s in selectors.Application.Status]
    labels, series = _pivot(
        selectors.applications_by_status_over_time(months=months, weekly=weekly),
        "status",
        statuses,
        weekly,
    )
    panels.append(
        Panel(
            "applications_by_status",
            f"Applications created per {period}, by current status",
            charts.cached(
                "stacked",
                charts.stacked_bars,
                categories=labels,
                series=series,
                ylabel="applications",
            ),
            [period, *series],
            [[label, *(series[s][i] for s in series)] for i, label in enumerate(labels)],
        )
    )

    scorings = selectors.portfolio_predictions(months=months, weekly=weekly)
    labels, series = _pivot(
        scorings["by_recommendation"],
        "recommendation",
        selectors.RECOMMENDATIONS,
        weekly,
    )
    panels.append(
        Panel(
            "predictions_by_recommendation",
            f"Scorings per {period}, by the model's recommendation",
            charts.cached(
                "stacked",
                charts.stacked_bars,
                categories=labels,
                series=series,
                ylabel="predictions",
                colours=charts.RECOMMENDATION_COLOURS,
            ),
            [period, *series],
            [[label, *(series[s][i] for s in series)] for i, label in enumerate(labels)],
        )
    )

    distribution = scorings["score_distribution"]
    buckets = sorted({r["bucket"] for r in distribution})
    keys = sorted({r["scorecard"] for r in distribution})
    counts = {k: [0] * len(buckets) for k in keys}
    for r in distribution:
        counts[r["scorecard"]][buckets.index(r["bucket"])] = r["n"]
    bucket_labels = [f"{b}–{b + selectors.SCORE_BUCKET - 1}" for b in buckets]
    summary = {s["scorecard"]: s for s in scorings["summary"]}
    panels.append(
        Panel(
            "score_distribution",
            "Score distribution per scorecard (points; higher is safer)",
            charts.cached(
                "grouped",
                charts.grouped_bars,
                categories=bucket_labels,
                series={SCORECARDS[k].label if k in SCORECARDS else k: counts[k] for k in keys},
                ylabel="predictions",
            ),
            ["points", *keys],
            [[label, *(counts[k][i] for k in keys)] for i, label in enumerate(bucket_labels)],
            note="; ".join(
                f"{k}: {s['n']:,} predictions, mean {s['mean_points']:.0f} points"
                for k, s in summary.items()
            ),
        )
    )

    officers = selectors.decisions_by_officer(months=months)
    names = [
        " ".join(filter(None, [o["decided_by__first_name"], o["decided_by__last_name"]]))
        or o["decided_by__username"]
        for o in officers
    ]
    approval = [o["approved"] / o["n"] for o in officers]
    override = [o["overrides"] / o["n"] for o in officers]
    panels.append(
        Panel(
            "officers",
            "Approval and override rates per officer (active decisions)",
            charts.cached(
                "grouped",
                charts.grouped_bars,
                categories=names,
                series={"approval rate": approval, "override rate": override},
                percent=True,
            ),
            [
                "officer",
                "decisions",
                "approved",
                "approval rate",
                "overrides",
                "override rate",
            ],
            [
                [
                    name,
                    o["n"],
                    o["approved"],
                    _pct(a),
                    o["overrides"],
                    _pct(v),
                ]
                for name, o, a, v in zip(names, officers, approval, override, strict=True)
            ],
        )
    )

    matrix_rows = selectors.decisions_vs_recommendations(months=months)
    recs = selectors.RECOMMENDATIONS
    matrix = [[0] * len(recs) for _ in recs]
    for r in matrix_rows:
        if r["prediction__recommendation"] in recs and r["outcome"] in recs:
            matrix[recs.index(r["prediction__recommendation"])][recs.index(r["outcome"])] = r["n"]
    total = sum(map(sum, matrix))
    agreed = sum(matrix[i][i] for i in range(len(recs)))
    panels.append(
        Panel(
            "decisions_vs_recommendations",
            "Decisions against the model's recommendations",
            charts.cached(
                "heatmap",
                charts.heatmap,
                matrix=matrix,
                rows=recs,
                columns=recs,
                xlabel="officer's decision",
                ylabel="model's recommendation",
            ),
            ["recommendation", *recs],
            [[rec, *matrix[i]] for i, rec in enumerate(recs)],
            note=f"{agreed:,} of {total:,} decisions follow the recommendation"
            + (f" ({_pct(agreed / total)})." if total else "."),
        )
    )
    return panels


# --- model report -----------------------------------------------------------------------------


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
    auc_note = ", ".join(f"{MODEL_TITLES[m]} AUC {_num(metrics[m].get('roc_auc'))}" for m in models)
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
                note=f"approve {_pct(decisions.get('approve_rate'))}, refer "
                f"{_pct(decisions.get('refer_rate'))}, decline "
                f"{_pct(decisions.get('decline_rate'))}; good applicants wrongly declined "
                f"{_pct(decisions.get('good_wrongly_declined_rate'))}.",
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
    labels = [_field_label(scorecard, i["name"]) for i in top]
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
                    _field_label(scorecard, i["name"]),
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


def _field_label(scorecard, name: str) -> str:
    try:
        return scorecard.field(name).label
    except KeyError:
        return name


# --- monitoring -------------------------------------------------------------------------------


def monitoring_panels(history: list) -> list[Panel]:
    """PSI over time, score stability, PSI per input and realised performance."""
    snapshot = history[-1] if history else None
    panels = []
    if snapshot is not None:
        labels = [s.computed_at.strftime("%d %b %H:%M") for s in history]
        tracked = [i["field"] for i in snapshot.inputs[:4]]
        curves = {"score": (list(range(len(history))), [s.psi_score for s in history])}
        input_labels = {i["field"]: i["label"] for i in snapshot.inputs}
        for name in tracked:
            curves[input_labels[name]] = (
                list(range(len(history))),
                [next((i["psi"] for i in s.inputs if i["field"] == name), None) for s in history],
            )
        panels.append(
            Panel(
                "psi_over_time",
                "PSI over time: the score and the four most shifted inputs",
                charts.cached(
                    "lines",
                    charts.lines,
                    curves=curves,
                    xticks=labels,
                    ylabel="PSI",
                    hlines=[(PSI_WATCH, "watch 0.10"), (PSI_ACT, "act 0.25")],
                    wide=True,
                ),
                ["snapshot", "version", "predictions", "score PSI", *[f"{n} PSI" for n in tracked]],
                [
                    [
                        s.computed_at.isoformat(timespec="minutes"),
                        s.model_version.version,
                        s.predictions,
                        s.psi_score,
                        *[
                            next((i["psi"] for i in s.inputs if i["field"] == n), None)
                            for n in tracked
                        ],
                    ]
                    for s in history
                ],
                wide=True,
            )
        )
        dist = snapshot.score_distribution
        panels.append(
            Panel(
                "score_stability",
                "Score distribution: training data against the window",
                charts.cached(
                    "grouped",
                    charts.grouped_bars,
                    categories=dist["labels"],
                    series={
                        "training (reference)": dist["reference"],
                        "window": dist["window"] or [0] * len(dist["labels"]),
                    },
                    percent=True,
                    ylabel="share of applicants",
                ),
                ["points", "reference share", "window share"],
                [
                    [label, _num(r, 4), _num(w, 4)]
                    for label, r, w in zip(
                        dist["labels"],
                        dist["reference"],
                        dist["window"] or [None] * len(dist["labels"]),
                        strict=True,
                    )
                ],
                note=f"PSI {_num(snapshot.psi_score)} — {snapshot.get_score_band_display()}.",
            )
        )
        colours = {"act": "#b42318", "watch": "#e08a00", "stable": "#1d7a46", "unknown": "#9aa7b4"}
        panels.append(
            Panel(
                "input_psi",
                "PSI of each input (training data against the window)",
                charts.cached(
                    "hbars",
                    charts.horizontal_bars,
                    labels=[i["label"] for i in snapshot.inputs],
                    values=[i["psi"] or 0 for i in snapshot.inputs],
                    colours=[colours[i["band"]] for i in snapshot.inputs],
                    vlines=[(PSI_WATCH, "watch 0.10"), (PSI_ACT, "act 0.25")],
                    xlabel="PSI",
                ),
                ["field", "label", "PSI", "band"],
                [[i["field"], i["label"], i["psi"], i["band"]] for i in snapshot.inputs],
            )
        )
        if snapshot.performance:
            months = [m["month"] for m in snapshot.performance]
            xs = list(range(len(months)))
            panels.append(
                Panel(
                    "realised_performance",
                    "On realised outcomes: ROC-AUC and bad rate by month of the prediction",
                    charts.cached(
                        "lines",
                        charts.lines,
                        curves={
                            "ROC-AUC": (xs, [m["roc_auc"] for m in snapshot.performance]),
                            "bad rate": (xs, [m["bad_rate"] for m in snapshot.performance]),
                            "mean predicted risk": (
                                xs,
                                [m["mean_predicted_risk"] for m in snapshot.performance],
                            ),
                        },
                        xticks=months,
                        ylabel="value",
                    ),
                    ["month", "outcomes", "bad rate", "mean predicted risk", "ROC-AUC"],
                    [
                        [
                            m["month"],
                            m["rows"],
                            m["bad_rate"],
                            m["mean_predicted_risk"],
                            m["roc_auc"],
                        ]
                        for m in snapshot.performance
                    ],
                )
            )
    return panels


# --- fairness ---------------------------------------------------------------------------------


def fairness_panels(profile) -> list[Panel]:
    """Approval, risk and bad rate by protected group and age band, with the four-fifths rule."""
    panels = []
    if profile is not None:
        for attribute in profile.fairness.get("attributes", []):
            groups = attribute["groups"]
            names = [g["group"] for g in groups]
            panels.append(
                Panel(
                    f"fairness_{attribute['field']}",
                    f"{attribute['label']}: approval rate, predicted risk and observed bad rate",
                    charts.cached(
                        "grouped",
                        charts.grouped_bars,
                        categories=names,
                        series={
                            "approval rate": [g["approval_rate"] for g in groups],
                            "mean predicted risk": [g["mean_risk"] for g in groups],
                            "observed bad rate": [g["observed_bad_rate"] for g in groups],
                        },
                        percent=True,
                    ),
                    [
                        "group",
                        "rows",
                        "approved",
                        "approval rate",
                        "disparate-impact ratio",
                        "four-fifths rule",
                        "mean predicted risk",
                        "observed bad rate",
                    ],
                    [
                        [
                            g["group"],
                            g["rows"],
                            g["approved"],
                            _pct(g["approval_rate"]),
                            _num(g["ratio"]),
                            "too few rows"
                            if g["too_few_rows"]
                            else ("FAILS" if g["fails_four_fifths"] else "passes"),
                            _pct(g["mean_risk"]),
                            _pct(g["observed_bad_rate"]),
                        ]
                        for g in groups
                    ],
                    note=f"Reference (most approved) group: {attribute['reference_group']}; "
                    f"lowest ratio {_num(attribute['min_ratio'])} — "
                    + (
                        "fails the four-fifths rule."
                        if attribute["fails_four_fifths"]
                        else "passes the four-fifths rule."
                    ),
                    extra={"fails": attribute["fails_four_fifths"]},
                    stack=True,
                )
            )
    return panels


# --- data insights ----------------------------------------------------------------------------


def insight_panels(
    result: dict | None, chosen: str | None = None
) -> tuple[list[Panel], list[Panel]]:
    """(page panels, one panel per feature: the shown ones have a chart, every one a table)."""
    feature_panels: list[Panel] = []
    panels = []
    if result:
        balance = result["class_balance"]
        panels.append(
            Panel(
                "class_balance",
                "Class balance",
                charts.cached(
                    "grouped",
                    charts.grouped_bars,
                    categories=result["class_labels"],
                    series={"rows": balance["counts"]},
                    ylabel="rows",
                ),
                ["class", "rows", "share"],
                [
                    [c, n, _pct(s)]
                    for c, n, s in zip(
                        result["class_labels"], balance["counts"], balance["shares"], strict=True
                    )
                ],
                note=f"Largest class / smallest class: {balance['imbalance_ratio']}.",
            )
        )
        features = result["target_by_feature"]
        chosen = chosen
        shown = [f for f in features if f["field"] == chosen] or features[:TOP_FEATURES]
        class_colours = dict(
            zip(result["class_labels"], CLASS_COLOURS[len(result["class_labels"])], strict=False)
        )
        for item in features:
            groups = item["groups"]
            show = item in shown
            feature_panels.append(
                Panel(
                    f"target_by_{item['field']}",
                    f"Credit class by {item['label'][:1].lower()}{item['label'][1:]}",
                    charts.cached(
                        "stacked",
                        charts.stacked_bars,
                        categories=[g["group"] for g in groups],
                        series={
                            label: [g["shares"][k] for g in groups]
                            for k, label in enumerate(result["class_labels"])
                        },
                        percent=True,
                        horizontal=True,
                        ylabel="share of rows",
                        colours=class_colours,
                        width=4.8,
                        legend_below=True,
                    )
                    if show
                    else "",
                    ["group", "rows", *result["class_labels"]],
                    [[g["group"], g["rows"], *[_pct(s) for s in g["shares"]]] for g in groups],
                    note=f"Cramér's V with the credit class: {_num(item['cramers_v'])}.",
                    collapsed=True,
                    extra={"shown": show},
                )
            )
        corr = result["correlation"]
        panels.append(
            Panel(
                "correlation",
                "Correlation heatmap (Pearson) of the numeric fields and the worst class",
                charts.cached(
                    "heatmap",
                    charts.heatmap,
                    matrix=corr["matrix"],
                    rows=corr["columns"],
                    columns=corr["columns"],
                    diverging=True,
                    value_format="{:.2f}",
                ),
                ["field", *corr["columns"]],
                [[name, *row] for name, row in zip(corr["columns"], corr["matrix"], strict=True)],
                wide=True,
                collapsed=True,
            )
        )
        segments = result.get("segments")
        if segments:
            scatter = segments["scatter"]
            variance = segments["explained_variance"]
            panels.append(
                Panel(
                    "segments",
                    f"Applicant segments: k-means (k = {segments['k']}) in the PCA plane",
                    charts.cached(
                        "scatter",
                        charts.scatter,
                        x=scatter["x"],
                        y=scatter["y"],
                        groups=scatter["segment"],
                        xlabel=f"PC1 ({_pct(variance[0])} of variance)",
                        ylabel=f"PC2 ({_pct(variance[1])} of variance)",
                    ),
                    ["segment", "rows", *segments["labels"]],
                    [[p["segment"], p["rows"], *p["means"]] for p in segments["profiles"]],
                    note=f"DBSCAN (eps {segments['dbscan']['eps']}, min samples "
                    f"{segments['dbscan']['min_samples']}) finds "
                    f"{segments['dbscan']['clusters']} dense clusters and "
                    f"{segments['dbscan']['noise_points']:,} noise points of "
                    f"{segments['dbscan']['rows']:,} sampled rows.",
                    wide=True,
                )
            )
    return panels, feature_panels


# --- drawing ahead ----------------------------------------------------------------------------


def draw_for_profile(profile) -> None:
    """Draw a version's report and fairness charts into the cache (after its profile)."""
    report_panels(profile.model_version, profile)
    fairness_panels(profile)


def draw_for_snapshots(scorecard_key: str) -> None:
    monitoring_panels(selectors.snapshot_history(scorecard_key=scorecard_key))


def draw_for_insight(insight) -> None:
    insight_panels(insight.result)
