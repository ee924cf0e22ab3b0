"""The WhatsApp webhook: Meta's subscription handshake and its signed deliveries.

Each clinic's account has its own URL, /webhooks/whatsapp/<webhook_key>/, so the account (and
its app secret) is known before the body is read. A POST is verified on the raw bytes before
anything is parsed; a valid delivery is stored as one `WebhookDelivery` row and processed by
`messaging.tasks.process_webhook` after commit, so Meta gets its 200 at once. Parsing here goes
no further than routing needs: the envelope's object and each change's phone number id.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_q.conf import Conf

from clinics.api.errors import error_body
from clinics.json_input import JSONTooDeep, loads_bounded
from clinics.queue import enqueue
from clinics.tenancy import scopes_disabled
from messaging.models import WebhookDelivery, WhatsAppAccount
from messaging.whatsapp.signature import SIGNATURE_HEADER, verify, verify_handshake

logger = logging.getLogger(__name__)

PROCESS_TASK = "messaging.tasks.process_webhook"
WABA_OBJECT = "whatsapp_business_account"
# Changes that carry no phone number metadata are routed by the business account id instead.
ACCOUNT_LEVEL_FIELDS = {
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "account_update",
    "account_alerts",
    "business_capability_update",
    "phone_number_quality_update",
    "phone_number_name_update",
}


def _account(webhook_key: str) -> WhatsAppAccount | None:
    with scopes_disabled():  # the webhook key is what names the clinic: nothing is known before it
        return (
            WhatsAppAccount.objects.only(
                "pk",
                "clinic_id",
                "phone_number_id",
                "business_account_id",
                "app_secret",
                "verify_token",
            )
            .filter(webhook_key=webhook_key)
            .first()
        )


def routing_problem(payload: Any, account: WhatsAppAccount) -> tuple[int, str] | None:
    """Why this (verified) body is not for this account: (HTTP status, reason); None if it is."""
    if not isinstance(payload, dict) or payload.get("object") != WABA_OBJECT:
        return 400, "not a whatsapp_business_account delivery"
    entries = payload.get("entry")
    if not isinstance(entries, list) or not entries:
        return 400, "no entries"
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            return 400, "an entry without changes"
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                return 400, "a change without a value"
            metadata = value.get("metadata")
            if isinstance(metadata, dict) or change.get("field") not in ACCOUNT_LEVEL_FIELDS:
                number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
                if str(number or "") != account.phone_number_id:
                    return 403, "unknown phone number id"
            elif str(entry.get("id") or "") != account.business_account_id:
                return 403, "unknown business account id"
    return None


def _queue_is_the_database() -> bool:
    return bool(Conf.ORM) and not Conf.SYNC


def _enqueue(delivery_id: int) -> None:
    enqueue(PROCESS_TASK, delivery_id)


def _refused(status: int, code: str, detail: str) -> JsonResponse:
    """A refused delivery, in the API's one error shape."""
    return JsonResponse(error_body(status_code=status, code=code, detail=detail), status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest, webhook_key: str) -> HttpResponse:
    """GET: Meta's verification handshake. POST: a signed delivery, stored and acknowledged."""
    account = _account(webhook_key)
    if account is None:
        raise Http404
    if request.method == "GET":
        challenge = verify_handshake(request.GET, account.verify_token)
        if challenge is None:
            logger.warning("whatsapp webhook handshake refused account=%s", account.pk)
            return HttpResponse("Forbidden", status=403, content_type="text/plain")
        return HttpResponse(challenge, content_type="text/plain; charset=utf-8")

    body = request.body
    if not verify(body, request.headers.get(SIGNATURE_HEADER), account.app_secret):
        logger.warning("whatsapp webhook with a bad or missing signature account=%s", account.pk)
        return _refused(403, "bad_signature", "The signature does not match the body.")
    try:
        payload = loads_bounded(body)
    except JSONTooDeep as exc:
        logger.warning("whatsapp webhook refused account=%s: nested too deep", account.pk)
        return _refused(400, "too_deep", str(exc))
    except ValueError:  # not JSON, or not in a JSON encoding (UnicodeDecodeError)
        payload = None
    problem = routing_problem(payload, account)
    if problem is not None:
        status, reason = problem
        logger.warning("whatsapp webhook refused account=%s: %s", account.pk, reason)
        return _refused(status, "not_routable", f"Refused: {reason}.")
    with transaction.atomic():
        delivery = WebhookDelivery(clinic_id=account.clinic_id, account_id=account.pk, body=body)
        # Saved without the scoped manager (we are outside any clinic's scope here).
        delivery.save(force_insert=True)
        if _queue_is_the_database():
            # The ORM broker's queue row commits with the delivery (or not at all): the same
            # visibility as enqueuing on commit, in one transaction instead of two.
            _enqueue(delivery.pk)
        else:
            # Robust: once the delivery is stored Meta gets its 200, whatever the queue does
            # (a synchronous queue runs the task right here; its retry is the task's own).
            transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
    return HttpResponse("OK", content_type="text/plain")
