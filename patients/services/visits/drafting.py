"""Opening a visit: a bare draft (`visit_start`), a whole draft at once (`visit_draft_create`),
and recording that someone read a visit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import transaction

from clinics.actors import require
from clinics.audit import Actions
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import ApiKey, Clinic, Membership, User
from clinics.roles import Perm
from patients.models import Appointment, AppointmentStatus, Patient, Visit, VisitMode
from patients.services.prescriptions import PrescribingCheckFailed, prescription_item_add
from patients.services.visits._common import (
    CANNOT_DRAFT,
    DOCTOR_ROLES,
    _audit,
    _check_teleconsultation,
)
from patients.services.visits.diagnoses import diagnosis_add, procedure_add
from patients.services.visits.notes import visit_update_notes
from patients.services.visits.vitals import vitals_record


@transaction.atomic
def visit_start(
    *,
    clinic: Clinic,
    actor: User,
    actor_membership: Membership,
    patient: Patient,
    doctor: Membership,
    appointment: Appointment | None = None,
    mode: str = VisitMode.IN_PERSON,
) -> Visit:
    """Open a draft visit of `patient` with `doctor`.

    Assistants may open one (to record vitals before the doctor sees the patient). The doctor
    must be an active doctor or owner of the clinic; an appointment, when given, must be this
    patient's with this doctor. A minor is seen by teleconsultation only with a guardian on
    record.
    """
    actor_membership = require(
        actor,
        Perm.CLINICAL_DRAFT,
        clinic_id=clinic.pk,
        membership=actor_membership,
        message=CANNOT_DRAFT,
        person=True,
    ).membership
    if patient.clinic_id != clinic.pk:
        raise DomainError("This patient is not registered at this clinic.", field="patient")
    if patient.is_archived:
        raise DomainError(
            "This patient's record is archived. Restore it before starting a visit.",
            field="patient",
        )
    if doctor.clinic_id != clinic.pk or not doctor.is_active or doctor.role not in DOCTOR_ROLES:
        raise DomainError("Choose a doctor who works at this clinic.", field="doctor")
    if mode not in VisitMode.values:
        raise DomainError("Choose in person or teleconsultation.", field="mode")
    if appointment is not None:
        appointment = (
            Appointment.objects.select_for_update().filter(pk=appointment.pk, clinic=clinic).first()
        )
        if appointment is None:
            raise DomainError("No such appointment at this clinic.", field="appointment")
        if appointment.patient_id != patient.pk or appointment.doctor_id != doctor.pk:
            raise DomainError(
                "This appointment is for another patient or another doctor.", field="appointment"
            )
        if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
            raise DomainError(
                f"This appointment is marked {appointment.get_status_display().lower()}.",
                field="appointment",
            )
        if Visit.objects.filter(appointment=appointment, amends__isnull=True).exists():
            raise DomainError(
                "A visit has already been started for this appointment. Open it instead.",
                field="appointment",
                code="visit_exists",
            )
    _check_teleconsultation(patient=patient, mode=mode)
    visit = Visit.objects.create(
        clinic=clinic,
        patient=patient,
        doctor=doctor,
        appointment=appointment,
        mode=mode,
        created_by=actor,
    )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.VISIT_STARTED,
        target=visit,
        data={
            "doctor_id": doctor.pk,
            "appointment_id": appointment.pk if appointment else None,
            "mode": mode,
        },
    )
    return visit


PRESCRIBING_CHECK = "__prescribing_check__"


def _gather(errors: dict[str, list[str]], prefix: str, write: Callable[[], Any]) -> None:
    """Run one part of a new draft, filing its field errors under `prefix` ("items.1").

    A refusal of permission stops everything at once: it is not something to correct.
    """
    try:
        write()
    except NotAllowed:
        raise
    except ValidationFailed as exc:
        for field, messages in exc.errors.items():
            errors[f"{prefix}.{field}"] = list(messages)
    except PrescribingCheckFailed as exc:
        errors[f"{prefix}.{exc.field}"] = [exc.message]
        errors.setdefault(PRESCRIBING_CHECK, []).append(prefix)
    except DomainError as exc:
        errors[f"{prefix}.{exc.field}" if exc.field else prefix] = [exc.message]


@transaction.atomic
def visit_draft_create(
    *,
    clinic: Clinic,
    actor: User,
    actor_membership: Membership,
    patient: Patient,
    doctor: Membership,
    appointment: Appointment | None = None,
    mode: str = VisitMode.IN_PERSON,
    notes: Mapping[str, Any] | None = None,
    vitals: Mapping[str, Any] | None = None,
    diagnoses: Sequence[Mapping[str, Any]] = (),
    procedures: Sequence[Mapping[str, Any]] = (),
    items: Sequence[Mapping[str, Any]] = (),
) -> Visit:
    """Open a draft visit with its first notes, vitals, diagnoses, procedures and prescription
    items, all or nothing.

    Every part goes through its own service, with that service's rules and permission checks:
    an assistant may open the draft with vitals and notes (for the doctor to sign); diagnoses,
    procedures and medicines need the visit's doctor. `items` hold `prescription_item_add`'s
    arguments (`drug` a Drug or absent). Field errors of every part are gathered under their
    paths (`notes.advice`, `vitals.pulse`, `diagnoses.0.icd10_code`, `items.1.frequency`) and
    raised together as one ValidationFailed; then nothing is saved. NotAllowed is raised as it is.
    """
    visit = visit_start(
        clinic=clinic,
        actor=actor,
        actor_membership=actor_membership,
        patient=patient,
        doctor=doctor,
        appointment=appointment,
        mode=mode,
    )
    by = {"visit": visit, "actor": actor, "actor_membership": actor_membership}
    errors: dict[str, list[str]] = {}
    if notes:
        _gather(errors, "notes", lambda: visit_update_notes(**by, **notes))
    if vitals:
        _gather(errors, "vitals", lambda: vitals_record(**by, **vitals))
    for i, diagnosis in enumerate(diagnoses):
        _gather(errors, f"diagnoses.{i}", lambda d=diagnosis: diagnosis_add(**by, **d))
    for i, procedure in enumerate(procedures):
        _gather(errors, f"procedures.{i}", lambda p=procedure: procedure_add(**by, **p))
    for i, item in enumerate(items):
        _gather(errors, f"items.{i}", lambda x=item: prescription_item_add(**by, **x))
    stopped = errors.pop(PRESCRIBING_CHECK, None)
    if stopped:
        # The safety checks stopped a medicine: say so with its own code, so a client can ask
        # the doctor for a reason (`override_reason` on the item) and send the visit again.
        refused = ValidationFailed(
            errors,
            message="The prescribing checks stopped "
            + ", ".join(stopped)
            + ". Give override_reason on each to prescribe anyway.",
        )
        refused.code = "prescribing_check"
        raise refused
    if errors:
        raise ValidationFailed(errors)
    return visit


def visit_record_view(*, visit: Visit, actor: User | ApiKey) -> None:
    """Record that a staff member (or an API key) read a visit's clinical record."""
    _audit(visit=visit, actor=actor, action=Actions.VISIT_VIEWED, target=visit, data={})
