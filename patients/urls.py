"""Patients pages, mounted at /c/<clinic_slug>/patients/."""

from django.urls import path

from patients.views import allergies
from patients.views import patients as views

urlpatterns = [
    path("", views.patient_list, name="patient-list"),
    path("new/", views.patient_create, name="patient-create"),
    path("<int:patient_id>/", views.patient_detail, name="patient-detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="patient-edit"),
    path("<int:patient_id>/allergies/", allergies.allergy_add, name="patient-allergy-add"),
    path(
        "<int:patient_id>/allergies/<int:allergy_id>/remove/",
        allergies.allergy_remove,
        name="patient-allergy-remove",
    ),
    path("<int:patient_id>/archive/", views.patient_archive, name="patient-archive"),
    path("<int:patient_id>/restore/", views.patient_restore, name="patient-restore"),
    path("<int:patient_id>/guardians/add/", views.guardian_add, name="guardian-add"),
    path(
        "<int:patient_id>/guardians/<int:guardian_id>/remove/",
        views.guardian_remove,
        name="guardian-remove",
    ),
]
