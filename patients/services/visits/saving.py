"""One save for what the visit editor edits in place: the notes and the vitals together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from clinics.errors import ValidationFailed
from clinics.models import Membership, User
from patients.models import Visit
from patients.services.visits.drafting import _gather
from patients.services.visits.notes import visit_update_notes
from patients.services.visits.vitals import vitals_record


@transaction.atomic
def visit_save_draft(
    *,
    visit: Visit,
    actor: User,
    actor_membership: Membership,
    notes: Mapping[str, Any] | None = None,
    vitals: Mapping[str, Any] | None = None,
) -> Visit:
    """Save a draft's notes and vitals at once: both, or nothing.

    A doctor who types vitals and then presses Save loses neither. Each part is the existing
    service (same checks, same audit event); a part given as None is left as it is. Field
    errors come back together, filed under "notes.<field>" and "vitals.<field>", and nothing is
    saved while any remains.
    """
    errors: dict[str, list[str]] = {}
    by = {"visit": visit, "actor": actor, "actor_membership": actor_membership}
    if notes is not None:
        _gather(errors, "notes", lambda: visit_update_notes(**by, **notes))
    if vitals:
        _gather(errors, "vitals", lambda: vitals_record(**by, **vitals))
    if errors:
        raise ValidationFailed(errors)
    return visit
