"""Serializers of the project's own API resources (the auth token) and the pieces every
app's API shares."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class UserSummarySerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "full_name"]

    def get_full_name(self, user) -> str:
        return user.get_full_name()


@extend_schema_field({"type": "object", "additionalProperties": True})
class AnyObjectField(serializers.DictField):
    """A JSON object with any keys (documented as such)."""


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="The 6-digit code of the user's authenticator app (or a backup code): "
        "required when the user has two-factor authentication, and for credit managers and "
        "administrators when CREDITPORTAL_REQUIRE_2FA is on.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        source="key", help_text="Send it as `Authorization: Token <token>`."
    )
    user = UserSummarySerializer()
