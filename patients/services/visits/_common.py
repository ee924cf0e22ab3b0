"""What every visit service shares: the roles and messages, the permission check, locking an
editable draft, the teleconsultation rules and the audit helper."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from clinics.actors import require
from clinics.audit import audit_record
from clinics.errors import DomainError, NotAllowed
from clinics.models import Membership, User
from clinics.roles import Perm, Role
from patients.models import Drug, Patient, PrescriptionItem, Visit, VisitMode

DOCTOR_ROLES = (Role.DOCTOR, Role.OWNER)
TEXT_NOTE_FIELDS = (
    "chief_complaints",
    "history",
    "examination",
    "investigations_advised",
    "advice",
)
NOTE_FIELDS = (*TEXT_NOTE_FIELDS, "follow_up_date", "mode")

SIGNED_MESSAGE = "This visit is signed. Amend it to make a correction."
CANNOT_DRAFT = "Your role cannot open visits or record vitals."
CANNOT_EDIT = "Only a doctor can write diagnoses and procedures."
CANNOT_DRAFT_NOTES = "Your role cannot write clinical notes."
MINOR_TELECONSULTATION = (
    "A patient under 18 can be seen by teleconsultation only with a parent or guardian. "
    "Add the guardian to the patient's record first, or see the patient in person."
)


def _locked_visit(visit: Visit) -> Visit:
    return Visit.objects.select_for_update().get(pk=visit.pk)


def _require_draft(visit: Visit) -> None:
    if visit.is_signed:
        raise DomainError(SIGNED_MESSAGE, code="visit_signed")


def _editable_visit(
    *,
    visit_id: int,
    clinic_id: int,
    actor: User,
    membership: Membership,
    perm: str,
    message: str,
    doctors_own_only: bool = False,
) -> Visit:
    """Check the permission, then lock the visit and make sure it is still a draft.

    Writing the record (clinical.edit: diagnoses, procedures) is for the visit's own doctor; a
    colleague may read it. Vitals (clinical.draft) may be taken by anyone allowed to. Notes
    (clinical.draft with `doctors_own_only`) are drafted by an assistant for the doctor to
    sign, and written by the visit's own doctor: a colleague who writes clinical notes
    (clinical.edit) may still only read another doctor's visit.
    """
    membership = require(
        actor, perm, clinic_id=clinic_id, membership=membership, message=message, person=True
    ).membership
    visit = Visit.objects.select_for_update().get(pk=visit_id)
    _require_draft(visit)
    writes_as_doctor = perm == Perm.CLINICAL_EDIT or (
        doctors_own_only and membership.has_perm(Perm.CLINICAL_EDIT)
    )
    if writes_as_doctor and membership.pk != visit.doctor_id:
        raise NotAllowed(not_the_visit_doctor(visit))
    return visit


def not_the_visit_doctor(visit: Visit) -> str:
    """What a colleague is told when they try to change another doctor's visit."""
    doctor = Membership.objects.select_related("user").get(pk=visit.doctor_id)
    name = " ".join((doctor.user.full_name or doctor.user.email).split())
    return (
        f"Only Dr {name}, the doctor of this visit, can change it. "
        "You can read it, or start your own visit for this patient."
    )


def _check_teleconsultation(*, patient: Patient, mode: str, visit: Visit | None = None) -> None:
    """Telemedicine Practice Guidelines 2020: a minor is consulted only with an identified
    adult, and Schedule X and narcotic drugs are never prescribed by teleconsultation."""
    if mode != VisitMode.TELECONSULTATION:
        return
    if patient.is_minor and not patient.guardians.exists():
        raise DomainError(MINOR_TELECONSULTATION, field="mode", code="minor_without_guardian")
    if visit is not None and visit.pk:
        # A listed drug that is restricted, or a typed-in name that matches one.
        restricted_names = Drug.objects.filter(Q(is_schedule_x=True) | Q(is_narcotic=True)).values(
            "generic_name"
        )
        restricted = sorted(
            set(
                PrescriptionItem.objects.filter(prescription__visit=visit)
                .filter(
                    Q(drug__is_schedule_x=True)
                    | Q(drug__is_narcotic=True)
                    | Q(generic_name__in=restricted_names)
                )
                .values_list("generic_name", flat=True)
            )
        )
        if restricted:
            raise DomainError(
                f"{', '.join(restricted)} cannot be prescribed by teleconsultation "
                "(Schedule X and narcotic drugs). Remove them from the prescription, "
                "or see the patient in person.",
                field="mode",
                code="restricted_drug_teleconsultation",
            )


def _audit(*, visit: Visit, actor: User, action: str, target, data: dict[str, Any]) -> None:
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=action,
        target=target,
        patient_id=visit.patient_id,
        data=data,
    )
