"""API authentication: clinic API keys (Bearer tokens) and the web session."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from rest_framework import authentication, exceptions

from clinics.models import ApiKey, Clinic
from clinics.prepared import PreparedRead
from clinics.services import API_KEY_PREFIX, api_key_digest
from clinics.tenancy import clinic_scope, scopes_disabled

LAST_USED_EVERY_SECONDS = 300
# What a request needs of the key and its clinic: who acts, with which role, whether either was
# revoked, and the clinic's name and time zone. Anything else a view needs of the clinic is
# read when asked for (the /clinic/ endpoint reads the whole row).
KEY_COLUMNS = ("id", "clinic_id", "name", "prefix", "digest", "role", "read_only", "revoked_at")
CLINIC_COLUMNS = ("id", "name", "slug", "timezone", "is_active", "require_two_factor")
# In the models' field order, as Model.from_db expects.
_KEY_FIELDS = tuple(f.attname for f in ApiKey._meta.concrete_fields if f.attname in KEY_COLUMNS)
_CLINIC_FIELDS = tuple(
    f.attname for f in Clinic._meta.concrete_fields if f.attname in CLINIC_COLUMNS
)
# When this process last looked at each key's last-used time (by digest): asking the shared
# cache on every request would be a Redis round trip per API call in production.
_looked_at: dict[str, float] = {}


def _note_use(key: ApiKey) -> None:
    """Write the key's last-used time at most once every LAST_USED_EVERY_SECONDS across all
    processes (the shared cache decides), asking the cache at most that often per process."""
    now = time.time()
    if now - _looked_at.get(key.digest, float("-inf")) < LAST_USED_EVERY_SECONDS:
        return
    _looked_at[key.digest] = now
    if cache.add(f"api-key-used:{key.pk}", 1, LAST_USED_EVERY_SECONDS):
        with clinic_scope(key.clinic_id):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())


def _key_lookup(digest: str):
    with scopes_disabled():  # the key is what names the clinic: nothing is scoped before it
        # Sliced, not .first(): no ORDER BY for a unique digest on every API request.
        return (
            ApiKey.objects.filter(digest=digest)
            .order_by()
            .values_list(*_KEY_FIELDS, *(f"clinic__{c}" for c in _CLINIC_FIELDS))[:1]
        )


_KEY_LOOKUP = PreparedRead(_key_lookup, arg_types=(str,), scoped=False)


def key_by_digest(digest: str) -> ApiKey | None:
    """The API key with this digest and its clinic, with the columns a request uses (the rest
    are read if asked for). Read from the database on every call: revocation is immediate."""
    rows = _KEY_LOOKUP.rows(digest)
    if not rows:
        return None
    row = rows[0]
    split = len(_KEY_FIELDS)
    key = ApiKey.from_db(DEFAULT_DB_ALIAS, _KEY_FIELDS, row[:split])
    key.clinic = Clinic.from_db(DEFAULT_DB_ALIAS, _CLINIC_FIELDS, row[split:])
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer vdy_...`. One indexed lookup by SHA-256 digest per request.

    Nothing about a key is cached in the process: a revoked key is refused on its next request.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "api-key"):
            return None
        token = token.strip()
        if not token.startswith(API_KEY_PREFIX):
            raise exceptions.AuthenticationFailed("This API key is not valid or was revoked.")
        key = key_by_digest(api_key_digest(token))
        if key is None or not key.is_active or not key.clinic.is_active:
            raise exceptions.AuthenticationFailed("This API key is not valid or was revoked.")
        _note_use(key)
        return key, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ClinicSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in web user (CSRF enforced). The clinic comes from the X-Clinic header."""
