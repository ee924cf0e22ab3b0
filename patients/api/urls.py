"""Patients API, mounted at /api/v1/."""

from django.urls import path

from patients.api import schedule, views, visits

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

# The clinic's day, visits and prescriptions.
urlpatterns += [
    path("doctors/", schedule.DoctorListView.as_view(), name="api-doctor-list"),
    path(
        "doctors/<int:doctor_id>/slots/",
        schedule.DoctorSlotsView.as_view(),
        name="api-doctor-slots",
    ),
    path("appointments/", schedule.AppointmentListView.as_view(), name="api-appointment-list"),
    path(
        "appointments/<int:appointment_id>/",
        schedule.AppointmentDetailView.as_view(),
        name="api-appointment-detail",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/",
        schedule.AppointmentRescheduleView.as_view(),
        name="api-appointment-reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        schedule.AppointmentCancelView.as_view(),
        name="api-appointment-cancel",
    ),
    path(
        "appointments/<int:appointment_id>/check-in/",
        schedule.AppointmentCheckInView.as_view(),
        name="api-appointment-check-in",
    ),
    path(
        "appointments/<int:appointment_id>/start/",
        schedule.AppointmentStartView.as_view(),
        name="api-appointment-start",
    ),
    path(
        "appointments/<int:appointment_id>/complete/",
        schedule.AppointmentCompleteView.as_view(),
        name="api-appointment-complete",
    ),
    path(
        "appointments/<int:appointment_id>/no-show/",
        schedule.AppointmentNoShowView.as_view(),
        name="api-appointment-no-show",
    ),
    path("appointments/walk-in/", schedule.WalkInView.as_view(), name="api-appointment-walk-in"),
    path("visits/", visits.VisitListView.as_view(), name="api-visit-list"),
    path("visits/<int:visit_id>/", visits.VisitDetailView.as_view(), name="api-visit-detail"),
    path("prescriptions/", visits.PrescriptionListView.as_view(), name="api-prescription-list"),
]
