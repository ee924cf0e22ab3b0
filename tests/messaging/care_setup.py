"""Helpers for the reminder, dispatch, reply and adherence tests: a doctor who works every
day, signed visits with medicines, and the clinic's approved reminder templates."""

from __future__ import annotations

from datetime import time

from clinics.roles import Role
from patients import services
from patients.services.appointments import SessionInput, working_hours_set
from tests.factories import DoctorProfileFactory, MembershipFactory
from tests.messaging.conftest import make_template

PARACETAMOL = {
    "generic_name": "paracetamol",
    "strength": "500 mg",
    "form": "tablet",
    "frequency": "1-0-1",
    "duration_days": 3,
    "timing": "after_food",
}
AMOXICILLIN = {
    "generic_name": "amoxicillin",
    "strength": "250 mg",
    "form": "capsule",
    "frequency": "1-1-1",
    "duration_days": 3,
}
IBUPROFEN_SOS = {
    "generic_name": "ibuprofen",
    "strength": "400 mg",
    "form": "tablet",
    "frequency": "SOS",
}


def make_doctor(clinic, name="Anita Rao"):
    """A doctor of `clinic` who sees patients 10-13 and 17-20 every day (inside its scope)."""
    owner = MembershipFactory(clinic=clinic, role=Role.OWNER)
    profile = DoctorProfileFactory(membership__clinic=clinic, membership__user__full_name=name)
    doctor = profile.membership
    working_hours_set(
        doctor=doctor,
        actor=owner.user,
        sessions=[SessionInput(weekday=d, start=time(10), end=time(13)) for d in range(7)]
        + [SessionInput(weekday=d, start=time(17), end=time(20)) for d in range(7)],
    )
    return doctor


def by(doctor):
    return {"actor": doctor.user, "actor_membership": doctor}


def sign_visit(doctor, patient, *, items=(), follow_up=None, appointment=None):
    """A visit of `patient` with these prescription items, signed (returns the visit)."""
    visit = services.visit_start(
        clinic=doctor.clinic, **by(doctor), patient=patient, doctor=doctor, appointment=appointment
    )
    fields = {"chief_complaints": "Fever for two days"}
    if follow_up is not None:
        fields["follow_up_date"] = follow_up
    visit = services.visit_update_notes(visit=visit, **by(doctor), **fields)
    for item in items:
        services.prescription_item_add(visit=visit, **by(doctor), **item)
    return services.visit_sign(visit=visit, **by(doctor))


TEMPLATE_BODIES = {
    "appointment_confirmation": (
        "Hello {{1}}, your appointment with {{2}} on {{3}} at {{4}} is booked.",
        ("Confirm", "Reschedule", "Cancel"),
    ),
    "appointment_reminder": (
        "Hello {{1}}, a reminder of your appointment with {{2}} on {{3}} at {{4}}.",
        ("Confirm", "Reschedule", "Cancel"),
    ),
    "medicine_reminder": (
        "Hello {{1}}, time for your medicine: {{2}} ({{3}}).",
        ("Taken", "Skipped"),
    ),
    "follow_up_reminder": ("Hello {{1}}, {{2}} would like to see you on {{3}} at {{4}}.", ()),
    "review_request": (
        "Hello {{1}}, how was your visit to {{2}}? Rate it from 1 to 5.",
        ("1", "2", "3", "4", "5"),
    ),
    "document_ready": ("Hello {{1}}, your {{2}} is ready: {{3}} ({{4}})", ()),
}


def make_reminder_templates(clinic, sim=None, purposes=None, language="en"):
    """The clinic's approved templates for each reminder purpose (and on the simulator)."""
    made = {}
    for purpose, (body, buttons) in TEMPLATE_BODIES.items():
        if purposes is not None and purpose not in purposes:
            continue
        made[purpose] = make_template(
            clinic,
            sim=sim,
            name=f"vaidya_{purpose}" if language == "en" else f"vaidya_{purpose}_{language}",
            language=language,
            purpose=purpose,
            body=body,
            buttons=buttons,
        )
    return made
