"""Razorpay's webhooks: a clinic's own account at /webhooks/razorpay/<webhook_key>/ and the
installation's (subscriptions) at /webhooks/razorpay/platform/.

The request path does only what answering needs, well inside Razorpay's 5 seconds: bound the
body, check `X-Razorpay-Signature` (HMAC-SHA256 of the raw body with the webhook secret) before
parsing, read the event's name, store the delivery and enqueue its task after commit. The
unique (clinic, `x-razorpay-event-id`) turns a repeated delivery away with a 200. Every answer
is JSON; refusals are in the API's error shape.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from billing.razorpay.client import signature_valid
from billing.razorpay.models import DeliverySource, RazorpayAccount, RazorpayWebhookDelivery
from billing.subscriptions.models import ClinicSubscription
from clinics.api.errors import error_body
from clinics.json_input import JSONTooDeep, loads_bounded
from clinics.queue import enqueue
from clinics.tenancy import clinic_scope, find_by_public_token

logger = logging.getLogger(__name__)

PROCESS_TASK = "billing.razorpay.tasks.process_razorpay_webhook"
SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
EVENT_NAME = re.compile(r"^[a-z_]{1,30}\.[a-z_]{1,30}$")
MAX_DEPTH = 16


def _answer(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(status_code=status, code=code, detail=detail), status=status)


def _read_verified(
    request: HttpRequest, secret: str
) -> tuple[bytes, str, dict[str, Any]] | JsonResponse:
    """(raw body, event id, payload) of a verified delivery, or the refusal to answer with."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = settings.RAZORPAY_WEBHOOK_MAX_BYTES
    if declared > limit or len(body := request.body) > limit:
        return _answer(413, "too_large", f"The body is larger than {limit} bytes.")
    if not signature_valid(body, request.headers.get(SIGNATURE_HEADER), secret):
        return _answer(403, "bad_signature", "The signature does not match the body.")
    event_id = request.headers.get(EVENT_ID_HEADER, "")
    if not EVENT_ID.match(event_id):
        return _answer(400, "no_event_id", f"The {EVENT_ID_HEADER} header is missing or invalid.")
    try:
        payload = loads_bounded(body, max_depth=MAX_DEPTH)
    except JSONTooDeep as exc:
        return _answer(400, "too_deep", str(exc))
    except ValueError:
        return _answer(400, "not_json", "The body is not JSON.")
    if not isinstance(payload, dict) or not EVENT_NAME.match(str(payload.get("event") or "")):
        return _answer(400, "no_event", "The body names no event.")
    return body, event_id, payload


def _store(*, clinic_id: int, source: str, event_id: str, event: str, body: bytes) -> JsonResponse:
    try:
        with transaction.atomic():
            delivery = RazorpayWebhookDelivery(
                clinic_id=clinic_id, source=source, event_id=event_id, event=event, body=body
            )
            # Saved without the scoped manager's queries: an insert needs no scope.
            delivery.save(force_insert=True)
            transaction.on_commit(lambda: enqueue(PROCESS_TASK, delivery.pk), robust=True)
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": "stored"})


def _post_only(request: HttpRequest) -> JsonResponse | None:
    if request.method == "POST":
        return None
    answer = _answer(405, "method_not_allowed", "Razorpay's webhooks are POSTed.")
    answer["Allow"] = "POST"
    return answer


@csrf_exempt
def razorpay_webhook(request: HttpRequest, webhook_key: str) -> JsonResponse:
    """A clinic's own Razorpay account: payment links and payments."""
    if refused := _post_only(request):
        return refused
    found = find_by_public_token(RazorpayAccount, webhook_key=webhook_key[:40])
    if found is None:
        return _answer(404, "not_found", "No Razorpay account has this webhook address.")
    account_id, clinic_id = found
    with clinic_scope(clinic_id):
        secret = RazorpayAccount.objects.get(pk=account_id).webhook_secret
    verified = _read_verified(request, secret)
    if isinstance(verified, JsonResponse):
        logger.warning("razorpay webhook refused account=%s: %s", account_id, verified.status_code)
        return verified
    body, event_id, payload = verified
    return _store(
        clinic_id=clinic_id,
        source=DeliverySource.CLINIC,
        event_id=event_id,
        event=payload["event"],
        body=body,
    )


def subscription_id_in(payload: dict[str, Any]) -> str:
    entity = ((payload.get("payload") or {}).get("subscription") or {}).get("entity") or {}
    return str(entity.get("id") or "")[:40] if isinstance(entity, dict) else ""


@csrf_exempt
def razorpay_platform_webhook(request: HttpRequest) -> JsonResponse:
    """The installation's Razorpay account: clinics' subscriptions."""
    if refused := _post_only(request):
        return refused
    secret = settings.RAZORPAY_PLATFORM_WEBHOOK_SECRET
    if not secret:
        return _answer(404, "not_found", "Subscriptions are not set up on this installation.")
    verified = _read_verified(request, secret)
    if isinstance(verified, JsonResponse):
        logger.warning("razorpay platform webhook refused: %s", verified.status_code)
        return verified
    body, event_id, payload = verified
    try:
        subscription_id = subscription_id_in(payload)
    except AttributeError:  # a part that is not an object
        subscription_id = ""
    found = (
        find_by_public_token(ClinicSubscription, razorpay_subscription_id=subscription_id)
        if subscription_id
        else None
    )
    if found is None:
        # Not one of ours (another product on the same account): acknowledged, not kept.
        logger.info("razorpay platform webhook %s for no known subscription", payload["event"])
        return JsonResponse({"status": "ignored"})
    return _store(
        clinic_id=found[1],
        source=DeliverySource.PLATFORM,
        event_id=event_id,
        event=payload["event"],
        body=body,
    )
