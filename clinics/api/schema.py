"""How the API describes itself in the OpenAPI schema: authentication, X-Clinic, error responses.

The authentication extensions register themselves when this module is imported;
`clinics.api.urls` imports it, so they are in place whenever the schema is generated.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

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
    415: "The body is not JSON (send `Content-Type: application/json`).",
    422: "This Idempotency-Key was already used with a different request.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses for `extend_schema(responses=...)`; 401 and 403 are always possible."""
    wanted = sorted({401, 403, *codes})
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in wanted
    }


class ClinicAutoSchema(AutoSchema):
    """Adds the X-Clinic header, which every clinic endpoint reads for session callers."""

    def get_override_parameters(self):
        return [*super().get_override_parameters(), CLINIC_HEADER]


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
