"""Plans (the operator's, installation-wide), each clinic's subscriptions and the
installation's tax invoices for their charges."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.formatting import format_inr
from clinics.models import Clinic
from clinics.scoping import ClinicScopedManager

__all__ = ["ClinicSubscription", "Period", "Plan", "PlatformInvoice", "SubStatus"]


class Period(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")


class Plan(models.Model):
    """What a clinic can subscribe to, defined by the operator in the admin. An empty limit
    means no limit. The amount is what Razorpay charges each period, GST included."""

    name = models.CharField(max_length=80)
    amount_paise = models.PositiveBigIntegerField(help_text="Charged each period, GST included.")
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    total_count = models.PositiveSmallIntegerField(
        default=120, help_text="How many periods the subscription runs before it completes."
    )
    max_doctors = models.PositiveIntegerField(null=True, blank=True)
    max_whatsapp_messages_per_month = models.PositiveIntegerField(null=True, blank=True)
    max_storage_mb = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Offered to clinics.")
    razorpay_plan_id = models.CharField(max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["amount_paise", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def amount_shown(self) -> str:
        return format_inr(Decimal(self.amount_paise) / 100)


class SubStatus(models.TextChoices):
    CREATED = "created", _("Waiting for the owner to authorise")
    AUTHENTICATED = "authenticated", _("Authorised, first charge to come")
    ACTIVE = "active", _("Active")
    PENDING = "pending", _("A charge failed, Razorpay is retrying")
    HALTED = "halted", _("Charges failed, retries stopped")
    CANCELLED = "cancelled", _("Cancelled")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    EXPIRED = "expired", _("Expired before it was authorised")


class ClinicSubscription(models.Model):
    """A clinic's subscription to a plan. The clinic's latest one decides its mode."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=SubStatus.choices, default=SubStatus.CREATED)
    razorpay_subscription_id = models.CharField(max_length=40, unique=True)
    short_url = models.URLField(max_length=300)
    # When a charge first failed in the current run of failures: the grace period counts from
    # it; cleared by the next successful charge.
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    paid_until = models.DateTimeField(null=True, blank=True)
    charges = models.PositiveIntegerField(default=0)
    # Razorpay's time of the last event applied: an older event arriving late changes nothing.
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "-created_at"], name="billing_sub_latest")]

    def __str__(self) -> str:
        return f"{self.plan} ({self.get_status_display()})"


class PlatformInvoice(models.Model):
    """The installation's tax invoice to a clinic for one subscription charge (SaaS, 18% GST).

    Numbered in one series per clinic and financial year ("S00012/2627/0001", 16 characters at
    most, gap-free through the clinic's counter). The
    charge includes the tax: taxable value = charge x 100 / 118, rounded to the paisa, and the
    tax is the rest, so the rows always add up to what Razorpay took."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    subscription = models.ForeignKey(
        ClinicSubscription, on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(max_length=16, unique=True)
    financial_year = models.CharField(max_length=7)
    sequence = models.PositiveIntegerField()
    razorpay_payment_id = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    operator_gstin = models.CharField(max_length=15, blank=True)
    operator_state_code = models.CharField(max_length=2, blank=True)
    clinic_gstin = models.CharField(max_length=15, blank=True)
    clinic_state_code = models.CharField(max_length=2)
    sac_code = models.CharField(max_length=8, default="998314")
    taxable_paise = models.PositiveBigIntegerField()
    cgst_paise = models.PositiveBigIntegerField(default=0)
    sgst_paise = models.PositiveBigIntegerField(default=0)
    igst_paise = models.PositiveBigIntegerField(default=0)
    total_paise = models.PositiveBigIntegerField()

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "financial_year", "sequence"],
                name="billing_platform_invoice_seq",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_shown(self) -> str:
        return format_inr(Decimal(self.total_paise) / 100)

    @property
    def taxable_shown(self) -> str:
        return format_inr(Decimal(self.taxable_paise) / 100)

    @property
    def tax_shown(self) -> str:
        tax = self.cgst_paise + self.sgst_paise + self.igst_paise
        return format_inr(Decimal(tax) / 100)
