"""The REST API's root: the v1 router, token authentication, the schema and its docs.

Included by `creditportal/urls.py` under `api/`, so:

- `/api/v1/...`     the resources (`router` below; each app's viewsets live in its `api`
  module and are registered here, one line each);
- `/api/v1/auth/token/`  POST username + password -> the user's token; DELETE revokes it;
- `/api/schema/`    the OpenAPI 3 schema (drf-spectacular), `/api/docs/` Swagger UI, offline.
"""

from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from applicants.api import ApplicantViewSet, ApplicationViewSet
from scoring.api.views import (
    DecisionViewSet,
    ModelPromotionViewSet,
    ModelVersionViewSet,
    PredictionViewSet,
    ScorecardViewSet,
    scorecard_score_urls,
)
from scoring.api_jobs import register as register_job_resources

from .api_base import UserSummarySerializer
from .exceptions import error_body

router = DefaultRouter()
router.register("applicants", ApplicantViewSet, basename="applicant")
router.register("applications", ApplicationViewSet, basename="application")
router.register("predictions", PredictionViewSet, basename="prediction")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("model-promotions", ModelPromotionViewSet, basename="model-promotion")
register_job_resources(router)  # batch-jobs, training-datasets, training-jobs


# --- tokens ---------------------------------------------------------------------------------


def api_token_issue(*, user) -> Token:
    """The user's API token, created on first request (one token per user)."""
    token, _ = Token.objects.get_or_create(user=user)
    return token


def api_token_revoke(*, user) -> None:
    Token.objects.filter(user=user).delete()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        source="key", help_text="Send it as `Authorization: Token <token>`."
    )
    user = UserSummarySerializer()


class AuthTokenView(APIView):
    """Exchange a username and password for the user's API token, or revoke it."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        tags=["auth"],
        description="Returns the user's token (the same one until it is revoked). Failed "
        "attempts count towards the portal's lockout (django-axes): too many for one username "
        "from one address answer 429 `locked_out`.",
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, so django-axes sees (and may lock out) this attempt.
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            # Answered, not raised: raising would roll the request's transaction back, and
            # with it the failed attempt django-axes has just recorded.
            message = "Unable to log in with the provided credentials."
            body = error_body("validation_error", message, {"non_field_errors": [message]})
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        token = api_token_issue(user=user)
        return Response(TokenSerializer(token).data)

    @extend_schema(
        operation_id="auth_token_destroy",
        request=None,
        responses={204: None},
        tags=["auth"],
        description="Revokes your own token; the next request with it gets 401. "
        "Administrators revoke anyone's in the Django admin (Auth Token).",
    )
    def delete(self, request):
        api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@csrf_exempt  # a 404 whatever the method: CSRF has nothing to protect here
def api_not_found(request, *args, **kwargs):
    return JsonResponse(error_body("not_found", "No such API endpoint."), status=404)


urlpatterns = [
    path("v1/auth/token/", AuthTokenView.as_view(), name="api-token"),
    *scorecard_score_urls(prefix="v1/"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a 404 in the API's error format, not the portal's page.
    re_path(r"", api_not_found),
]
