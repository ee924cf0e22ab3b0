"""Which template and context render each kind of generated document.

A registry keyed by document kind. The visit documents (prescription, visit summary) register
here; certificates and consent forms register from their own modules; the billing app adds
bills the same way, so this module never imports the apps above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import reverse

from clinics.models import Clinic, DoctorProfile, Membership
from clinics.pdf import image_data_uri, qr_data_uri
from patients.models import Document, DocumentKind
from patients.selectors.prescriptions import prescription_document
from patients.selectors.visit_pages import visit_summary_document


@dataclass
class RenderSpec:
    template: str
    context: dict[str, Any]
    # Whose signature image goes on the document, if anyone's.
    doctor: Membership | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Renderer = Callable[[Document], RenderSpec]
_renderers: dict[str, Renderer] = {}


def register_renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def decorator(fn: Renderer) -> Renderer:
        _renderers[kind] = fn
        return fn

    return decorator


def renderer_for(kind: str) -> Renderer:
    try:
        return _renderers[kind]
    except KeyError:
        raise LookupError(f"No renderer for documents of kind {kind!r}") from None


def verify_url(token: str) -> str:
    return settings.SITE_URL + reverse("document-verify", args=[token])


def document_context(document: Document, spec: RenderSpec) -> dict[str, Any]:
    """The spec's context plus what every issued document carries: logo, signature, QR."""
    clinic = Clinic.objects.only("id", "logo").get(pk=document.clinic_id)
    signature = ""
    if spec.doctor is not None:
        profile = DoctorProfile.objects.filter(membership=spec.doctor).only("signature").first()
        signature = image_data_uri(profile.signature) if profile else ""
    context = {**spec.context, "logo_uri": image_data_uri(clinic.logo), "signature_uri": signature}
    if document.verify_token:
        url = verify_url(document.verify_token)
        context.update(verify_url=url, qr_uri=qr_data_uri(url))
    return context


@register_renderer(DocumentKind.PRESCRIPTION)
def _prescription(document: Document) -> RenderSpec:
    doc = prescription_document(visit=document.visit)
    return RenderSpec("pdf/prescription.html", {"doc": doc}, doctor=document.visit.doctor)


@register_renderer(DocumentKind.VISIT_SUMMARY)
def _visit_summary(document: Document) -> RenderSpec:
    doc = visit_summary_document(visit_id=document.visit_id)
    return RenderSpec("pdf/visit_summary.html", {"doc": doc}, doctor=document.visit.doctor)
