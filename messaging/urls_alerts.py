"""My WhatsApp alerts (/c/<clinic_slug>/messages/my-whatsapp-alerts/)."""

from django.urls import path

from messaging.views import alerts

urlpatterns = [
    path("", alerts.my_alerts, name="messaging-my-alerts"),
    path("off/", alerts.my_alerts_off, name="messaging-my-alerts-off"),
    path(
        "staff/<int:membership_id>/off/",
        alerts.staff_alerts_off,
        name="messaging-staff-alerts-off",
    ),
]
