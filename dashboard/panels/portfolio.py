"""The portfolio page's panels: volumes, decisions, overrides, bands over time."""

from __future__ import annotations

from ml.scorecards import SCORECARDS

from .. import charts, selectors
from .base import (
    Panel,
    pct,
    pivot,
)


def portfolio_panels(*, months: int, weekly: bool) -> list[Panel]:
    """Applications, scorings, score distribution, officers, decisions vs recommendations."""
    period = "week" if weekly else "month"
    panels = []

    statuses = [s.value for s in selectors.Application.Status]
    labels, series = pivot(
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
    labels, series = pivot(
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
                    pct(a),
                    o["overrides"],
                    pct(v),
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
            + (f" ({pct(agreed / total)})." if total else "."),
        )
    )
    return panels
