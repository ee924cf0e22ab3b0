"""Background tasks of the patients app (run by django-q2 workers)."""

from __future__ import annotations

from clinics.context import actor_context
from clinics.tenancy import clinic_scope, scopes_disabled


def render_document(document_id: int) -> str:
    """Render one generated document to PDF and store it. Idempotent: a ready document is left
    as it is, so running this twice (a retry, a duplicate enqueue) does no harm."""
    from patients.models import Document
    from patients.services.documents import document_render

    # Tenancy plumbing: find the document's clinic, then work inside that clinic's scope.
    with scopes_disabled():
        clinic_id = Document.objects.filter(pk=document_id).values_list("clinic_id", flat=True)
        clinic_id = clinic_id.first()
    if clinic_id is None:
        return "missing"
    with actor_context(via="task"), clinic_scope(clinic_id):
        return document_render(document_id=document_id).status
