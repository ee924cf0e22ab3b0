"""Medical certificate pages, mounted at /c/<clinic_slug>/certificates/."""

from django.urls import path

from patients.views import certificates as views

certificate = "<int:certificate_id>"

urlpatterns = [
    path("", views.certificate_register_view, name="certificate-register"),
    path("export/", views.certificate_register_export_view, name="certificate-register-export"),
    path("patient/<int:patient_id>/", views.patient_certificates_view, name="patient-certificates"),
    path("patient/<int:patient_id>/new/", views.certificate_new, name="certificate-new"),
    path(f"{certificate}/", views.certificate_detail_view, name="certificate-detail"),
    path(f"{certificate}/correct/", views.certificate_correct_view, name="certificate-correct"),
    path(f"{certificate}/revoke/", views.certificate_revoke_view, name="certificate-revoke"),
]
