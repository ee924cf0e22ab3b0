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


def retry_due_messages() -> int:
    """Schedule: enqueue messages whose back-off has passed, flag interrupted sends."""
    from messaging.services.sending import messages_flag_uncertain, messages_retry_due

    with scopes_disabled():
        messages_flag_uncertain()
        return messages_retry_due()
