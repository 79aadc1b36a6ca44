"""Admin pages. Audit records and jobs are read-only, even for administrators: state moves
only through the services (a job edited by hand could skip a status or lose its resume
point; a prediction is an audit record)."""

from django.contrib import admin

from .models import (
    ApplicationOutcome,
    BatchRowError,
    BatchScoringJob,
    Decision,
    ModelPromotion,
    ModelVersion,
    Prediction,
    ScorecardJobSettings,
    TrainingDataset,
    TrainingJob,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records: visible to administrators, never changed or deleted, even by them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("scorecard", "version", "status", "is_synthetic", "created_by", "created_at")
    list_filter = ("scorecard", "status", "is_synthetic")
    search_fields = ("scorecard", "notes", "training_data_description")
    # Status changes go through promotion (a service with history), artifacts through training.
    readonly_fields = [
        field.name for field in ModelVersion._meta.fields if field.name not in ("notes",)
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModelPromotion)
class ModelPromotionAdmin(ReadOnlyAdmin):
    list_display = ("scorecard", "from_version", "to_version", "promoted_by", "promoted_at")
    list_filter = ("scorecard",)
    search_fields = ("reason",)


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "scorecard",
        "application",
        "model_version",
        "points",
        "band",
        "recommendation",
        "source",
        "requested_by",
        "created_at",
    )
    list_filter = ("scorecard", "recommendation", "source", "band", "created_at")
    search_fields = (
        "application__applicant__full_name",
        "application__applicant__external_reference",
    )
    list_select_related = ("application", "model_version", "requested_by")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "application",
        "outcome",
        "is_override",
        "decided_by",
        "decided_at",
        "reopened_at",
    )
    list_filter = ("outcome", "is_override")
    search_fields = ("application__applicant__full_name", "note")


@admin.register(ApplicationOutcome)
class ApplicationOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("application", "outcome_class", "corrects", "recorded_by", "recorded_at")
    list_filter = ("outcome_class",)


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
