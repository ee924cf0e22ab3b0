"""Compliance pages, mounted at /c/<clinic_slug>/compliance/."""

from django.urls import path

from compliance import views, views_retention
from compliance.erasure import views as erasure_views
from compliance.exports import views as export_views
from compliance.rights import views as rights_views

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
    path("patients/<int:patient_id>/data/", export_views.patient_data, name="patient-data"),
    path(
        "patients/<int:patient_id>/data/export/",
        export_views.patient_export_create,
        name="patient-export-create",
    ),
    path("exports/<int:export_id>/link/", export_views.export_download_link, name="export-link"),
    path("exports/download/<str:token>/", export_views.export_download, name="export-download"),
    path("my-data/", export_views.my_data, name="my-data"),
    path("my-data/export/", export_views.my_data_export, name="my-data-export"),
    path(
        "my-data/<int:export_id>/link/",
        export_views.my_data_download_link,
        name="my-data-link",
    ),
    path(
        "patients/<int:patient_id>/erasure/",
        erasure_views.erasure_start,
        name="erasure-start",
    ),
    path("erasures/<int:erasure_id>/", erasure_views.erasure_detail, name="erasure-detail"),
    path(
        "erasures/<int:erasure_id>/confirm/",
        erasure_views.erasure_confirm_view,
        name="erasure-confirm",
    ),
    path(
        "erasures/<int:erasure_id>/certificate/",
        erasure_views.erasure_certificate,
        name="erasure-certificate",
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

# The rights desk (compliance/rights/views.py).
urlpatterns += [
    path("rights/", rights_views.rights_desk, name="rights-desk"),
    path("rights/grievance/", rights_views.rights_grievance, name="rights-grievance"),
    path(
        "rights/<int:rights_request_id>/",
        rights_views.rights_request_detail,
        name="rights-request-detail",
    ),
    path(
        "rights/<int:rights_request_id>/assign/",
        rights_views.rights_request_assign,
        name="rights-request-assign",
    ),
    path(
        "rights/<int:rights_request_id>/verify/",
        rights_views.rights_request_verify,
        name="rights-request-verify",
    ),
    path(
        "rights/<int:rights_request_id>/send-code/",
        rights_views.rights_request_send_code,
        name="rights-request-send-code",
    ),
    path(
        "rights/<int:rights_request_id>/status/",
        rights_views.rights_request_move,
        name="rights-request-move",
    ),
    path(
        "rights/<int:rights_request_id>/export/",
        rights_views.rights_request_export,
        name="rights-request-export",
    ),
    path(
        "rights/<int:rights_request_id>/erasure/",
        rights_views.rights_request_erasure,
        name="rights-request-erasure",
    ),
    path(
        "rights/<int:rights_request_id>/corrections/",
        rights_views.correction_propose,
        name="rights-correction-propose",
    ),
    path(
        "rights/<int:rights_request_id>/corrections/<int:correction_id>/decide/",
        rights_views.correction_decide,
        name="rights-correction-decide",
    ),
    path(
        "rights/<int:rights_request_id>/evidence/",
        rights_views.nomination_evidence,
        name="rights-nomination-evidence",
    ),
    path("patients/<int:patient_id>/rights/", rights_views.patient_rights, name="patient-rights"),
    path(
        "patients/<int:patient_id>/nominee/",
        rights_views.patient_nominate,
        name="patient-nominate",
    ),
]
