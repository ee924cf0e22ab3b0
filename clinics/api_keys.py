"""Writes for API keys: a key's token is shown once when it is created and only its digest is
stored; revoking takes effect at once."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import ApiKey, Clinic, User
from clinics.roles import Role

API_KEY_PREFIX = "vdy_"


def api_key_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, clinic: Clinic, actor: User | None, name: str, role: str, read_only: bool
) -> tuple[ApiKey, str]:
    """Create an API key. Returns the key and its token; the token is not stored and is shown
    only this once."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name, such as the system that will use it.", field="name")
    if role not in Role.values:
        raise DomainError("Choose one of the listed roles.", field="role")
    token = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        clinic=clinic,
        name=name[:100],
        prefix=token[:12],
        digest=api_key_digest(token),
        role=role,
        read_only=read_only,
        created_by=actor,
    )
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.API_KEY_CREATED,
        target=key,
        data={"role": role, "read_only": read_only},
    )
    return key, token


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User | None) -> ApiKey:
    """Revoke an API key at once."""
    if key.revoked_at:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(clinic=key.clinic_id, actor=actor, action=Actions.API_KEY_REVOKED, target=key)
    return key
