"""Two-factor authentication (TOTP, django-otp): who needs a second factor, and checking one.

Credit managers and administrators (anyone who sees every officer's applicants, enters the
Django admin, or is a superuser) must present a code from an authenticator app after their
password when CREDITPORTAL_REQUIRE_2FA is on (the production default). Anyone else may turn
it on for themselves; once it is on they are asked for it too. A confirmed TOTP device is
what "has two-factor" means; backup codes (a django-otp static device) come with it.

The session remembers a verified device (`django_otp.login`), the portal's middleware
(`creditportal.middleware.SecondFactorRequired`) sends everyone who needs one and has not
given it to the verify or setup page, and the API's token endpoint asks for `otp`.

Wrong codes are throttled by django-otp on the device itself (1, 2, 4, 8... seconds between
attempts after consecutive failures), whoever and wherever they come from; a code is accepted
once only. Passwords stay django-axes's business.
"""

import re
from base64 import b32encode

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken
from .roles import can_see_all_applicants

BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"

# ASCII only: int() would take Arabic-Indic or full-width digits for a number.
_TOTP_CODE = re.compile(r"[0-9]{6}", re.ASCII)
_BACKUP_CODE = re.compile(r"[a-z2-7]{8}", re.ASCII)
_SEPARATORS = re.compile(r"[\s-]+")

CODE_FORMAT_MESSAGE = (
    "Enter the 6-digit code your authenticator app shows now, or one of your 8-character "
    "backup codes."
)
CODE_REQUIRED_MESSAGE = (
    "This user has two-factor authentication: give the 6-digit code from their authenticator app."
)
WRONG_CODE_MESSAGE = "That code is wrong or has expired (or was used already)."


def is_privileged(user) -> bool:
    """Credit managers and administrators: the users CREDITPORTAL_REQUIRE_2FA is about."""
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.is_staff or can_see_all_applicants(user))
    )


def user_has_two_factor(user) -> bool:
    """Whether the user has a confirmed authenticator (TOTP) device."""
    if not user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_required_by_role(user) -> bool:
    return bool(settings.CREDITPORTAL_REQUIRE_2FA) and is_privileged(user)


def second_factor_required(user) -> bool:
    """Whether this user must give a code after the password (portal and API token alike)."""
    return two_factor_required_by_role(user) or user_has_two_factor(user)


def two_factor_verify(*, user, code: str) -> Device:
    """The device that accepts `code` for `user`; ValidationError (one message) otherwise.

    A 6-digit code is checked against the authenticator, an 8-character one against the
    backup codes (which are used up). Each device counts its own failures: after one it
    refuses every code, right or wrong, until the delay django-otp sets has passed.
    """
    code = _SEPARATORS.sub("", code or "").lower()
    if not code:
        raise ValidationError(CODE_REQUIRED_MESSAGE, code="required")
    if _TOTP_CODE.fullmatch(code):
        model = TOTPDevice
    elif _BACKUP_CODE.fullmatch(code):
        model = StaticDevice
    else:
        raise ValidationError(CODE_FORMAT_MESSAGE, code="invalid")
    with transaction.atomic():
        devices = list(model.objects.select_for_update().filter(user=user, confirmed=True))
        if not devices:
            raise ValidationError(WRONG_CODE_MESSAGE, code="wrong")
        for device in devices:
            _ensure_not_throttled(device)
            if device.verify_token(code):
                return device
    raise ValidationError(WRONG_CODE_MESSAGE, code="wrong")


def verify_code(user, code: str) -> bool:
    try:
        two_factor_verify(user=user, code=code)
    except ValidationError:
        return False
    return True


def _ensure_not_throttled(device: Device) -> None:
    allowed, details = device.verify_is_allowed()
    if allowed:
        return
    locked_until = (details or {}).get("locked_until")
    if locked_until is None:
        raise ValidationError("This device does not accept codes now.", code="throttled")
    seconds = max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))
    raise ValidationError(
        f"Too many wrong codes in a row: wait {seconds} s before trying again.",
        code="throttled",
    )


# --- setting it up ---------------------------------------------------------------------------


def two_factor_setup_start(*, user) -> TOTPDevice:
    """A new, unconfirmed authenticator for `user`, replacing any other unconfirmed one.

    Each setup gets its own secret: a secret someone else saw (who signed in with the
    password before the real user) is never the one the real user then confirms.
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def two_factor_setup_confirm(*, user, device: TOTPDevice, code: str) -> list[str]:
    """Confirm `device` with a code it generated; return new backup codes (shown once).

    The confirmed device replaces the user's earlier authenticator and backup codes.
    """
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError("This setup has expired: start again.", code="expired")
    code = _SEPARATORS.sub("", code or "")
    if not _TOTP_CODE.fullmatch(code):
        raise ValidationError("Enter the 6-digit code your authenticator app shows now.")
    _ensure_not_throttled(device)
    if not device.verify_token(code):
        raise ValidationError(WRONG_CODE_MESSAGE, code="wrong")
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    # From now on this user gives a code for every token: the ones issued on the password
    # alone go (an attacker who had only the password keeps nothing).
    ApiToken.objects.filter(user=user, second_factor=False).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_create(user=user)


def backup_codes_create(*, user) -> list[str]:
    """Ten new single-use backup codes for `user`; the earlier ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_CODES_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def two_factor_reset(*, user) -> None:
    """Remove the user's authenticator and backup codes (an administrator's recovery for a
    lost phone; the user's own choice when their role does not require it)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # A lost phone may be in someone else's hands: the API tokens issued with its codes go too.
    ApiToken.objects.filter(user=user).delete()


def two_factor_disable(*, user) -> None:
    if two_factor_required_by_role(user):
        raise ValidationError(
            "Your role requires two-factor authentication: it cannot be turned off.",
            code="required",
        )
    two_factor_reset(user=user)


# --- showing a secret --------------------------------------------------------------------------


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The `otpauth://` link as an SVG QR code, for an <img> (CSP allows data: images)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
