"""Erasing a patient's data on their request, a record whose retention ran out, and a departed
staff member's personal data.

`erasure_plan` writes the dry run (`plan.erasure_plan_rows`) for the owner to read;
`erasure_confirm` does it, once: inside one transaction it runs the registered erasure steps
(messaging cancels planned reminders and withdraws WhatsApp consent), erases or anonymises every
kind the plan does not keep (`personal_data.erase_rows`: rows, then their stored files after
commit) and stores the certificate of erasure. A failure anywhere rolls all of it back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext

from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, NotAllowed
from clinics.formatting import format_date
from clinics.models import Clinic, Membership
from clinics.roles import Perm
from clinics.storage import object_key, storage
from clinics.tenancy import memberships_of
from compliance.erasure.models import Erasure, ErasureStatus, StaffErasure
from compliance.erasure.plan import erasure_plan_rows
from compliance.erasure.steps import run_erasure_steps
from compliance.models import LegalHold
from compliance.personal_data import (
    DELETE,
    PATIENT,
    RETAIN,
    STAFF,
    PersonalData,
    erase_rows,
    kind_model,
    kind_rows,
    kinds_about,
)
from patients.models import Patient

STAFF_ERASE_AFTER_DAYS = 30


@transaction.atomic
def erasure_plan(
    *,
    clinic: Clinic,
    patient: Patient,
    actor: Actor,
    actor_membership: Membership | None,
    request_reference: str | None = None,
) -> Erasure:
    """Write the dry run of erasing the patient's data: per kind, what goes and what must be
    kept, why and until when. Changes nothing else. Owner only."""
    require(actor, Perm.RIGHTS_APPROVE_ERASURE, clinic_id=clinic.pk, membership=actor_membership)
    if patient.clinic_id != clinic.pk:
        raise NotAllowed("No such patient at this clinic.")
    erasure = Erasure.objects.create(
        clinic=clinic,
        patient=patient,
        patient_number=patient.number,
        request_reference=request_reference or None,
        plan=erasure_plan_rows(patient),
        planned_by=actor_membership,
    )
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.ERASURE_PLANNED,
        target=erasure,
        patient_id=patient.pk,
        data={"kinds": [e["kind"] for e in erasure.plan]},
    )
    return erasure


def _erase_kind(kind: PersonalData, rows: Any) -> int | None:
    """Erase the rows in a savepoint; None when rows that are kept still point at them."""
    try:
        with transaction.atomic():
            return erase_rows(kind, rows)
    except (ProtectedError, RestrictedError, IntegrityError):
        return None


def _erase_patient_kinds(patient_id: int, keep: set[str]) -> tuple[dict[str, int], dict]:
    """Erase every patient kind not in `keep`, the last registered first (records before the
    people they belong to). Returns ({kind: rows}, {kind: [ids kept]})."""
    erased: dict[str, int] = {}
    kept: dict[str, list[int]] = {}
    for kind in reversed(kinds_about(PATIENT)):
        rows = kind_rows(kind, patient_id)
        if kind.name in keep:
            kept[kind.name] = list(rows.values_list("pk", flat=True))
            continue
        ids = list(rows.values_list("pk", flat=True))
        if not ids:
            continue
        if not keep:
            kind = replace(kind, erasure=DELETE)  # nothing is kept: see plan.py
        changed = _erase_kind(kind, kind_model(kind).objects.filter(pk__in=ids))
        if changed is None:  # still referenced by a kept record: kept with it
            kept[kind.name] = ids
        else:
            erased[kind.name] = changed
    return erased, kept


@transaction.atomic
def erasure_confirm(
    *, erasure: Erasure, actor: Actor, actor_membership: Membership | None
) -> Erasure:
    """Carry out a planned erasure, once: a second confirmation is refused and changes nothing.

    Everything the plan does not keep is erased or anonymised, in the database now and in the
    object store once this commits; the registered steps cancel reminders and withdraw WhatsApp
    consent; the certificate of erasure is stored. Owner only."""
    require(
        actor, Perm.RIGHTS_APPROVE_ERASURE, clinic_id=erasure.clinic_id, membership=actor_membership
    )
    locked = Erasure.objects.select_for_update().get(pk=erasure.pk)
    if locked.status != ErasureStatus.PLANNED:
        on = format_date(timezone.localtime(locked.confirmed_at))
        raise Conflict(
            f"This erasure was already carried out on {on}; nothing more was done.",
            code="already_erased",
        )
    if locked.patient_id is None:
        raise DomainError(gettext("The patient's record is no longer here."), code="gone")
    patient_id = locked.patient_id
    if LegalHold.objects.filter(patient_id=patient_id, lifted_at__isnull=True).exists():
        raise DomainError(
            "The patient's records are under a legal hold: nothing was erased. Lift the hold "
            "first if the law allows it.",
            code="held",
        )
    steps = run_erasure_steps(patient_id=patient_id, actor=actor)
    keep = {e["kind"] for e in locked.plan if e["action"] == "keep"}
    erased, kept = _erase_patient_kinds(patient_id, keep)
    if not Patient.objects.filter(pk=patient_id).exists():
        locked.patient = None  # the registration row itself went; the number stays
    locked.status = ErasureStatus.DONE
    locked.confirmed_by = actor_membership
    locked.confirmed_at = timezone.now()
    locked.result = {"erased": erased, "kept": kept, "steps": steps}
    name = _store_certificate(locked)
    try:
        locked.certificate.name = name
        locked.save()
        audit_record(
            clinic=locked.clinic_id,
            actor=actor,
            action=Actions.ERASURE_CONFIRMED,
            target=locked,
            patient_id=patient_id,
            data={"erased": erased, "kept": sorted(kept), "steps": steps},
        )
    except BaseException:
        storage().delete(name)  # a rolled-back erasure leaves no certificate behind
        raise
    return locked


def _store_certificate(erasure: Erasure) -> str:
    from compliance.erasure.certificate import certificate_pdf  # noqa: PLC0415 (WeasyPrint)

    return storage().save(
        object_key(clinic_id=erasure.clinic_id, kind="erasures", extension="pdf"),
        ContentFile(certificate_pdf(erasure)),
    )


def staff_data_erase_departed(clinic_id: int, *, now=None) -> int:
    """Erase the personal data of staff whose membership here closed more than 30 days ago:
    every staff kind but those kept by their own class (RETAIN: the membership, the audit
    trail); their name stays on the records they wrote. Once per membership; inside the clinic's
    scope (the daily schedule runs it for every clinic)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=STAFF_ERASE_AFTER_DAYS)
    done = StaffErasure.objects.values_list("membership_id", flat=True)
    departed = Membership.objects.filter(is_active=False, deactivated_at__lt=cutoff).exclude(
        pk__in=done
    )
    count = 0
    for membership in departed:
        with transaction.atomic():
            erased: dict[str, int] = {}
            elsewhere = _active_elsewhere(membership)
            for kind in reversed(kinds_about(STAFF)):
                if kind.erasure == RETAIN:
                    continue  # kept by its own class (memberships, the audit trail)
                if elsewhere and not _clinic_owned(kind):
                    continue  # the account itself stays while they work at another clinic
                changed = _erase_kind(kind, kind_rows(kind, membership.user_id))
                if changed:
                    erased[kind.name] = changed
            StaffErasure.objects.create(clinic_id=clinic_id, membership=membership, result=erased)
            audit_record(
                clinic=clinic_id,
                actor=None,
                action=Actions.STAFF_DATA_ERASED,
                target=membership,
                data={"erased": erased},
            )
            count += 1
    return count


def _clinic_owned(kind: PersonalData) -> bool:
    return any(f.name == "clinic" for f in kind_model(kind)._meta.concrete_fields)


def _active_elsewhere(membership: Membership) -> bool:
    return any(m.pk != membership.pk for m in memberships_of(membership.user))
