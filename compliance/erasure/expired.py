"""Erasing a patient's whole record once the clinic's retention period for it has run out.

Called by the retention purge (compliance/purge.py) on the first run 48 hours after the patient
was told. Everything registered about the patient goes: each kind's rows are deleted with their
files (an anonymised message row is deleted too: the record it belonged to is gone), children
before parents (the registry's order, reversed). One transaction: a row that cannot go leaves
the whole record as it was.

A patient who is another patient's guardian (a mother whose child is still a patient) stays in
the child's record as the child's guardian contact: name and phone are copied onto the child's
guardian row, which then no longer points at the erased record. Who is responsible for a minor is
part of the minor's record, kept under the minor's own retention.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from compliance.models import LegalHold
from compliance.personal_data import DELETE, PATIENT, erase_rows, kind_rows, kinds_about
from patients.models import Guardian, Patient


class RecordNotErasable(DomainError):
    """The record is held, or another record still points at it."""


def patient_record_erase_expired(*, patient_id: int, reason: str) -> dict[str, int]:
    """Erase every registered kind of the patient's data (rows and files); returns
    {kind name: rows erased}. `reason` is a code word for the audit trail ("retention")."""
    with transaction.atomic():
        patient = Patient.objects.select_for_update().filter(pk=patient_id).first()
        if patient is None:
            return {}
        if LegalHold.objects.filter(patient_id=patient_id, lifted_at__isnull=True).exists():
            raise RecordNotErasable("The record is under a legal hold.", code="held")
        counts: dict[str, int] = {}
        wards = _guardian_kept_as_contact(patient)
        try:
            for kind in reversed(kinds_about(PATIENT)):
                rows = kind_rows(kind, patient_id)
                counts[kind.name] = erase_rows(replace(kind, erasure=DELETE), rows)
        except (ProtectedError, RestrictedError) as error:
            raise RecordNotErasable(
                "Another record still refers to this patient.", code="referenced"
            ) from error
        audit_record(
            clinic=patient.clinic_id,
            actor=None,
            action=Actions.PATIENT_RECORD_ERASED_EXPIRED,
            patient_id=patient_id,
            data={
                "reason": reason,
                "kinds": {k: n for k, n in counts.items() if n},
                "guardian_of": wards,
            },
        )
    return counts


def _guardian_kept_as_contact(patient: Patient) -> list[int]:
    """Turn the guardian rows of other patients that point at `patient` into contacts with
    the same name and phone; returns those patients' ids (for the audit trail)."""
    wards = []
    for guardian in Guardian.objects.select_for_update().filter(guardian_patient_id=patient.pk):
        guardian.name = patient.full_name[: Guardian._meta.get_field("name").max_length]
        guardian.phone = patient.phone or ""
        guardian.guardian_patient = None
        guardian.save(update_fields=["name", "phone", "guardian_patient"])
        wards.append(guardian.patient_id)
    return sorted(wards)
