"""Background tasks of the patients app (run by django-q2 workers)."""

from __future__ import annotations

from clinics.tenancy import clinic_task
from patients.models import Document
from patients.services.documents import document_render


@clinic_task(Document)
def render_document(document_id: int) -> str:
    """Render one generated document to PDF and store it. Idempotent: a ready document is left
    as it is, so running this twice (a retry, a duplicate enqueue) does no harm."""
    return document_render(document_id=document_id).status
