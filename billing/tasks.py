"""Background tasks of the billing app (run by django-q2 workers)."""

from __future__ import annotations

from billing.models import Bill
from billing.services.documents import bill_pdf_render
from clinics.tenancy import clinic_task


@clinic_task(Bill)
def render_bill_pdf(bill_id: int) -> str:
    """Render and store an issued bill's PDF. Idempotent: a stored PDF is never rendered again."""
    return bill_pdf_render(bill_id=bill_id).pdf_status
