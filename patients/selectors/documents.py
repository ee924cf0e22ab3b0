"""Reads for documents: a patient's documents, a visit's PDFs, and the public verification facts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from clinics.formatting import format_date
from clinics.languages import patient_language
from clinics.models import Clinic
from patients.models import Document, DocumentKind


def patient_documents(*, patient_id: int) -> QuerySet[Document]:
    """All of a patient's documents, newest first, with who made them (one query)."""
    return (
        Document.objects.filter(patient_id=patient_id)
        .select_related("created_by", "visit")
        .order_by("-created_at", "-id")
    )


def visit_documents(*, visit_id: int) -> dict[str, Document]:
    """The visit's generated PDFs by kind (prescription, visit_summary)."""
    return {
        d.kind: d
        for d in Document.objects.filter(
            visit_id=visit_id,
            kind__in=[DocumentKind.PRESCRIPTION, DocumentKind.VISIT_SUMMARY],
        )
    }


def verification_facts(*, document_id: int) -> dict[str, Any]:
    """What the public verification page may say about an issued document, and nothing more:
    the clinic, the kind, the issue date, the doctor, and whether it is valid or superseded."""
    document = Document.objects.select_related("visit__doctor__user", "patient").get(pk=document_id)
    clinic = Clinic.objects.only("name", "city", "timezone").get(pk=document.clinic_id)
    person_label, person = gettext_lazy("Doctor"), ""
    if document.visit_id:
        person = document.visit.doctor.user.full_name
    elif (certificate := _related(document, "certificate")) is not None:
        person = certificate.doctor.user.full_name
    elif (consent := _related(document, "signed_consent")) is not None:
        person_label, person = gettext_lazy("Witnessed by"), consent.witness.user.full_name
    return {
        "clinic": clinic.name,
        "city": clinic.city,
        # Lazy: the page says them in its own language.
        "kind": DocumentKind(document.kind).label,
        "issued_on": format_date(timezone.localtime(document.created_at, clinic.tzinfo).date()),
        "person_label": person_label,
        "person": person,
        "validity": document.validity,
        # The page speaks the patient's language (English when Vaidya has no catalogue for it);
        # the language alone says nothing about who the patient is.
        "language": patient_language(document.patient.preferred_language),
    }


def _related(document: Document, name: str):
    try:
        return getattr(document, name)
    except ObjectDoesNotExist:
        return None
