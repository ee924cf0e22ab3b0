"""Reads behind the visit (consultation) pages: the visit with everything shown on it, its
versions, and a patient's open drafts.

Callers run inside the clinic's scope. The query counts do not grow with the number of
diagnoses, procedures or medicines.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from clinics.formatting import format_date, format_datetime
from clinics.models import DoctorProfile
from patients.models import (
    Appointment,
    Diagnosis,
    Patient,
    Prescription,
    PrescriptionItem,
    ProcedureDone,
    Visit,
    VisitStatus,
    Vitals,
)
from patients.selectors.prescriptions import (
    DRAFT_MARK,
    _diagnosis_row,
    _doctor_name,
    _item_row,
    _patient_block,
    clinic_letterhead,
)

__all__ = [
    "appointment_for_visit",
    "patient_draft_visits",
    "visit_page",
    "visit_summary_document",
    "visit_versions",
]


def visit_page(*, visit_id: int) -> Visit:
    """The visit with its patient, doctor (and profile), vitals, diagnoses, procedures and
    prescription items. Four queries; raises Visit.DoesNotExist outside the clinic."""
    return (
        Visit.objects.select_related(
            "patient",
            "doctor__user",
            "doctor__doctor_profile",
            "signed_by",
            "created_by",
            "vitals__recorded_by",
            "prescription",
        )
        .prefetch_related(
            Prefetch("diagnoses", queryset=Diagnosis.objects.order_by("position", "id")),
            Prefetch("procedures", queryset=ProcedureDone.objects.order_by("position", "id")),
            Prefetch(
                "prescription__items",
                queryset=PrescriptionItem.objects.order_by("position", "id"),
            ),
        )
        .get(pk=visit_id)
    )


def visit_versions(visit: Visit) -> list[Visit]:
    """Every version of the visit's record, oldest first (v1, its correction v2, ...).

    One query: the versions share the patient and doctor, and each one but the first points
    to the version it corrects.
    """
    linked = list(
        Visit.objects.filter(patient_id=visit.patient_id, doctor_id=visit.doctor_id)
        .filter(Q(amends__isnull=False) | Q(amendment__isnull=False))
        .select_related("signed_by")
        .only(
            "id",
            "version",
            "status",
            "amends_id",
            "amendment_reason",
            "signed_at",
            "signed_by__full_name",
            "signed_by__email",
            "superseded_at",
            "created_at",
        )
    )
    by_id = {v.pk: v for v in linked}
    if visit.pk not in by_id:
        return [visit]
    root = by_id[visit.pk]
    while root.amends_id in by_id:
        root = by_id[root.amends_id]
    corrected_by = {v.amends_id: v for v in linked if v.amends_id}
    chain = [root]
    while chain[-1].pk in corrected_by:
        chain.append(corrected_by[chain[-1].pk])
    return chain


def patient_draft_visits(patient: Patient) -> QuerySet[Visit]:
    """The patient's visits still being written, newest first, with their doctors."""
    return (
        Visit.objects.filter(patient=patient, status=VisitStatus.DRAFT)
        .select_related("doctor__user")
        .order_by("-created_at", "-id")
    )


def appointment_for_visit(appointment_id: int) -> Appointment | None:
    """The appointment a visit is being started from, or None if the clinic has no such one."""
    return Appointment.objects.filter(pk=appointment_id).first()


# The order and words of the vitals on the printed summary.
_VITAL_ROWS = (
    ("Blood pressure", "blood_pressure", " mmHg"),
    ("Pulse", "pulse", " /min"),
    ("Temperature", "temperature_c", " °C"),
    ("SpO2", "spo2", "%"),
    ("Respiratory rate", "respiratory_rate", " /min"),
    ("Weight", "weight_kg", " kg"),
    ("Height", "height_cm", " cm"),
    ("BMI", "bmi", " kg/m²"),
)


def _vital_rows(vitals: Vitals | None) -> list[tuple[str, str]]:
    if vitals is None:
        return []
    rows = []
    for label, attribute, unit in _VITAL_ROWS:
        value = getattr(vitals, attribute)
        if value in (None, ""):
            continue
        shown = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
        rows.append((label, f"{shown}{unit}"))
    return rows


def visit_summary_document(*, visit_id: int) -> dict[str, Any]:
    """The visit as a printable summary: letterhead, doctor, patient, notes, vitals,
    diagnoses, procedures and medicines, as plain strings. Unlike the prescription it prints
    without the doctor's registration number (shown when there is one). An unsigned visit is
    marked "DRAFT". Five queries, whatever the number of medicines.
    """
    visit = (
        Visit.objects.select_related(
            "clinic",
            "patient",
            "doctor__user",
            "doctor__doctor_profile",
            "signed_by",
            "vitals__recorded_by",
            "prescription",
        )
        .prefetch_related(
            Prefetch("diagnoses", queryset=Diagnosis.objects.order_by("position", "id")),
            Prefetch("procedures", queryset=ProcedureDone.objects.order_by("position", "id")),
            Prefetch(
                "prescription__items",
                queryset=PrescriptionItem.objects.order_by("position", "id"),
            ),
        )
        .get(pk=visit_id)
    )
    clinic, doctor = visit.clinic, visit.doctor
    tz = clinic.tzinfo
    visit_date = timezone.localtime(visit.created_at, tz).date()
    try:
        profile: DoctorProfile | None = doctor.doctor_profile
    except DoctorProfile.DoesNotExist:
        profile = None
    try:
        vitals: Vitals | None = visit.vitals
    except Vitals.DoesNotExist:
        vitals = None
    try:
        items = list(visit.prescription.items.all())
    except Prescription.DoesNotExist:
        items = []
    signed = visit.status == VisitStatus.SIGNED
    signer = visit.signed_by.full_name if signed and visit.signed_by_id else ""
    return {
        "is_draft": not signed,
        "draft_mark": "" if signed else DRAFT_MARK,
        "version": visit.version,
        "is_amendment": visit.amends_id is not None,
        "amendment_reason": visit.amendment_reason,
        "is_superseded": visit.superseded_at is not None,
        "mode": visit.get_mode_display(),
        "date_display": format_date(visit_date),
        "clinic": clinic_letterhead(clinic),
        "doctor": {
            "name": _doctor_name(doctor.user.full_name),
            "qualifications": profile.qualifications if profile else "",
            "registration_number": profile.registration_number if profile else "",
            "medical_council": profile.medical_council if profile else "",
        },
        "patient": _patient_block(visit.patient, visit_date),
        "complaints": visit.chief_complaints,
        "history": visit.history,
        "findings": visit.examination,
        "vitals": _vital_rows(vitals),
        "vitals_recorded": (
            f"{format_datetime(vitals.recorded_at, tz)}"
            + (f" by {vitals.recorded_by.full_name}" if vitals.recorded_by_id else "")
            if vitals is not None
            else ""
        ),
        "diagnoses": [_diagnosis_row(d) for d in visit.diagnoses.all()],
        "procedures": [{"name": p.name, "notes": p.notes} for p in visit.procedures.all()],
        "items": [_item_row(n, item, tz) for n, item in enumerate(items, 1)],
        "investigations": visit.investigations_advised,
        "advice": visit.advice,
        "follow_up_display": format_date(visit.follow_up_date),
        "signature_line": (
            f"Signed by {_doctor_name(signer)}, {format_datetime(visit.signed_at, tz)}"
            if signed and visit.signed_at and signer
            else DRAFT_MARK
        ),
    }
