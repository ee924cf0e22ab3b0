"""Django admin for Razorpay: read-only, superusers only. Secrets are never shown."""

from __future__ import annotations

from django.contrib import admin

from billing.razorpay.models import PaymentLink, RazorpayAccount, RazorpayWebhookDelivery
from clinics.admin import ReadOnlyAdmin


@admin.register(RazorpayAccount)
class RazorpayAccountAdmin(ReadOnlyAdmin):
    readonly_what = "Razorpay connections"
    list_display = ("clinic", "key_id", "last_check_ok", "last_checked_at")
    list_select_related = ("clinic",)
    search_fields = ("=clinic__slug", "=key_id")
    # The key secret and webhook secret are deliberately absent.
    fields = ("clinic", "key_id", "last_check_ok", "last_checked_at", "problem", "created_at")


@admin.register(PaymentLink)
class PaymentLinkAdmin(ReadOnlyAdmin):
    readonly_what = "payment links"
    list_display = ("razorpay_link_id", "clinic", "reference_id", "amount_paise", "status")
    list_filter = ("status",)
    list_select_related = ("clinic",)
    search_fields = ("=razorpay_link_id", "=reference_id", "=clinic__slug")
    fields = (
        "clinic",
        "reference_id",
        "owner_label",
        "amount_paise",
        "amount_paid_paise",
        "status",
        "razorpay_link_id",
        "razorpay_payment_id",
        "short_url",
        "expire_by",
        "created_at",
        "paid_at",
        "owner_told_at",
        "last_synced_at",
    )


@admin.register(RazorpayWebhookDelivery)
class RazorpayWebhookDeliveryAdmin(ReadOnlyAdmin):
    readonly_what = "Razorpay webhook deliveries"
    list_display = ("event", "event_id", "clinic", "source", "received_at", "outcome", "attempts")
    list_filter = ("source", "event")
    list_select_related = ("clinic",)
    search_fields = ("=event_id", "=clinic__slug")
    fields = (
        "clinic",
        "source",
        "event",
        "event_id",
        "received_at",
        "attempts",
        "processed_at",
        "outcome",
        "error",
    )
