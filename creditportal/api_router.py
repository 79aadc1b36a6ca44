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

from django.urls import NoReverseMatch, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView, DefaultRouter

from applicants.api import views as applicants
from creditportal.api.views import (
    ApiTokenDetailView,
    ApiTokenListView,
    AuthTokenView,
    api_not_found,
)
from ml.scorecards import SCORECARDS
from scoring.api import builder as scorecard_builder
from scoring.api import views as scoring


class ApiRootView(APIRootView):
    """DRF's API root, plus one `scorecards/<key>/score` link per scorecard that exists now
    (the router's own list skips a route with a key in its URL)."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        links = {}
        for key in list(SCORECARDS):
            try:
                links[f"scorecards/{key}/score"] = reverse(
                    "scorecard-score-list",
                    kwargs={"key": key},
                    request=request,
                    format=kwargs.get("format"),
                )
            except NoReverseMatch:  # a key no URL can hold
                continue
        response.data = {**links, **response.data}
        return response


router = DefaultRouter()
router.APIRootView = ApiRootView
# Stateless scoring first: the busiest endpoint, and URLs are tried in order. One route for
# every scorecard, those added while the process runs included; the schema still documents
# one operation per scorecard (`scoring.scorecard_score_endpoints`).
router.register(
    f"scorecards/(?P<key>{scoring.SCORECARD_KEY})/score",
    scoring.ScorecardScoreViewSet,
    basename="scorecard-score",
)
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
