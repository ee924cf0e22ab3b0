"""A bill's PDF: rendered once after it is issued, stored frozen with its SHA-256.

The A4 PDF is rendered in a worker (`billing.tasks.render_bill_pdf`, enqueued after the issuing
transaction commits) from the bill's frozen rows, stored under a key with no personal data
(`clinics/<id>/bills/<uuid>.pdf`) and never overwritten. A worker claims the bill first (one
conditional UPDATE), so the task may run twice, or concurrently, and the PDF is stored once.
The 80 mm receipt is rendered on request from the same frozen rows (it is a print layout of the
same document, not a second document).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.documents import bill_pdf_context
from billing.models import Bill, PdfStatus
from clinics.audit import Actions, audit_record
from clinics.languages import in_english
from clinics.pdf import render_pdf
from clinics.recovery import waiting_since_cutoff
from clinics.registry import WaitingWork
from clinics.storage import object_key, storage

logger = logging.getLogger(__name__)
WAITING_KIND = "billing.bill_pdfs"
RENDER_TASK = "billing.tasks.render_bill_pdf"


def bills_waiting(cutoff: datetime) -> Q:
    """Issued bills whose PDF was enqueued, and claimed if it was, before `cutoff`: their
    render task was lost (the lost-task sweep, `clinics.registry.waiting_work`)."""
    unclaimed = Q(pdf_claimed_at__isnull=True) | Q(pdf_claimed_at__lt=cutoff)
    return Q(pdf_status=PdfStatus.PREPARING, pdf_queued_at__lt=cutoff) & unclaimed


BILL_PDFS_WAITING = WaitingWork(
    name=WAITING_KIND,
    order=50,
    model=Bill,
    task=RENDER_TASK,
    stale=bills_waiting,
    queued_at="pdf_queued_at",
)


def bill_pdf_bytes(*, bill: Bill, layout: str = "a4") -> bytes:
    template = "pdf/bill_receipt.html" if layout == "receipt" else "pdf/bill.html"
    with in_english():
        return render_pdf(template, bill_pdf_context(bill))


def bill_pdf_render(*, bill_id: int) -> Bill:
    """Render and store an issued bill's A4 PDF once. Idempotent."""
    now = timezone.now()
    claimed = (
        Bill.objects.filter(pk=bill_id, pdf_status=PdfStatus.PREPARING)
        .filter(
            Q(pdf_claimed_at__isnull=True)
            | Q(pdf_claimed_at__lt=waiting_since_cutoff(WAITING_KIND, now))
        )
        .update(pdf_claimed_at=now)
    )
    bill = Bill.objects.select_related("patient", "payer_guardian", "credit_for").get(pk=bill_id)
    if not claimed:
        return bill
    try:
        pdf = bill_pdf_bytes(bill=bill)
    except Exception:
        Bill.objects.filter(pk=bill_id).update(pdf_status=PdfStatus.FAILED)
        raise
    name = storage().save(
        object_key(clinic_id=bill.clinic_id, kind="bills", extension="pdf"), ContentFile(pdf)
    )
    with transaction.atomic():
        locked = Bill.objects.select_for_update().get(pk=bill_id)
        if locked.pdf_status != PdfStatus.PREPARING or locked.pdf_claimed_at != now:
            transaction.on_commit(lambda: storage().delete(name))
            return locked
        locked.pdf_file.name = name
        locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.pdf_size = len(pdf)
        locked.pdf_status = PdfStatus.READY
        locked.pdf_ready_at = timezone.now()
        locked.save(
            update_fields=["pdf_file", "pdf_sha256", "pdf_size", "pdf_status", "pdf_ready_at"]
        )
        audit_record(
            clinic=locked.clinic_id,
            actor=None,
            action=Actions.BILL_PDF_STORED,
            target=locked,
            patient_id=locked.patient_id,
            data={"number": locked.number, "sha256": locked.pdf_sha256, "size": len(pdf)},
        )
    return locked
