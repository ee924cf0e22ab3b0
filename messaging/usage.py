"""What messaging counts for the clinic's plan (`clinics.registry.usage_counters`): outbound
WhatsApp messages this month, and the bytes of patients' media kept in the clinic's storage.
One aggregate query each."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, Sum

from clinics.registry import UsageCounter
from messaging.models import Direction, Message, MessageStatus


def outbound_messages(clinic_id: int, since: datetime | None) -> int:
    """Outbound messages created since `since` (the start of the clinic's month), leaving out
    those that never reached WhatsApp (failed without a WhatsApp id: held back by the plan,
    refused by a rule or by Meta). One COUNT query."""
    rows = Message.objects.filter(clinic_id=clinic_id, direction=Direction.OUTBOUND)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return rows.exclude(Q(status=MessageStatus.FAILED) & Q(wamid__isnull=True)).count()


def media_bytes(clinic_id: int, since: datetime | None) -> int:
    """Bytes of the patients' photos and files copied into the clinic's storage. One SUM."""
    total = Message.objects.filter(clinic_id=clinic_id).aggregate(total=Sum("media_size"))
    return int(total["total"] or 0)


MESSAGES_SENT = UsageCounter(
    name="messaging.messages", order=40, resource="whatsapp_messages", count=outbound_messages
)
MEDIA_STORED = UsageCounter(
    name="messaging.media", order=40, resource="storage_mb", count=media_bytes
)
