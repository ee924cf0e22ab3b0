"""Document pages, mounted at /c/<clinic_slug>/documents/."""

from django.urls import path

from patients.views import documents as views

urlpatterns = [
    path("patient/<int:patient_id>/", views.patient_documents_view, name="patient-documents"),
    path("<int:document_id>/open/", views.document_open, name="document-open"),
    path("<int:document_id>/status/", views.document_status, name="document-status"),
    path("<int:document_id>/retry/", views.document_retry_view, name="document-retry"),
    path("visit/<int:visit_id>/<str:kind>/", views.visit_document, name="visit-document"),
]
