"""Compliance pages, mounted at /c/<clinic_slug>/compliance/."""

from django.urls import path

from compliance import views, views_retention

urlpatterns = [
    path(
        "registration/notice/",
        views.registration_consent_notice,
        name="registration-consent-notice",
    ),
    path(
        "patients/<int:patient_id>/messaging/",
        views.messaging_consent,
        name="messaging-consent",
    ),
    path(
        "patients/<int:patient_id>/messaging/record/",
        views.messaging_consent_record,
        name="messaging-consent-record",
    ),
    path("retention/", views_retention.retention_settings, name="retention-settings"),
    path(
        "retention/period/",
        views_retention.retention_period_save,
        name="retention-period-save",
    ),
    path("retention/holds/", views_retention.legal_hold_create, name="legal-hold-create"),
    path(
        "retention/holds/<int:hold_id>/lift/",
        views_retention.legal_hold_release,
        name="legal-hold-lift",
    ),
]
