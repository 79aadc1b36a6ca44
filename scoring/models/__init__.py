"""The scoring app's models, by sub-domain (Django finds them through this package)."""

from scoring.jobs.models import FINISHED_JOB_STATUSES, JobStatus

from .builder import ScorecardDraft, builder_upload_to
from .jobs import (
    BatchRowError,
    BatchScoringJob,
    ScorecardJobSettings,
    TrainingDataset,
    TrainingJob,
    batch_upload_to,
    training_data_upload_to,
)
from .predictions import ApplicationOutcome, Decision, ImmutableQuerySet, Prediction, Recommendation
from .registry import ModelPromotion, ModelVersion, artifact_upload_to

__all__ = [
    "FINISHED_JOB_STATUSES",
    "ApplicationOutcome",
    "BatchRowError",
    "BatchScoringJob",
    "Decision",
    "ImmutableQuerySet",
    "JobStatus",
    "ModelPromotion",
    "ModelVersion",
    "Prediction",
    "Recommendation",
    "ScorecardDraft",
    "ScorecardJobSettings",
    "TrainingDataset",
    "TrainingJob",
    "artifact_upload_to",
    "batch_upload_to",
    "builder_upload_to",
    "training_data_upload_to",
]
