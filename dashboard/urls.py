from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("models/<int:pk>/", views.model_report, name="model_report"),
    path("models/<int:pk>/profile/", views.profile_compute, name="profile_compute"),
    path("models/<int:pk>/fairness/", views.fairness, name="fairness"),
    path("monitoring/<str:scorecard>/", views.monitoring, name="monitoring"),
    path("monitoring/<str:scorecard>/snapshot/", views.snapshot_take, name="snapshot_take"),
    path("insights/<str:scorecard>/", views.insights, name="insights"),
    path("insights/<str:scorecard>/compute/", views.insights_compute, name="insights_compute"),
]
