from django.urls import path

from .views import applications, builder, bulk, registry, training

app_name = "scoring"

urlpatterns = [
    path("applications/<int:pk>/score/", applications.application_score, name="application_score"),
    path(
        "applications/<int:pk>/decide/", applications.application_decide, name="application_decide"
    ),
    path(
        "applications/<int:pk>/reopen/", applications.application_reopen, name="application_reopen"
    ),
    path(
        "applications/<int:pk>/outcome/",
        applications.application_outcome,
        name="application_outcome",
    ),
    path("predictions/<int:pk>/", applications.prediction_detail, name="prediction_detail"),
    path("models/", registry.model_version_list, name="model_version_list"),
    path("models/history/", registry.promotion_history, name="promotion_history"),
    path("models/<int:pk>/", registry.model_version_detail, name="model_version_detail"),
    path("models/<int:pk>/promote/", registry.model_version_promote, name="model_version_promote"),
    path("batch-jobs/", bulk.batch_job_list, name="batch_job_list"),
    path("batch-jobs/<int:pk>/", bulk.batch_job_detail, name="batch_job_detail"),
    path("batch-jobs/<int:pk>/progress/", bulk.batch_job_progress, name="batch_job_progress"),
    path("batch-jobs/<int:pk>/cancel/", bulk.batch_job_cancel, name="batch_job_cancel"),
    path("batch-jobs/<int:pk>/result/", bulk.batch_job_result, name="batch_job_result"),
    path("scorecards/", builder.scorecard_list, name="scorecard_list"),
    path("scorecards/upload/", builder.draft_upload, name="scorecard_draft_upload"),
    path(
        "scorecards/declarations/<int:pk>/",
        builder.declaration_detail,
        name="declaration_detail",
    ),
    path(
        "scorecards/declarations/<int:pk>/edit/",
        builder.declaration_edit,
        name="declaration_edit",
    ),
    path("scorecards/drafts/<int:pk>/", builder.draft_detail, name="scorecard_draft_detail"),
    path(
        "scorecards/drafts/<int:pk>/progress/",
        builder.draft_progress_view,
        name="scorecard_draft_progress",
    ),
    path("scorecards/drafts/<int:pk>/train/", builder.draft_train, name="scorecard_draft_train"),
    path("training/", training.training_overview, name="training_overview"),
    path(
        "training/datasets/upload/",
        training.training_dataset_upload,
        name="training_dataset_upload",
    ),
    path(
        "training/datasets/export-outcomes/",
        training.training_dataset_export,
        name="training_dataset_export",
    ),
    path(
        "training/datasets/<int:pk>/",
        training.training_dataset_detail,
        name="training_dataset_detail",
    ),
    path("training/jobs/start/", training.training_job_start, name="training_job_start"),
    path("training/jobs/<int:pk>/", training.training_job_detail, name="training_job_detail"),
    path(
        "training/jobs/<int:pk>/progress/",
        training.training_job_progress,
        name="training_job_progress",
    ),
    path(
        "training/jobs/<int:pk>/cancel/", training.training_job_cancel, name="training_job_cancel"
    ),
    path(
        "training/settings/<str:scorecard>/",
        training.scorecard_settings_update,
        name="scorecard_settings_update",
    ),
]
