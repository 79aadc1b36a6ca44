"""Monitoring and fairness as pure functions returning plain, JSON-able dicts.

Population stability index (PSI) of a distribution against a reference:

    PSI = sum over bins of (actual share - reference share) * ln(actual share / reference share)

Bands: below 0.10 the population is *stable*, 0.10 to 0.25 is worth a *watch*, and from
0.25 on it has shifted enough to *act* (review or retrain). A share of zero is replaced by
`EPSILON` so that an empty bin gives a large but finite term.

Fairness: the approval rate of each group against the most-approved group (disparate-impact
ratio); a ratio below 0.8 fails the *four-fifths rule* used in US adverse-impact practice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

EPSILON = 1e-4
PSI_WATCH = 0.10
PSI_ACT = 0.25
FOUR_FIFTHS = 0.8
DEFAULT_BINS = 10
MISSING = "(missing)"
AGE_BANDS = ((0, 25), (25, 35), (35, 45), (45, 55), (55, 65), (65, 200))


def psi_band(value: float | None) -> str:
    """'stable' below 0.10, 'watch' from 0.10, 'act' from 0.25; 'unknown' without a value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if value >= PSI_ACT:
        return "act"
    if value >= PSI_WATCH:
        return "watch"
    return "stable"


def psi(reference_shares: Sequence[float], actual_shares: Sequence[float]) -> float:
    """PSI between two share vectors over the same bins (each summing to 1)."""
    expected = np.clip(np.asarray(reference_shares, dtype=float), EPSILON, None)
    actual = np.clip(np.asarray(actual_shares, dtype=float), EPSILON, None)
    if expected.shape != actual.shape:
        raise ValueError("Reference and actual shares must cover the same bins.")
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def numeric_edges(values, n_bins: int = DEFAULT_BINS) -> list[float]:
    """Inner bin edges at the reference's quantiles (duplicates dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return []
    quantiles = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
    return [float(v) for v in np.unique(quantiles)]


def numeric_counts(values, edges: Sequence[float]) -> list[int]:
    """Counts per bin: (-inf, e0), [e0, e1), ..., [e_last, inf), then a missing-value bin."""
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    index = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="right")
    counts = np.bincount(index, minlength=len(edges) + 1).tolist()
    return [*counts, int(missing.sum())]


def numeric_bin_labels(edges: Sequence[float]) -> list[str]:
    def fmt(x: float) -> str:
        return f"{x:,.4g}"

    if not edges:
        return ["all values", MISSING]
    labels = [f"< {fmt(edges[0])}"]
    labels += [f"{fmt(a)} – {fmt(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels += [f"≥ {fmt(edges[-1])}", MISSING]
    return labels


def categorical_counts(values, categories: Sequence[str]) -> list[int]:
    """Counts per known category, then 'other' (unseen values), then missing."""
    position = {c: i for i, c in enumerate(categories)}
    counts = [0] * (len(categories) + 2)
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            counts[-1] += 1
        else:
            counts[position.get(str(value), len(categories))] += 1
    return counts


def shares(counts: Sequence[int]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def reference_numeric(values, n_bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """A numeric reference distribution: quantile edges and the share in each bin."""
    edges = numeric_edges(values, n_bins)
    counts = numeric_counts(values, edges)
    return {
        "kind": "numeric",
        "edges": edges,
        "labels": numeric_bin_labels(edges),
        "counts": counts,
        "shares": shares(counts),
    }


def reference_categorical(values) -> dict[str, Any]:
    """A categorical reference distribution: its categories (sorted) and their shares."""
    categories = sorted(
        {str(v) for v in values if not (v is None or (isinstance(v, float) and math.isnan(v)))}
    )
    counts = categorical_counts(values, categories)
    return {
        "kind": "categorical",
        "categories": categories,
        "labels": [*categories, "(other)", MISSING],
        "counts": counts,
        "shares": shares(counts),
    }


def stability(reference: dict[str, Any], values) -> dict[str, Any]:
    """PSI of `values` against a reference from `reference_numeric` / `reference_categorical`."""
    if reference["kind"] == "numeric":
        counts = numeric_counts(values, reference["edges"])
    else:
        counts = categorical_counts(values, reference["categories"])
    rows = int(sum(counts))
    if rows == 0:
        return {"psi": None, "band": "unknown", "rows": 0, "shares": [], "counts": counts}
    actual = shares(counts)
    value = psi(reference["shares"], actual)
    return {
        "psi": round(value, 6),
        "band": psi_band(value),
        "rows": rows,
        "counts": counts,
        "shares": actual,
    }


# --- fairness ---------------------------------------------------------------------------------


def age_band(age: float | None) -> str:
    if age is None or (isinstance(age, float) and math.isnan(age)):
        return MISSING
    for low, high in AGE_BANDS:
        if low <= age < high:
            if low == 0:
                return f"under {high}"
            return f"{low}–{high - 1}" if high < 200 else f"{low} and over"
    return MISSING


def age_band_order() -> list[str]:
    return [age_band(low) for low, _ in AGE_BANDS] + [MISSING]


def disparate_impact(
    groups, approved, risk=None, *, min_rows: int = 1, order: Sequence[str] | None = None
) -> dict[str, Any]:
    """Approval rate (and mean predicted risk) per group against the most-approved group.

    `ratio` of a group is its approval rate divided by the highest group's rate; the
    four-fifths rule flags a group whose ratio is below 0.8. Groups with fewer than
    `min_rows` rows are listed but neither chosen as the reference nor flagged.
    """
    groups = np.asarray([MISSING if g is None else str(g) for g in groups], dtype=object)
    approved = np.asarray(approved, dtype=bool)
    risk_array = None if risk is None else np.asarray(risk, dtype=float)
    rows = []
    present = set(groups.tolist())
    ordered = [g for g in order or () if g in present] + sorted(present - set(order or ()))
    for group in ordered:
        mask = groups == group
        n = int(mask.sum())
        rows.append(
            {
                "group": group,
                "rows": n,
                "approved": int(approved[mask].sum()),
                "approval_rate": float(approved[mask].mean()),
                "mean_risk": None if risk_array is None else float(risk_array[mask].mean()),
            }
        )
    eligible = [r for r in rows if r["rows"] >= min_rows]
    reference = max(eligible, key=lambda r: r["approval_rate"]) if eligible else None
    best = reference["approval_rate"] if reference else 0.0
    for row in rows:
        small = row["rows"] < min_rows
        row["ratio"] = None if best == 0 or small else row["approval_rate"] / best
        row["fails_four_fifths"] = bool(row["ratio"] is not None and row["ratio"] < FOUR_FIFTHS)
        row["too_few_rows"] = small
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    return {
        "groups": rows,
        "reference_group": reference["group"] if reference else None,
        "min_ratio": min(ratios) if ratios else None,
        "fails_four_fifths": any(r["fails_four_fifths"] for r in rows),
        "rule": "a group whose approval rate is below 4/5 of the most-approved group's fails",
    }
