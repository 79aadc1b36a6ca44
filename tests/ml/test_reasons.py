"""Reasons: chosen from the contributions, worded for an officer, the same for one row and many."""

import numpy as np
import pandas as pd

from ml.explain import FlatForest
from ml.reasons import reason_sentence, top_reasons, top_reasons_batch
from tests.ml.modelkit import make_frame, trained


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
