"""Razorpay's background work: processing webhook deliveries and reconciling open links."""

from __future__ import annotations

from billing.razorpay.models import RazorpayWebhookDelivery
from billing.razorpay.processing import razorpay_delivery_process
from billing.razorpay.reconcile import payment_links_reconcile
from clinics.tenancy import clinic_task, for_each_clinic


@clinic_task(RazorpayWebhookDelivery)
def process_razorpay_webhook(delivery_id: int) -> str:
    """Process one stored Razorpay webhook delivery (idempotent)."""
    return razorpay_delivery_process(delivery_id=delivery_id)


def reconcile_payment_links() -> int:
    """Schedule: fetch every clinic's open payment links from Razorpay and repair what a lost
    webhook missed; returns how many links changed."""
    results = for_each_clinic(
        lambda clinic_id: payment_links_reconcile(clinic_id=clinic_id),
        name="Reconciling payment links",
    )
    return sum(results.values())
