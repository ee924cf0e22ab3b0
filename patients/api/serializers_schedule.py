"""The clinic's day in the API: doctors, free slots and appointments.

Input serializers are strict (unknown fields are refused) and only parse; the services decide.
Output serializers declare their fields for the OpenAPI schema and build the JSON with a plain
`to_representation`, like the patients API. Times go out in the clinic's time zone (passed as
`context["tz"]`), as ISO 8601 with the offset: 2026-03-10T10:15:00+05:30.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from clinics.api.fields import REFERENCE_RULE, declared, usable_day_pattern
from clinics.dates import DATE_RANGE, validate_usable_day
from clinics.models import DoctorProfile, Membership
from clinics.roles import Role
from patients.api.serializers import patient_number
from patients.models import Appointment, AppointmentKind, AppointmentStatus
from patients.services.appointments import MAX_REASON
from patients.slots import Slot

MAX_SLOT_DAYS = 14
MAX_ID = 2**63 - 1  # ids beyond a bigint cannot exist; refused before they reach the database
_TIME_EXAMPLE = "2026-03-10T10:15:00+05:30"
BOOKABLE_RULE = (
    "Within the clinic's booking horizon: on or before `bookable_until` of "
    "GET /api/v1/doctors/{doctor_id}/slots/ (a time that is taken, past or outside the "
    "doctor's hours answers 409)."
)


def iso(value: datetime | None, tz: tzinfo) -> str | None:
    """An aware datetime in the clinic's time zone, ISO 8601 with its offset."""
    return value.astimezone(tz).isoformat() if value else None


def id_field(help_text: str, *, refers_to: str = "", **kwargs) -> serializers.IntegerField:
    """An id; `refers_to` names what it must be (a 400 when the clinic has no such thing)."""
    field = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=help_text, **kwargs)
    return declared(field, rule=REFERENCE_RULE.format(what=refers_to)) if refers_to else field


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time that must carry its offset: a bare local time is refused
    rather than guessed, because the caller's time zone may not be the clinic's."""

    default_error_messages = {
        "naive": f"Give the time with its offset from UTC, for example {_TIME_EXAMPLE}.",
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


# ---------------------------------------------------------------------------------------------
# Output


class DoctorSerializer(serializers.Serializer):
    """A doctor who can be booked: an active doctor, or an owner (owners see patients too)."""

    id = serializers.IntegerField(help_text="The doctor's id: use it as `doctor_id`.")
    full_name = serializers.CharField()
    role = serializers.ChoiceField(choices=[(Role.DOCTOR, "Doctor"), (Role.OWNER, "Owner")])
    qualifications = serializers.CharField(
        help_text="For example MBBS, MD (General Medicine); empty until the profile is filled."
    )
    registration_number = serializers.CharField(
        help_text="Medical council registration number; empty until the profile is filled."
    )
    medical_council = serializers.CharField(help_text="For example Karnataka Medical Council.")
    specialisation = serializers.CharField()

    def to_representation(self, doctor: Membership) -> dict[str, Any]:
        try:
            profile: DoctorProfile | None = doctor.doctor_profile
        except DoctorProfile.DoesNotExist:
            profile = None
        return {
            "id": doctor.pk,
            "full_name": doctor.user.full_name,
            "role": doctor.role,
            "qualifications": profile.qualifications if profile else "",
            "registration_number": profile.registration_number if profile else "",
            "medical_council": profile.medical_council if profile else "",
            "specialisation": profile.specialisation if profile else "",
        }


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text=f"For example {_TIME_EXAMPLE}.")
    ends_at = serializers.DateTimeField()


class SlotDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A day in the clinic's time zone.")
    slots = SlotSerializer(many=True, help_text="Free slots in time order; empty if none.")


class DoctorSlotsSerializer(serializers.Serializer):
    """Built from {"doctor", "days": {date: [Slot]}, "bookable_until", "note"} with
    `context["tz"]`."""

    doctor_id = serializers.IntegerField()
    timezone = serializers.CharField(help_text="The clinic's IANA time zone: Asia/Kolkata.")
    days = SlotDaySerializer(
        many=True,
        help_text="Every day asked for, in order; days past `bookable_until` have no slots.",
    )
    bookable_until = serializers.DateField(
        help_text="The last day the clinic takes bookings on (its booking horizon)."
    )
    note = serializers.CharField(
        help_text="Why some days asked for offer no slots (past the booking horizon); "
        "empty otherwise."
    )

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        tz = self.context["tz"]
        days: dict[date, list[Slot]] = instance["days"]
        return {
            "doctor_id": instance["doctor"].pk,
            "timezone": str(tz),
            "days": [
                {
                    "date": day.isoformat(),
                    "slots": [
                        {"starts_at": iso(s.start, tz), "ends_at": iso(s.end, tz)} for s in slots
                    ],
                }
                for day, slots in days.items()
            ],
            "bookable_until": instance["bookable_until"].isoformat(),
            "note": instance["note"],
        }


class PatientRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The clinic's patient number, P-000123.")
    full_name = serializers.CharField()


class DoctorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class AppointmentSerializer(serializers.Serializer):
    """An appointment or walk-in; needs its patient and `doctor.user` loaded, and
    `context["tz"]`."""

    id = serializers.IntegerField()
    patient = PatientRefSerializer()
    doctor = DoctorRefSerializer()
    kind = serializers.ChoiceField(
        choices=AppointmentKind.choices, help_text="A booked slot, or a walk-in to the queue."
    )
    status = serializers.ChoiceField(choices=AppointmentStatus.choices)
    date = serializers.DateField(help_text="The day of the appointment, in the clinic's time zone.")
    starts_at = serializers.DateTimeField(help_text="For a walk-in, when they arrived.")
    ends_at = serializers.DateTimeField(help_text="For a walk-in, the same as starts_at.")
    token_number = serializers.IntegerField(
        allow_null=True,
        help_text="The patient's number in the doctor's queue that day, given at check-in.",
    )
    reason = serializers.CharField(help_text="The reason for the visit; may be empty.")
    cancel_reason = serializers.CharField(help_text="Why it was cancelled; empty otherwise.")
    checked_in_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    patient_confirmed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the patient pressed Confirm on WhatsApp; null when they have not, and "
        "again when the appointment was moved since.",
    )
    created_at = serializers.DateTimeField()

    def to_representation(self, appointment: Appointment) -> dict[str, Any]:
        tz = self.context["tz"]
        patient, doctor = appointment.patient, appointment.doctor
        return {
            "id": appointment.pk,
            "patient": {
                "id": patient.pk,
                "number": patient_number(patient.number),
                "full_name": patient.full_name,
            },
            "doctor": {"id": doctor.pk, "full_name": doctor.user.full_name},
            "kind": appointment.kind,
            "status": appointment.status,
            "date": appointment.starts_at.astimezone(tz).date().isoformat(),
            "starts_at": iso(appointment.starts_at, tz),
            "ends_at": iso(appointment.ends_at, tz),
            "token_number": appointment.token_number,
            "reason": appointment.reason,
            "cancel_reason": appointment.cancel_reason,
            "checked_in_at": iso(appointment.checked_in_at, tz),
            "cancelled_at": iso(appointment.cancelled_at, tz),
            "patient_confirmed_at": iso(appointment.patient_confirmed_at, tz),
            "created_at": iso(appointment.created_at, tz),
        }


# ---------------------------------------------------------------------------------------------
# Input


class SlotsQuerySerializer(StrictInputSerializer):
    date = declared(
        serializers.DateField(
            required=False,
            validators=[validate_usable_day],
            help_text=f"The first day, YYYY-MM-DD in the clinic's time zone (today). {DATE_RANGE}",
        ),
        pattern=usable_day_pattern,
    )
    days = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=MAX_SLOT_DAYS,
        help_text=f"How many days from `date`, 1 to {MAX_SLOT_DAYS} (default 1).",
    )


class AppointmentListQuerySerializer(StrictInputSerializer):
    date = declared(
        serializers.DateField(
            validators=[validate_usable_day],
            help_text=f"The day, YYYY-MM-DD in the clinic's time zone. {DATE_RANGE}",
        ),
        pattern=usable_day_pattern,
    )
    doctor = id_field("Only this doctor's appointments.", refers_to="doctor", required=False)
    status = serializers.ChoiceField(
        choices=AppointmentStatus.choices, required=False, help_text="Only this status."
    )


def override_reason_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Why this goes outside the doctor's working hours or leave. Only a signed-in owner "
            "or the doctor may; refused (403) for anyone else, API keys included."
        ),
    )


class AppointmentBookInputSerializer(StrictInputSerializer):
    patient_id = id_field("The patient to book for.", refers_to="patient")
    doctor_id = id_field("The doctor (see GET /api/v1/doctors/).", refers_to="doctor")
    starts_at = declared(
        AwareDateTimeField(
            help_text="The start of a free slot, with its offset, for example "
            f"{_TIME_EXAMPLE} (see GET /api/v1/doctors/{{doctor_id}}/slots/)."
        ),
        rule=BOOKABLE_RULE,
    )
    reason = serializers.CharField(
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reason for the visit, for example Fever for three days.",
    )
    override_reason = override_reason_field()


def patient_note_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reason to tell the patient, sent on WhatsApp with the change when they "
        "agreed to messages (optional).",
    )


class AppointmentRescheduleInputSerializer(StrictInputSerializer):
    starts_at = declared(
        AwareDateTimeField(
            help_text="The start of another free slot of the same doctor, for example "
            f"{_TIME_EXAMPLE}."
        ),
        rule=BOOKABLE_RULE,
    )
    patient_note = patient_note_field()


_CANCEL_REASON_NEEDED = "Say why the appointment is cancelled."


class AppointmentCancelInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(
        max_length=MAX_REASON,
        help_text="Why it is cancelled, for example Patient is travelling.",
        error_messages={"required": _CANCEL_REASON_NEEDED, "blank": _CANCEL_REASON_NEEDED},
    )
    patient_note = patient_note_field()


class EmptyInputSerializer(StrictInputSerializer):
    """No fields: send nothing, or an empty JSON object."""


class WalkInInputSerializer(StrictInputSerializer):
    patient_id = id_field("The patient who has come without an appointment.", refers_to="patient")
    doctor_id = id_field(
        "The doctor whose queue they join (see GET /api/v1/doctors/).", refers_to="doctor"
    )
    reason = serializers.CharField(
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reason for the visit, for example Cough since yesterday.",
    )
    override_reason = override_reason_field()
