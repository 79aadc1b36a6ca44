"""Data insights: descriptive statistics and tests of a labelled dataset, as plain dicts.

Every test states its null hypothesis and reads its p-value in plain words at the 5 % level.
Heavy steps (bootstrap, permutations, DBSCAN, PCA) run on a seeded sample of at most
`SAMPLE_ROWS` rows, so a dataset of any size is described in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import DBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from ml.schema import FieldKind, Scorecard

ALPHA = 0.05
SAMPLE_ROWS = 5000
SCATTER_POINTS = 1500
SEGMENT_ROWS = 3000
NUMBER_KINDS = (FieldKind.NUMERIC, FieldKind.INTEGER)
GROUP_KINDS = (FieldKind.CATEGORICAL, FieldKind.BOOLEAN)
MAX_LEVELS = 12  # categorical levels shown before the rest are pooled as "other"


def _r(value: float | None, digits: int = 6) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, digits)


def format_number(value: float) -> str:
    """3 decimals for small numbers, thousands separators for large ones."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"


def format_p(p: float | None) -> str:
    """'p < 0.0001', 'p = 0.0123' or 'p = 0.41' for display."""
    if p is None:
        return "–"
    if p < 1e-4:
        return "p < 0.0001"
    return f"p = {p:.4f}" if p < 0.01 else f"p = {p:.3f}"


def read_p_value(p: float | None, *, null: str, alpha: float = ALPHA) -> str:
    """The p-value in plain words: whether the data give reason to doubt the null hypothesis."""
    if p is None:
        return "Not enough data to test."
    if p < alpha:
        return (
            f"{format_p(p)} is below {alpha:g}: data like these would be unlikely if {null}, "
            "so we reject that — the difference is statistically significant."
        )
    return (
        f"{format_p(p)} is not below {alpha:g}: data like these are quite possible if {null}, "
        "so we cannot reject it — no significant difference is shown."
    )


def class_balance(target: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    series = pd.Series(list(target))
    counts = [int((series == c).sum()) for c in classes]
    total = sum(counts)
    nonzero = [c for c in counts if c]
    return {
        "classes": list(classes),
        "counts": counts,
        "shares": [c / total if total else 0.0 for c in counts],
        "rows": total,
        "imbalance_ratio": _r(max(nonzero) / min(nonzero), 3) if nonzero else None,
    }


def target_by_groups(
    groups: Sequence, target: Sequence[str], classes: Sequence[str], order: Sequence[str] = ()
) -> dict:
    """Rows and class shares within each group (in `order`, then sorted)."""
    frame = pd.DataFrame({"group": list(groups), "target": list(target)})
    table = pd.crosstab(frame["group"], frame["target"])
    table = table.reindex(columns=list(classes), fill_value=0)
    present = list(table.index)
    ordered = [g for g in order if g in present] + sorted(set(present) - set(order))
    table = table.loc[ordered]
    rows = []
    for group, counts in table.iterrows():
        total = int(counts.sum())
        rows.append(
            {
                "group": str(group),
                "rows": total,
                "shares": [_r(c / total, 4) if total else 0.0 for c in counts.tolist()],
            }
        )
    return {"classes": list(classes), "groups": rows}


def compact_number(value: float) -> str:
    """17.5k, 1.2M, 0.35, -2: short labels for band edges."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def numeric_bands(values, n_bands: int = 5) -> tuple[list[str], list[str]]:
    """(each value's quantile band label, the labels in order); missing stays missing."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    edges = np.unique(np.nanquantile(numbers, np.linspace(0, 1, n_bands + 1)))
    if len(edges) < 2:
        return ["all" if not np.isnan(v) else "(missing)" for v in numbers], ["all", "(missing)"]
    index = np.clip(np.searchsorted(edges, numbers, side="right") - 1, 0, len(edges) - 2)
    labels = [
        f"{compact_number(edges[i])} – {compact_number(edges[i + 1])}"
        for i in range(len(edges) - 1)
    ]
    bands = ["(missing)" if np.isnan(v) else labels[i] for v, i in zip(numbers, index, strict=True)]
    return bands, [*labels, "(missing)"]


def pooled_levels(values, max_levels: int = MAX_LEVELS) -> list[str]:
    series = pd.Series(["(missing)" if v is None else str(v) for v in values])
    keep = set(series.value_counts().index[:max_levels])
    return [v if v in keep else "(other)" for v in series]


def correlation(frame: pd.DataFrame) -> dict[str, Any]:
    """Pearson correlation matrix of numeric columns (pairwise complete rows)."""
    matrix = frame.apply(pd.to_numeric, errors="coerce").corr()
    return {
        "columns": list(matrix.columns),
        "matrix": [[_r(v, 4) for v in row] for row in matrix.to_numpy()],
    }


def bootstrap_mean_ci(
    values, *, n_resamples: int = 2000, confidence: float = 0.95, random_state: int = 0
) -> dict[str, Any]:
    """Percentile bootstrap confidence interval of the mean."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return {"mean": None, "low": None, "high": None, "rows": int(values.size)}
    rng = np.random.default_rng(random_state)
    means = rng.choice(values, size=(n_resamples, values.size), replace=True).mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return {
        "mean": _r(values.mean()),
        "low": _r(low),
        "high": _r(high),
        "confidence": confidence,
        "resamples": n_resamples,
        "rows": int(values.size),
        "reading": f"Resampling the data, the mean lies between {format_number(low)} and "
        f"{format_number(high)} in {confidence:.0%} of resamples (percentile bootstrap): "
        "a range for the population's mean.",
    }


def permutation_test(a, b, *, n_permutations: int = 2000, random_state: int = 0) -> dict[str, Any]:
    """Two-sided permutation test of the difference of two groups' means."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    null = "the two groups had the same mean (group labels were interchangeable)"
    if a.size < 2 or b.size < 2:
        return {"p_value": None, "null_hypothesis": null, "reading": read_p_value(None, null=null)}
    observed = a.mean() - b.mean()
    pooled = np.concatenate([a, b])
    rng = np.random.default_rng(random_state)
    extreme = 0
    for _ in range(n_permutations):
        shuffled = rng.permutation(pooled)
        diff = shuffled[: a.size].mean() - shuffled[a.size :].mean()
        extreme += abs(diff) >= abs(observed) - 1e-12
    p = (extreme + 1) / (n_permutations + 1)
    return {
        "difference_of_means": _r(observed),
        "p_value": _r(p),
        "p_text": format_p(p),
        "permutations": n_permutations,
        "null_hypothesis": null,
        "reading": read_p_value(p, null=null),
    }


def two_sample_tests(a, b) -> dict[str, Any]:
    """Welch's t-test (means) and the Mann-Whitney U test (distributions) of two groups."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    t_null = "the two groups had the same mean"
    u_null = "a value from one group were as likely to exceed one from the other as the reverse"
    if a.size < 2 or b.size < 2:
        return {}
    t = stats.ttest_ind(a, b, equal_var=False)
    u = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {
        "t_test": {
            "statistic": _r(t.statistic),
            "p_value": float(t.pvalue),
            "p_text": format_p(float(t.pvalue)),
            "null_hypothesis": t_null,
            "reading": read_p_value(float(t.pvalue), null=t_null),
        },
        "mann_whitney": {
            "statistic": _r(u.statistic),
            "p_value": float(u.pvalue),
            "p_text": format_p(float(u.pvalue)),
            "null_hypothesis": u_null,
            "reading": read_p_value(float(u.pvalue), null=u_null),
        },
    }


def chi_square(categories, target) -> dict[str, Any]:
    """Chi-square test of independence of a categorical feature and the target, Cramér's V."""
    table = pd.crosstab(pd.Series(list(categories)), pd.Series(list(target)))
    null = "the feature and the credit outcome were independent"
    if table.shape[0] < 2 or table.shape[1] < 2:
        return {"p_value": None, "null_hypothesis": null, "reading": read_p_value(None, null=null)}
    result = stats.chi2_contingency(table.to_numpy())
    n = table.to_numpy().sum()
    v = math.sqrt(result.statistic / (n * (min(table.shape) - 1)))
    return {
        "statistic": _r(result.statistic),
        "dof": int(result.dof),
        "p_value": float(result.pvalue),
        "p_text": format_p(float(result.pvalue)),
        "cramers_v": _r(v, 4),
        "null_hypothesis": null,
        "reading": read_p_value(float(result.pvalue), null=null),
    }


def anova(values, groups) -> dict[str, Any]:
    """One-way ANOVA: do the groups' means of `values` differ?"""
    frame = pd.DataFrame({"v": pd.to_numeric(pd.Series(list(values)), errors="coerce")})
    frame["g"] = list(groups)
    frame = frame.dropna()
    samples = [g["v"].to_numpy() for _, g in frame.groupby("g") if len(g) >= 2]
    null = "every group had the same mean"
    if len(samples) < 2:
        return {"p_value": None, "null_hypothesis": null, "reading": read_p_value(None, null=null)}
    result = stats.f_oneway(*samples)
    means = frame.groupby("g")["v"].agg(["mean", "count"]).reset_index()
    return {
        "statistic": _r(result.statistic),
        "p_value": float(result.pvalue),
        "p_text": format_p(float(result.pvalue)),
        "groups": [
            {"group": str(r.g), "mean": _r(r["mean"]), "rows": int(r["count"])}
            for _, r in means.iterrows()
        ],
        "null_hypothesis": null,
        "reading": read_p_value(float(result.pvalue), null=null),
    }


def outliers(values, *, z_limit: float = 3.0, iqr_factor: float = 1.5) -> dict[str, Any]:
    """Counts of outliers by |z-score| > 3 and outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return {"rows": int(values.size), "z_score": 0, "iqr": 0}
    std = values.std()
    z = np.zeros_like(values) if std == 0 else np.abs((values - values.mean()) / std)
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = q3 - q1
    low, high = q1 - iqr_factor * spread, q3 + iqr_factor * spread
    return {
        "rows": int(values.size),
        "z_score": int((z > z_limit).sum()),
        "iqr": int(((values < low) | (values > high)).sum()),
        "iqr_bounds": [_r(low), _r(high)],
    }


def segments(
    frame: pd.DataFrame,
    labels: Sequence[str],
    *,
    k_range: range = range(2, 7),
    random_state: int = 0,
    scatter_points: int = SCATTER_POINTS,
) -> dict[str, Any]:
    """k-means segments on standardised numeric columns, a PCA 2-D view, DBSCAN noise."""
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    numbers = numbers.fillna(numbers.median()).fillna(0.0)
    scaled = StandardScaler().fit_transform(numbers.to_numpy(dtype=float))
    scaled = np.clip(scaled, -5, 5)
    best_k, best_score, scores = None, -2.0, {}
    for k in k_range:
        if k >= len(scaled):
            break
        fitted = KMeans(n_clusters=k, n_init=2, random_state=random_state).fit(scaled)
        score = float(
            silhouette_score(
                scaled,
                fitted.labels_,
                sample_size=min(2000, len(scaled)),
                random_state=random_state,
            )
        )
        scores[k] = round(score, 4)
        if score > best_score:
            best_k, best_score = k, score
    kmeans = KMeans(n_clusters=best_k, n_init=2, random_state=random_state).fit(scaled)
    pca = PCA(n_components=2, random_state=random_state).fit(scaled)
    coordinates = pca.transform(scaled)
    # Neighbourhoods grow with the dimension: eps scales with sqrt(columns) on standard units.
    eps = round(0.5 * math.sqrt(scaled.shape[1]), 3)
    db = DBSCAN(eps=eps, min_samples=10).fit(scaled)
    rng = np.random.default_rng(random_state)
    shown = np.sort(rng.choice(len(scaled), size=min(scatter_points, len(scaled)), replace=False))
    profiles = []
    for segment in range(best_k):
        mask = kmeans.labels_ == segment
        profiles.append(
            {
                "segment": segment,
                "rows": int(mask.sum()),
                "means": [_r(v, 4) for v in numbers[mask].mean().to_numpy()],
                "z_means": [_r(v, 3) for v in scaled[mask].mean(axis=0)],
            }
        )
    return {
        "columns": list(frame.columns),
        "labels": list(labels),
        "k": int(best_k),
        "silhouette_by_k": {str(k): v for k, v in scores.items()},
        "explained_variance": [_r(v, 4) for v in pca.explained_variance_ratio_],
        "profiles": profiles,
        "scatter": {
            "x": [_r(v, 3) for v in coordinates[shown, 0]],
            "y": [_r(v, 3) for v in coordinates[shown, 1]],
            "segment": kmeans.labels_[shown].astype(int).tolist(),
        },
        "dbscan": {
            "eps": eps,
            "min_samples": 10,
            "clusters": int(len(set(db.labels_)) - (1 if -1 in db.labels_ else 0)),
            "noise_points": int((db.labels_ == -1).sum()),
            "rows": int(len(scaled)),
        },
    }


def _sample(frame: pd.DataFrame, rows: int, random_state: int) -> pd.DataFrame:
    return frame if len(frame) <= rows else frame.sample(rows, random_state=random_state)


def dataset_insights(
    scorecard: Scorecard, frame: pd.DataFrame, *, random_state: int = 0
) -> dict[str, Any]:
    """Everything the data insights page shows, for a cleaned, labelled frame."""
    classes = list(scorecard.classes)
    worst = scorecard.worst_class
    target = frame[scorecard.target].astype(str)
    bad = (target == worst).to_numpy()
    numeric = [f for f in scorecard.fields if f.kind in NUMBER_KINDS and f.name in frame]
    grouped = [f for f in scorecard.fields if f.kind in GROUP_KINDS and f.name in frame]
    numeric_frame = frame[[f.name for f in numeric]].apply(pd.to_numeric, errors="coerce")

    by_feature = []
    for f in scorecard.fields:
        if f.name not in frame:
            continue
        if f.kind in NUMBER_KINDS:
            groups, order = numeric_bands(numeric_frame[f.name])
        elif f.kind in GROUP_KINDS:
            labels = f.choice_labels if f.choices else {}
            groups = pooled_levels(
                [labels.get(str(v), v) if v is not None else None for v in frame[f.name]]
            )
            order = [*(str(label) for _, label in f.choices), "(other)", "(missing)"]
        else:
            continue
        by_feature.append(
            {
                "field": f.name,
                "label": f.label,
                "kind": str(f.kind),
                "cramers_v": chi_square(groups, target).get("cramers_v"),
                **target_by_groups(groups, target, classes, order),
            }
        )
    by_feature.sort(key=lambda item: -(item["cramers_v"] or 0))

    # The numeric feature most associated with the worst class carries the two-group tests.
    associations = {
        f.name: abs(
            np.nan_to_num(
                pd.Series(bad.astype(float)).corr(numeric_frame[f.name].reset_index(drop=True))
            )
        )
        for f in numeric
    }
    key = max(associations, key=associations.get) if associations else None
    sample = _sample(frame.assign(_bad=bad), SAMPLE_ROWS, random_state)
    tests: dict[str, Any] = {"alpha": ALPHA, "sample_rows": int(len(sample))}
    if key is not None:
        key_field = scorecard.field(key)
        values = pd.to_numeric(sample[key], errors="coerce").to_numpy(dtype=float)
        is_bad = sample["_bad"].to_numpy()
        tests["feature"] = {"field": key, "label": key_field.label}
        others = (
            scorecard.class_labels.get(classes[0], classes[0])
            if len(classes) == 2
            else "the other classes"
        )
        tests["groups"] = {"a": scorecard.class_labels.get(worst, worst), "b": others}
        tests["bootstrap"] = bootstrap_mean_ci(values, random_state=random_state)
        tests["bootstrap_by_group"] = {
            "a": bootstrap_mean_ci(values[is_bad], random_state=random_state),
            "b": bootstrap_mean_ci(values[~is_bad], random_state=random_state),
        }
        tests["permutation"] = permutation_test(
            values[is_bad], values[~is_bad], random_state=random_state
        )
        tests.update(two_sample_tests(values[is_bad], values[~is_bad]))
    tests["chi_square"] = [
        {"field": f.name, "label": f.label, **chi_square(frame[f.name].astype(str), target)}
        for f in grouped
    ]
    anova_group = next((f for f in grouped if frame[f.name].nunique() >= 3), None)
    if anova_group is not None and key is not None:
        labels = anova_group.choice_labels if anova_group.choices else {}
        tests["anova"] = {
            "value_field": key,
            "value_label": scorecard.field(key).label,
            "group_field": anova_group.name,
            "group_label": anova_group.label,
            **anova(
                numeric_frame[key], [labels.get(str(v), str(v)) for v in frame[anova_group.name]]
            ),
        }

    segment_fields = [f for f in numeric if not f.protected]
    segment_sample = _sample(
        numeric_frame[[f.name for f in segment_fields]], SEGMENT_ROWS, random_state
    )
    return {
        "rows": int(len(frame)),
        "target": scorecard.target,
        "worst_class": worst,
        "class_balance": class_balance(target, classes),
        "class_labels": [scorecard.class_labels.get(c, c) for c in classes],
        "target_by_feature": by_feature,
        "correlation": correlation(numeric_frame.assign(**{f"is_{worst}": bad.astype(float)})),
        "tests": tests,
        "outliers": [
            {"field": f.name, "label": f.label, **outliers(numeric_frame[f.name])} for f in numeric
        ],
        "segments": segments(
            segment_sample, [f.label for f in segment_fields], random_state=random_state
        )
        if segment_fields
        else None,
    }
