"""Token authentication for the API: django-rest-knox's tokens, one query per request.

`ApiTokenAuthentication` answers `Authorization: Token <secret>` with one query by primary
key (built by the ORM once, then run as plain SQL): the token whose SHA-512 digest matches,
with its user and the current `PermissionsVersion`; an expired one is refused. Nothing about
a token is cached, so a token revoked, expired or replaced, or a user deactivated, is
refused by the next request of every web process.

What is kept is what costs the most and changes the least: a user's permissions (two
queries, the user's own and their groups'). Each web process keeps those it resolved, keyed
by user and by the permissions version read with the token, for up to
`API_AUTH_CACHE_SECONDS`. Every change to who may do what made through Django bumps the
version in the same transaction (the receivers below), so the next request of every process
resolves them again: correct across processes with or without a shared cache. A change
made around the ORM (raw SQL, a data migration) applies within `API_AUTH_CACHE_SECONDS`.

Why not knox's own `authenticate_credentials`: it asks for the user's other tokens on every
request and deletes the expired ones (a second query and a write on the request path), and a
header that is not UTF-8 raises UnicodeDecodeError there (a 500). Expired tokens are deleted
when their user is next issued one (creditportal/api/tokens.py).
"""

import functools
import re
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Subquery
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import knox_settings
from rest_framework import exceptions

from creditportal.models import ApiToken, PermissionsVersion
from creditportal.two_factor import two_factor_required_by_role

User = get_user_model()
INVALID_TOKEN = "Invalid or expired token."
NO_SECOND_FACTOR = (
    "This token was issued without a two-factor code, which this user now needs: ask for a "
    "new one with `otp` (POST /api/v1/auth/token/)."
)
_VERSION_ROW = 1


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <secret>`: one indexed query, no write."""

    def authenticate_credentials(self, token: bytes):
        secret = token.decode("latin-1")  # the header's own encoding: any byte decodes
        if not _is_token_shaped(secret):  # nothing else reaches the database
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        found = _token_with_user(hash_token(secret))
        if found is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        api_token, permissions_version = found
        user, api_token = self.validate_user(api_token)  # 401 for an inactive user
        _reuse_known_permissions(user, permissions_version)
        if not api_token.second_factor and two_factor_required_by_role(user):
            # Issued before the user became a manager or administrator (or before the setting
            # was on): a password alone must not keep what now needs a second factor.
            raise exceptions.AuthenticationFailed(NO_SECOND_FACTOR)
        return user, api_token


def _is_token_shaped(secret: str) -> bool:
    length = knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
    pattern = f"{re.escape(knox_settings.TOKEN_PREFIX)}[0-9a-f]{{{length}}}"
    return re.fullmatch(pattern, secret) is not None


# --- the one query ---------------------------------------------------------------------------

_DIGEST = "\x00digest"  # stands for the token's digest among the statement's parameters
_TOKEN_FIELDS = [field.attname for field in ApiToken._meta.concrete_fields]
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


def _token_with_user(digest: str) -> tuple[ApiToken, int | None] | None:
    """The unexpired token of this digest with its user, and the permissions version.

    The ORM builds the statement (a join and a subquery) once per database connection; then
    it runs as plain SQL and the ORM's own converters read the row. Through the queryset
    each time, this cost four times as much, a quarter of a scoring request's CPU time
    (docs/benchmarks.md, "API tokens (knox)").
    """
    db = connections[DEFAULT_DB_ALIAS]
    compiler, sql, params, converters = _compiled_token_query(db)
    with db.cursor() as cursor:
        cursor.execute(sql, [digest if param == _DIGEST else param for param in params])
        row = cursor.fetchone()
    if row is None:
        return None
    [values] = compiler.apply_converters([row], converters)
    token_values, user_values = values[: len(_TOKEN_FIELDS)], values[len(_TOKEN_FIELDS) : -1]
    api_token = ApiToken.from_db(db.alias, _TOKEN_FIELDS, token_values)
    if api_token.expiry is None or api_token.expiry <= timezone.now():
        return None  # deleted when the user is next issued a token
    api_token.user = User.from_db(db.alias, _USER_FIELDS, user_values)
    return api_token, values[-1]


@functools.lru_cache(maxsize=16)  # one per database connection (one per thread)
def _compiled_token_query(db_connection):
    queryset = (
        ApiToken.objects.filter(digest=_DIGEST)
        .annotate(permissions_version=_permissions_version())
        .values_list(
            *_TOKEN_FIELDS, *(f"user__{name}" for name in _USER_FIELDS), "permissions_version"
        )
        .order_by()
    )
    compiler = queryset.query.get_compiler(connection=db_connection)
    sql, params = compiler.as_sql()
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    return compiler, sql, params, converters


def _permissions_version() -> Subquery:
    return Subquery(PermissionsVersion.objects.filter(pk=_VERSION_ROW).values("value"))


# --- permissions resolved once per process and version ---------------------------------------

_known_permissions: dict[tuple, tuple[float, frozenset[str]]] = {}
_KNOWN_PERMISSIONS_MAX = 10_000


def _reuse_known_permissions(user, version: int | None) -> None:
    """Give `user` the permissions this process resolved for them at this version, or
    resolve them now and keep them. They go where ModelBackend keeps a user's permissions
    once it has resolved them (`_perm_cache`), so `has_perm` asks nothing more."""
    seconds = settings.API_AUTH_CACHE_SECONDS
    if seconds <= 0:
        return
    key = (user.pk, user.is_superuser, version)
    now = time.monotonic()
    known = _known_permissions.get(key)
    if known is not None and known[0] > now:
        user._perm_cache = known[1]
        return
    permissions = frozenset(user.get_all_permissions())
    if len(_known_permissions) >= _KNOWN_PERMISSIONS_MAX:
        _known_permissions.clear()  # old versions' entries: nothing asks for them any more
    _known_permissions[key] = (now + seconds, permissions)


def forget_known_permissions() -> None:
    """Empty this process's store (tests: each starts from a database where ids repeat)."""
    _known_permissions.clear()


def permissions_changed() -> None:
    """Bump the permissions version, in the caller's transaction: every process's next API
    request resolves its user's permissions again."""
    bumped = PermissionsVersion.objects.filter(pk=_VERSION_ROW).update(value=F("value") + 1)
    if not bumped:  # the row is gone (a test emptied the tables): a new one is a new version
        PermissionsVersion.objects.get_or_create(pk=_VERSION_ROW)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="api_auth_user_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="api_auth_user_perms")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="api_auth_group_perms")
def _permission_links_changed(sender, action, **kwargs):
    """Either side of each link: `user.groups.add(g)` and `group.user_set.add(u)` alike."""
    if action in ("post_add", "post_remove", "post_clear"):
        permissions_changed()


@receiver(post_delete, sender=Group, dispatch_uid="api_auth_group_deleted")
@receiver(post_delete, sender=Permission, dispatch_uid="api_auth_permission_deleted")
def _group_or_permission_deleted(sender, **kwargs):
    permissions_changed()  # its links went with it, without an m2m_changed signal


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular's knox extension
    matches knox's class only)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"
