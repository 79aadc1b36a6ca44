"""Train / validation / test split by the grouping key, and the grouped CV folds.

Rows of one group (one customer's monthly records) always land on the same side. Without
a grouping key every row is its own group. Splits are stratified on the class where the
groups allow it (StratifiedGroupKFold), with a fixed integer seed.

`split_scorecard_frame` is the one way a scorecard's cleaned frame is split: training, the
comparison of a candidate with production and the dashboard's figures all call it, so the
same frame and seed always give the same test rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold

from ml.schema import Scorecard


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


def labelled_rows(scorecard: Scorecard, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a cleaned frame that have a target, renumbered from 0."""
    return frame[frame[scorecard.target].notna()].reset_index(drop=True)


def target_codes(scorecard: Scorecard, target: pd.Series) -> np.ndarray:
    """Class codes 0..K-1 (best -> worst) of a cleaned target column."""
    position = {value: i for i, value in enumerate(scorecard.classes)}
    codes = target.map(position)
    if codes.isna().any():
        unknown = sorted(set(target[codes.isna()].astype(str)))[:5]
        raise ValueError(f"Unknown target values {unknown}; expected {list(scorecard.classes)}")
    return codes.to_numpy(dtype=np.intp)


@dataclass(frozen=True)
class ScorecardSplit:
    """A scorecard frame's labelled rows, their class codes and groups, and their split."""

    labelled: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray | None
    indices: SplitIndices


def split_scorecard_frame(
    scorecard: Scorecard, frame: pd.DataFrame, *, random_state: int = 42
) -> ScorecardSplit:
    """Split a cleaned frame's labelled rows by the scorecard's grouping key (see above)."""
    labelled = labelled_rows(scorecard, frame)
    y = target_codes(scorecard, labelled[scorecard.target])
    key = scorecard.grouping_key
    groups = labelled[key].to_numpy() if key and key in labelled else None
    indices = split_indices(y, groups, random_state=random_state)
    return ScorecardSplit(labelled=labelled, y=y, groups=groups, indices=indices)
