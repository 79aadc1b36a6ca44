"""Monitoring panels: score and input drift (PSI) over the snapshots, alerts."""

from __future__ import annotations

from ml.monitoring import PSI_ACT, PSI_WATCH

from .. import charts
from .base import (
    Panel,
    num,
)


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
                    [label, num(r, 4), num(w, 4)]
                    for label, r, w in zip(
                        dist["labels"],
                        dist["reference"],
                        dist["window"] or [None] * len(dist["labels"]),
                        strict=True,
                    )
                ],
                note=f"PSI {num(snapshot.psi_score)} — {snapshot.get_score_band_display()}.",
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
