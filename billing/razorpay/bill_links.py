"""A bill's online payment: its Razorpay payment link, sent on WhatsApp, paid back into it.

- `bill_payment_link_create` makes a link for what is due on an issued bill (the bill number
  as Razorpay's reference, the patient or the guardian who pays as the customer), or returns
  the open link already made for the same amount.
- `bill_payment_link_send` sends the `bill.payment_link` care event (`patients.events`):
  messaging queues the WhatsApp message (billing never imports messaging).
- `BILL_LINKS` is the `payment_link_handlers` entry: when a link is paid, `bill_link_paid`
  records an "online" payment with Razorpay's payment id as its reference, once per payment
  id. Money the bill cannot take (more than is due, a bill cancelled since) is recorded as far
  as the bill allows and the rest is audited and shown on the bill page for staff
  (`bill_online_unrecorded`), never raised: the webhook task must not fail over it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.models import Bill, BillKind, BillStatus, Payment, PaymentMode
from billing.razorpay.accounts import require_account
from billing.razorpay.handlers import PaymentLinkHandler
from billing.razorpay.links import payment_link_create
from billing.razorpay.models import OPEN_LINK_STATUSES, PaymentLink
from billing.services.common import require_billing, rs
from billing.services.payments import bill_payment_record
from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError
from patients import events

logger = logging.getLogger(__name__)

ON_PAID_KEY = "billing.bill"
NOT_SENT = "WhatsApp is not set up at this clinic, so the link was not sent."


def bill_links(bill: Bill):
    """The payment links made for a bill, the newest first (call inside its clinic's scope)."""
    if not bill.number:
        return PaymentLink.objects.none()
    return PaymentLink.objects.filter(on_paid_key=ON_PAID_KEY, reference_id=bill.number)


def open_link(bill: Bill) -> PaymentLink | None:
    """The open link for exactly what is due on the bill now, if one was made."""
    due = bill.amount_due_paise
    if not due:
        return None
    now = timezone.now()
    for link in bill_links(bill).filter(status__in=OPEN_LINK_STATUSES, amount_paise=due):
        if link.expire_by is None or link.expire_by > now:
            return link
    return None


def _payable(bill: Bill) -> Bill:
    bill = Bill.objects.select_related("patient", "payer_guardian").get(pk=bill.pk)
    if bill.is_credit_note:
        raise Conflict("A credit note is not paid.")
    if bill.status == BillStatus.DRAFT:
        raise Conflict("Issue the bill before asking for payment.")
    if bill.status == BillStatus.CANCELLED:
        raise Conflict("This bill is cancelled: it cannot be paid.")
    if bill.amount_due_paise <= 0:
        raise Conflict("Nothing is due on this bill.")
    return bill


def _customer(bill: Bill) -> tuple[str, str]:
    guardian = bill.payer_guardian
    if guardian is not None:
        phone = guardian.contact_phone
        return guardian.display_name, str(phone) if phone else ""
    phone = bill.patient.phone
    return bill.patient.full_name, str(phone) if phone else ""


def bill_payment_link_create(*, bill: Bill, actor: Actor) -> PaymentLink:
    """The Razorpay payment link for what is due on an issued bill: the open one made for the
    same amount, else a new one. Refused (a DomainError for staff) for a draft, a cancelled or
    fully paid bill, a credit note, or a clinic without a Razorpay account."""
    require_billing(actor, bill.clinic_id)
    bill = _payable(bill)
    require_account(bill.clinic_id)
    existing = open_link(bill)
    if existing is not None:
        return existing
    # Two clicks at once (two staff, or a double click) must not make two Razorpay links for
    # the same amount: the bill's row is locked while its link is made, so the second caller
    # waits for the first one's transaction and then finds its open link (`open_link`) instead
    # of asking Razorpay again. The lock is held only by someone making this bill's link; it
    # delays a payment recorded on the same bill by at most `RAZORPAY_TIMEOUT_SECONDS`, which
    # is the price of never charging a patient twice over two live links. (This is the one
    # Razorpay call made inside a transaction. On SQLite, the embedded default, a transaction
    # holds the database's write lock, so the clinic's other writes wait behind a slow
    # Razorpay answer for up to that timeout: they wait, none is lost or refused, as SQLite's
    # busy timeout is longer.)
    with transaction.atomic():
        Bill.objects.select_for_update().filter(pk=bill.pk).values_list("pk", flat=True).get()
        bill = _payable(bill)
        existing = open_link(bill)
        if existing is not None:
            return existing
        name, phone = _customer(bill)
        label = f"{bill.get_doc_type_display() or 'Bill'} {bill.number}"
        return payment_link_create(
            clinic=bill.clinic,
            amount_paise=bill.amount_due_paise,
            reference_id=bill.number,
            description=label[:255],
            customer_name=name,
            customer_phone=phone,
            owner_label=label,
            on_paid_key=ON_PAID_KEY,
            actor=actor,
        )


def bill_payment_link_send(*, bill: Bill, actor: Actor) -> PaymentLink:
    """Send the bill's payment link (made now if needed) to the patient on WhatsApp."""
    link = bill_payment_link_create(bill=bill, actor=actor)
    bill = Bill.objects.select_related("patient").get(pk=bill.pk)
    with transaction.atomic():
        answers = events.care_event(
            events.BILL_PAYMENT_LINK,
            patient=bill.patient,
            bill_id=bill.pk,
            bill_number=bill.number,
            amount_paise=link.amount_paise,
            short_url=link.short_url,
            actor=actor,
        )
        if not any(answers):
            raise DomainError(NOT_SENT, code="not_sent")
        audit_record(
            clinic=bill.clinic_id,
            actor=actor,
            action=Actions.BILL_PAYMENT_LINK_SENT,
            target=link,
            patient_id=bill.patient_id,
            data={"bill": bill.number, "amount_paise": link.amount_paise},
        )
    return link


# --- paid -----------------------------------------------------------------------------------
def bill_link_paid(link: PaymentLink, amount_paise: int, payment_id: str) -> None:
    """Record a paid link against its bill (the `payment_link_handlers` entry; runs inside the
    transaction that marks the link paid, in the clinic's scope). Idempotent on the payment."""
    reference = (payment_id or link.razorpay_link_id)[:100]
    bill = (
        Bill.objects.select_for_update()
        .filter(number=link.reference_id, kind=BillKind.BILL)
        .first()
    )
    if bill is None:
        logger.warning("payment link %s paid; its bill is gone", link.pk)
        return
    if Payment.objects.filter(bill=bill, mode=PaymentMode.ONLINE, reference=reference).exists():
        return
    recorded, reason = 0, ""
    due = bill.amount_due_paise
    if bill.status != BillStatus.ISSUED:
        reason = "The bill is cancelled."
    elif due <= 0:
        reason = "Nothing was due on the bill."
    else:
        try:
            bill_payment_record(
                bill=bill,
                amount_paise=min(amount_paise, due),
                mode=PaymentMode.ONLINE,
                reference=reference,
                actor=None,
            )
        except DomainError as exc:  # the bill changed under us: report, do not fail the task
            reason = exc.message
        else:
            recorded = min(amount_paise, due)
            if amount_paise > due:
                reason = f"Only {rs(due)} was due on the bill."
    if amount_paise > recorded:
        audit_record(
            clinic=bill.clinic_id,
            actor=None,
            action=Actions.ONLINE_PAYMENT_NOT_RECORDED,
            target=bill,
            patient_id=bill.patient_id,
            data={
                "payment_id": reference,
                "paid_paise": amount_paise,
                "recorded_paise": recorded,
                "reason": reason,
            },
        )
        logger.warning(
            "payment link %s: %s paise paid online could not be recorded on bill %s",
            link.pk,
            amount_paise - recorded,
            bill.pk,
        )


@dataclass(frozen=True)
class Unrecorded:
    """Money paid online on a bill's link that the bill did not take: for staff to refund or
    take as an advance."""

    link: PaymentLink
    paid_paise: int
    recorded_paise: int

    @property
    def left_paise(self) -> int:
        return self.paid_paise - self.recorded_paise

    @property
    def left_shown(self) -> str:
        return rs(self.left_paise)


def bill_online_unrecorded(bill: Bill) -> list[Unrecorded]:
    """The bill's paid links whose money was not (all) recorded against it."""
    found = []
    for link in bill_links(bill).filter(amount_paid_paise__gt=0, owner_told_at__isnull=False):
        reference = (link.razorpay_payment_id or link.razorpay_link_id)[:100]
        recorded = (
            Payment.objects.filter(
                bill=bill, mode=PaymentMode.ONLINE, reference=reference
            ).aggregate(total=Sum("amount_paise"))["total"]
            or 0
        )
        if link.amount_paid_paise > recorded:
            found.append(Unrecorded(link, link.amount_paid_paise, recorded))
    return found


def bill_link_language(link: PaymentLink) -> str:
    """The patient's preferred language, for the page a payer of the bill's link returns to
    (in the link's clinic scope)."""
    bill = (
        Bill.objects.filter(number=link.reference_id, kind=BillKind.BILL)
        .select_related("patient")
        .first()
    )
    return bill.patient.preferred_language if bill is not None else ""


BILL_LINKS = PaymentLinkHandler(
    name=ON_PAID_KEY, order=10, on_paid=bill_link_paid, language=bill_link_language
)
