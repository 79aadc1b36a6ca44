"""Customer segments: k-means on the scaled numeric inputs, k chosen by silhouette.

Inputs are the numeric model fields and derived features after median imputation,
standardised and clipped to +-3 standard deviations so that a few absurd values cannot
claim a cluster of their own. Each segment is described in words by the features whose
centroid lies furthest from the average ("high credit limit, low age").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

CLIP_Z = 3.0
DESCRIBE_TOP = 3
NOTABLE_Z = 0.35  # a centroid closer than this to the mean is "typical" on that feature


@dataclass
class Segmenter:
    """Fitted segmentation: scaling, centroids and a description per segment."""

    columns: list[str]
    labels: list[str]
    center: np.ndarray
    scale: np.ndarray
    fill_values: np.ndarray
    centroids: np.ndarray
    descriptions: list[str]
    sizes: list[int]
    silhouette_by_k: dict[int, float]

    @property
    def n_segments(self) -> int:
        return len(self.centroids)

    def scaled(self, values: np.ndarray) -> np.ndarray:
        values = np.where(np.isnan(values), self.fill_values, values)
        return np.clip((values - self.center) / self.scale, -CLIP_Z, CLIP_Z)

    def predict(self, values: np.ndarray) -> np.ndarray:
        """Segment id of each row of raw (unscaled) values in `columns` order."""
        z = self.scaled(np.asarray(values, dtype=np.float64))
        distances = ((z[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return distances.argmin(axis=1)

    def to_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "k": self.n_segments,
            "silhouette_by_k": {str(k): round(v, 4) for k, v in self.silhouette_by_k.items()},
            "segments": [
                {"id": i, "description": d, "size": s}
                for i, (d, s) in enumerate(zip(self.descriptions, self.sizes, strict=True))
            ],
        }


def describe_centroid(centroid: np.ndarray, labels: list[str]) -> str:
    """'high credit limit, low age' from the features furthest from the average."""
    order = np.argsort(-np.abs(centroid))[:DESCRIBE_TOP]
    words = [
        f"{'high' if centroid[i] > 0 else 'low'} {labels[i][:1].lower()}{labels[i][1:]}"
        for i in order
        if abs(centroid[i]) >= NOTABLE_Z
    ]
    return ", ".join(words) if words else "typical on every measure"


def fit_segmenter(
    values: np.ndarray,
    columns: list[str],
    labels: list[str],
    *,
    k_range: range = range(2, 7),
    sample_size: int = 3000,
    random_state: int = 42,
) -> Segmenter:
    """Fit k-means for each k in `k_range` on a sample and keep the best silhouette."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    fill_values = np.nanmedian(values, axis=0)
    fill_values = np.where(np.isnan(fill_values), 0.0, fill_values)
    filled = np.where(np.isnan(values), fill_values, values)
    center = filled.mean(axis=0)
    scale = filled.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = np.clip((filled - center) / scale, -CLIP_Z, CLIP_Z)
    sample = z if len(z) <= sample_size else z[rng.choice(len(z), sample_size, replace=False)]
    scores: dict[int, float] = {}
    models: dict[int, KMeans] = {}
    distinct_rows = len(np.unique(sample, axis=0))
    for k in k_range:
        if k >= distinct_rows:
            break
        model = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit(sample)
        if len(np.unique(model.labels_)) < 2:
            continue
        scores[k] = float(silhouette_score(sample, model.labels_))
        models[k] = model
    if not models:
        raise ValueError("Too few distinct rows to segment.")
    best_k = max(scores, key=lambda k: scores[k])
    centroids = models[best_k].cluster_centers_
    segmenter = Segmenter(
        columns=list(columns),
        labels=list(labels),
        center=center,
        scale=scale,
        fill_values=fill_values,
        centroids=centroids,
        descriptions=[describe_centroid(c, list(labels)) for c in centroids],
        sizes=[],
        silhouette_by_k=scores,
    )
    assigned = segmenter.predict(values)
    segmenter.sizes = np.bincount(assigned, minlength=best_k).tolist()
    return segmenter
