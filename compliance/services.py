"""Writes to the consent ledger. Each records one event in the ledger and one in the audit trail."""

from __future__ import annotations

from django.db import transaction

from clinics.actors import Actor, actor_user
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic
from compliance.models import ConsentAction, ConsentEvent, ConsentMethod, ConsentPurpose
from compliance.notices import notice_text
from compliance.selectors import consent_granted
from patients.models import Patient


def _phone(patient: Patient) -> str:
    number = patient.messaging_phone
    return str(number) if number else ""


@transaction.atomic
def consent_grant(
    *, patient: Patient, purpose: str, method: str, actor: Actor, notice: str = ""
) -> ConsentEvent | None:
    """Record that the patient agreed to `purpose`, with the notice they were shown.

    Returns None when the patient has already agreed (nothing new to record). Marketing is
    never recorded for a minor, and a patient without a phone cannot agree to WhatsApp.
    """
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed({"purpose": ["Choose what the patient agrees to."]})
    if method not in ConsentMethod.values:
        raise ValidationFailed({"method": ["Say how the patient agreed."]})
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if purpose == ConsentPurpose.WHATSAPP_MARKETING and patient.is_minor:
        raise DomainError(
            "Vaidya never sends marketing messages to patients under 18.", code="minor"
        )
    phone = _phone(patient)
    if not phone:
        raise DomainError("Add the patient's phone number first.", field="purpose")
    if consent_granted(patient_id=patient.pk, purpose=purpose):
        return None
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    event = ConsentEvent.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        purpose=purpose,
        action=ConsentAction.GRANTED,
        method=method,
        notice_text=notice
        or notice_text(
            purpose=purpose, clinic=clinic, phone=phone, language=patient.preferred_language
        ),
        phone=phone,
        recorded_by=actor_user(actor),
    )
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.MESSAGING_CONSENT_GRANTED,
        target=event,
        patient_id=patient.pk,
        data={"purpose": purpose, "method": method},
    )
    return event


@transaction.atomic
def consent_withdraw(
    *, patient: Patient, purpose: str, method: str, actor: Actor, words: str = ""
) -> ConsentEvent | None:
    """Record that the patient withdrew `purpose` (at the desk, or by replying STOP).

    As easy as agreeing: no reason asked. Returns None when there was nothing to withdraw.
    """
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed({"purpose": ["Choose what the patient withdraws."]})
    if method not in ConsentMethod.values:
        raise ValidationFailed({"method": ["Say how the patient withdrew."]})
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not consent_granted(patient_id=patient.pk, purpose=purpose):
        return None
    event = ConsentEvent.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        purpose=purpose,
        action=ConsentAction.WITHDRAWN,
        method=method,
        notice_text=(words or "")[:1000],
        phone=_phone(patient),
        recorded_by=actor_user(actor),
    )
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.MESSAGING_CONSENT_WITHDRAWN,
        target=event,
        patient_id=patient.pk,
        data={"purpose": purpose, "method": method},
    )
    return event
