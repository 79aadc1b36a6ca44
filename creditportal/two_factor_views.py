"""The portal's two-factor pages: give a code after the password, set up an authenticator
app, and the account page where anyone turns it on (or off, when their role allows).

The rules and the checks are creditportal.two_factor's; these views only ask and answer.
"""

import django_otp
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor
from .views import redirect_back

SETUP_SESSION_KEY = "two_factor_setup_device"
AFTER_SIGN_IN = "home"
# A code typed or pasted by hand: browsers and phones offer the one-time code, nothing more.
CODE_INPUT_ATTRS = {
    "autocomplete": "one-time-code",
    "autocapitalize": "off",
    "spellcheck": "false",
    "size": 12,
}


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=32,
        help_text="From your authenticator app; a new one appears every 30 seconds.",
        widget=forms.TextInput(attrs={**CODE_INPUT_ATTRS, "inputmode": "numeric"}),
    )


class BackupCodeForm(forms.Form):
    code = forms.CharField(
        label="Backup code",
        max_length=32,
        help_text="One of the 8-character codes you kept when you set this up; each works once.",
        widget=forms.TextInput(attrs=CODE_INPUT_ATTRS),
    )


def _next(request: HttpRequest) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


def _safe_next(request: HttpRequest) -> str:
    """`next` when it is a page of this site, else the page after signing in."""
    target = _next(request)
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse(AFTER_SIGN_IN)


def _sign_in_with(request: HttpRequest, device) -> None:
    """Remember the verified device in this session, under a new session key (the session
    now carries more rights than the one before)."""
    request.session.cycle_key()
    django_otp.login(request, device)


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the authenticator app, or a backup code."""
    user = request.user
    if user.is_verified() or not two_factor.second_factor_required(user):
        return redirect_back(request, AFTER_SIGN_IN)
    if not two_factor.user_has_two_factor(user):
        return redirect("two_factor:setup")
    use_backup = request.method == "POST" and "backup-code" in request.POST
    form = CodeForm(prefix="totp")
    backup_form = BackupCodeForm(prefix="backup")
    if request.method == "POST":
        form_class = BackupCodeForm if use_backup else CodeForm
        bound = form_class(request.POST, prefix="backup" if use_backup else "totp")
        if bound.is_valid():
            try:
                device = two_factor.two_factor_verify(user=user, code=bound.cleaned_data["code"])
            except ValidationError as error:
                bound.add_error("code", error)
            else:
                _sign_in_with(request, device)
                return redirect_back(request, AFTER_SIGN_IN)
        if use_backup:
            backup_form = bound
        else:
            form = bound
    context = {
        "form": form,
        "backup_form": backup_form,
        "backup_open": use_backup,
        "next": _next(request),
    }
    return render(request, "registration/two_factor_verify.html", context)


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Scan a QR code (or type the secret), confirm with a code, keep the backup codes."""
    user = request.user
    if two_factor.user_has_two_factor(user) and not user.is_verified():
        # Replacing an authenticator takes the current one: a password alone must not.
        return redirect("two_factor:verify")
    device = _pending_device(request)
    form = CodeForm(prefix="totp")
    if request.method == "POST" and device is not None:
        form = CodeForm(request.POST, prefix="totp")
        if form.is_valid():
            try:
                codes = two_factor.two_factor_setup_confirm(
                    user=user, device=device, code=form.cleaned_data["code"]
                )
            except ValidationError as error:
                form.add_error("code", error)
            else:
                del request.session[SETUP_SESSION_KEY]
                _sign_in_with(request, device)
                context = {"codes": codes, "continue_url": _safe_next(request), "first_time": True}
                return render(request, "registration/two_factor_backup_codes.html", context)
    expired = device is None and request.method == "POST"
    if device is None:
        device = two_factor.two_factor_setup_start(user=user)
        request.session[SETUP_SESSION_KEY] = device.pk
    context = {
        "expired": expired,
        "form": form,
        "qr_code": two_factor.qr_code_data_uri(device),
        "secret": two_factor.secret_text(device),
        "required": two_factor.two_factor_required_by_role(user),
        "next": _next(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


def _pending_device(request: HttpRequest) -> TOTPDevice | None:
    """The unconfirmed authenticator this session started to set up, if it still exists."""
    pk = request.session.get(SETUP_SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first()


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    context = {
        "device": device,
        "required": two_factor.two_factor_required_by_role(user),
        "backup_codes_left": two_factor.backup_codes_left(user=user) if device else 0,
        "form": CodeForm(prefix="totp"),
    }
    return render(request, "registration/two_factor_account.html", context)


@login_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes, for a user with an authenticator (verified: the middleware sees to
    that); the old ones stop working."""
    if not two_factor.user_has_two_factor(request.user):
        return redirect("two_factor:account")
    codes = two_factor.backup_codes_create(user=request.user)
    context = {"codes": codes, "continue_url": reverse("two_factor:account"), "first_time": False}
    return render(request, "registration/two_factor_backup_codes.html", context)


@login_required
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """Turn two-factor off: with a current code, and only when the role does not require it."""
    user = request.user
    form = CodeForm(request.POST, prefix="totp")
    try:
        if not form.is_valid():
            raise ValidationError(two_factor.CODE_FORMAT_MESSAGE)
        two_factor.two_factor_verify(user=user, code=form.cleaned_data["code"])
        two_factor.two_factor_disable(user=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Two-factor authentication is off.")
    return redirect("two_factor:account")


app_name = "two_factor"
urlpatterns = [
    path("", account, name="account"),
    path("verify/", verify, name="verify"),
    path("setup/", setup, name="setup"),
    path("backup-codes/", backup_codes, name="backup_codes"),
    path("disable/", disable, name="disable"),
]
