"""Endpoints Razorpay calls (no login; signed): /webhooks/razorpay/..."""

from django.urls import path

from billing.razorpay import webhooks

urlpatterns = [
    path("platform/", webhooks.razorpay_platform_webhook, name="razorpay-platform-webhook"),
    path("<str:webhook_key>/", webhooks.razorpay_webhook, name="razorpay-webhook"),
]
