"""What the rights services share: the timeline line, the audit event, the privacy contact."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from clinics.actors import Actor, actor_user
from clinics.audit import audit_record
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic
from compliance.rights.models import RightsKind, RightsRequest, RightsRequestEvent

NO_CONTACT = (
    "Set the clinic's privacy contact (a name, and an email or a phone) in Clinic settings "
    "first: every answer to a data request must name them."
)
BOARD = (
    "If you are not satisfied with this answer, you may take your grievance to the Data "
    "Protection Board of India."
)
MAX_TEXT = 4000


def timeline(request: RightsRequest, actor: Actor, what: str, note: str = "") -> None:
    """Add a line to the request's timeline (staff read it on the desk)."""
    RightsRequestEvent.objects.create(
        clinic_id=request.clinic_id,
        request=request,
        actor=actor_user(actor),
        what=what,
        note=note[:MAX_TEXT],
    )


def audit(request: RightsRequest, actor: Actor, action: str, **data: Any) -> None:
    """One audit event: ids, kinds, statuses and field names only, never personal values."""
    audit_record(
        clinic=request.clinic_id,
        actor=actor,
        action=action,
        target=request,
        patient_id=request.patient_id,
        data={"reference": request.reference, "kind": request.kind, **data},
    )


def privacy_contact(clinic: Clinic) -> str:
    """ "Name, email, phone" of the clinic's privacy contact; DomainError when unset."""
    name = " ".join((clinic.privacy_contact_name or "").split())
    phone = clinic.privacy_contact_phone.as_international if clinic.privacy_contact_phone else ""
    if not name or not (clinic.privacy_contact_email or phone):
        raise DomainError(NO_CONTACT, code="privacy_contact_missing")
    return ", ".join(part for part in (name, clinic.privacy_contact_email, phone) if part)


def reply_text(*, request: RightsRequest, clinic: Clinic, text: str) -> str:
    """The answer as the requester reads it: staff's words, the reference, whom to contact
    about privacy (DPDP Rules, rule 9) and, for a grievance, the Data Protection Board."""
    contact = privacy_contact(clinic)
    parts = [
        text.strip(),
        gettext("Reference: %(reference)s.") % {"reference": request.reference},
        gettext("Contact for privacy at %(clinic)s: %(contact)s.")
        % {"clinic": clinic.name, "contact": contact},
    ]
    if request.kind == RightsKind.GRIEVANCE:
        parts.append(gettext(BOARD))
    return "\n\n".join(p for p in parts if p)


def bounded_text(value: str, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """Text a user typed, trimmed; refused when missing (if required) or too long."""
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationFailed({field: [gettext("Null characters are not allowed.")]})
    if required and not value:
        raise ValidationFailed({field: [gettext("This is needed.")]})
    if len(value) > limit:
        raise ValidationFailed({field: [f"Keep this to {limit} characters."]})
    return value
