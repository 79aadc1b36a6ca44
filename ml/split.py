"""Train / validation / test split by the grouping key, and the grouped CV folds.

Rows of one group (one customer's monthly records) always land on the same side. Without
a grouping key every row is its own group. Splits are stratified on the class where the
groups allow it (StratifiedGroupKFold), with a fixed integer seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold


@dataclass(frozen=True)
class SplitIndices:
    """Row positions of each side of the split."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train),
            "validation": len(self.validation),
            "test": len(self.test),
        }


def _all_unique(groups: np.ndarray) -> bool:
    return len(np.unique(groups)) == len(groups)


def grouped_folds(y, groups=None, *, n_splits: int, random_state: int) -> list[tuple]:
    """(train, held-out) position pairs of stratified folds that never split a group."""
    y = np.asarray(y)
    positions = np.arange(len(y))
    min_class = np.bincount(np.unique(y, return_inverse=True)[1]).min()
    if groups is None or _all_unique(np.asarray(groups)):
        # One row per group: plain stratified folds, same guarantee and much faster.
        if min_class >= n_splits:
            splitter = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
            return list(splitter.split(positions, y))
        groups = positions
    groups = np.asarray(groups)
    if min_class >= n_splits:
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
    else:
        splitter = GroupKFold(n_splits)
    return list(splitter.split(positions, y, groups))


def split_indices(
    y,
    groups=None,
    *,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.2,
    random_state: int = 42,
) -> SplitIndices:
    """Split rows into train / validation / test by group, stratified on `y`."""
    y = np.asarray(y)
    group_array = None if groups is None else np.asarray(groups)
    rest, test = grouped_folds(
        y, group_array, n_splits=round(1 / test_fraction), random_state=random_state
    )[0]
    share_of_rest = validation_fraction / (1 - test_fraction)
    inner = grouped_folds(
        y[rest],
        None if group_array is None else group_array[rest],
        n_splits=round(1 / share_of_rest),
        random_state=random_state,
    )[0]
    train, validation = rest[inner[0]], rest[inner[1]]
    return SplitIndices(train=np.sort(train), validation=np.sort(validation), test=np.sort(test))
