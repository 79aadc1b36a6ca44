"""The project's own API views: the auth token, and the API's answer to an unknown path."""

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from creditportal.two_factor import second_factor_required, two_factor_verify

from .auth import api_token_issue, api_token_revoke
from .exceptions import error_body
from .serializers import TokenRequestSerializer, TokenSerializer


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
        "from one address answer 429 `locked_out`. Users with two-factor authentication (credit "
        "managers and administrators when it is required) also send `otp`: without it, or "
        "with a wrong one, 400 naming `otp`.",
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = dict(serializer.validated_data)
        otp = credentials.pop("otp", "")
        # The Django request, so django-axes sees (and may lock out) this attempt.
        user = authenticate(request._request, **credentials)
        if user is None:
            # Answered, not raised: raising would roll the request's transaction back, and
            # with it the failed attempt django-axes has just recorded.
            message = "Unable to log in with the provided credentials."
            body = error_body("validation_error", message, {"non_field_errors": [message]})
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        if second_factor_required(user):  # answered, not raised: a wrong code is counted
            try:
                two_factor_verify(user=user, code=otp)
            except ValidationError as refused:
                fields = {"otp": refused.messages}
                body = error_body("validation_error", "Invalid input: otp.", fields)
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
