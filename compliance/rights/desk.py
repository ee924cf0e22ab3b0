"""The rights desk as `compliance.rights_intake` sees it: a request recognised in a patient's
WhatsApp message becomes a `RightsRequest` per kind, checking identity ("verifying")."""

from __future__ import annotations

from clinics.models import Clinic
from compliance import rights_intake
from compliance.rights.models import Channel, RightsKind, RightsRequest, RightsStatus
from compliance.rights.services.requests import rights_request_create
from patients.models import Patient

# The channel's words -> the desk's kinds; a copy of the records is an access request with
# copies (72 hours, IMC reg. 1.3.2).
KIND_MAP = {
    rights_intake.ACCESS: RightsKind.ACCESS,
    rights_intake.COPY: RightsKind.ACCESS,
    rights_intake.CORRECTION: RightsKind.CORRECTION,
    rights_intake.DELETION: RightsKind.ERASURE,
}


def receive(seen: rights_intake.RightsRequestSeen) -> bool:
    """Record the request (idempotent on the channel's reference); True: the desk has it."""
    clinic = Clinic.objects.get(pk=seen.clinic_id)
    patient = Patient.objects.filter(pk=seen.patient_id).first() if seen.patient_id else None
    kinds: dict[str, bool] = {}
    for said in seen.kinds:
        kind = KIND_MAP.get(said)
        if kind is not None:
            kinds[kind] = kinds.get(kind, False) or said == rights_intake.COPY
    for kind, records_copy in kinds.items():
        reference = seen.reference[:80]
        if RightsRequest.objects.filter(source_reference=reference, kind=kind).exists():
            continue
        rights_request_create(
            clinic=clinic,
            actor=None,
            kind=kind,
            patient=patient,
            details=seen.words,
            records_copy=records_copy,
            channel=Channel.WHATSAPP if seen.channel == "whatsapp" else Channel.API,
            source_reference=reference,
            status=RightsStatus.VERIFYING,
        )
    return bool(kinds)


DESK = rights_intake.RightsDesk(name="compliance.rights_desk", order=50, receive=receive)
