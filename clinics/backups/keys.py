"""The backup key ring (settings.BACKUP_KEYS), kept apart from the data encryption keys.

An archive is encrypted with the first backup key; every key in the list opens archives, so a
new key is put first and the old ones kept as long as archives made with them are kept. The keys
have the form ENCRYPTION_KEYS uses (32 url-safe base64-encoded bytes: `manage.py
generate_backup_key`), used here as AES-256-GCM keys.

An archive names its key by id (a fingerprint that says nothing usable about the key), and its
manifest names the ids of the ENCRYPTION_KEYS and AUDIT_KEYS that the restored data needs, never
the keys. Nothing here logs a key or puts one in an error message.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from clinics import audit_keys
from clinics.crypto import generate_key

KEY_ID_LENGTH = 16


def generate_backup_key() -> str:
    """A new random key in the form BACKUP_KEYS expects."""
    return generate_key()


def _fingerprint(label: bytes, key: str) -> str:
    return hashlib.sha256(label + key.strip().encode("ascii")).hexdigest()[:KEY_ID_LENGTH]


def backup_key_id(key: str) -> str:
    return _fingerprint(b"vaidya backup key id\n", key)


def encryption_key_id(key: str) -> str:
    """The id of an ENCRYPTION_KEYS entry, as a manifest names it."""
    return _fingerprint(b"vaidya encryption key id\n", key)


@functools.cache
def _ring() -> tuple[tuple[str, bytes], ...]:
    raw = [k.strip() for k in settings.BACKUP_KEYS if k and k.strip()]
    if not raw:
        raise ImproperlyConfigured(
            "BACKUP_KEYS is empty: make a key with `manage.py generate_backup_key`."
        )
    ring = []
    for key in raw:
        try:
            secret = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, binascii.Error, UnicodeEncodeError):
            secret = b""
        if len(secret) != 32:
            raise ImproperlyConfigured(
                "A BACKUP_KEYS entry is not a valid key (32 url-safe base64-encoded bytes; "
                "make one with `manage.py generate_backup_key`)."
            )
        ring.append((backup_key_id(key), secret))
    return tuple(ring)


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == "BACKUP_KEYS":
        _ring.cache_clear()


def current_backup_key() -> tuple[str, bytes]:
    """(id, key) of the key new archives are encrypted with: the first of BACKUP_KEYS."""
    return _ring()[0]


def backup_key_for(key_id: str) -> bytes | None:
    return dict(_ring()).get(key_id)


def backup_key_ids() -> list[str]:
    return [key_id for key_id, _ in _ring()]


def data_key_ids() -> dict[str, list[str]]:
    """The ids of the keys the data needs: {"encryption": [...], "audit": [...]}."""
    return {
        "encryption": [encryption_key_id(k) for k in settings.ENCRYPTION_KEYS if k.strip()],
        "audit": [
            audit_keys.key_id_of(k.strip().encode()) for k in settings.AUDIT_KEYS if k.strip()
        ],
    }
