import numpy as np
import pytest

from ml.split import grouped_folds, split_indices


def grouped_data(n_groups=300, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, n_groups)
    groups = np.repeat(np.arange(n_groups), sizes)
    y = rng.integers(0, 3, len(groups))
    return y, groups


def test_no_group_is_on_two_sides():
    y, groups = grouped_data()
    split = split_indices(y, groups, random_state=1)
    sides = [set(groups[idx]) for idx in (split.train, split.validation, split.test)]
    assert not sides[0] & sides[1]
    assert not sides[0] & sides[2]
    assert not sides[1] & sides[2]
    all_rows = np.concatenate([split.train, split.validation, split.test])
    assert sorted(all_rows) == list(range(len(y)))


def test_split_is_reproducible_and_roughly_60_20_20():
    y, groups = grouped_data()
    first = split_indices(y, groups, random_state=7)
    again = split_indices(y, groups, random_state=7)
    other = split_indices(y, groups, random_state=8)
    np.testing.assert_array_equal(first.test, again.test)
    assert not np.array_equal(first.test, other.test)
    sizes = first.sizes()
    assert sizes["test"] == pytest.approx(0.2 * len(y), rel=0.2)
    assert sizes["validation"] == pytest.approx(0.2 * len(y), rel=0.2)


def test_rows_are_their_own_groups_without_a_key_and_classes_are_stratified():
    y = np.array([0] * 800 + [1] * 200)
    split = split_indices(y, None, random_state=0)
    for idx in (split.train, split.validation, split.test):
        assert y[idx].mean() == pytest.approx(0.2, abs=0.01)


def test_cv_folds_never_split_a_group():
    y, groups = grouped_data(120)
    for train, held_out in grouped_folds(y, groups, n_splits=3, random_state=0):
        assert not set(groups[train]) & set(groups[held_out])


def test_tiny_classes_fall_back_to_group_folds():
    y = np.array([0] * 20 + [1] * 2)
    groups = np.arange(22) // 2
    folds = grouped_folds(y, groups, n_splits=3, random_state=0)
    assert len(folds) == 3
