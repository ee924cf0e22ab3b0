"""Background work of the messaging app (django-q2). Tasks take ids and are idempotent."""

from __future__ import annotations

from clinics.tenancy import scopes_disabled
from messaging.models import Message


def send_message(message_id: int) -> str:
    """Deliver one queued message (a no-op when it was sent or claimed already)."""
    from messaging.services.sending import message_deliver

    with scopes_disabled():
        rows = Message.objects.filter(pk=message_id).values_list("clinic_id", flat=True)
        clinic_id = rows.first()
    if clinic_id is None:
        return "gone"
    from clinics.tenancy import clinic_scope

    with clinic_scope(clinic_id):
        return message_deliver(message_id=message_id).status


def send_escalation_alert(escalation_id: int) -> str:
    """Alert the escalation's doctor on their own WhatsApp when they asked for it. Idempotent:
    one message per escalation however often this runs."""
    from clinics.tenancy import clinic_scope
    from messaging.models import Escalation
    from messaging.services.staff_alerts import escalation_alert_queue

    with scopes_disabled():
        clinic_id = (
            Escalation.objects.filter(pk=escalation_id).values_list("clinic_id", flat=True).first()
        )
    if clinic_id is None:
        return "gone"
    with clinic_scope(clinic_id):
        return escalation_alert_queue(escalation_id=escalation_id)


def retry_due_messages() -> int:
    """Schedule: enqueue messages whose back-off has passed, flag interrupted sends."""
    from messaging.services.recovery import messages_flag_uncertain, messages_retry_due

    with scopes_disabled():
        messages_flag_uncertain()
        return messages_retry_due()


def process_webhook(delivery_id: int) -> str:
    """Process one stored WhatsApp webhook delivery (idempotent; "gone" once processed).

    Raises on failure, keeping the delivery with its error, so the broker retries it.
    """
    from clinics.tenancy import clinic_scope
    from messaging.models import WebhookDelivery
    from messaging.services.inbound import webhook_delivery_process

    with scopes_disabled():
        clinic_id = (
            WebhookDelivery.objects.filter(pk=delivery_id)
            .values_list("clinic_id", flat=True)
            .first()
        )
    if clinic_id is None:
        return "gone"
    with clinic_scope(clinic_id):
        return webhook_delivery_process(delivery_id=delivery_id)


def requeue_lost_webhooks() -> int:
    """Schedule: enqueue again the webhook deliveries whose task was lost (never attempted)."""
    from messaging.services.webhook_backlog import webhook_deliveries_requeue_lost

    with scopes_disabled():  # deliveries of every clinic
        return webhook_deliveries_requeue_lost()


def dispatch_reminders(max_seconds: float = 50.0, batch: int = 100) -> int:
    """Schedule: send due reminders until none is left (or `max_seconds` passed). Several may
    run at once (each claims its own batches); returns how many this run claimed."""
    from messaging.services.dispatch import reminders_dispatch_until_empty

    return reminders_dispatch_until_empty(batch=batch, max_seconds=max_seconds)


def care_sweep() -> dict[str, int]:
    """Schedule: doses left unanswered, missed-dose alerts, reminders left claimed."""
    from messaging.services.adherence import doses_mark_unanswered
    from messaging.services.dispatch import reminders_sweep_claimed

    with scopes_disabled():
        unanswered = doses_mark_unanswered()
    return {"unanswered": unanswered, **reminders_sweep_claimed()}
