"""Messaging pages, mounted at /c/<clinic_slug>/messages/."""

from django.urls import include, path

urlpatterns = [
    path("", include("messaging.urls_inbox")),
    path("settings/", include("messaging.urls_settings")),
    path("my-whatsapp-alerts/", include("messaging.urls_alerts")),
]
