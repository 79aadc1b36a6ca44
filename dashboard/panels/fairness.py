"""Fairness panels: outcomes by protected group."""

from __future__ import annotations

from .. import charts
from .base import (
    Panel,
    num,
    pct,
)


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
                            pct(g["approval_rate"]),
                            num(g["ratio"]),
                            "too few rows"
                            if g["too_few_rows"]
                            else ("FAILS" if g["fails_four_fifths"] else "passes"),
                            pct(g["mean_risk"]),
                            pct(g["observed_bad_rate"]),
                        ]
                        for g in groups
                    ],
                    note=f"Reference (most approved) group: {attribute['reference_group']}; "
                    f"lowest ratio {num(attribute['min_ratio'])} — "
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
