"""Money received and returned: payments against bills, advances, refunds, day closings."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.bills import Bill
from clinics.models import Clinic, Membership, User
from clinics.scoping import ClinicScopedManager
from patients.models import Patient


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")  # against a bill
    ADVANCE = "advance", _("Advance")  # a deposit on the patient's account, used by later bills
    REFUND = "refund", _("Refund")  # money returned, from a bill's payments or an advance


class PaymentMode(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    UPI = "upi", _("UPI")
    CHEQUE = "cheque", _("Cheque")
    ONLINE = "online", _("Online (payment link)")
    ADVANCE = "advance", _("From advance")  # a bill paid out of the patient's deposit


class Payment(models.Model):
    """One movement of money, with its receipt number. Never changed or deleted: a mistake is
    put right by a refund."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(
        Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    mode = models.CharField(max_length=10, choices=PaymentMode.choices)
    amount_paise = models.BigIntegerField()
    reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    receipt_number = models.CharField(max_length=16)
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    received_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    received_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "received_at"], name="payment_time"),
            models.Index(fields=["clinic", "patient", "received_at"], name="payment_patient"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "receipt_number"], name="payment_receipt_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_paise__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def signed_paise(self) -> int:
        return -self.amount_paise if self.kind == PaymentKind.REFUND else self.amount_paise


class DayClosing(models.Model):
    """The end of a day at the counter: cash the system expected and cash counted."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    expected_cash_paise = models.BigIntegerField()
    counted_cash_paise = models.BigIntegerField()
    note = models.CharField(max_length=200, blank=True)
    closed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["clinic", "day"], name="day_closing_unique")]

    def __str__(self) -> str:
        return f"Closing of {self.day}"

    @property
    def difference_paise(self) -> int:
        return self.counted_cash_paise - self.expected_cash_paise
