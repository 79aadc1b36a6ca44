"""The project's own API views: the auth tokens, and the API's answer to an unknown path."""

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from creditportal.models import ApiToken
from creditportal.two_factor import second_factor_required, two_factor_verify

from .exceptions import error_body
from .serializers import ApiTokenSerializer, TokenRequestSerializer, TokenSerializer
from .tokens import (
    api_token_get_for_user,
    api_token_issue,
    api_token_list,
    api_token_revoke,
    api_tokens_revoke_all,
)


class AuthTokenView(APIView):
    """Exchange a username and password for a new token, or revoke the token in use."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        tags=["auth"],
        description="Issues a new token for `client` (default `api`), replacing that "
        "client's earlier token; the secret is shown only in this answer. It expires "
        "`expiry`; 409 `too_many_tokens` when you hold the most allowed. Failed attempts "
        "count towards the portal's lockout (django-axes): too many for one username from "
        "one address answer 429 `locked_out`. Users with two-factor authentication (credit "
        "managers and administrators when it is required) also send `otp`: without it, or "
        "with a wrong one, 400 naming `otp`.",
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The Django request, so django-axes sees (and may lock out) this attempt.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            # Answered, not raised: raising would roll the request's transaction back, and
            # with it the failed attempt django-axes has just recorded.
            message = "Unable to log in with the provided credentials."
            body = error_body("validation_error", message, {"non_field_errors": [message]})
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        second_factor = second_factor_required(user)
        if second_factor:  # answered, not raised: a wrong code is counted
            try:
                two_factor_verify(user=user, code=data.get("otp", ""))
            except ValidationError as refused:
                fields = {"otp": refused.messages}
                body = error_body("validation_error", "Invalid input: otp.", fields)
                return Response(body, status=status.HTTP_400_BAD_REQUEST)
        issued = api_token_issue(user=user, client=data["client"], second_factor=second_factor)
        return Response(TokenSerializer(issued).data)

    @extend_schema(
        operation_id="auth_token_destroy",
        request=None,
        responses={204: None},
        tags=["auth"],
        description="Revokes the token this request is sent with; the next request with it "
        "gets 401. Your other tokens: /api/v1/auth/tokens/.",
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            message = (
                "This request carries no token: revoke one at /api/v1/auth/tokens/<prefix>/, "
                "or all of yours at /api/v1/auth/tokens/."
            )
            return Response(error_body("no_token", message), status=status.HTTP_400_BAD_REQUEST)
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class ApiTokenListView(generics.ListAPIView):
    """Your tokens that still work (never their secrets); DELETE revokes them all."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ApiToken.objects.none()
        return api_token_list(user=self.request.user)

    @extend_schema(
        operation_id="auth_tokens_destroy_all",
        request=None,
        responses={204: None},
        description="Revokes every token of yours, the one of this request included.",
    )
    def delete(self, request):
        api_tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class ApiTokenDetailView(APIView):
    @extend_schema(
        operation_id="auth_tokens_destroy",
        request=None,
        responses={204: None},
        description="Revokes one of your tokens by its prefix; 404 for anyone else's.",
    )
    def delete(self, request, prefix: str):
        api_token_revoke(token=api_token_get_for_user(user=request.user, prefix=prefix))
        return Response(status=status.HTTP_204_NO_CONTENT)


@csrf_exempt  # a 404 whatever the method: CSRF has nothing to protect here
def api_not_found(request, *args, **kwargs):
    return JsonResponse(error_body("not_found", "No such API endpoint."), status=404)
