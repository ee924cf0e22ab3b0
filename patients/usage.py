"""What patients counts for the clinic's plan (`clinics.registry.usage_counters`): the bytes
of every document stored (uploads and generated PDFs). One aggregate query."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum

from clinics.registry import UsageCounter
from patients.models import Document


def document_bytes(clinic_id: int, since: datetime | None) -> int:
    """Bytes of the clinic's stored documents, every version kept. One SUM query."""
    total = Document.objects.filter(clinic_id=clinic_id).aggregate(total=Sum("size"))
    return int(total["total"] or 0)


DOCUMENTS_STORED = UsageCounter(
    name="patients.documents", order=20, resource="storage_mb", count=document_bytes
)
