"""Admin pages of the background jobs: read-only, since state moves only through the services
(a job edited by hand could skip a status or lose its resume point)."""

from django.contrib import admin

from .admin import ReadOnlyAdmin
from .models import (
    BatchRowError,
    BatchScoringJob,
    ScorecardJobSettings,
    TrainingDataset,
    TrainingJob,
)


@admin.register(TrainingDataset)
class TrainingDatasetAdmin(ReadOnlyAdmin):
    list_display = (
        "original_name",
        "scorecard",
        "source",
        "rows_kept",
        "uploaded_by",
        "uploaded_at",
    )
    list_filter = ("scorecard", "source")


@admin.register(TrainingJob)
class TrainingJobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "scorecard", "status", "stage", "progress", "attempts", "created_at")
    list_filter = ("scorecard", "status", "trigger")


@admin.register(BatchScoringJob)
class BatchScoringJobAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "scorecard",
        "owner",
        "status",
        "rows_done",
        "rows_total",
        "rows_invalid",
        "attempts",
        "created_at",
    )
    list_filter = ("scorecard", "status")


@admin.register(BatchRowError)
class BatchRowErrorAdmin(ReadOnlyAdmin):
    list_display = ("job", "row_number", "field", "message")


@admin.register(ScorecardJobSettings)
class ScorecardJobSettingsAdmin(ReadOnlyAdmin):
    list_display = ("scorecard", "auto_promote", "auto_promote_metric", "retrain_every_days")
