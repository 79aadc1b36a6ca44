"""API tokens: issued one per named client, listed and revoked by their owner, and all of a
user's revoked when their password changes or they are deactivated.

The tokens are django-rest-knox's (`creditportal.models.ApiToken`): the secret is returned
once, by `api_token_issue`, and only its digest is stored. Each expires
`CREDITPORTAL_API_TOKEN_TTL_HOURS` after it was issued (knox's TOKEN_TTL); a user holds at
most `CREDITPORTAL_API_TOKENS_PER_USER` unexpired ones (knox's TOKEN_LIMIT_PER_USER).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import Http404
from django.utils import timezone
from knox.settings import knox_settings

from creditportal.errors import ApplicationError
from creditportal.models import ApiToken

User = get_user_model()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # what the client sends; never stored, shown this once


def api_token_issue(*, user, client: str, second_factor: bool = False) -> IssuedToken:
    """A new token for `client`, replacing that client's earlier one (expired tokens of the
    user go too). Refused while the user holds the most tokens allowed. `second_factor`: the
    user gave a two-factor code for it (creditportal/two_factor.py)."""
    with transaction.atomic():
        # One issue at a time per user, so the limit and one-per-client hold under concurrency.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        tokens = ApiToken.objects.filter(user=user)
        tokens.filter(Q(client=client) | Q(expiry__lte=timezone.now())).delete()
        limit = knox_settings.TOKEN_LIMIT_PER_USER
        if limit is not None and tokens.count() >= limit:  # None: knox's "no limit"
            raise ApplicationError(
                f"You already hold {limit} API tokens, the most allowed: revoke one "
                "(DELETE /api/v1/auth/tokens/<prefix>/) or reuse a client name.",
                extra={"code": "too_many_tokens"},
            )
        token, secret = ApiToken.objects.create(
            user, client=client, second_factor=second_factor
        )  # expiry: TOKEN_TTL
    return IssuedToken(token=token, secret=secret)


def api_token_list(*, user) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


def api_token_get_for_user(*, user, prefix: str) -> ApiToken:
    """One of the user's tokens by its prefix (`token_key`); 404 for anyone else's."""
    token = api_token_list(user=user).filter(token_key=prefix).first()
    if token is None:
        raise Http404("No such token.")
    return token


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def api_tokens_revoke_all(*, user) -> int:
    """Revoke every token of the user; how many there were."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


@receiver(pre_save, sender=User, dispatch_uid="api_tokens_rotate")
def _revoke_tokens_on_credentials_change(sender, instance, raw=False, update_fields=None, **kw):
    """A new password or a deactivation revokes every token of the user, as a new password
    ends Django's sessions. A receiver, not a service: those changes are made by Django's
    admin, `changepassword` and password views, which call no service of ours. Revoked
    before the save is written: a save that then fails has cost the user a login, never
    left a token alive. (A password rehashed on login, after an upgrade of the hasher,
    counts as a new one, as it does for sessions.)"""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every login: no query
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        api_tokens_revoke_all(user=instance)
