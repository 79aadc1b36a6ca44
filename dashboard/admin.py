from django.contrib import admin

from .models import DatasetInsight, ModelVersionProfile, MonitoringSnapshot, PredictionDailyStats


class ComputedAdmin(admin.ModelAdmin):
    """Computed rows: administrators may look and delete (to force a recomputation)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ModelVersionProfile)
class ModelVersionProfileAdmin(ComputedAdmin):
    list_display = ("model_version", "data_description", "data_reproduced", "computed_at")


@admin.register(MonitoringSnapshot)
class MonitoringSnapshotAdmin(ComputedAdmin):
    list_display = ("scorecard", "model_version", "window_end", "predictions", "worst_band")
    list_filter = ("scorecard", "worst_band")


@admin.register(DatasetInsight)
class DatasetInsightAdmin(ComputedAdmin):
    list_display = ("scorecard", "data_description", "synthetic", "computed_at")


@admin.register(PredictionDailyStats)
class PredictionDailyStatsAdmin(ComputedAdmin):
    list_display = ("day", "scorecard", "recommendation", "points_bucket", "predictions")
    list_filter = ("scorecard", "recommendation")
    date_hierarchy = "day"
