"""Personal identifiers encrypted at rest, and found again by a blind index.

A database dump or a backup must not reveal national ids, so the column holds a Fernet token
(AES-128-CBC with an HMAC, from `cryptography`) and only the web and worker processes hold
the key, from `CREDITPORTAL_FIELD_ENCRYPTION_KEYS`. That setting is a list so that keys can
rotate: the first key encrypts, every key is tried to decrypt (`MultiFernet`).

An encrypted column cannot be searched, so next to it goes a blind index: an HMAC-SHA256 of
the normalised value under a key derived (HKDF) from each encryption key. Searching computes
the index under every key in the list, so an applicant stays findable while a rotation is
half done; `manage.py rotate_field_encryption` re-encrypts and re-indexes under the first key.
"""

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

KEYS_SETTING = "CREDITPORTAL_FIELD_ENCRYPTION_KEYS"
_BLIND_INDEX_INFO = b"creditportal national id blind index v1"
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


class FieldDecryptionError(Exception):
    """A stored value that none of the configured keys decrypts: the key list is wrong (a key
    removed before `rotate_field_encryption` ran, or another deployment's key)."""


def configured_keys() -> tuple[str, ...]:
    return tuple(getattr(settings, KEYS_SETTING))


@lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> tuple[MultiFernet, tuple[bytes, ...]]:
    if not keys:
        raise ImproperlyConfigured(f"{KEYS_SETTING} is empty: set at least one key.")
    fernets, index_keys = [], []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"Key {position} of {KEYS_SETTING} is not a Fernet key (32 random bytes, "
                "url-safe base64): docs/configuration.md says how to make one."
            ) from None
        raw = base64.urlsafe_b64decode(key)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_BLIND_INDEX_INFO)
        index_keys.append(hkdf.derive(raw))
    return MultiFernet(fernets), tuple(index_keys)


def check_keys() -> None:
    """Raise ImproperlyConfigured now (at start-up) rather than at the first applicant."""
    _keyring(configured_keys())


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _keyring(configured_keys())[0].encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _keyring(configured_keys())[0].decrypt(token.encode()).decode()
    except InvalidToken:
        raise FieldDecryptionError(
            f"An encrypted value could not be decrypted with any key in {KEYS_SETTING}: "
            "the key it was written with is missing from the list."
        ) from None


def reencrypt(token: str) -> str:
    """The same value encrypted under the first key (rotation)."""
    return encrypt(decrypt(token))


def normalise_identifier(value: str) -> str:
    """What makes two spellings of one id the same: no spaces or dashes, upper case."""
    return _SEPARATORS.sub("", value or "").upper()


def blind_indexes(value: str) -> list[str]:
    """The index of `value` under every configured key, the current one first."""
    normalised = normalise_identifier(value)
    if not normalised:
        return []
    return [
        hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
        for key in _keyring(configured_keys())[1]
    ]


def blind_index(value: str) -> str:
    """The index stored with a value: under the current (first) key; empty for no value."""
    indexes = blind_indexes(value)
    return indexes[0] if indexes else ""


class EncryptedTextField(models.TextField):
    """Text encrypted before it is written and decrypted when read; the ORM sees plain text.

    Only equality with "" is meaningful in a query (each encryption of the same text differs):
    search through the blind index instead.
    """

    def from_db_value(self, value, expression, connection):
        return value if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None else encrypt(value)
