"""Clinic API, mounted at /api/v1/."""

from django.urls import path

from clinics.api import (
    schema,  # noqa: F401  (registers the OpenAPI authentication extensions)
    views,
)

urlpatterns = [
    path("clinic/", views.ClinicView.as_view(), name="api-clinic"),
    path("staff/", views.StaffListView.as_view(), name="api-staff-list"),
    path("staff/<int:membership_id>/", views.StaffDetailView.as_view(), name="api-staff-detail"),
]
