"""Path contributions of the forest: exact, and equal to scikit-learn's probabilities."""

import numpy as np
import pytest

from ml.explain import FlatForest, item_matrix
from tests.ml.modelkit import make_frame, trained


@pytest.mark.parametrize("key", ["card_default", "credit_score", "german_credit"])
def test_flat_forest_probabilities_equal_predict_proba(key):
    model = trained(key).model
    frame = make_frame(key, 300, seed=7, missing=0.2)
    X = model.encode_frame(frame)
    expected = model.pipeline.predict_proba(frame.loc[:, model.input_fields])
    np.testing.assert_allclose(model.predict_proba_fast(X), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("key", ["card_default", "credit_score"])
def test_contributions_add_up_to_probabilities(key):
    model = trained(key).model
    flat = FlatForest(model.pipeline.named_steps["forest"])
    X = model.encode_frame(make_frame(key, 200, seed=3))
    probabilities, contributions = flat.contributions(X)
    assert contributions.shape == (200, flat.n_features, flat.n_classes)
    rebuilt = flat.bias + contributions.sum(axis=1)
    np.testing.assert_allclose(rebuilt, probabilities, rtol=0, atol=1e-9)
    np.testing.assert_allclose(probabilities, model.pipeline[-1].predict_proba(X), atol=1e-12)


def test_single_class_contributions_match_full_ones():
    model = trained("credit_score").model
    flat = FlatForest(model.pipeline.named_steps["forest"])
    X = model.encode_frame(make_frame("credit_score", 50, seed=4))
    _, full = flat.contributions(X)
    _, worst = flat.contributions(X, class_index=2)
    np.testing.assert_allclose(worst, full[:, :, 2], atol=1e-12)


def test_flat_forest_follows_missing_values_like_sklearn():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[rng.random(X.shape) < 0.2] = np.nan
    y = (np.nan_to_num(X[:, 0]) + rng.normal(0, 0.5, 300) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    flat = FlatForest(forest)
    np.testing.assert_allclose(flat.predict_proba(X), forest.predict_proba(X), atol=1e-12)


def test_item_matrix_sums_columns_into_items():
    matrix = item_matrix(["a", "b", "b", "c"], ["a", "b", "c"])
    contributions = np.array([[0.1, 0.2, 0.3, -0.4]])
    np.testing.assert_allclose(contributions @ matrix, [[0.1, 0.5, -0.4]])


def test_leaf_table_gives_the_walks_contributions():
    from ml.explain import LeafContributions

    model = trained("credit_score").model
    flat = FlatForest(model.pipeline.named_steps["forest"])
    X = model.encode_frame(make_frame("credit_score", 120, seed=12, missing=0.1))
    _, walked = flat.contributions(X, class_index=2)
    table = LeafContributions(flat, 2, model._item_matrix)
    leaves = flat.sklearn_leaves(model.pipeline.named_steps["forest"], X)
    np.testing.assert_array_equal(leaves, flat.leaves(X))
    np.testing.assert_allclose(
        table.item_contributions(leaves), walked @ model._item_matrix, rtol=0, atol=1e-12
    )
    probabilities, _ = table.explain(leaves)
    np.testing.assert_allclose(
        probabilities,
        model.pipeline.named_steps["forest"].predict_proba(X.astype(np.float32)),
        rtol=0,
        atol=1e-12,
    )
