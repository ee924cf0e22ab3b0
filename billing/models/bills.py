"""Bills and credit notes, their lines, and the counters that number them.

A bill is a draft until it is issued. Issuing gives it its number and freezes it: its lines and
amounts can no longer change (the guards below refuse it at the model level, whatever the
caller), and its PDF is stored once with its SHA-256. What may still change on an issued bill is
what happens after issue: its payments and credits (kept as totals here), a cancellation, and the
PDF being stored. A correction is a credit note (a `Bill` of kind credit note, numbered in its own
series) against it.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.catalogue import CatalogueItem
from clinics.models import Clinic, User
from clinics.scoping import ClinicScopedManager
from clinics.states import STATE_CHOICES
from patients.models import Guardian, Patient, Visit

FROZEN_MESSAGE = "This bill has been issued and cannot be changed. Issue a credit note instead."


class BillFrozen(Exception):
    """A change to an issued bill or its lines was attempted."""


class BillKind(models.TextChoices):
    BILL = "bill", "Bill"
    CREDIT_NOTE = "credit_note", "Credit note"


class BillStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Cancelled")


class DocType(models.TextChoices):
    BILL = "bill", "Bill"
    BILL_OF_SUPPLY = "bill_of_supply", "Bill of supply"
    TAX_INVOICE = "tax_invoice", "Tax invoice"
    INVOICE_BILL_OF_SUPPLY = "invoice_bill_of_supply", "Invoice-cum-bill of supply"
    CREDIT_NOTE = "credit_note", "Credit note"


class PdfStatus(models.TextChoices):
    NONE = "", "None"
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not be prepared"


# What may change on an issued bill: what happens after issue, never what it says.
AFTER_ISSUE_FIELDS = frozenset(
    {
        "status",
        "cancelled_at",
        "cancel_reason",
        "cancelled_by",
        "paid_paise",
        "credited_paise",
        "pdf_status",
        "pdf_file",
        "pdf_sha256",
        "pdf_size",
        "pdf_queued_at",
        "pdf_claimed_at",
        "pdf_ready_at",
    }
)


def new_verify_token() -> str:
    return secrets.token_urlsafe(24)


class BillQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - AFTER_ISSUE_FIELDS and self.exclude(status=BillStatus.DRAFT).exists():
            raise BillFrozen(FROZEN_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(status=BillStatus.DRAFT).exists():
            raise BillFrozen(FROZEN_MESSAGE)
        return super().delete()


class Bill(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=BillKind.choices, default=BillKind.BILL)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    payer_guardian = models.ForeignKey(
        Guardian, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    credit_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    status = models.CharField(max_length=10, choices=BillStatus.choices, default=BillStatus.DRAFT)
    doc_type = models.CharField(max_length=24, choices=DocType.choices, blank=True)
    series = models.CharField(max_length=6, blank=True)
    number = models.CharField(max_length=16, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    # Copied from the billing profile when issued, so the bill keeps saying what was true.
    gst_registered = models.BooleanField(default=False)
    gstin = models.CharField(max_length=15, blank=True)
    supplier_state = models.CharField(max_length=2, choices=STATE_CHOICES, blank=True)
    place_of_supply = models.CharField(max_length=2, choices=STATE_CHOICES, blank=True)
    # Amounts in paise, all computed by billing.gst and stored.
    discount_paise = models.BigIntegerField(default=0)  # the bill's own discount
    discount_reason = models.CharField(max_length=200, blank=True)
    gross_paise = models.BigIntegerField(default=0)
    total_discount_paise = models.BigIntegerField(default=0)
    taxable_value_paise = models.BigIntegerField(default=0)
    exempt_value_paise = models.BigIntegerField(default=0)
    cgst_paise = models.BigIntegerField(default=0)
    sgst_paise = models.BigIntegerField(default=0)
    igst_paise = models.BigIntegerField(default=0)
    total_paise = models.BigIntegerField(default=0)
    # After issue: money received (less refunds) and credit notes issued against it.
    paid_paise = models.BigIntegerField(default=0)
    credited_paise = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)  # a credit note's reason
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The frozen PDF (stored once, never overwritten) and its public verification token.
    verify_token = models.CharField(max_length=40, unique=True, null=True, blank=True)
    pdf_status = models.CharField(max_length=10, choices=PdfStatus.choices, blank=True)
    pdf_file = models.FileField(max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveBigIntegerField(null=True, blank=True)
    pdf_queued_at = models.DateTimeField(null=True, blank=True)
    pdf_claimed_at = models.DateTimeField(null=True, blank=True)
    pdf_ready_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager(models.Manager.from_queryset(BillQuerySet))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "issue_date"], name="bill_issue_date"),
            models.Index(fields=["clinic", "patient", "-created_at"], name="bill_patient"),
            models.Index(fields=["clinic", "visit"], name="bill_visit"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "number"],
                condition=~models.Q(number=""),
                name="bill_number_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | ~models.Q(number=""),
                name="bill_issued_has_number",
            ),
            models.CheckConstraint(
                condition=models.Q(total_paise__gte=0)
                & models.Q(discount_paise__gte=0)
                & models.Q(credited_paise__gte=0),
                name="bill_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft bill #{self.pk}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            update_fields = kwargs.get("update_fields")
            changes_content = update_fields is None or set(update_fields) - AFTER_ISSUE_FIELDS
            if stored not in (None, BillStatus.DRAFT) and changes_content:
                raise BillFrozen(FROZEN_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != BillStatus.DRAFT or (
            self.pk and type(self).objects.filter(pk=self.pk).exclude(status="draft").exists()
        ):
            raise BillFrozen(FROZEN_MESSAGE)
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == BillStatus.DRAFT

    @property
    def is_cancelled(self) -> bool:
        return self.status == BillStatus.CANCELLED

    @property
    def is_credit_note(self) -> bool:
        return self.kind == BillKind.CREDIT_NOTE

    @property
    def tax_paise(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise

    @property
    def amount_due_paise(self) -> int:
        """What is still to be paid on an issued bill (0 for drafts, cancelled bills and credit
        notes): its total, less credit notes, less what was paid."""
        if self.status != BillStatus.ISSUED or self.is_credit_note:
            return 0
        return max(self.total_paise - self.credited_paise - self.paid_paise, 0)

    @property
    def refundable_paise(self) -> int:
        """Paid beyond what is owed after credit notes: what a refund may return at most is
        what was paid (`paid_paise`)."""
        return self.paid_paise


class BillLineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.exclude(bill__status=BillStatus.DRAFT).exists():
            raise BillFrozen(FROZEN_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(bill__status=BillStatus.DRAFT).exists():
            raise BillFrozen(FROZEN_MESSAGE)
        return super().delete()


def _bill_is_draft(bill_id: int | None) -> bool:
    status = Bill.objects.filter(pk=bill_id).values_list("status", flat=True).first()
    return status in (None, BillStatus.DRAFT)


class BillLine(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    item = models.ForeignKey(
        CatalogueItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credited_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credits"
    )
    description = models.CharField(max_length=200)
    code = models.CharField("HSN/SAC", max_length=8, blank=True)
    is_goods = models.BooleanField(default=False)
    taxable = models.BooleanField(default=False)  # the item is taxable (charged only if registered)
    rate_bp = models.PositiveIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=1)
    unit = models.CharField(max_length=20, default="each")
    unit_price_paise = models.BigIntegerField()
    discount_paise = models.BigIntegerField(default=0)
    discount_reason = models.CharField(max_length=200, blank=True)
    # Computed on issue (and on every draft save) by billing.gst.
    bill_discount_paise = models.BigIntegerField(default=0)
    taxable_value_paise = models.BigIntegerField(default=0)
    tax_charged = models.BooleanField(default=False)
    inter_state = models.BooleanField(default=False)
    cgst_paise = models.BigIntegerField(default=0)
    sgst_paise = models.BigIntegerField(default=0)
    igst_paise = models.BigIntegerField(default=0)
    total_paise = models.BigIntegerField(default=0)

    objects = ClinicScopedManager(models.Manager.from_queryset(BillLineQuerySet))

    class Meta:
        ordering = ["bill", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_price_paise__gte=0)
                & models.Q(discount_paise__gte=0)
                & models.Q(discount_paise__lte=models.F("unit_price_paise") * models.F("quantity")),
                name="bill_line_discount_within_price",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs):
        if not _bill_is_draft(self.bill_id):
            raise BillFrozen(FROZEN_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not _bill_is_draft(self.bill_id):
            raise BillFrozen(FROZEN_MESSAGE)
        return super().delete(*args, **kwargs)

    @property
    def tax_paise(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise


class NumberSeries(models.Model):
    """The last number given in one series of one financial year at one clinic.

    Issuing locks this row (SELECT ... FOR UPDATE) inside its transaction, so two people
    issuing at once take consecutive numbers, and a rolled-back issue gives its number back.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    series = models.CharField(max_length=6)
    fy_start = models.PositiveSmallIntegerField(help_text="The year its 1 April falls in.")
    last_number = models.PositiveIntegerField(default=0)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "series", "fy_start"], name="number_series_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.fy_start}: {self.last_number}"
