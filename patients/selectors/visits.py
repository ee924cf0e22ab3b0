"""Reads for visits and prescriptions as the API shows them: a patient's visits, one visit's
whole record, a patient's prescriptions. Each runs a fixed number of queries, however many
visits, diagnoses or medicines there are. Callers run inside the clinic's scope.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from patients.models import Diagnosis, Patient, Prescription, PrescriptionItem, Visit


def _diagnoses() -> Prefetch:
    return Prefetch("diagnoses", queryset=Diagnosis.objects.order_by("position", "id"))


def _items(lookup: str = "items") -> Prefetch:
    return Prefetch(lookup, queryset=PrescriptionItem.objects.order_by("position", "id"))


def patient_visits(*, patient: Patient) -> QuerySet[Visit]:
    """The patient's visits, every version, newest first, with doctor and diagnoses.

    Two queries a page (visits with doctors, then their diagnoses).
    """
    return (
        Visit.objects.filter(patient=patient)
        .select_related("doctor__user")
        .prefetch_related(_diagnoses())
        .order_by("-created_at", "-id")
    )


def visit_record(*, visit_id: int) -> Visit:
    """One visit with everything on it: patient, doctor, signer, vitals, diagnoses,
    procedures, and the prescription with its items. Four queries; raises Visit.DoesNotExist.
    """
    return (
        Visit.objects.select_related(
            "patient", "doctor__user", "signed_by", "vitals", "prescription__doctor__user"
        )
        .prefetch_related(
            _diagnoses(),
            "procedures",
            _items("prescription__items"),
        )
        .get(pk=visit_id)
    )


def patient_prescriptions(*, patient: Patient) -> QuerySet[Prescription]:
    """The patient's prescriptions (one per visit version), newest first, with the doctor,
    the visit and the medicines. Two queries a page."""
    return (
        Prescription.objects.filter(patient=patient)
        .select_related("doctor__user", "visit")
        .prefetch_related(_items())
        .order_by("-created_at", "-id")
    )
