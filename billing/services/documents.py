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
from billing.models import Bill, BillStatus, PdfStatus
from billing.services.common import require_billing
from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError
from clinics.languages import in_english
from clinics.pdf import render_pdf
from clinics.recovery import waiting_since_cutoff
from clinics.registry import WaitingWork
from clinics.storage import object_key, storage
from patients import events

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


NOT_SENT = "WhatsApp is not set up at this clinic, so the bill was not sent."


def bill_document_send(*, bill: Bill, actor: Actor) -> Bill:
    """Send an issued bill (or credit note) to the patient on WhatsApp as the document-ready
    message, with a secure link that opens its PDF (messaging's answer to the `bill.document`
    care event; billing never imports messaging). Refused, with the reason for staff, for a
    draft, a cancelled bill, a PDF not stored yet, or a patient WhatsApp cannot reach (no
    opt-in, no number, no approved template, the plan's messages used up): nothing is
    recorded then. One audit event."""
    require_billing(actor, bill.clinic_id)
    with transaction.atomic():
        bill = Bill.objects.select_related("patient").get(pk=bill.pk)
        if bill.status == BillStatus.DRAFT:
            raise Conflict("Issue the bill before sending it.")
        if bill.status == BillStatus.CANCELLED:
            raise Conflict("This bill is cancelled: it is not sent.")
        if bill.pdf_status != PdfStatus.READY or not bill.pdf_file:
            raise Conflict(
                "The bill's PDF is not ready yet; try again in a moment."
                if bill.pdf_status != PdfStatus.FAILED
                else "The bill's PDF could not be prepared, so it cannot be sent."
            )
        answers = events.care_event(
            events.BILL_DOCUMENT,
            patient=bill.patient,
            bill_id=bill.pk,
            bill_number=bill.number,
            actor=actor,
        )
        if not any(answers):
            raise DomainError(NOT_SENT, code="not_sent")
        audit_record(
            clinic=bill.clinic_id,
            actor=actor,
            action=Actions.BILL_SENT,
            target=bill,
            patient_id=bill.patient_id,
            data={"number": bill.number, "channel": "whatsapp"},
        )
    return bill
