"""The Django admin of the project's own records: API tokens, which administrators see and
revoke but never read: a token's secret is not stored, and its digest is not shown."""

from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

from .models import ApiToken

# DRF's clear-text tokens are no longer used (creditportal/migrations/0002_api_tokens.py);
# their admin would still offer to create them.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """View and revoke (delete). Tokens are issued through the API only: the secret is
    shown to the one who asked for it, never here."""

    list_display = ("prefix", "client", "user", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("token_key", "client", "user__username")
    fields = ("prefix", "client", "user", "created", "expiry")
    readonly_fields = fields
    ordering = ("-created",)

    @admin.display(description="Prefix", ordering="token_key")
    def prefix(self, token: ApiToken) -> str:
        return f"{token.token_key}…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
