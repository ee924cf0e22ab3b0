"""How the API describes itself in the OpenAPI schema: authentication, X-Clinic, error responses.

The authentication extensions register themselves when this module is imported;
`clinics.api.urls` imports it, so they are in place whenever the schema is generated.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from clinics.api.fields import REQUIRED_TEXT_PATTERN, TEXT_PATTERN, schema_extra
from clinics.api.serializers import ErrorSerializer

CLINIC_HEADER = OpenApiParameter(
    name="X-Clinic",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Only for signed-in staff using the web session: the short name (slug) of the clinic "
        "to act in. Without it, the clinic opened last in the web app is used. Ignored for API "
        "keys, which belong to one clinic."
    ),
)

_ERROR_DESCRIPTIONS = {
    400: "The input is not valid: `fields` names each field with its messages.",
    401: "No API key was sent, or it is not valid or was revoked.",
    403: "The key or the staff member's role does not allow this.",
    404: "No such object at this clinic.",
    409: "A conflict, for example a possible duplicate patient (`code` possible_duplicate).",
    410: "It was there and is no longer: a download link past its time, an export removed.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON (send `Content-Type: application/json`).",
    422: "This Idempotency-Key was already used with a different request.",
}


def error_responses(*codes: int, rules: dict[str, str] | None = None) -> dict[int, OpenApiResponse]:
    """Error responses for `extend_schema(responses=...)`; 401 and 403 are always possible.

    `rules` names the `code`s of a 400 about no one field, for rules a schema cannot express
    (for example `minor`: a patient under 18), with why."""
    wanted = sorted({401, 403, *codes, *([400] if rules else [])})
    descriptions = dict(_ERROR_DESCRIPTIONS)
    if rules:
        listed = "; ".join(f"`{code}`: {why}" for code, why in rules.items())
        descriptions[400] = f"{descriptions[400]} Refused for a rule, with its `code`: {listed}."
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in wanted
    }


class ClinicAutoSchema(AutoSchema):
    """Adds the X-Clinic header, which every clinic endpoint reads for session callers, and the
    error answers every operation of its kind can give (a view's own descriptions come first):
    401 and 403 always, 404 with an id in the path, 400 with query parameters or a body, and
    413 and 415 with a body."""

    def get_override_parameters(self):
        return [*super().get_override_parameters(), CLINIC_HEADER]

    def _implied_errors(self) -> set[int]:
        codes = {401, 403}
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes |= {400, 413, 415}
        if any(parameter["in"] == "query" for parameter in self._get_parameters()):
            codes.add(400)
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._implied_errors()):
            if str(code) not in responses:
                response = OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), direction=direction
                )
        return responses


def _refuses_blank(field) -> bool:
    """DRF trims text and then refuses it when blank: "  " is refused like ""."""
    return (
        isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank
    )


class DeclaredFieldExtension(OpenApiSerializerFieldExtension):
    """Adds what `clinics.api.fields.declared` says of a field (pattern, x-rule) to its schema;
    input text without a declared pattern gets the one DRF enforces (no NUL character, and
    something besides white space unless it may be blank)."""

    target_class = serializers.Field
    match_subclasses = True

    @classmethod
    def _matches(cls, target) -> bool:
        marked = bool(schema_extra(target)) or isinstance(target, serializers.CharField)
        return marked and super()._matches(target)

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        extra = schema_extra(self.target)
        schema = {**schema, **{k: v() if callable(v) else v for k, v in extra.items()}}
        if direction != "request":
            return schema
        if isinstance(self.target, serializers.CharField) and "pattern" not in extra:
            schema["pattern"] = (
                REQUIRED_TEXT_PATTERN if _refuses_blank(self.target) else TEXT_PATTERN
            )
        return schema


class StrictInputExtension(OpenApiSerializerExtension):
    """Strict input serializers refuse unknown fields: the schema says so."""

    target_class = "clinics.api.base.StrictInputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "clinics.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "vdy_...",
            "description": (
                "A clinic API key, created by the clinic's owner under Settings > API keys: "
                "`Authorization: Bearer vdy_...`. The key acts with the permissions of its role; "
                "a read-only key may only read."
            ),
        }


class ClinicSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "clinics.api.authentication.ClinicSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": (
                "The web app's sign-in session (for Vaidya's own pages). Name the clinic with the "
                "`X-Clinic` header; writes need the CSRF token in `X-CSRFToken`."
            ),
        }
