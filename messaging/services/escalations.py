"""Escalations: alerts to the doctor that stay open until someone acts on them."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import Membership, User
from messaging.models import Escalation, EscalationState, Message
from messaging.services.staff_alerts import enqueue_escalation_alert
from patients.models import Patient


@transaction.atomic
def escalation_open(
    *,
    patient: Patient,
    reason: str,
    detail: str,
    subject: str,
    doctor: Membership | None = None,
    message: Message | None = None,
) -> Escalation:
    """Open an alert for the patient's doctor; one open alert per (reason, subject).

    `subject` names what it is about ("prescription:12", "appointment:5", "message:9"), so the
    same cause never opens a second alert while the first is open: that one is returned (and
    nothing more is sent). A new alert also goes to the doctor's WhatsApp when they opted in
    (messaging.services.staff_alerts).
    """
    existing = Escalation.objects.filter(
        clinic_id=patient.clinic_id, reason=reason, subject=subject, state=EscalationState.OPEN
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                doctor=doctor,
                reason=reason,
                detail=detail[:500],
                subject=subject[:60],
                message=message,
            )
    except IntegrityError:  # opened concurrently
        return Escalation.objects.get(
            clinic_id=patient.clinic_id, reason=reason, subject=subject, state=EscalationState.OPEN
        )
    audit_record(
        clinic=patient.clinic_id,
        actor=None,
        action=Actions.ESCALATION_OPENED,
        target=escalation,
        patient_id=patient.pk,
        data={"reason": reason, "doctor_id": doctor.pk if doctor else None},
    )
    # The doctor's own WhatsApp too, if they asked for it (after commit, in a worker).
    enqueue_escalation_alert(escalation.pk)
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, actor: User, resolution: str) -> Escalation:
    """Close an alert, saying what was done (called the patient, changed the medicine, ...)."""
    resolution = " ".join((resolution or "").split())
    if not resolution:
        raise DomainError("Say what was done about it.", field="resolution")
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.state == EscalationState.RESOLVED:
        raise DomainError("This alert was already resolved.", code="conflict")
    escalation.state = EscalationState.RESOLVED
    escalation.resolved_at = timezone.now()
    escalation.resolved_by = actor
    escalation.resolution = resolution[:500]
    escalation.save(update_fields=["state", "resolved_at", "resolved_by", "resolution"])
    audit_record(
        clinic=escalation.clinic_id,
        actor=actor,
        action=Actions.ESCALATION_RESOLVED,
        target=escalation,
        patient_id=escalation.patient_id,
        data={"reason": escalation.reason},
    )
    return escalation
