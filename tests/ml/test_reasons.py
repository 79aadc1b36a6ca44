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
    sentence = reason_sentence("payment delayed 2 months, last month,", 0.1)
    assert sentence == "Payment delayed 2 months, last month, raised the risk."
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


def test_batch_reasons_write_exactly_what_json_dumps_writes_of_reason():
    """The bulk path writes each row's reasons as JSON text itself (per distinct value, with
    the row's contributions slotted in): it must be the text `json.dumps` gives of the
    `reason()` dicts, for every kind of value and any text."""
    import json

    import pandas as pd

    from ml.reasons import JSON_SEPARATORS, ReasonItem, ReasonMemo, batch_reasons, reason

    items = [
        ReasonItem("limit", "Credit limit", derived=False),
        ReasonItem("kind", 'Loan "kind" — été\t', derived=False),
        ReasonItem("loans", "Loans held", derived=False),
        ReasonItem("ratio", "Share paid", derived=True),
        ReasonItem("own", "Owns a home", derived=False),
    ]
    values = {
        0: pd.Series([50_000, 120_000, None]),
        1: pd.Series(["car", "été 🏠", None], dtype=object),
        2: pd.Series([["a", "b"], [], None], dtype=object),
        3: pd.Series([0.1234, float("nan"), 2.0]),
        4: pd.Series([True, False, None], dtype=object),
    }

    def describe(i, raw):
        raw = raw.item() if isinstance(raw, np.generic) else raw
        value = None if raw is None or (isinstance(raw, float) and np.isnan(raw)) else raw
        if isinstance(value, float) and value.is_integer() and i == 0:
            value = int(value)
        return value, f"{items[i].label} is {value!r}"

    chosen = np.array([[0, 1, 2, 3], [4, 3, -1, -1], [2, 0, 1, 4]])
    contributions = np.array(
        [
            [0.25, -1e-9, 3.5e-7, -0.125, 0.0],
            [0.0, 0.0, 0.0, -0.75, 0.5],
            [0.1, 0.2, -0.3, 0.0, -0.4],
        ]
    )
    made = batch_reasons(items, chosen, contributions, values, describe)
    for row in range(3):
        expected = []
        for i in chosen[row]:
            if i < 0:
                continue
            raw = values[i].iloc[row]
            value, phrase = describe(i, raw)
            expected.append(reason(items[i], value, phrase, float(contributions[row, i])))
        assert made.json[row] == json.dumps(expected, separators=JSON_SEPARATORS)
        assert made.sentences[row] == " ".join(r["sentence"] for r in expected)
    assert made.codes[1] == "own+;ratio-"
    # A memo carried from batch to batch (a model's, over a bulk file's chunks) changes
    # nothing but the work: with or without the JSON, in either order.
    memo = ReasonMemo()
    for with_json in (False, True, True):
        again = batch_reasons(
            items, chosen, contributions, values, describe, with_json=with_json, memo=memo
        )
        assert again.sentences == made.sentences and again.codes == made.codes
        assert again.json == (made.json if with_json else None)
    assert (
        batch_reasons(items, chosen, contributions, values, describe, with_json=False).json is None
    )
