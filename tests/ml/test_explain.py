import numpy as np
import pandas as pd
import pytest

from ml.explain import FlatForest, item_matrix, reason_sentence, top_reasons, top_reasons_batch
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


def test_top_reasons_puts_raising_items_first_then_strongest_lowering():
    values = np.array([0.05, -0.3, 0.2, 0.0, -0.01, 0.1])
    assert top_reasons(values) == [2, 5, 0, 1]
    assert top_reasons(np.array([0.0, 0.0])) == []


def test_batch_reasons_agree_with_single_row_reasons():
    rng = np.random.default_rng(1)
    values = rng.normal(0, 0.1, size=(200, 9))
    values[rng.random(values.shape) < 0.3] = 0.0
    batch = top_reasons_batch(values)
    for row in range(len(values)):
        single = top_reasons(values[row])
        assert [i for i in batch[row] if i >= 0] == single


def test_reason_sentence_reads_like_an_officer_note():
    sentence = reason_sentence("payment delayed 2 months in September 2005", 0.1)
    assert sentence == "Payment delayed 2 months in September 2005 raised the risk."
    assert reason_sentence("age 52", -0.02).endswith("lowered the risk.")


def test_reasons_of_a_prediction_sum_to_its_contributions():
    model = trained("card_default").model
    frame = make_frame("card_default", 30, seed=9)
    probabilities, items = model.explain_frame(frame)
    flat = FlatForest(model.pipeline.named_steps["forest"])
    np.testing.assert_allclose(
        flat.bias[1] + items.sum(axis=1), probabilities[:, 1], rtol=0, atol=1e-9
    )
    assert isinstance(frame, pd.DataFrame)


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
