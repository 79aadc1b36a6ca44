from django.urls import path

from . import views

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
]
