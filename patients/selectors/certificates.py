"""Reads for medical certificates: the clinic's register (filtered and searched), a patient's
certificates, one certificate's page, the printed certificate, and the register as CSV rows.

The printed certificate's renderer registers here with patients.rendering (this module is
imported when the app is ready). Callers run inside the clinic's scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from clinics.errors import DomainError
from clinics.formatting import format_date, format_datetime
from clinics.languages import patient_language
from clinics.models import Clinic, DoctorProfile, Membership
from clinics.reports import csv_cell
from patients.models import (
    CertificateKind,
    CertificateStatus,
    Document,
    DocumentKind,
    MedicalCertificate,
    Visit,
    normalise_name,
)
from patients.rendering import RenderSpec, register_renderer
from patients.selectors.prescriptions import (
    NO_REGISTRATION_MESSAGE,
    _doctor_name,
    _patient_block,
    clinic_letterhead,
)

NO_REGISTRATION = (
    "{name} has no medical registration number in their doctor profile. Every certificate "
    "must carry it: add it in the staff settings before issuing one."
)
TITLES = {
    CertificateKind.SICKNESS: "Medical certificate of sickness",
    CertificateKind.FITNESS: "Medical certificate of fitness",
    CertificateKind.GENERAL: "Medical certificate",
}
REGISTER_COLUMNS = (
    "Number",
    "Issued at",
    "Kind",
    "Patient",
    "Patient no.",
    "Age / sex",
    "Doctor",
    "Registration no.",
    "Effective from",
    "Effective to",
    "Days",
    "Condition",
    "Purpose",
    "Status",
    "Corrects / corrected by",
    "Revoked reason",
)
# "MC/2026/00012", "mc 2026/12", "2026/12", "12"
_NUMBER_RE = re.compile(r"^\s*(?:mc\s*/?\s*)?(?:(\d{4})\s*/\s*)?0*(\d{1,9})\s*$", re.IGNORECASE)
_PATIENT_NUMBER_RE = re.compile(r"^\s*p\s*-?\s*0*(\d{1,9})\s*$", re.IGNORECASE)
_JOINS = (
    "patient",
    "doctor__user",
    "document",
    "supersedes",
    "superseded_by",
)


# ---------------------------------------------------------------------------------------------
# Lists and pages


@dataclass(frozen=True)
class RegisterFilters:
    year: int | None = None
    kind: str = ""
    status: str = ""
    query: str = ""


def certificate_register(filters: RegisterFilters | None = None) -> QuerySet[MedicalCertificate]:
    """The clinic's certificates, newest number first, filtered by year, kind and status, and
    searched by certificate number, patient number or patient name. One query per page."""
    filters = filters or RegisterFilters()
    qs = MedicalCertificate.objects.select_related(*_JOINS).order_by("-year", "-serial")
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.kind in CertificateKind.values:
        qs = qs.filter(kind=filters.kind)
    if filters.status in CertificateStatus.values:
        qs = qs.filter(status=filters.status)
    query = (filters.query or "").strip()
    if not query:
        return qs
    if match := _PATIENT_NUMBER_RE.match(query):
        return qs.filter(patient__number=int(match.group(1)))
    if match := _NUMBER_RE.match(query):
        year, serial = match.group(1), int(match.group(2))
        if year:
            return qs.filter(year=int(year), serial=serial)
        return qs.filter(Q(serial=serial) | Q(patient__number=serial))
    return qs.filter(patient__search_name__contains=normalise_name(query))


def certificate_years() -> list[int]:
    """The years the clinic has issued certificates in, latest first (for the year filter)."""
    return list(
        MedicalCertificate.objects.order_by("-year").values_list("year", flat=True).distinct()
    )


def patient_certificates(*, patient_id: int) -> QuerySet[MedicalCertificate]:
    """A patient's certificates, newest first, with their PDFs and doctors."""
    return (
        MedicalCertificate.objects.filter(patient_id=patient_id)
        .select_related(*_JOINS)
        .order_by("-issued_at", "-id")
    )


def certificate_detail(*, certificate_id: int) -> MedicalCertificate:
    """One certificate with everything its page shows (raises MedicalCertificate.DoesNotExist)."""
    return MedicalCertificate.objects.select_related(
        *_JOINS, "visit", "doctor__doctor_profile", "created_by"
    ).get(pk=certificate_id)


def previous_identification_mark(*, patient_id: int) -> str:
    """The identification mark on the patient's latest certificate, to offer it again."""
    return (
        MedicalCertificate.objects.filter(patient_id=patient_id)
        .order_by("-issued_at", "-id")
        .values_list("identification_mark", flat=True)
        .first()
        or ""
    )


def examination_date(visit: Visit, tz: ZoneInfo) -> date:
    """The day the patient was examined at `visit` (clinic time). A corrected visit is a new
    row made when the correction began, so the examination is its first version's day."""
    first = visit
    while first.amends_id:
        first = Visit.objects.only("id", "created_at", "amends_id").get(pk=first.amends_id)
    return timezone.localtime(first.created_at, tz).date()


def issuing_problem(membership: Membership) -> str:
    """Why this member cannot issue certificates yet (no registration number), or ""."""
    profile = DoctorProfile.objects.filter(membership=membership).only("registration_number")
    found = profile.first()
    if found is None or not found.registration_number.strip():
        user = membership.user
        return NO_REGISTRATION.format(name=_doctor_name(user.full_name or user.email))
    return ""


# ---------------------------------------------------------------------------------------------
# The printed certificate


def _profile(certificate: MedicalCertificate) -> DoctorProfile | None:
    try:
        return certificate.doctor.doctor_profile
    except DoctorProfile.DoesNotExist:
        return None


def _days_text(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def certificate_document(*, certificate_id: int) -> dict[str, Any]:
    """Everything a printed certificate carries (reg. 1.3.3), as plain strings, for
    templates/pdf/certificate.html. Raises DomainError when the doctor has no registration
    number."""
    certificate = MedicalCertificate.objects.select_related(
        "clinic", "patient", "visit", "doctor__user", "doctor__doctor_profile", "supersedes"
    ).get(pk=certificate_id)
    clinic, patient = certificate.clinic, certificate.patient
    tz = clinic.tzinfo
    doctor_name = _doctor_name(certificate.doctor.user.full_name)
    profile = _profile(certificate)
    if profile is None or not profile.registration_number.strip():
        raise DomainError(
            NO_REGISTRATION_MESSAGE.format(name=doctor_name), code="no_registration_number"
        )
    issued_on = timezone.localtime(certificate.issued_at, tz).date()
    examined_on = examination_date(certificate.visit, tz) if certificate.visit_id else issued_on
    patient_block = _patient_block(patient, issued_on)
    patient_block["address"] = certificate.patient_address
    issued_display = format_datetime(certificate.issued_at, tz)
    days = certificate.rest_days
    return {
        "is_draft": False,
        "number": certificate.number,
        "kind": certificate.kind,
        "title": TITLES.get(certificate.kind, "Medical certificate"),
        "issued_on_display": format_date(issued_on),
        "issued_at_display": issued_display,
        "examined_on_display": format_date(examined_on),
        "effective_from_display": format_date(certificate.effective_from),
        "effective_to_display": format_date(certificate.effective_to),
        "days": days,
        "days_text": _days_text(days) if days else "",
        "condition": certificate.condition,
        "remarks": certificate.remarks,
        "purpose": certificate.purpose,
        "identification_mark": certificate.identification_mark,
        "corrects": certificate.supersedes.number if certificate.supersedes_id else "",
        "clinic": clinic_letterhead(clinic),
        "doctor": {
            "name": doctor_name,
            "qualifications": profile.qualifications,
            "specialisation": profile.specialisation,
            "registration_number": profile.registration_number,
            "medical_council": profile.medical_council,
        },
        "patient": patient_block,
        "signature_line": f"Issued {issued_display}",
        # The standard statement is repeated in this language under the English (see the
        # template); English when Vaidya has no catalogue for the patient's language.
        "language": patient_language(patient.preferred_language),
    }


@register_renderer(DocumentKind.CERTIFICATE)
def _certificate_renderer(document: Document) -> RenderSpec:
    certificate = MedicalCertificate.objects.select_related("doctor").get(document=document)
    doc = certificate_document(certificate_id=certificate.pk)
    return RenderSpec("pdf/certificate.html", {"doc": doc}, doctor=certificate.doctor)


# ---------------------------------------------------------------------------------------------
# The register as CSV rows


def _links(certificate: MedicalCertificate) -> str:
    parts = []
    if certificate.supersedes_id:
        parts.append(f"corrects {certificate.supersedes.number}")
    try:
        successor = certificate.superseded_by
    except MedicalCertificate.DoesNotExist:
        successor = None
    if successor is not None:
        parts.append(f"corrected by {successor.number}")
    return "; ".join(parts)


def certificate_register_rows(*, clinic: Clinic, year: int) -> list[list[Any]]:
    """The year's register for a spreadsheet: a header row, then every certificate in number
    order, corrected and revoked ones included. Every cell is safe from formula injection."""
    tz = clinic.tzinfo
    certificates = (
        MedicalCertificate.objects.filter(year=year)
        .select_related(*_JOINS, "doctor__doctor_profile")
        .order_by("serial")
    )
    rows = [list(REGISTER_COLUMNS)]
    for certificate in certificates:
        issued_on = timezone.localtime(certificate.issued_at, tz).date()
        patient = _patient_block(certificate.patient, issued_on)
        profile = _profile(certificate)
        row = [
            certificate.number,
            timezone.localtime(certificate.issued_at, tz).strftime("%Y-%m-%d %H:%M"),
            certificate.get_kind_display(),
            patient["name"],
            patient["patient_number"],
            f"{patient['age']} / {patient['sex']}",
            _doctor_name(certificate.doctor.user.full_name),
            certificate.doctor_registration_number
            or (profile.registration_number if profile else ""),
            certificate.effective_from.isoformat(),
            certificate.effective_to.isoformat() if certificate.effective_to else "",
            certificate.rest_days or "",
            certificate.condition,
            certificate.purpose,
            certificate.get_status_display(),
            _links(certificate),
            certificate.revoked_reason,
        ]
        rows.append([csv_cell(cell) for cell in row])
    return rows
