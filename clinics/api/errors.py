"""One error shape for the whole API: {"type", "code", "detail", "fields"}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed

_TYPES = {
    400: "invalid_request",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "invalid_request",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def error_body(
    *, status_code: int, code: str, detail: str, fields: dict | None = None, type_: str = ""
) -> dict:
    return {
        "type": type_ or _TYPES.get(status_code, "error"),
        "code": code,
        "detail": detail,
        "fields": fields or {},
    }


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for i, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{key}.{i}.{sub}"] = msgs
            else:
                out[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    return {
        "non_field_errors": [str(v) for v in (detail if isinstance(detail, list) else [detail])]
    }


def exception_handler(exc, context):
    if isinstance(exc, ValidationFailed):
        set_rollback()
        return Response(
            error_body(
                status_code=400,
                code=exc.code,
                detail=exc.message,
                fields=exc.errors,
                type_="validation_error",
            ),
            status=400,
        )
    if isinstance(exc, DomainError):
        set_rollback()
        status_code = (
            409 if isinstance(exc, Conflict) else 403 if isinstance(exc, NotAllowed) else 400
        )
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response(
            error_body(status_code=status_code, code=exc.code, detail=exc.message, fields=fields),
            status=status_code,
        )
    if isinstance(exc, Http404):
        # Django's own 404 messages name models and queries: only a 404 that carries a
        # `detail` written for people (like patients' PatientNotFound) passes it on.
        exc = exceptions.NotFound(getattr(exc, "detail", None))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.pop("non_field_errors", None)
        body = error_body(
            status_code=exc.status_code,
            code="invalid",
            detail=" ".join(non_field) if non_field else "Some fields are not valid.",
            fields=fields,
            type_="validation_error",
        )
    else:
        codes = exc.get_codes()
        body = error_body(
            status_code=exc.status_code,
            code=codes if isinstance(codes, str) else "error",
            detail=str(exc.detail),
        )
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # an unknown path answers 404 to every method, not a CSRF 403
def api_not_found(request, exception=None, rest: str = ""):
    """Unknown paths under /api/ (routed here with `rest`, the rest of the path)."""
    detail = "No such API endpoint."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail += f" API paths end with a slash: {request.path}/"
    return JsonResponse(
        error_body(status_code=404, code="not_found", detail=detail),
        status=status.HTTP_404_NOT_FOUND,
    )
