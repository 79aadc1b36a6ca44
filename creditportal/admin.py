"""The Django admin of the project's own records and of users.

API tokens: administrators see and revoke them but never read them (a token's secret is not
stored, and its digest is not shown). Users: each one's two-factor state, and the
administrator's way to reset it (a user who lost their phone and their backup codes sets it up
again at their next sign-in); django-otp's own admin pages list the devices, without secrets.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import TokenProxy

from .models import ApiToken
from .two_factor import two_factor_reset

User = get_user_model()

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


@admin.action(
    description="Reset two-factor authentication (they set it up again)", permissions=["change"]
)
def reset_two_factor(modeladmin, request, queryset):
    users = list(queryset)
    for user in users:
        two_factor_reset(user=user)
        modeladmin.log_change(request, user, "Reset two-factor authentication.")
    modeladmin.message_user(
        request,
        f"Two-factor authentication reset for {len(users)} user(s): each sets up an "
        "authenticator app again at their next sign-in (or not at all, if not required).",
        messages.SUCCESS,
    )


class TwoFactorUserAdmin(UserAdmin):
    actions = [*UserAdmin.actions, reset_two_factor]
    list_display = [*UserAdmin.list_display, "two_factor"]

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_two_factor=Exists(confirmed))

    @admin.display(boolean=True, description="two-factor", ordering="has_two_factor")
    def two_factor(self, user) -> bool:
        return user.has_two_factor


admin.site.unregister(User)
admin.site.register(User, TwoFactorUserAdmin)
