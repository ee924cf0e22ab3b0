"""The clinic's day: the day and week views, the live queue, booking, the appointment actions,
and doctors' hours and leave.

Views parse input, check the role's permission and call one service (writes) or selectors
(reads). Times are shown in the clinic's time zone: pages render under
`timezone.override(clinic.tzinfo)`, and the labels built in `common` convert explicitly.
"""

from patients.views.schedule.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_no_show,
    appointment_reschedule,
    appointment_slots,
    appointment_start,
    walk_in,
)
from patients.views.schedule.calling import (
    appointment_call_in,
    appointment_reopen,
    call_next,
    display_link_revoke,
    display_links,
    public_display,
    public_display_partial,
    token_slip,
    waiting_display,
    waiting_display_partial,
)
from patients.views.schedule.day import (
    schedule_day,
    schedule_doctor_day,
    schedule_queue,
    schedule_queue_partial,
    schedule_week,
)
from patients.views.schedule.hours import (
    doctor_hours,
    doctor_leave_add,
    doctor_leave_remove,
    doctor_room,
)

__all__ = [
    "appointment_book",
    "appointment_call_in",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_no_show",
    "appointment_reopen",
    "appointment_reschedule",
    "appointment_slots",
    "appointment_start",
    "call_next",
    "display_link_revoke",
    "display_links",
    "doctor_hours",
    "doctor_leave_add",
    "doctor_leave_remove",
    "doctor_room",
    "public_display",
    "public_display_partial",
    "schedule_day",
    "schedule_doctor_day",
    "schedule_queue",
    "schedule_queue_partial",
    "schedule_week",
    "token_slip",
    "waiting_display",
    "waiting_display_partial",
    "walk_in",
]
