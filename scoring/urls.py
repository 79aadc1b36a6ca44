from django.urls import path

from . import views, views_jobs

app_name = "scoring"

urlpatterns = [
    path("applications/<int:pk>/score/", views.application_score, name="application_score"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("applications/<int:pk>/reopen/", views.application_reopen, name="application_reopen"),
    path("applications/<int:pk>/outcome/", views.application_outcome, name="application_outcome"),
    path("predictions/<int:pk>/", views.prediction_detail, name="prediction_detail"),
    path("models/", views.model_version_list, name="model_version_list"),
    path("models/history/", views.promotion_history, name="promotion_history"),
    path("models/<int:pk>/", views.model_version_detail, name="model_version_detail"),
    path("models/<int:pk>/promote/", views.model_version_promote, name="model_version_promote"),
    # Background jobs (scoring/views_jobs.py)
    path("batch-jobs/", views_jobs.batch_job_list, name="batch_job_list"),
    path("batch-jobs/<int:pk>/", views_jobs.batch_job_detail, name="batch_job_detail"),
    path("batch-jobs/<int:pk>/progress/", views_jobs.batch_job_progress, name="batch_job_progress"),
    path("batch-jobs/<int:pk>/cancel/", views_jobs.batch_job_cancel, name="batch_job_cancel"),
    path("batch-jobs/<int:pk>/result/", views_jobs.batch_job_result, name="batch_job_result"),
    path("training/", views_jobs.training_overview, name="training_overview"),
    path(
        "training/datasets/upload/",
        views_jobs.training_dataset_upload,
        name="training_dataset_upload",
    ),
    path(
        "training/datasets/export-outcomes/",
        views_jobs.training_dataset_export,
        name="training_dataset_export",
    ),
    path(
        "training/datasets/<int:pk>/",
        views_jobs.training_dataset_detail,
        name="training_dataset_detail",
    ),
    path("training/jobs/start/", views_jobs.training_job_start, name="training_job_start"),
    path("training/jobs/<int:pk>/", views_jobs.training_job_detail, name="training_job_detail"),
    path(
        "training/jobs/<int:pk>/progress/",
        views_jobs.training_job_progress,
        name="training_job_progress",
    ),
    path(
        "training/jobs/<int:pk>/cancel/", views_jobs.training_job_cancel, name="training_job_cancel"
    ),
    path(
        "training/settings/<str:scorecard>/",
        views_jobs.scorecard_settings_update,
        name="scorecard_settings_update",
    ),
]
