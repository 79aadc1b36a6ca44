"""Serializers of the project's own API resources (the auth tokens) and the pieces every
app's API shares."""

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

UNKNOWN_FIELD_MESSAGE = "Unknown field."


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


class InputSerializer(serializers.Serializer):
    """Base of every request-body serializer: a key it does not declare is a 400.

    DRF drops undeclared keys without a word, so a misspelt `submitt` or an `owner` meant to
    reassign would seem to work. Each unknown key is named in `error.fields` with
    "Unknown field.", next to the other fields' errors. Read-only attributes of the resource
    (`id`, `status`, `owner`...) are not declared on input serializers, so sending them is
    refused the same way. Multipart bodies are checked alike (their files are keys too).
    """

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {str(key): [UNKNOWN_FIELD_MESSAGE] for key in data if key not in writable}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**unknown, **error.detail}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class NoInputSerializer(InputSerializer):
    """The body of an action that takes none (`submit`, `score`, `cancel`): any key is
    unknown. An empty body, `{}`, is fine."""

    def to_internal_value(self, data):
        if data in (None, ""):  # no body at all
            return {}
        return super().to_internal_value(data)


def refuse_unknown_fields(request) -> None:
    """400 naming each key of the body of an action that takes none."""
    NoInputSerializer(data=request.data).is_valid(raise_exception=True)


class TokenRequestSerializer(InputSerializer):
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
    client = serializers.CharField(
        max_length=100,
        default="api",
        help_text="What the token is for (a script, a machine). Asking again for the same "
        "client replaces its token; each client name has its own.",
    )

    def validate_client(self, value: str) -> str:
        if not value.isprintable():
            raise serializers.ValidationError("Must not contain control or invisible characters.")
        return value


class TokenSerializer(serializers.Serializer):
    """A token just issued: the only time its secret is shown."""

    token = serializers.CharField(
        source="secret", help_text="Send it as `Authorization: Token <token>`; shown only now."
    )
    prefix = serializers.CharField(source="token.token_key")
    client = serializers.CharField(source="token.client")
    created = serializers.DateTimeField(source="token.created")
    expiry = serializers.DateTimeField(source="token.expiry")
    user = UserSummarySerializer(source="token.user")


class ApiTokenSerializer(serializers.Serializer):
    """A token as its owner sees it later: never the secret."""

    prefix = serializers.CharField(
        source="token_key", help_text="The token's first characters: how to tell it apart."
    )
    client = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField()
    current = serializers.SerializerMethodField(
        help_text="True for the token this request was sent with."
    )

    def get_current(self, token) -> bool:
        return token == self.context["request"].auth
