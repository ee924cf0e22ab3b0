"""Webhook endpoints Meta calls (no login; signed)."""

from django.urls import path

from messaging import webhooks

urlpatterns = [
    path("whatsapp/<str:webhook_key>/", webhooks.whatsapp_webhook, name="whatsapp-webhook"),
]
