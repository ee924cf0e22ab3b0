"""A draft's diagnoses (with WHO ICD-10 codes) and the procedures done at the visit."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from clinics.audit import Actions
from clinics.errors import ValidationFailed
from clinics.models import Membership, User
from clinics.roles import Perm
from patients import icd10
from patients.models import Diagnosis, ProcedureDone, Visit
from patients.services.visits._common import CANNOT_EDIT, _audit, _editable_visit


def _next_position(queryset) -> int:
    highest = queryset.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def diagnosis_add(
    *,
    visit: Visit,
    actor: User,
    actor_membership: Membership,
    text: str,
    icd10_code: str = "",
    qualifier: str = "",
    is_provisional: bool = False,
) -> Diagnosis:
    """Add a diagnosis to a draft: in the doctor's words, or with a WHO ICD-10 code.

    The code is normalised ('j069' -> 'J06.9') and the diagnosis takes the code's WHO title.
    The doctor's words then stay beside it as the qualifier, unless they were only the search
    that found the code ('pharyng' for J02.9 "Acute pharyngitis, unspecified").
    """
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    errors: dict[str, list[str]] = {}
    text = " ".join((text or "").split())
    code = ""
    if (icd10_code or "").strip():
        code = icd10.normalise_code(icd10_code)
        if not icd10.is_valid_code(code):
            errors["icd10_code"] = [
                f"{code} is not a WHO ICD-10 code. Search by name to find the right code."
            ]
        elif visit.diagnoses.filter(icd10_code=code).exists():
            errors["icd10_code"] = [f"{code} is already a diagnosis of this visit."]
        else:
            title = icd10.describe(code)[:300]
            if not qualifier and not icd10.is_search_for(text, title):
                qualifier = text
            text = title
    qualifier = " ".join((qualifier or "").split())
    if len(qualifier) > 200:
        errors["qualifier"] = ["Keep the note beside the diagnosis to 200 characters."]
    if not text and "icd10_code" not in errors:
        errors["text"] = ["Enter the diagnosis, or an ICD-10 code."]
    elif len(text) > 300:
        errors["text"] = ["Keep the diagnosis to 300 characters."]
    if errors:
        raise ValidationFailed(errors)
    diagnosis = Diagnosis.objects.create(
        clinic_id=visit.clinic_id,
        visit=visit,
        text=text,
        icd10_code=code,
        qualifier=qualifier,
        is_provisional=bool(is_provisional),
        position=_next_position(visit.diagnoses.all()),
    )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.DIAGNOSIS_ADDED,
        target=diagnosis,
        data={"visit_id": visit.pk},
    )
    return diagnosis


@transaction.atomic
def diagnosis_remove(*, diagnosis: Diagnosis, actor: User, actor_membership: Membership) -> None:
    """Remove a diagnosis from a draft. Removing one already gone does nothing."""
    _remove_from_draft(
        row=diagnosis,
        related="diagnoses",
        action=Actions.DIAGNOSIS_REMOVED,
        actor=actor,
        actor_membership=actor_membership,
    )


def _remove_from_draft(
    *, row, related: str, action: str, actor: User, actor_membership: Membership
) -> None:
    """Remove a diagnosis or procedure of a draft visit, with its audit event."""
    visit = _editable_visit(
        visit_id=row.visit_id,
        clinic_id=row.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    current = getattr(visit, related).filter(pk=row.pk).first()
    if current is None:
        return
    _audit(visit=visit, actor=actor, action=action, target=current, data={"visit_id": visit.pk})
    current.delete()


@transaction.atomic
def procedure_add(
    *, visit: Visit, actor: User, actor_membership: Membership, name: str, notes: str = ""
) -> ProcedureDone:
    """Record a procedure performed at a draft visit (dressing, nebulisation, suturing...)."""
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"name": ["Enter the procedure's name."]})
    if len(name) > 200:
        raise ValidationFailed({"name": ["Keep the procedure's name to 200 characters."]})
    procedure = ProcedureDone.objects.create(
        clinic_id=visit.clinic_id,
        visit=visit,
        name=name,
        notes=(notes or "").strip(),
        position=_next_position(visit.procedures.all()),
    )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.PROCEDURE_ADDED,
        target=procedure,
        data={"visit_id": visit.pk},
    )
    return procedure


@transaction.atomic
def procedure_remove(
    *, procedure: ProcedureDone, actor: User, actor_membership: Membership
) -> None:
    """Remove a procedure from a draft. Removing one already gone does nothing."""
    _remove_from_draft(
        row=procedure,
        related="procedures",
        action=Actions.PROCEDURE_REMOVED,
        actor=actor,
        actor_membership=actor_membership,
    )
