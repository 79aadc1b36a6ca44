"""Data insight panels: associations of each feature with the target."""

from __future__ import annotations

from .. import charts
from .base import (
    CLASS_COLOURS,
    TOP_FEATURES,
    Panel,
    num,
    pct,
)


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
                    [c, n, pct(s)]
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
                    [[g["group"], g["rows"], *[pct(s) for s in g["shares"]]] for g in groups],
                    note=f"Cramér's V with the credit class: {num(item['cramers_v'])}.",
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
                        xlabel=f"PC1 ({pct(variance[0])} of variance)",
                        ylabel=f"PC2 ({pct(variance[1])} of variance)",
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
