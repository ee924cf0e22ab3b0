"""A bill's PDF whose render task was lost is enqueued again by the lost-task sweep, once; the
render task run twice stores the PDF once."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from billing.models import Bill, PdfStatus
from billing.services import LineDraft, bill_draft_create, bill_issue
from billing.services.documents import bill_pdf_render
from clinics.recovery import waiting_work_requeue

KIND = "billing.bill_pdfs"


def _issued(biller, patient, items):
    with mock.patch("billing.services.bills.enqueue"):  # the task is "lost"
        bill = bill_draft_create(
            patient=patient, actor=biller.user, lines=[LineDraft(item_id=items["dressing"].pk)]
        )
        return bill_issue(bill=bill, actor=biller.user)


def test_lost_pdf_renders_are_enqueued_again_once(
    biller, patient, items, django_capture_on_commit_callbacks
):
    fresh = _issued(biller, patient, items)
    stale = _issued(biller, patient, items)
    Bill.objects.filter(pk=stale.pk).update(pdf_queued_at=timezone.now() - timedelta(hours=2))
    with (
        mock.patch("clinics.recovery.enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert waiting_work_requeue(kinds=[KIND])[KIND] == 1
        assert waiting_work_requeue(kinds=[KIND])[KIND] == 0
    enqueue.assert_called_once_with("billing.tasks.render_bill_pdf", stale.pk)
    assert Bill.objects.get(pk=fresh.pk).pdf_status == PdfStatus.PREPARING


def test_rendering_twice_stores_the_pdf_once(biller, patient, items):
    bill = _issued(biller, patient, items)
    first = bill_pdf_render(bill_id=bill.pk)
    second = bill_pdf_render(bill_id=bill.pk)
    assert first.pdf_status == second.pdf_status == PdfStatus.READY
    assert first.pdf_file.name == second.pdf_file.name and first.pdf_sha256 == second.pdf_sha256
