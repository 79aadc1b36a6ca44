"""Models pickled before scorecards were declarations still load and score the same.

Such an artifact names its scorecard by key and holds `ml.features.DerivedFeature`s whose
`compute` is a module function of ml.features (`_card_max_delay`...), since removed. The
test writes one the way the old code did: the model's state with the key, the feature step
with `recipes="<key>"`, and derived features referring to those functions by name."""

import copy
import copyreg
import io
import pickle
import sys
import types

import numpy as np
import pytest

from ml.features import DerivedFeature
from ml.model import ScoringModel
from tests.ml.modelkit import make_frame, trained

# What the old code's functions computed, written out: the placeholders the old pickle
# refers to by name (the loader never calls these; it reads ml.features' table).
OLD_NAMES = {
    "card_default": {
        "utilisation_recent": "_card_utilisation_recent",
        "utilisation_mean": "_card_utilisation_mean",
        "bill_trend": "_card_bill_trend",
        "paid_share_recent": "_card_paid_share_recent",
        "paid_share_mean": "_card_paid_share_mean",
        "months_delinquent": "_card_months_delinquent",
        "max_delay": "_card_max_delay",
    },
    "german_credit": {"amount_per_month": "_german_amount_per_month"},
    "credit_score": {
        "debt_to_income": "_score_debt_to_income",
        "emi_to_salary": "_score_emi_to_salary",
        "invested_to_salary": "_score_invested_to_salary",
        "balance_to_salary": "_score_balance_to_salary",
    },
}
PLACEHOLDER_MODULE = "tests.ml.old_feature_functions"


def _placeholder(name):
    def compute(columns):  # pragma: no cover - never called
        raise AssertionError("the loader must not call the pickled function")

    compute.__module__ = PLACEHOLDER_MODULE
    compute.__qualname__ = compute.__name__ = name
    return compute


class _OldPickler(pickle.Pickler):
    """Writes a ScoringModel with the old state (scorecard key, functions by name)."""

    def __init__(self, file, model, functions):
        super().__init__(file, protocol=2)
        self.model = model
        self.functions = functions

    def reducer_override(self, obj):
        if obj is self.model:
            state = {k: v for k, v in obj.__dict__.items() if k not in obj._DERIVED_STATE}
            state["scorecard"] = obj.scorecard.key
            return copyreg.__newobj__, (ScoringModel,), state
        if callable(obj) and obj in self.functions.values():
            # A global by name: protocol 2 writes "c<module>\n<name>\n" (module swapped below).
            return obj.__name__
        return NotImplemented


def old_artifact(model) -> bytes:
    """The bytes the old code would have written for `model`."""
    legacy = copy.copy(model)
    legacy.__dict__ = dict(model.__dict__)
    pipeline = copy.deepcopy(model.pipeline)
    features = pipeline.named_steps["features"]
    features.recipes = model.scorecard.key
    names = OLD_NAMES[model.scorecard.key]
    functions = {name: _placeholder(old) for name, old in names.items()}
    old_features = []
    for feature in features.derived_:
        old = DerivedFeature.__new__(DerivedFeature)
        old.__dict__.update(
            name=feature.name,
            label=feature.label,
            sources=feature.sources,
            compute=functions[feature.name],
            unit=feature.unit,
        )
        old_features.append(old)
    features.derived_ = old_features
    legacy.pipeline = pipeline
    module = types.ModuleType(PLACEHOLDER_MODULE)
    for function in functions.values():
        setattr(module, function.__name__, function)
    sys.modules[PLACEHOLDER_MODULE] = module
    try:
        buffer = io.BytesIO()
        _OldPickler(buffer, legacy, functions).dump(legacy)
    finally:
        del sys.modules[PLACEHOLDER_MODULE]
    data = buffer.getvalue()
    old_reference = f"c{PLACEHOLDER_MODULE}\n".encode()
    assert data.count(old_reference) == len(functions)
    return data.replace(old_reference, b"cml.features\n")


@pytest.mark.parametrize("key", ["card_default", "german_credit", "credit_score"])
def test_an_old_artifact_loads_and_gives_the_same_probabilities(key):
    model = trained(key).model
    frame = make_frame(key, 300, seed=5, missing=0.0)
    data = old_artifact(model)
    assert b"cml.features\n_" in data and b"scorecard" in data
    loaded = pickle.loads(data)
    assert loaded.scorecard == model.scorecard
    for feature in loaded.pipeline.named_steps["features"].derived_:
        assert feature.recipe is None  # the old object, its compute from the legacy table
        assert "compute" in feature.__dict__
    expected = model.predict_proba_fast(model.encode_frame(frame))
    actual = loaded.predict_proba_fast(loaded.encode_frame(frame))
    assert np.abs(actual - expected).max() <= 1e-9
    np.testing.assert_array_equal(
        loaded.pipeline.named_steps["features"].transform(frame).select_dtypes("number"),
        model.pipeline.named_steps["features"].transform(frame).select_dtypes("number"),
    )
    # Saved again with this code, it carries its declaration, not a key.
    again = pickle.loads(pickle.dumps(loaded))
    assert again.scorecard == model.scorecard
    assert np.abs(again.predict_proba_fast(again.encode_frame(frame)) - expected).max() <= 1e-9


def test_old_card_features_let_a_missing_bill_propagate_as_they_did():
    """The removed mean of the six bills was missing when one bill was; an old model keeps
    that, so its probabilities do not move on rows with a gap (new declarations ignore it)."""
    model = trained("card_default").model
    loaded = pickle.loads(old_artifact(model))
    frame = make_frame("card_default", 50, seed=9, missing=0.0)
    frame.loc[0, "bill_amt3"] = np.nan
    old = loaded.pipeline.named_steps["features"].transform(frame)
    new = model.pipeline.named_steps["features"].transform(frame)
    assert np.isnan(old.loc[0, "utilisation_mean"])
    assert not np.isnan(new.loc[0, "utilisation_mean"])
    assert old.loc[1:, "utilisation_mean"].equals(new.loc[1:, "utilisation_mean"])


def test_a_new_artifact_carries_its_declaration_not_a_key():
    model = trained("german_credit").model
    state = model.__getstate__()
    assert isinstance(state["scorecard"], dict)
    assert state["scorecard"] == model.scorecard.to_document()
