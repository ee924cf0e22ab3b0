"""The clinic's day, mounted at /c/<clinic_slug>/schedule/."""

from django.urls import path

from patients.views import schedule as views

appointment = "appointments/<int:appointment_id>"
doctor = "doctors/<int:membership_id>"

urlpatterns = [
    path("", views.schedule_day, name="schedule-day"),
    path("week/", views.schedule_week, name="schedule-week"),
    path("queue/", views.schedule_queue, name="schedule-queue"),
    path("queue/live/", views.schedule_queue_partial, name="schedule-queue-partial"),
    path("display/", views.waiting_display, name="waiting-display"),
    path("display/live/", views.waiting_display_partial, name="waiting-display-partial"),
    path("display/links/", views.display_links, name="display-links"),
    path(
        "display/links/<int:link_id>/revoke/",
        views.display_link_revoke,
        name="display-link-revoke",
    ),
    path("book/", views.appointment_book, name="appointment-book"),
    path("book/slots/", views.appointment_slots, name="appointment-slots"),
    path("walk-in/", views.walk_in, name="walk-in"),
    path(f"{appointment}/check-in/", views.appointment_check_in, name="appointment-check-in"),
    path(f"{appointment}/start/", views.appointment_start, name="appointment-start"),
    path(f"{appointment}/call-in/", views.appointment_call_in, name="appointment-call-in"),
    path(f"{appointment}/complete/", views.appointment_complete, name="appointment-complete"),
    path(f"{appointment}/reopen/", views.appointment_reopen, name="appointment-reopen"),
    path(f"{appointment}/slip/", views.token_slip, name="appointment-slip"),
    path(f"{appointment}/no-show/", views.appointment_no_show, name="appointment-no-show"),
    path(f"{appointment}/cancel/", views.appointment_cancel, name="appointment-cancel"),
    path(f"{appointment}/reschedule/", views.appointment_reschedule, name="appointment-reschedule"),
    path(f"{doctor}/", views.schedule_doctor_day, name="schedule-doctor-day"),
    path(f"{doctor}/call-next/", views.call_next, name="queue-call-next"),
    path(f"{doctor}/hours/", views.doctor_hours, name="doctor-hours"),
    path(f"{doctor}/room/", views.doctor_room, name="doctor-room"),
    path(f"{doctor}/leave/add/", views.doctor_leave_add, name="doctor-leave-add"),
    path(
        f"{doctor}/leave/<int:leave_id>/remove/",
        views.doctor_leave_remove,
        name="doctor-leave-remove",
    ),
]
