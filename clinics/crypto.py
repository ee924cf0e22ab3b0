"""Encryption at rest for secrets and files, with key rotation.

One helper for everything Vaidya keeps encrypted: WhatsApp tokens and app secrets and the
two-factor (TOTP) seeds (through an encrypted model field), and documents on local storage
(through `EncryptedFileSystemStorage`). It is `cryptography`'s Fernet (AES-128-CBC with
HMAC-SHA256, authenticated), driven by `MultiFernet` over the keys in `settings.ENCRYPTION_KEYS`:

- the first key encrypts; every key in the list decrypts, so a new key is added at the front
  and the old one kept until `manage.py rotate_encryption_keys` has re-encrypted everything;
- a token that no key opens raises `DecryptionFailed`, never returns garbage.

Nothing here logs a value, and the keys are never part of an error message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = [
    "DecryptionFailed",
    "decrypt",
    "decrypt_str",
    "encrypt",
    "encrypt_str",
    "generate_key",
    "is_current",
    "register_rotation",
    "rotate",
    "rotations",
]


class DecryptionFailed(Exception):
    """No configured key opens this value (a wrong key list, or the value was tampered with)."""


def generate_key() -> str:
    """A new random key in the form ENCRYPTION_KEYS expects."""
    return Fernet.generate_key().decode("ascii")


@functools.cache
def _keys() -> tuple[Fernet, ...]:
    raw = [k.strip() for k in settings.ENCRYPTION_KEYS if k and k.strip()]
    if not raw:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty: Vaidya needs at least one key.")
    try:
        return tuple(Fernet(k.encode("ascii")) for k in raw)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "An ENCRYPTION_KEYS entry is not a valid key (32 url-safe base64-encoded bytes; "
            "make one with `manage.py generate_encryption_key`)."
        ) from exc


@functools.cache
def _multi() -> MultiFernet:
    return MultiFernet(list(_keys()))


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == "ENCRYPTION_KEYS":
        _keys.cache_clear()
        _multi.cache_clear()


def encrypt(data: bytes) -> bytes:
    """Encrypt bytes with the current (first) key."""
    return _multi().encrypt(data)


def decrypt(token: bytes) -> bytes:
    """Decrypt bytes encrypted with any configured key."""
    try:
        return _multi().decrypt(token)
    except InvalidToken:
        raise DecryptionFailed("No configured encryption key opens this value.") from None


def encrypt_str(value: str) -> str:
    return encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_str(token: str) -> str:
    return decrypt(token.encode("ascii")).decode("utf-8")


def is_current(token: bytes) -> bool:
    """True when the token was made with the current key (rotation can skip it)."""
    try:
        _keys()[0].decrypt(token)
    except InvalidToken:
        return False
    return True


def rotate(token: bytes) -> bytes:
    """The same value re-encrypted with the current key."""
    try:
        return _multi().rotate(token)
    except InvalidToken:
        raise DecryptionFailed("No configured encryption key opens this value.") from None


# ---------------------------------------------------------------------------------------------
# Rotation registry: every place that stores encrypted values registers a function that
# re-encrypts its values with the current key and returns (re-encrypted, already current).
# `manage.py rotate_encryption_keys` runs them all. Apps higher up (messaging, billing) register
# theirs, so this module never imports them.

RotationFn = Callable[[], tuple[int, int]]
_rotations: dict[str, RotationFn] = {}


def register_rotation(name: str) -> Callable[[RotationFn], RotationFn]:
    def decorator(fn: RotationFn) -> RotationFn:
        _rotations[name] = fn
        return fn

    return decorator


def rotations() -> Iterable[tuple[str, RotationFn]]:
    return sorted(_rotations.items())
