"""A clinic's Razorpay account, its payment links and the webhook deliveries Razorpay sends."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.fields import EncryptedTextField
from clinics.formatting import format_inr
from clinics.models import Clinic
from clinics.scoping import ClinicScopedManager

__all__ = [
    "LINK_RANK",
    "OPEN_LINK_STATUSES",
    "DeliverySource",
    "LinkStatus",
    "PaymentLink",
    "RazorpayAccount",
    "RazorpayWebhookDelivery",
]


def new_webhook_key() -> str:
    return secrets.token_urlsafe(24)


class RazorpayAccount(models.Model):
    """The clinic's own Razorpay keys (one per clinic). Key secret and webhook secret are
    encrypted at rest (`manage.py rotate_encryption_keys` covers them); the webhook URL is
    /webhooks/razorpay/<webhook_key>/."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    key_id = models.CharField(max_length=40)
    key_secret = EncryptedTextField()
    webhook_secret = EncryptedTextField()
    webhook_key = models.CharField(max_length=40, unique=True, default=new_webhook_key)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    problem = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = "Razorpay account"

    def __str__(self) -> str:
        return f"Razorpay account {self.key_id}"

    def __repr__(self) -> str:
        return f"<RazorpayAccount {self.pk} key_id={self.key_id}>"

    @property
    def is_test(self) -> bool:
        return self.key_id.startswith("rzp_test_")


class LinkStatus(models.TextChoices):
    CREATED = "created", _("Sent, not paid")
    PARTIALLY_PAID = "partially_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# How far along each status is: a link's status only ever moves to a higher rank, so an event
# that arrives late (partially_paid after paid) changes nothing. The last three are final.
LINK_RANK = {
    LinkStatus.CREATED: 0,
    LinkStatus.PARTIALLY_PAID: 1,
    LinkStatus.PAID: 2,
    LinkStatus.CANCELLED: 2,
    LinkStatus.EXPIRED: 2,
}
OPEN_LINK_STATUSES = (LinkStatus.CREATED, LinkStatus.PARTIALLY_PAID)


class PaymentLink(models.Model):
    """A Razorpay payment link for an amount a patient owes (a bill's due amount)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    amount_paise = models.PositiveBigIntegerField()
    amount_paid_paise = models.PositiveBigIntegerField(default=0)
    reference_id = models.CharField(max_length=40, help_text="Our reference: the bill number.")
    description = models.CharField(max_length=255)
    customer_name = models.CharField(max_length=100, blank=True)
    customer_phone = models.CharField(max_length=20, blank=True)
    # Who made the link, in words ("Bill 25-26/000123"), and the `payment_link_handlers` entry
    # told when it is paid.
    owner_label = models.CharField(max_length=100, blank=True)
    on_paid_key = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=20, choices=LinkStatus.choices, default=LinkStatus.CREATED)
    razorpay_link_id = models.CharField(max_length=40, unique=True)
    razorpay_payment_id = models.CharField(max_length=40, blank=True)
    short_url = models.URLField(max_length=300)
    expire_by = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    # When the owner's handler was told of the payment (once, in the paying transaction).
    owner_told_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "status"], name="billing_plink_open")]

    def __str__(self) -> str:
        return f"Payment link {self.razorpay_link_id}"

    @property
    def amount_shown(self) -> str:
        return format_inr(Decimal(self.amount_paise) / 100)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LINK_STATUSES


class DeliverySource(models.TextChoices):
    CLINIC = "clinic", "The clinic's Razorpay account"
    PLATFORM = "platform", "The installation's Razorpay account (subscriptions)"


class RazorpayWebhookDelivery(models.Model):
    """A verified Razorpay webhook body, kept after processing: the unique (clinic, event id)
    is what turns a repeated delivery away."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=10, choices=DeliverySource.choices)
    event_id = models.CharField(max_length=64)
    event = models.CharField(max_length=64)
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name_plural = "Razorpay webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "event_id"], name="billing_rzp_delivery_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"Razorpay {self.event} {self.event_id}"
