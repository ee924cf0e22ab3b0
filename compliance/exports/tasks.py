"""The export's task (django-q2)."""

from __future__ import annotations

from clinics.tenancy import clinic_task
from compliance.exports.models import DataExport
from compliance.exports.services import export_build


@clinic_task(DataExport)
def build_export(export_id: int) -> str:
    """Build one export's ZIP. Idempotent: a ready or claimed export is left as it is."""
    return export_build(export_id=export_id).status
