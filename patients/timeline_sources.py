"""The patient timeline's entries for appointments, visits and prescriptions.

Each source checks the member's permissions itself and runs a fixed number of queries (see
patients.selectors.care), however long the patient's history. Clinical detail (diagnoses, a link
to the visit's notes) is shown only to roles that may read clinical notes: the front desk and
billing see that a visit happened and with whom, nothing more.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from clinics.formatting import format_datetime
from clinics.models import Membership
from clinics.roles import Perm
from patients.models import (
    GENERATED_KINDS,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Document,
    DocumentKind,
    Patient,
    VisitMode,
)
from patients.selectors import care
from patients.timeline import TimelineEntry, register_timeline_source


def _visit_url(membership: Membership, visit_id: int) -> str:
    """The visit page, or "" while the visit pages are not mounted."""
    try:
        return reverse(
            "visit-detail", kwargs={"clinic_slug": membership.clinic.slug, "visit_id": visit_id}
        )
    except NoReverseMatch:
        return ""


def _appointment_title(appointment: Appointment, doctor: str) -> str:
    status = appointment.status
    walk_in = appointment.kind == AppointmentKind.WALK_IN
    if status == AppointmentStatus.CANCELLED:
        return f"Appointment with {doctor} cancelled"
    if status == AppointmentStatus.NO_SHOW:
        return f"Did not come to the appointment with {doctor}"
    if status == AppointmentStatus.COMPLETED:
        return f"Seen by {doctor}" + (" (walk-in)" if walk_in else "")
    if status == AppointmentStatus.CHECKED_IN:
        return f"Waiting to see {doctor}"
    if status == AppointmentStatus.IN_CONSULTATION:
        return f"With {doctor}"
    return f"Walk-in with {doctor}" if walk_in else f"Appointment booked with {doctor}"


@register_timeline_source("appointments")
def appointment_entries(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    if not membership.has_perm(Perm.APPOINTMENTS_VIEW):
        return []
    tz = membership.clinic.tzinfo
    entries = []
    for appointment in care.timeline_appointments(patient=patient):
        details = []
        if appointment.token_number:
            details.append(f"Token {appointment.token_number}")
        if appointment.status == AppointmentStatus.CANCELLED and appointment.cancelled_at:
            details.append(f"Cancelled on {format_datetime(appointment.cancelled_at, tz)}")
        entries.append(
            TimelineEntry(
                when=appointment.starts_at,
                kind="appointment",
                title=_appointment_title(appointment, care.doctor_label(appointment.doctor)),
                detail=" · ".join(details),
            )
        )
    return entries


@register_timeline_source("visits")
def visit_entries(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    clinical = membership.has_perm(Perm.CLINICAL_VIEW)
    entries = []
    for visit in care.timeline_visits(patient=patient, with_diagnoses=clinical):
        doctor = care.doctor_label(visit.doctor)
        if visit.version > 1:
            title = f"Corrected visit with {doctor} (version {visit.version})"
        else:
            title = f"Visit with {doctor}"
        if clinical:
            diagnoses = ", ".join(
                f"{d} (provisional)" if d.is_provisional else str(d) for d in visit.diagnoses.all()
            )
            if diagnoses:
                title = f"{title}: {diagnoses}"
        details = ["Signed" if visit.is_signed else "Draft, not signed yet"]
        if visit.mode == VisitMode.TELECONSULTATION:
            details.append("Teleconsultation")
        if visit.corrected_by_version:
            details.append(f"Corrected by version {visit.corrected_by_version}")
        entries.append(
            TimelineEntry(
                when=visit.created_at,
                kind="visit",
                title=title,
                detail=" · ".join(details),
                url=_visit_url(membership, visit.pk) if clinical else "",
            )
        )
    return entries


@register_timeline_source("prescriptions")
def prescription_entries(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    if not membership.has_perm(Perm.PRESCRIPTIONS_VIEW):
        return []
    clinical = membership.has_perm(Perm.CLINICAL_VIEW)
    entries = []
    for prescription in care.timeline_prescriptions(patient=patient):
        count = prescription.item_count
        details = [f"{count} medicine{'s' if count != 1 else ''}"]
        if prescription.stopped_count:
            details.append(f"{prescription.stopped_count} stopped")
        if prescription.visit.superseded_at is not None:
            details.append("Replaced by a corrected version")
        entries.append(
            TimelineEntry(
                when=prescription.signed_at or prescription.created_at,
                kind="prescription",
                title=f"Prescription signed by {care.doctor_label(prescription.doctor)}",
                detail=" · ".join(details),
                url=_visit_url(membership, prescription.visit_id) if clinical else "",
            )
        )
    return entries


@register_timeline_source("documents")
def document_entries(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    """Uploaded files, certificates and consent forms (a visit's own PDFs are part of the visit
    entry). Clinical roles only."""
    if not membership.has_perm(Perm.CLINICAL_VIEW):
        return []
    rows = (
        Document.objects.filter(patient=patient)
        .exclude(kind__in=[DocumentKind.PRESCRIPTION, DocumentKind.VISIT_SUMMARY])
        .order_by("-created_at")
        .values("pk", "kind", "title", "created_at", "created_by__full_name", "original_name")[:100]
    )
    entries = []
    for row in rows:
        kind = DocumentKind(row["kind"])
        verb = "Issued" if kind in GENERATED_KINDS else "Uploaded"
        by = f" by {row['created_by__full_name']}" if row["created_by__full_name"] else ""
        entries.append(
            TimelineEntry(
                when=row["created_at"],
                kind="document",
                title=row["title"],
                detail=f"{kind.label} · {verb}{by}",
                url=reverse(
                    "document-open",
                    kwargs={"clinic_slug": membership.clinic.slug, "document_id": row["pk"]},
                ),
            )
        )
    return entries
