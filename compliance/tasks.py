"""Background work of the compliance app (django-q2)."""

from __future__ import annotations

from clinics.tenancy import for_each_clinic
from compliance.rights.services import rights_requests_remind


def _remind(clinic_id: int) -> int:
    return rights_requests_remind(clinic_id=clinic_id)


def remind_rights_requests() -> int:
    """Remind owners of data-rights requests coming due (each once); safe to run twice."""
    return sum(for_each_clinic(_remind, name="Reminding rights request owners").values())
