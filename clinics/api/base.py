"""Base classes for clinic API views: tenant scope, strict input, idempotent creates."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import html

from clinics.context import enter_context, leave_context
from clinics.errors import DomainError
from clinics.models import ApiKey, IdempotencyRecord
from clinics.tenancy import clinic_scope


class ClinicScopedAPIMixin:
    """Runs the handler inside the caller's clinic scope, once `ClinicPermission` found it.

    The scope and the actor context (via "api", the caller's resolved access) are entered once
    per request and left when the response is finalised, or when an error escapes.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._scope = clinic_scope(request.clinic)
        self._scope.__enter__()
        self._context_token = enter_context(via="api", access=request.access)

    def finalize_response(self, request, response, *args, **kwargs):
        self._leave_scope()
        return super().finalize_response(request, response, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # An exception the API does not handle skips finalize_response: still leave the
            # scope, or the next request served by this thread would run inside it.
            self._leave_scope()

    def _leave_scope(self) -> None:
        token = getattr(self, "_context_token", None)
        if token is not None:
            self._context_token = None
            leave_context(token)
        scope = getattr(self, "_scope", None)
        if scope is not None:
            self._scope = None
            scope.__exit__(None, None, None)


def parsed(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validate `data` with an input serializer (400 with every field's message) and return
    the validated values as a plain dict."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# Fields whose value is text: DRF would turn a JSON number into text ("12") and a choice's
# number into its text; the API takes text only as a JSON string, as its schema says.
_TEXT_FIELDS = (serializers.CharField, serializers.ChoiceField)
EMPTY_PARAMETER = "Give a value, or leave the parameter out."
_JSON_KINDS = ((bool, "true or false"), ((int, float), "a number"), (list, "a list"))


def not_text_message(value) -> str:
    kind = next((name for types, name in _JSON_KINDS if isinstance(value, types)), "an object")
    return f"Send this as text (a JSON string), not {kind}."


def _text_errors(field, value) -> list[str] | None:
    """Why `value` is not text for `field` (a text field, or a list of text), or None."""
    if value is None:
        return None
    if isinstance(field, _TEXT_FIELDS) and not isinstance(value, str):
        return [not_text_message(value)]
    text_list = isinstance(field, serializers.ListField) and isinstance(field.child, _TEXT_FIELDS)
    if text_list and isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                return [not_text_message(item)]
    return None


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know instead of ignoring them, and
    a number, true/false, list or object where it takes text (DRF would turn 12 into "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send a JSON object."]}, code="invalid"
            )
        unknown = set(data) - {name for name, f in self.fields.items() if not f.read_only}
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        not_text = {}
        for name, field in self.fields.items():
            errors = _text_errors(field, data.get(name))
            if errors:
                not_text[name] = errors
        if not_text:
            raise exceptions.ValidationError(not_text)
        if html.is_html_input(data):
            # DRF reads `?status=` as if the parameter were not sent: say it is empty instead.
            empty = {
                name: [EMPTY_PARAMETER]
                for name, field in self.fields.items()
                if data.get(name) == "" and not getattr(field, "allow_blank", False)
            }
            if empty:
                raise exceptions.ValidationError(empty)
        return super().to_internal_value(data)


_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotency_cutoff() -> datetime:
    """Records older than this are forgotten (IDEMPOTENCY_KEY_HOURS)."""
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def _principal(request) -> str:
    actor = request.actor
    return f"key:{actor.pk}" if isinstance(actor, ApiKey) else f"user:{actor.pk}"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used with a different request. "
        "Use a new key for a new request."
    )


def _replay(record: IdempotencyRecord, request_hash: str, path: str) -> Response:
    if record.request_hash != request_hash or record.path != path:
        raise IdempotencyKeyReused()
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler):
    """Make a POST handler safe to retry with an `Idempotency-Key` header.

    The first successful answer is stored in the same transaction as the work it describes;
    a retry with the same key and body gets that answer again (`Idempotent-Replayed: true`),
    and the same key with another body gets 422. Two identical requests racing each other
    both run, but the loser's transaction fails on the unique key and is rolled back, so the
    work happens once, and the loser answers with the winner's response.
    """

    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not _KEY_RE.match(key):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Idempotency-Key must be 1 to 255 visible characters."]}
            )
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
        request_hash = hashlib.sha256(f"{request.method} {body}".encode()).hexdigest()
        principal, path = _principal(request), request.path
        lookup = {"principal": principal, "key": key}
        try:
            with transaction.atomic():
                existing = IdempotencyRecord.objects.filter(**lookup).first()
                if existing is not None and existing.created_at < idempotency_cutoff():
                    existing.delete()  # remembered long enough: the key may be used afresh
                    existing = None
                if existing is not None:
                    return _replay(existing, request_hash, path)
                response = handler(self, request, *args, **kwargs)
                if status.is_success(response.status_code):
                    IdempotencyRecord.objects.create(
                        clinic=request.clinic,
                        method=request.method,
                        path=path,
                        request_hash=request_hash,
                        status_code=response.status_code,
                        response_body=json.loads(JSONRenderer().render(response.data)),
                        **lookup,
                    )
                return response
        except (IntegrityError, DomainError):
            # A concurrent request with the same key won: answer as it did.
            existing = IdempotencyRecord.objects.filter(**lookup).first()
            if existing is None:
                raise
            return _replay(existing, request_hash, path)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper
