"""The queue's flow: calling a patient in with their visit open, calling the next token,
reopening a consultation, and the room where each doctor sees patients.

The statuses run Waiting (checked in) -> With the doctor -> Done. Signing the visit of an
appointment makes it Done (`patients.services.visits.signing`); "Reopen" takes it back to
With the doctor.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinics.actors import require, resolve
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, NotAllowed
from clinics.models import Clinic, Membership, User
from clinics.roles import Perm, Role
from patients.models import Appointment, AppointmentStatus, DisplayLink, DoctorRoom, Visit
from patients.selectors.appointments import local_day_bounds
from patients.services.doctor_hours import DOCTOR_ROLES, _lock_doctor
from patients.services.visits import CANNOT_DRAFT, visit_start

MAX_ROOM = 40
MAX_LINK_NAME = 60
MAX_OPEN_LINKS = 10


@dataclass(frozen=True)
class Called:
    """Who was called in, and their visit (None when the caller does not open visits)."""

    appointment: Appointment
    visit: Visit | None


def _mark_called(appointment: Appointment, actor: User) -> None:
    """Waiting -> With the doctor, audited. The row is locked by the caller."""
    appointment.status = AppointmentStatus.IN_CONSULTATION
    appointment.started_at = timezone.now()
    appointment.save(update_fields=["status", "started_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_STARTED,
        target=appointment,
        patient_id=appointment.patient_id,
        data={"token": appointment.token_number},
    )


def _open_visit(appointment: Appointment, actor: User, actor_membership: Membership) -> Visit:
    """The appointment's visit: the one already opened (by an assistant taking vitals, or an
    earlier click), else a new draft with the appointment's doctor."""
    existing = (
        Visit.objects.filter(appointment=appointment, amends__isnull=True).order_by("pk").first()
    )
    if existing is not None:
        return existing
    return visit_start(
        clinic=appointment.clinic,
        actor=actor,
        actor_membership=actor_membership,
        patient=appointment.patient,
        doctor=appointment.doctor,
        appointment=appointment,
    )


@transaction.atomic
def appointment_call_in(
    *, appointment: Appointment, actor: User, actor_membership: Membership
) -> Called:
    """Call a waiting patient in and open their visit, in one step.

    A patient already with the doctor just gets their visit opened. Needs clinical.draft (the
    doctor, an assistant, the owner); the front desk calls in with `appointment_start`.
    """
    require(
        actor,
        Perm.CLINICAL_DRAFT,
        clinic_id=appointment.clinic_id,
        membership=actor_membership,
        message=CANNOT_DRAFT,
        person=True,
    )
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("clinic", "patient", "doctor__user")
        .get(pk=appointment.pk)
    )
    if appointment.status == AppointmentStatus.CHECKED_IN:
        _mark_called(appointment, actor)
    elif appointment.status != AppointmentStatus.IN_CONSULTATION:
        raise Conflict(
            f"Cannot call in: this appointment is {appointment.get_status_display().lower()}."
        )
    return Called(appointment, _open_visit(appointment, actor, actor_membership))


@transaction.atomic
def queue_call_next(
    *,
    doctor: Membership,
    actor: User,
    actor_membership: Membership,
    open_visit: bool,
    expected_id: int | None = None,
) -> Called:
    """Call the doctor's next waiting token (lowest token of today), and open its visit when
    `open_visit` (the caller may draft visits).

    Two presses at once take turns on the doctor's row lock. `expected_id` is the token the
    button showed as next: when someone else's press has just called it, this press opens the
    same patient instead of calling one more.
    """
    access = require(
        actor, Perm.APPOINTMENTS_EDIT, clinic_id=doctor.clinic_id, membership=actor_membership
    )
    if open_visit:
        require(
            actor,
            Perm.CLINICAL_DRAFT,
            clinic_id=doctor.clinic_id,
            membership=access.membership,
            message=CANNOT_DRAFT,
            person=True,
        )
    doctor = _lock_doctor(doctor)
    tz = doctor.clinic.tzinfo
    start, end = local_day_bounds(timezone.now().astimezone(tz).date(), tz)
    today = Appointment.objects.select_related("clinic", "patient", "doctor__user").filter(
        doctor=doctor, starts_at__gte=start, starts_at__lt=end
    )
    appointment = None
    if expected_id is not None:
        appointment = today.filter(pk=expected_id, status=AppointmentStatus.IN_CONSULTATION).first()
    if appointment is None:
        appointment = (
            today.filter(status=AppointmentStatus.CHECKED_IN)
            .order_by("token_number", "checked_in_at", "pk")
            .first()
        )
        if appointment is None:
            raise Conflict(f"No one is waiting for Dr {doctor.user.full_name}.", code="queue_empty")
        _mark_called(appointment, actor)
    visit = _open_visit(appointment, actor, access.membership) if open_visit else None
    return Called(appointment, visit)


@transaction.atomic
def appointment_reopen(*, appointment: Appointment, actor: User) -> Appointment:
    """Take a finished consultation back to With the doctor (signed by mistake, or the patient
    came back in). Only the appointment's doctor or the owner."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    membership = resolve(actor, clinic_id=appointment.clinic_id).membership
    if membership is None or not (
        membership.role == Role.OWNER
        or (membership.pk == appointment.doctor_id and membership.role in DOCTOR_ROLES)
    ):
        raise NotAllowed("Only the doctor of this appointment or the owner can reopen it.")
    if appointment.status != AppointmentStatus.COMPLETED:
        raise Conflict(
            f"Cannot reopen: this appointment is {appointment.get_status_display().lower()}."
        )
    appointment.status = AppointmentStatus.IN_CONSULTATION
    appointment.completed_at = None
    appointment.save(update_fields=["status", "completed_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_REOPENED,
        target=appointment,
        patient_id=appointment.patient_id,
    )
    return appointment


@transaction.atomic
def doctor_room_set(*, doctor: Membership, actor: User, room: str) -> DoctorRoom:
    """Say where the doctor sees patients ("Room 2"; blank for nowhere in particular). The
    owner (settings.edit) or the doctor themself."""
    membership = resolve(actor, clinic_id=doctor.clinic_id).membership
    if membership is None or not (
        membership.has_perm(Perm.SETTINGS_EDIT) or membership.pk == doctor.pk
    ):
        raise NotAllowed("Only the owner or the doctor can set the doctor's room.")
    if doctor.role not in DOCTOR_ROLES:
        raise DomainError("Choose a doctor who works at this clinic.", field="doctor")
    room = " ".join((room or "").split())
    if len(room) > MAX_ROOM:
        raise DomainError(f"Keep the room to {MAX_ROOM} characters.", field="room")
    row, _ = DoctorRoom.objects.update_or_create(
        doctor=doctor, defaults={"clinic_id": doctor.clinic_id, "room": room}
    )
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.DOCTOR_ROOM_SET,
        target=doctor,
        data={"room": room},
    )
    return row


def display_token_digest(token: str) -> str:
    """How a display link's secret is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def display_link_create(*, clinic: Clinic, actor: User, name: str) -> tuple[DisplayLink, str]:
    """A link for the waiting room's screen that needs no sign-in. Returns the link and its
    secret, which is shown once and kept only as a digest. The owner (settings.edit)."""
    require(actor, Perm.SETTINGS_EDIT, clinic_id=clinic.pk, person=True)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Name the screen, for example Waiting room TV.", field="name")
    if len(name) > MAX_LINK_NAME:
        raise DomainError(f"Keep the name to {MAX_LINK_NAME} characters.", field="name")
    if DisplayLink.objects.filter(revoked_at__isnull=True).count() >= MAX_OPEN_LINKS:
        raise DomainError(
            f"A clinic has at most {MAX_OPEN_LINKS} screen links. Revoke one you no longer use."
        )
    token = secrets.token_urlsafe(32)
    link = DisplayLink.objects.create(
        clinic=clinic, name=name, token_digest=display_token_digest(token), created_by=actor
    )
    audit_record(
        clinic=clinic.pk,
        actor=actor,
        action=Actions.DISPLAY_LINK_CREATED,
        target=link,
        data={"name": name},
    )
    return link, token


@transaction.atomic
def display_link_revoke(*, link: DisplayLink, actor: User) -> DisplayLink:
    """The screen with this link stops showing the queue at its next refresh."""
    require(actor, Perm.SETTINGS_EDIT, clinic_id=link.clinic_id, person=True)
    link = DisplayLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(
            clinic=link.clinic_id, actor=actor, action=Actions.DISPLAY_LINK_REVOKED, target=link
        )
    return link
