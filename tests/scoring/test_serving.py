"""The production model each process holds: loaded once, swapped on promotion, sha256-checked."""

import pytest

from creditportal.errors import ApplicationError, ModelUnavailable
from ml.artifacts import ArtifactError
from scoring import serving
from scoring.services.registry import model_version_promote, model_version_register


def test_production_model_is_loaded_once_and_cached(production_model, django_assert_num_queries):
    first = serving.production_model("card_default")
    with django_assert_num_queries(1):  # only the version stamp
        second = serving.production_model("card_default")
    assert first is second
    assert first.version_id == production_model.pk


def test_process_notices_a_promotion_without_restart(
    production_model, manager, trained_card_default_alt
):
    before = serving.production_model("card_default")
    # Another process promotes a new version: only the database changes.
    newer = model_version_register(result=trained_card_default_alt)
    model_version_promote(version=newer, by=manager, reason="newer")
    after = serving.production_model("card_default")
    assert before.version_id == production_model.pk
    assert after.version_id == newer.pk
    assert after.model is not before.model


def test_tampered_artifact_is_refused(production_model):
    path = production_model.artifact.path
    with open(path, "r+b") as artifact:
        artifact.seek(200)
        byte = artifact.read(1)
        artifact.seek(200)
        artifact.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelUnavailable, match="does not match the hash") as refused:
        serving.production_model("card_default")
    assert isinstance(refused.value.__cause__, ArtifactError)  # the sha256 check refused it


def test_no_production_model_is_a_clear_error(db):
    with pytest.raises(ApplicationError, match="no production model"):
        serving.production_model("german_credit")
