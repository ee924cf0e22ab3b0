"""Background work of the messaging app (django-q2). Tasks take ids and are idempotent.

A task about one row uses `clinic_task` (it runs in the row's clinic scope, "gone" when the row
is); a schedule uses `for_each_clinic` (each clinic in its own scope and transaction).
"""

from __future__ import annotations

from clinics.context import actor_context
from clinics.tenancy import clinic_task, for_each_clinic
from messaging.models import Escalation, Message, WebhookDelivery
from messaging.services.adherence import doses_mark_unanswered
from messaging.services.dispatch import reminders_dispatch_until_empty, reminders_sweep_claimed
from messaging.services.inbound import webhook_delivery_process
from messaging.services.recovery import messages_flag_uncertain, messages_retry_due
from messaging.services.sending import message_deliver
from messaging.services.staff_alerts import escalation_alert_queue
from messaging.services.webhook_backlog import webhook_deliveries_requeue_lost


@clinic_task(Message)
def send_message(message_id: int) -> str:
    """Deliver one queued message (a no-op when it was sent or claimed already)."""
    return message_deliver(message_id=message_id).status


@clinic_task(Escalation)
def send_escalation_alert(escalation_id: int) -> str:
    """Alert the escalation's doctor on their own WhatsApp when they asked for it. Idempotent:
    one message per escalation however often this runs."""
    return escalation_alert_queue(escalation_id=escalation_id)


@clinic_task(WebhookDelivery)
def process_webhook(delivery_id: int) -> str:
    """Process one stored WhatsApp webhook delivery (idempotent; "gone" once processed).

    Raises on failure, keeping the delivery with its error, so the broker retries it.
    """
    return webhook_delivery_process(delivery_id=delivery_id)


def _retry_due(clinic_id: int) -> int:
    messages_flag_uncertain()
    return messages_retry_due()


def retry_due_messages() -> int:
    """Schedule: enqueue messages whose back-off has passed, flag interrupted sends; per clinic."""
    return sum(for_each_clinic(_retry_due, name="Retrying due messages").values())


def requeue_lost_webhooks() -> int:
    """Enqueue again the webhook deliveries whose task was lost (never attempted), clinic by
    clinic: the webhook part of the `vaidya.waiting_work_requeue` schedule, on its own."""
    requeued = for_each_clinic(
        lambda clinic_id: webhook_deliveries_requeue_lost(), name="Requeueing lost webhooks"
    )
    return sum(requeued.values())


def dispatch_reminders(max_seconds: float = 50.0, batch: int = 100) -> int:
    """Schedule: send due reminders until none is left (or `max_seconds` passed). Several may
    run at once (each claims its own batches); returns how many this run claimed."""
    with actor_context(via="task"):
        return reminders_dispatch_until_empty(batch=batch, max_seconds=max_seconds)


def care_sweep() -> dict[str, int]:
    """Schedule: doses left unanswered, missed-dose alerts, reminders left claimed."""
    unanswered = for_each_clinic(
        lambda clinic_id: doses_mark_unanswered(), name="Marking unanswered doses"
    )
    with actor_context(via="task"):
        swept = reminders_sweep_claimed()
    return {"unanswered": sum(unanswered.values()), **swept}
