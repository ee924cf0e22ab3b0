"""Compliance pages, mounted at /c/<clinic_slug>/compliance/."""

from django.urls import path

from compliance import views

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
]
