"""Secrets at rest: a model field whose value is encrypted with Fernet (cryptography) in the database.

The key is KLIMAINNKJOP_FIELD_KEY from the environment: one or more Fernet keys separated by commas (the first
encrypts, all decrypt, so a key can be rotated: put the new one first, keep the old one until every value is
rewritten). Without it the key is derived from SECRET_KEY with Django's salted HMAC (as Django derives its
signing and session keys), so changing SECRET_KEY then makes the stored secrets unreadable; production should
set a key of its own. A new key:
`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.
"""
from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.crypto import salted_hmac

ENV_VAR = "KLIMAINNKJOP_FIELD_KEY"
KEY_SALT = "klimainnkjop.storage.encryption"
TOKEN_PREFIX = "gAAAA"  # noqa: S105 - not a secret; every Fernet token starts so (version byte 0x80 and a timestamp's leading zeros)


def parse_keys(value: str) -> list[bytes]:
    """The Fernet keys in KLIMAINNKJOP_FIELD_KEY, or ValueError naming what is wrong (never the key itself)."""
    keys = [part.strip().encode("ascii", "replace") for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError(f"{ENV_VAR} is empty")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"{ENV_VAR}: key {number} is not a Fernet key (32 bytes in URL-safe base64, 44 "
                             "characters)") from None
    return keys


def derived_key(secret_key: str) -> bytes:
    return base64.urlsafe_b64encode(salted_hmac(KEY_SALT, "fernet", secret=secret_key, algorithm="sha256").digest())


def _keys() -> tuple[bytes, ...]:
    configured = getattr(settings, "KLIMAINNKJOP_FIELD_KEY", "") or ""
    if configured:
        try:
            return tuple(parse_keys(configured))
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc)) from None
    return (derived_key(settings.SECRET_KEY),)


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet(_keys()).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise ImproperlyConfigured(
            f"an encrypted field cannot be decrypted with the configured key: {ENV_VAR} (or SECRET_KEY, which it "
            "is derived from when unset) is not the one it was written with") from None


def is_encrypted(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


class EncryptedCharField(models.CharField):
    """A text value that is a Fernet token in the database and plain text in Python. Not for lookups: the same
    value encrypts differently each time."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
