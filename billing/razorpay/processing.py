"""What a stored Razorpay webhook delivery does (run by its task inside the clinic's scope).

Idempotent: a delivery already processed is skipped, and every change only moves a status
forward, so the sweep re-running a task thought lost, or events arriving out of order, never
moves anything back. Unknown events are kept and marked ignored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from billing.razorpay.links import payment_link_advance
from billing.razorpay.models import (
    DeliverySource,
    LinkStatus,
    PaymentLink,
    RazorpayWebhookDelivery,
)
from clinics.registry import WaitingWork

logger = logging.getLogger(__name__)

LINK_EVENTS = {
    "payment_link.paid": LinkStatus.PAID,
    "payment_link.partially_paid": LinkStatus.PARTIALLY_PAID,
    "payment_link.cancelled": LinkStatus.CANCELLED,
    "payment_link.expired": LinkStatus.EXPIRED,
}


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    part = (payload.get("payload") or {}).get(name) or {}
    entity = part.get("entity") if isinstance(part, dict) else None
    return entity if isinstance(entity, dict) else {}


def _link_event(payload: dict[str, Any], status: str) -> str:
    entity = _entity(payload, "payment_link")
    link = PaymentLink.objects.filter(razorpay_link_id=str(entity.get("id") or "")[:40]).first()
    if link is None:
        return "unknown payment link"
    amount_paid = entity.get("amount_paid")
    changed = payment_link_advance(
        link_id=link.pk,
        status=status,
        amount_paid_paise=amount_paid if type(amount_paid) is int else None,
        payment_id=str(_entity(payload, "payment").get("id") or ""),
        via="webhook",
    )
    return f"link {status}" if changed else "link already further along"


def razorpay_delivery_process(*, delivery_id: int) -> str:
    """Process one stored delivery (call inside its clinic's scope); returns what it did.

    On an error the delivery keeps its attempt count and the error's kind, and the error is
    raised again so the task is retried."""
    delivery = RazorpayWebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    if delivery.processed_at is not None:
        return "already processed"
    try:
        payload = json.loads(bytes(delivery.body))
        outcome = _process(delivery, payload)
    except Exception as exc:
        RazorpayWebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1, error=type(exc).__name__[:300]
        )
        logger.warning("razorpay delivery %s failed: %s", delivery.pk, type(exc).__name__)
        raise
    RazorpayWebhookDelivery.objects.filter(pk=delivery.pk).update(
        processed_at=timezone.now(),
        attempts=F("attempts") + 1,
        outcome=outcome[:100],
        error="",
    )
    return outcome


def _process(delivery: RazorpayWebhookDelivery, payload: dict[str, Any]) -> str:
    event = delivery.event
    if delivery.source == DeliverySource.PLATFORM:
        if event.startswith("subscription."):
            # Imported here: subscriptions' processing imports this package's models.
            from billing.subscriptions.services import subscription_event_apply  # noqa: PLC0415

            return subscription_event_apply(event=event, payload=payload)
        return "ignored (not a subscription event)"
    if event in LINK_EVENTS:
        return _link_event(payload, LINK_EVENTS[event])
    return "ignored (unknown event)"


def deliveries_waiting(cutoff) -> Q:
    """Deliveries never attempted whose task was enqueued before `cutoff`: it was lost."""
    enqueued = Q(queued_at__lt=cutoff) | Q(queued_at__isnull=True, received_at__lt=cutoff)
    return enqueued & Q(attempts=0, processed_at__isnull=True)


RAZORPAY_WEBHOOKS_WAITING = WaitingWork(
    name="billing.razorpay_webhook_deliveries",
    order=50,
    model=RazorpayWebhookDelivery,
    task="billing.razorpay.tasks.process_razorpay_webhook",
    stale=deliveries_waiting,
)
