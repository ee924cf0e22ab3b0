"""Reads for consent forms: the clinic's templates and their versions, a patient's signed
consents, one consent's page, and the printed form (registered as the renderer of signed
consent documents, so this module is imported at startup by patients.apps).

Callers run inside the clinic's scope.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from clinics.errors import DomainError
from clinics.formatting import format_date, format_datetime
from clinics.pdf import png_data_uri
from clinics.storage import storage
from patients.models import (
    ConsentTemplate,
    ConsentTemplateVersion,
    Document,
    DocumentKind,
    Relation,
    SignedConsent,
    SignerKind,
)
from patients.rendering import RenderSpec, register_renderer
from patients.selectors.prescriptions import _patient_block, clinic_letterhead

# The languages a form's text may be written in (ISO 639-1 codes), English first.
CONSENT_LANGUAGES: list[tuple[str, str]] = [
    ("en", "English"),
    ("hi", "Hindi"),
    ("kn", "Kannada"),
    ("ta", "Tamil"),
    ("te", "Telugu"),
    ("ml", "Malayalam"),
    ("mr", "Marathi"),
    ("bn", "Bengali"),
    ("gu", "Gujarati"),
    ("pa", "Punjabi"),
    ("or", "Odia"),
    ("ur", "Urdu"),
]
SIGNATURE_MISSING = (
    "The stored signature of this consent could not be read, so the form cannot be printed. "
    "Tell support."
)
SIGNATURE_CHANGED = (
    "The stored signature of this consent does not match the one that was signed, so the form "
    "cannot be printed. Tell support."
)


def consent_templates() -> QuerySet[ConsentTemplate]:
    """The clinic's consent forms, in use first, then by name, each with its current version
    number (one query)."""
    return ConsentTemplate.objects.annotate(current_version=Max("versions__version")).order_by(
        "-is_active", "name", "id"
    )


def active_templates() -> QuerySet[ConsentTemplate]:
    """The forms that can be signed now, by name."""
    return ConsentTemplate.objects.filter(is_active=True).order_by("name", "id")


def template_versions(template: ConsentTemplate) -> list[ConsentTemplateVersion]:
    """Every version of a form, newest first, with who wrote it and how many consents were
    signed on it (`signed_count`). Two queries."""
    counts = signed_counts(template)
    versions = list(
        ConsentTemplateVersion.objects.filter(template=template)
        .select_related("created_by")
        .order_by("-version")
    )
    for version in versions:
        version.signed_count = counts.get(version.version, 0)
    return versions


def current_version(template: ConsentTemplate) -> ConsentTemplateVersion | None:
    """The text a form is signed on now: its newest version."""
    return (
        ConsentTemplateVersion.objects.filter(template=template)
        .select_related("template")
        .order_by("-version")
        .first()
    )


def signed_counts(template: ConsentTemplate) -> dict[int, int]:
    """{version number: consents signed on it} for one form."""
    rows = (
        SignedConsent.objects.filter(template_version__template=template)
        .order_by()
        .values_list("template_version__version")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def patient_consents(*, patient_id: int) -> QuerySet[SignedConsent]:
    """A patient's signed consents, newest first, with the form, witness and PDF (one query)."""
    return (
        SignedConsent.objects.filter(patient_id=patient_id)
        .select_related("template_version__template", "witness__user", "document")
        .order_by("-signed_at", "-id")
    )


def consent_page(*, consent_id: int) -> SignedConsent:
    """One signed consent with everything its page shows (raises SignedConsent.DoesNotExist)."""
    return SignedConsent.objects.select_related(
        "patient", "template_version__template", "witness__user", "document", "visit"
    ).get(pk=consent_id)


def signer_label(consent: SignedConsent) -> str:
    """ "Kavya Reddy (the patient)" or "Lakshmi Reddy (Mother)"."""
    if consent.signer_kind == SignerKind.PATIENT:
        return f"{consent.signer_name} (the patient)"
    relation = (
        Relation(consent.signer_relation).label
        if consent.signer_relation in Relation.values
        else "Guardian"
    )
    return f"{consent.signer_name} ({relation})"


def signature_data_uri(consent: SignedConsent) -> str:
    """The drawn signature as a data: URL for the consent's page, or "" if it cannot be read
    or does not match its hash (the page then says so)."""
    try:
        return png_data_uri(_signature_png(consent))
    except DomainError:
        return ""


# ---------------------------------------------------------------------------------------------
# The printed form


def _signature_png(consent: SignedConsent) -> bytes:
    try:
        with storage().open(consent.signature.name, "rb") as fh:
            data = fh.read()
    except Exception:
        raise DomainError(SIGNATURE_MISSING, code="signature_missing") from None
    if hashlib.sha256(data).hexdigest() != consent.signature_sha256:
        raise DomainError(SIGNATURE_CHANGED, code="signature_changed")
    return data


def consent_document(*, consent_id: int) -> dict[str, Any]:
    """Everything the printed consent carries, as plain strings: the form's title, text and
    version as signed, the patient, the details, the signer and their signature, the time
    (in the clinic's time zone) and the witness.

    Raises DomainError when the stored signature is missing or does not match its hash.
    """
    consent = SignedConsent.objects.select_related(
        "clinic", "patient", "template_version__template", "witness__user"
    ).get(pk=consent_id)
    clinic, patient, version = consent.clinic, consent.patient, consent.template_version
    tz = clinic.tzinfo
    signed_on = timezone.localtime(consent.signed_at, tz).date()
    witness = consent.witness
    return {
        "clinic": clinic_letterhead(clinic),
        "doctor": None,
        "title": version.title,
        "body": version.body,
        "language": version.language,
        "language_label": dict(CONSENT_LANGUAGES).get(version.language, version.language),
        "template_name": version.template.name,
        "kind": version.template.get_kind_display(),
        "version": version.version,
        "patient": _patient_block(patient, signed_on),
        "details": consent.details,
        "signer_is_patient": consent.signer_kind == SignerKind.PATIENT,
        "signer_name": consent.signer_name,
        "signer_relation": consent.get_signer_relation_display(),
        "signer_label": signer_label(consent),
        "signature_uri": png_data_uri(_signature_png(consent)),
        "signature_sha256": consent.signature_sha256,
        "signed_at_display": format_datetime(consent.signed_at, tz),
        "date_display": format_date(signed_on),
        "witness_name": witness.user.full_name,
        "witness_role": witness.get_role_display(),
        "consent_number": consent.pk,
    }


@register_renderer(DocumentKind.CONSENT)
def _consent_renderer(document: Document) -> RenderSpec:
    consent_id = (
        SignedConsent.objects.filter(document=document).values_list("pk", flat=True).first()
    )
    if consent_id is None:
        raise DomainError("This document has no signed consent behind it.", code="no_consent")
    return RenderSpec("pdf/consent.html", {"doc": consent_document(consent_id=consent_id)})
