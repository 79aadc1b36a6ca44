"""The registry: versions with their artifacts, promotion, roll-back, history."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from creditportal.errors import ApplicationError
from ml.artifacts import file_sha256
from scoring.models import ModelPromotion, ModelVersion
from scoring.services.registry import model_version_promote, model_version_register


def test_register_stores_artifact_with_its_hash(candidate):
    assert candidate.version == 1
    assert candidate.status == ModelVersion.Status.CANDIDATE
    assert candidate.is_synthetic
    with candidate.artifact.open("rb") as artifact:
        assert file_sha256(artifact.read()) == candidate.artifact_sha256
    assert candidate.manifest["model_sha256"] == candidate.artifact_sha256
    assert "sex" not in candidate.features and "marriage" not in candidate.features


def test_versions_increase_per_scorecard(candidate, trained_card_default_alt):
    second = model_version_register(result=trained_card_default_alt)
    assert second.version == candidate.version + 1


def test_officer_cannot_promote(candidate, officer):
    with pytest.raises(PermissionDenied):
        model_version_promote(version=candidate, by=officer, reason="I like it")
    assert ModelVersion.objects.get(pk=candidate.pk).status == ModelVersion.Status.CANDIDATE
    assert not ModelPromotion.objects.exists()


def test_promotion_needs_a_reason(candidate, manager):
    with pytest.raises(Exception) as error:
        model_version_promote(version=candidate, by=manager, reason="  ")
    assert "reason" in error.value.message_dict


def test_promote_archives_previous_and_writes_history(
    production_model, manager, trained_card_default_alt
):
    newer = model_version_register(result=trained_card_default_alt)
    promotion = model_version_promote(version=newer, by=manager, reason="Better AUC")
    assert ModelVersion.objects.get(pk=newer.pk).status == ModelVersion.Status.PRODUCTION
    assert ModelVersion.objects.get(pk=production_model.pk).status == ModelVersion.Status.ARCHIVED
    assert (promotion.from_version, promotion.to_version) == (production_model, newer)
    assert promotion.promoted_by == manager


def test_roll_back_is_promoting_an_earlier_version(
    production_model, manager, trained_card_default_alt
):
    newer = model_version_register(result=trained_card_default_alt)
    model_version_promote(version=newer, by=manager, reason="Better AUC")
    model_version_promote(version=production_model, by=manager, reason="Roll back: complaints")
    assert ModelVersion.objects.get(pk=production_model.pk).status == "production"
    assert ModelVersion.objects.get(pk=newer.pk).status == "archived"
    assert ModelPromotion.objects.count() == 3  # initial, promote, roll back: history kept


def test_promoting_production_or_failed_version_is_refused(production_model, manager):
    with pytest.raises(ApplicationError):
        model_version_promote(version=production_model, by=manager, reason="again")
    failed = ModelVersion.objects.create(scorecard="card_default", version=9, status="failed")
    with pytest.raises(ApplicationError):
        model_version_promote(version=failed, by=manager, reason="why not")


def test_database_allows_one_production_version_per_scorecard(production_model):
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(scorecard="card_default", version=2, status="production")
