"""The REST API's root: one router, one registration line per resource, plus the token, the
OpenAPI schema and its docs. Included by `creditportal/urls.py` under `api/`:

- `/api/v1/...`            the resources registered below (each app's viewsets live in its
  `api/views.py`);
- `/api/v1/auth/token/`    POST username + password (+ client) -> a new token; DELETE revokes
  the one in use; `/api/v1/auth/tokens/` lists yours, `.../tokens/<prefix>/` revokes one;
- `/api/schema/`           the OpenAPI 3 schema (drf-spectacular), `/api/docs/` Swagger UI.

This module and `creditportal/gunicorn_conf.py` (which loads the production models when a web
process starts) are the only modules of `creditportal` that import the apps above it (see
`.importlinter`); `creditportal/urls.py` includes the apps' URL modules by name.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from applicants.api import views as applicants
from creditportal.api.views import (
    ApiTokenDetailView,
    ApiTokenListView,
    AuthTokenView,
    api_not_found,
)
from scoring.api import builder as scorecard_builder
from scoring.api import views as scoring

router = DefaultRouter()
# Stateless scoring first: the busiest endpoint, and URLs are tried in order.
for key, viewset in scoring.scorecard_score_viewsets().items():  # typed per scorecard
    router.register(f"scorecards/{key}/score", viewset, basename=f"scorecard-{key}-score")
router.register("applicants", applicants.ApplicantViewSet, basename="applicant")
# Scoring, reopening and outcomes of an application (`applications/{id}/score/`...) are
# scoring's actions on the same resource; registered first, so that the API root links
# "applications" to the applications' own list.
router.register("applications", scoring.ApplicationScoringViewSet, basename="application-scoring")
router.register("applications", applicants.ApplicationViewSet, basename="application")
router.register("predictions", scoring.PredictionViewSet, basename="prediction")
router.register("decisions", scoring.DecisionViewSet, basename="decision")
router.register("scorecards", scoring.ScorecardViewSet, basename="scorecard")
router.register("model-versions", scoring.ModelVersionViewSet, basename="model-version")
router.register("model-promotions", scoring.ModelPromotionViewSet, basename="model-promotion")
router.register("batch-jobs", scoring.BatchScoringJobViewSet, basename="batch-job")
router.register("training-datasets", scoring.TrainingDatasetViewSet, basename="training-dataset")
router.register("training-jobs", scoring.TrainingJobViewSet, basename="training-job")
router.register("declarations", scorecard_builder.DeclarationViewSet, basename="declaration")
router.register(
    "scorecard-drafts", scorecard_builder.ScorecardDraftViewSet, basename="scorecard-draft"
)

urlpatterns = [
    path("v1/auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("v1/auth/tokens/", ApiTokenListView.as_view(), name="api-tokens"),
    # A knox token_key: 15 hexadecimal characters (anything else is the API's 404).
    re_path(r"^v1/auth/tokens/(?P<prefix>[0-9a-f]{15})/$", ApiTokenDetailView.as_view()),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, which
    # the Content-Security-Policy would refuse.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a 404 in the API's error format, not the portal's page.
    re_path(r"", api_not_found),
]
