"""API key authentication: one lookup by SHA-256 digest, with the key's clinic."""

from __future__ import annotations

import hashlib

from rest_framework import authentication, exceptions

from bare_api.models import ApiKey


class KeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        scheme, _, token = authentication.get_authorization_header(request).decode().partition(" ")
        if scheme.lower() != "bearer":
            return None
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        key = ApiKey.objects.select_related("clinic").filter(digest=digest).first()
        if key is None or key.revoked_at is not None or not key.clinic.is_active:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return key, key
