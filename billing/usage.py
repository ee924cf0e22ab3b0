"""What billing counts for the clinic's plan (`clinics.registry.usage_counters`): the bytes
of its bills' PDFs. One aggregate query."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum

from billing.models import Bill
from clinics.registry import UsageCounter


def bill_pdf_bytes(clinic_id: int, since: datetime | None) -> int:
    """Bytes of the clinic's stored bill PDFs. One SUM query."""
    total = Bill.objects.filter(clinic_id=clinic_id).aggregate(total=Sum("pdf_size"))
    return int(total["total"] or 0)


BILL_PDFS_STORED = UsageCounter(
    name="billing.bill_pdfs", order=50, resource="storage_mb", count=bill_pdf_bytes
)
