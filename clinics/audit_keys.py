"""The keys that seal the audit trail (settings.AUDIT_KEYS), held outside the database.

Each sealed event's digest is HMAC-SHA256 with one of these keys, so someone who can write the
database but does not have the key cannot recompute a valid chain after changing, adding or
removing events. The first key seals; every key in the list verifies, so a new key is put first
and the old ones are kept (for verification only) as long as the events they sealed are kept.

An event records the id of its key (`AuditEvent.key_id`): a short fingerprint of the key, which
says nothing usable about the key itself. An empty id marks an event sealed with plain SHA-256
before keyed sealing existed; see `clinics.audit` for how those are still verified.

Nothing here logs a key or puts one in an error message.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

MIN_KEY_LENGTH = 32
KEY_ID_LENGTH = 16


def generate_audit_key() -> str:
    """A new random key in the form AUDIT_KEYS expects (256 bits, url-safe text)."""
    return secrets.token_urlsafe(32)


def key_id_of(key: bytes) -> str:
    """The public id of a key: a fingerprint, the same on every machine holding the key."""
    return hashlib.sha256(b"vaidya audit key id\n" + key).hexdigest()[:KEY_ID_LENGTH]


@functools.cache
def _keys() -> tuple[tuple[str, bytes], ...]:
    raw = [k.strip() for k in settings.AUDIT_KEYS if k and k.strip()]
    if not raw:
        raise ImproperlyConfigured(
            "AUDIT_KEYS is empty: Vaidya needs a key to seal the audit trail."
        )
    if any(len(k) < MIN_KEY_LENGTH for k in raw):
        raise ImproperlyConfigured(
            f"An AUDIT_KEYS entry is shorter than {MIN_KEY_LENGTH} characters "
            "(make one with `manage.py generate_audit_key`)."
        )
    return tuple((key_id_of(k.encode()), k.encode()) for k in raw)


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == "AUDIT_KEYS":
        _keys.cache_clear()


def current_key() -> tuple[str, bytes]:
    """(id, key) of the key that seals new events: the first of AUDIT_KEYS."""
    return _keys()[0]


def key_for(key_id: str) -> bytes | None:
    """The configured key with this id, or None when it is not (or no longer) configured."""
    return dict(_keys()).get(key_id)


def mac(key: bytes, material: dict[str, Any]) -> str:
    """HMAC-SHA256 of `material` in a canonical JSON form, as 64 hex digits."""
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, blob.encode(), hashlib.sha256).hexdigest()


def legacy_anchor_material(*, clinic_id: int, seq: int, last_hash: str) -> dict[str, Any]:
    """What the anchor of a clinic's unkeyed (plain SHA-256) prefix attests: its length and
    the hash of its last event. Made once, when keyed sealing was introduced."""
    return {"anchor": "legacy-sha256", "clinic": clinic_id, "seq": seq, "hash": last_hash}
