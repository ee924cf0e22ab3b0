"""Patients API, mounted at /api/v1/."""

from django.urls import path

from patients.api import views

urlpatterns = [
    path("patients/", views.PatientListView.as_view(), name="api-patient-list"),
    path(
        "patients/<int:patient_id>/", views.PatientDetailView.as_view(), name="api-patient-detail"
    ),
    path(
        "patients/<int:patient_id>/archive/",
        views.PatientArchiveView.as_view(),
        name="api-patient-archive",
    ),
    path(
        "patients/<int:patient_id>/restore/",
        views.PatientRestoreView.as_view(),
        name="api-patient-restore",
    ),
    path(
        "patients/<int:patient_id>/guardians/",
        views.GuardianListView.as_view(),
        name="api-patient-guardians",
    ),
]
