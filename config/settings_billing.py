"""Settings for Razorpay (the clinics' own accounts) and the installation's subscriptions, read
from the environment like the rest (`config/settings.py` imports them; `.env.example` documents
them)."""

from __future__ import annotations

import environ

env = environ.Env()  # config/settings.py has already read .env into the environment

__all__ = [
    "OPERATOR_GSTIN",
    "OPERATOR_LEGAL_NAME",
    "OPERATOR_STATE_CODE",
    "RAZORPAY_API_BASE_URL",
    "RAZORPAY_LINK_DAYS",
    "RAZORPAY_PLATFORM_KEY_ID",
    "RAZORPAY_PLATFORM_KEY_SECRET",
    "RAZORPAY_PLATFORM_WEBHOOK_SECRET",
    "RAZORPAY_TIMEOUT_SECONDS",
    "RAZORPAY_WEBHOOK_MAX_BYTES",
    "SUBSCRIPTION_GRACE_DAYS",
]

# Clinics enter their own keys on their billing settings page (encrypted at rest). Point
# RAZORPAY_API_BASE_URL at the local simulator (`manage.py razorpay_simulator`) in development;
# the official SDK cannot tell.
RAZORPAY_API_BASE_URL = env.str("RAZORPAY_API_BASE_URL", default="https://api.razorpay.com")
RAZORPAY_TIMEOUT_SECONDS = env.float("RAZORPAY_TIMEOUT_SECONDS", default=15)
# Largest webhook body accepted (Razorpay's are a few kilobytes).
RAZORPAY_WEBHOOK_MAX_BYTES = env.int("RAZORPAY_WEBHOOK_MAX_BYTES", default=256 * 1024)
# Days a payment link stays payable.
RAZORPAY_LINK_DAYS = env.int("RAZORPAY_LINK_DAYS", default=7)
# The installation's own Razorpay account, which bills clinics for their subscriptions; its
# webhook goes to /webhooks/razorpay/platform/. Empty: subscriptions are not offered.
RAZORPAY_PLATFORM_KEY_ID = env.str("RAZORPAY_PLATFORM_KEY_ID", default="")
RAZORPAY_PLATFORM_KEY_SECRET = env.str("RAZORPAY_PLATFORM_KEY_SECRET", default="")
RAZORPAY_PLATFORM_WEBHOOK_SECRET = env.str("RAZORPAY_PLATFORM_WEBHOOK_SECRET", default="")
# Days a clinic keeps working normally after a subscription charge failed, before read-only.
SUBSCRIPTION_GRACE_DAYS = env.int("SUBSCRIPTION_GRACE_DAYS", default=7)
# The operator's GST registration, printed on its tax invoices to clinics (SaaS at 18%).
OPERATOR_LEGAL_NAME = env.str("OPERATOR_LEGAL_NAME", default="Vaidya installation operator")
OPERATOR_GSTIN = env.str("OPERATOR_GSTIN", default="")
OPERATOR_STATE_CODE = env.str("OPERATOR_STATE_CODE", default="")
