"""The Django admin's user list, with each user's two-factor state and the administrator's
way to reset it (a user who lost their phone and their backup codes sets it up again at their
next sign-in). django-otp's own admin pages list the devices, without their secrets."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from .two_factor import two_factor_reset

User = get_user_model()


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
