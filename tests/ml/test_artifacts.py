import io
import json

import numpy as np
import pytest

from ml.artifacts import (
    MANIFEST_FILE,
    MODEL_FILE,
    ArtifactError,
    file_sha256,
    load_model,
    load_model_bytes,
    load_model_file,
    read_manifest,
    save_model,
    serialize_model,
)
from tests.ml.modelkit import make_frame, trained


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    manifest = save_model(trained("german_credit").model, directory)
    return directory, manifest


def test_round_trip_gives_the_same_predictions(saved):
    directory, manifest = saved
    model = load_model(directory, expected_sha256=manifest.model_sha256)
    original = trained("german_credit").model
    frame = make_frame("german_credit", 30, seed=3)
    np.testing.assert_array_equal(
        model.predict_frame(frame)["risk"], original.predict_frame(frame)["risk"]
    )
    assert model.predict_one(frame.iloc[0].to_dict(), validated=True).reasons


def test_manifest_describes_the_model(saved):
    directory, manifest = saved
    data = json.loads((directory / MANIFEST_FILE).read_text())
    assert data["model_sha256"] == file_sha256(directory / MODEL_FILE)
    assert data["scorecard"] == "german_credit"
    assert data["libraries"]["scikit-learn"]
    assert {"python", "numpy", "pandas"} <= set(data["libraries"])
    assert "personal_status" in data["protected_excluded"]
    assert "personal_status" not in data["input_fields"]
    assert data["policy"]["approve_below"] <= data["policy"]["decline_from"]
    assert data["score_scaling"]["base_points"] == 600
    assert data["segments"]["k"] >= 2
    assert data["hyperparameters"]["n_estimators"] == 15
    assert data["synthetic"] is False
    assert len(data["data_sha256"]) == 64
    assert read_manifest(directory) == manifest


def test_a_tampered_file_is_refused_before_unpickling(saved, tmp_path):
    directory, manifest = saved
    data = bytearray((directory / MODEL_FILE).read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / MODEL_FILE).write_bytes(bytes(data))
    (tmp_path / MANIFEST_FILE).write_bytes((directory / MANIFEST_FILE).read_bytes())
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(tmp_path, expected_sha256=manifest.model_sha256)
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(directory, expected_sha256="0" * 64)


def test_a_manifest_from_another_sklearn_version_is_refused(saved, tmp_path):
    directory, manifest = saved
    data = json.loads((directory / MANIFEST_FILE).read_text())
    data["libraries"]["scikit-learn"] = "0.24.2"
    with pytest.raises(ArtifactError, match="scikit-learn 0.24.2"):
        load_model_bytes(
            (directory / MODEL_FILE).read_bytes(),
            expected_sha256=manifest.model_sha256,
            manifest=data,
        )


def test_loading_from_bytes_and_file_objects(saved):
    directory, manifest = saved
    raw = (directory / MODEL_FILE).read_bytes()
    manifest_bytes = (directory / MANIFEST_FILE).read_bytes()
    assert file_sha256(raw) == file_sha256(io.BytesIO(raw)) == manifest.model_sha256
    model = load_model_bytes(raw, expected_sha256=manifest.model_sha256, manifest=manifest_bytes)
    assert model.key == "german_credit"
    model = load_model_file(
        io.BytesIO(raw), expected_sha256=manifest.model_sha256, manifest=manifest_bytes.decode()
    )
    assert model.key == "german_credit"


def test_missing_files_and_bad_manifests_give_clear_errors(saved, tmp_path):
    directory, manifest = saved
    with pytest.raises(ArtifactError, match="No model file"):
        load_model(tmp_path, expected_sha256=manifest.model_sha256)
    with pytest.raises(ArtifactError, match="JSON"):
        read_manifest(b"{not json")
    with pytest.raises(ArtifactError, match="lacks"):
        read_manifest({"format": 1})


def test_serialize_for_a_storage_backend():
    data, manifest = serialize_model(trained("german_credit").model)
    assert manifest.model_sha256 == file_sha256(data)
    model = load_model_bytes(
        data, expected_sha256=manifest.model_sha256, manifest=manifest.to_json()
    )
    assert model.metadata["data_sha256"] == manifest.data_sha256
