"""The patient timeline's entries for appointments, visits and prescriptions.

Each source checks the member's permissions itself and runs a fixed number of queries (see
patients.selectors.care), however long the patient's history. Clinical detail (diagnoses, a link
to the visit's notes) is shown only to roles that may read clinical notes: the front desk and
billing see that a visit happened and with whom, nothing more.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch

from clinics.formatting import format_datetime
from clinics.models import Membership
from clinics.roles import Perm
from clinics.templatetags.vaidya import clinic_reverse
from patients.models import (
    GENERATED_KINDS,
    AppointmentKind,
    AppointmentStatus,
    Document,
    DocumentKind,
    Patient,
    VisitMode,
    VisitStatus,
)
from patients.selectors import care
from patients.timeline import TimelineEntry, register_timeline_source


def _visit_url(membership: Membership, visit_id: int) -> str:
    """The visit page, or "" while the visit pages are not mounted."""
    try:
        # clinic_reverse: the timeline links up to 100 visits and prescriptions to their visit.
        return clinic_reverse("visit-detail", membership.clinic.slug, visit_id)
    except NoReverseMatch:
        return ""


def _appointment_title(row: dict[str, Any], doctor: str) -> str:
    status = row["status"]
    walk_in = row["kind"] == AppointmentKind.WALK_IN
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
    for row in care.timeline_appointments(patient=patient):
        details = []
        if row["token_number"]:
            details.append(f"Token {row['token_number']}")
        if row["status"] == AppointmentStatus.CANCELLED and row["cancelled_at"]:
            details.append(f"Cancelled on {format_datetime(row['cancelled_at'], tz)}")
        entries.append(
            TimelineEntry(
                when=row["starts_at"],
                kind="appointment",
                title=_appointment_title(row, care.doctor_label(row["doctor_name"])),
                detail=" · ".join(details),
            )
        )
    return entries


@register_timeline_source("visits")
def visit_entries(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    clinical = membership.has_perm(Perm.CLINICAL_VIEW)
    entries = []
    for row in care.timeline_visits(patient=patient, with_diagnoses=clinical):
        doctor = care.doctor_label(row["doctor_name"])
        if row["version"] > 1:
            title = f"Corrected visit with {doctor} (version {row['version']})"
        else:
            title = f"Visit with {doctor}"
        if clinical:
            diagnoses = ", ".join(
                f"{d} (provisional)" if d.is_provisional else str(d) for d in row["diagnoses"]
            )
            if diagnoses:
                title = f"{title}: {diagnoses}"
        details = ["Signed" if row["status"] == VisitStatus.SIGNED else "Draft, not signed yet"]
        if row["mode"] == VisitMode.TELECONSULTATION:
            details.append("Teleconsultation")
        if row["corrected_by_version"]:
            details.append(f"Corrected by version {row['corrected_by_version']}")
        entries.append(
            TimelineEntry(
                when=row["created_at"],
                kind="visit",
                title=title,
                detail=" · ".join(details),
                url=_visit_url(membership, row["id"]) if clinical else "",
            )
        )
    return entries


@register_timeline_source("prescriptions")
def prescription_entries(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    if not membership.has_perm(Perm.PRESCRIPTIONS_VIEW):
        return []
    clinical = membership.has_perm(Perm.CLINICAL_VIEW)
    entries = []
    for row in care.timeline_prescriptions(patient=patient):
        count = row["item_count"]
        details = [f"{count} medicine{'s' if count != 1 else ''}"]
        if row["stopped_count"]:
            details.append(f"{row['stopped_count']} stopped")
        if row["visit_superseded_at"] is not None:
            details.append("Replaced by a corrected version")
        entries.append(
            TimelineEntry(
                when=row["signed_at"] or row["created_at"],
                kind="prescription",
                title=f"Prescription signed by {care.doctor_label(row['doctor_name'])}",
                detail=" · ".join(details),
                url=_visit_url(membership, row["visit_id"]) if clinical else "",
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
                url=clinic_reverse("document-open", membership.clinic.slug, row["pk"]),
            )
        )
    return entries
