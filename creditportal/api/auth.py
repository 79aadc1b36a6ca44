"""Token authentication for the API, with the user and their permissions cached briefly.

DRF's `TokenAuthentication` asks the database for the token and its user on every request,
and the permission checks then ask twice more (the user's own permissions, their groups'):
three queries, a large share of what a stateless scoring request costs. Here one cache entry
per token holds the user with their permission sets already resolved, for
`API_AUTH_CACHE_SECONDS` (30 s by default; 0 switches the cache off).

What changes a cached answer deletes it at once through the signals below: the token
revoked or replaced, the user saved (deactivated, made superuser, password changed...), their
groups or own permissions changed, a group's permissions changed, a group deleted. They act
on the cache configured as `default`: with a shared one (Redis, `DJANGO_CACHE_URL`) every
process sees the change immediately; with the per-process default another web process can
keep honouring a revoked token or a removed permission for up to `API_AUTH_CACHE_SECONDS`.

Keys are a hash of the token, never the token itself, so the cache holds no credential.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def _cache_key(token_key: str) -> str:
    return "api-auth:" + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, answered from the cache while the entry is fresh."""

    def authenticate_credentials(self, key):
        timeout = settings.API_AUTH_CACHE_SECONDS
        if timeout <= 0:
            return super().authenticate_credentials(key)
        cache_key = _cache_key(key)
        cached = cache.get(cache_key)
        if cached is not None:
            return cached
        user, token = super().authenticate_credentials(key)  # 401 for a bad or inactive one
        user.get_all_permissions()  # resolved now (ModelBackend caches them on the object)
        cache.set(cache_key, (user, token), timeout)
        return user, token


def auth_cache_forget_tokens(token_keys) -> None:
    """Drop the cached users of these tokens: now, and again once the change is committed
    (a request of another process may have cached the old state in between)."""
    keys = [_cache_key(token_key) for token_key in token_keys]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


def auth_cache_forget_users(user_ids) -> None:
    tokens = Token.objects.filter(user_id__in=list(user_ids)).values_list("key", flat=True)
    auth_cache_forget_tokens(list(tokens))


# --- what changes a cached answer -----------------------------------------------------------

User = get_user_model()


@receiver(post_save, sender=Token, dispatch_uid="api_auth_token_saved")
@receiver(post_delete, sender=Token, dispatch_uid="api_auth_token_deleted")
def _token_changed(sender, instance, **kwargs):
    auth_cache_forget_tokens([instance.key])


@receiver(post_save, sender=User, dispatch_uid="api_auth_user_saved")
def _user_saved(sender, instance, created, **kwargs):
    if not created:
        auth_cache_forget_users([instance.pk])


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="api_auth_user_groups")
@receiver(
    m2m_changed, sender=User.user_permissions.through, dispatch_uid="api_auth_user_permissions"
)
def _user_links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # user.groups.add(...): instance is the user
        auth_cache_forget_users([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): every member until now
        auth_cache_forget_users(instance.user_set.values_list("pk", flat=True))
    else:  # group.user_set.add(users...) or permission.user_set.remove(...)
        auth_cache_forget_users(pk_set or [])


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="api_auth_group_perms")
def _group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # group.permissions.add(...): instance is the group
        groups = [instance.pk]
    elif action == "pre_clear":  # permission.group_set.clear()
        groups = list(instance.group_set.values_list("pk", flat=True))
    else:
        groups = list(pk_set or [])
    auth_cache_forget_users(User.objects.filter(groups__in=groups).values_list("pk", flat=True))


@receiver(pre_delete, sender=Group, dispatch_uid="api_auth_group_deleted")
def _group_deleted(sender, instance, **kwargs):
    auth_cache_forget_users(instance.user_set.values_list("pk", flat=True))


# --- tokens ----------------------------------------------------------------------------------


def api_token_issue(*, user) -> Token:
    """The user's API token, created on first request (one token per user)."""
    token, _ = Token.objects.get_or_create(user=user)
    return token


def api_token_revoke(*, user) -> None:
    Token.objects.filter(user=user).delete()
