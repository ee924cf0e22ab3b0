"""The audit trail: action names, writing events, sealing them into a hash chain, verifying it.

Every service that creates, changes, signs, exports or deletes something calls `audit_record`
inside its transaction, so the event exists exactly when the change does.

Sealing: events are written unsealed (no `seq`, no hash) so writers never queue on a
clinic-wide lock. `audit_seal` (run by a django-q2 schedule every AUDIT_SEAL_INTERVAL_SECONDS,
60 s by default) takes the clinic's chain head row lock, numbers the pending events and links
each to the previous one by SHA-256. An event is therefore unsealed for at most about one
interval plus the time the schedule takes to run; `verify_audit_chain` seals first, then
verifies, and reports events still unsealed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from clinics.actors import Actor, audit_fields
from clinics.context import get_context
from clinics.models import AuditChainHead, AuditEvent, Clinic
from clinics.tenancy import clinic_scope


class Actions:
    """Every audit action name, in one place. Format: <app>.<entity>.<verb>."""

    CLINIC_CREATED = "clinics.clinic.created"
    CLINIC_UPDATED = "clinics.clinic.updated"
    MEMBERSHIP_CREATED = "clinics.membership.created"
    MEMBERSHIP_ROLE_CHANGED = "clinics.membership.role_changed"
    MEMBERSHIP_DEACTIVATED = "clinics.membership.deactivated"
    MEMBERSHIP_REACTIVATED = "clinics.membership.reactivated"
    DOCTOR_PROFILE_UPDATED = "clinics.doctor_profile.updated"
    INVITATION_CREATED = "clinics.invitation.created"
    INVITATION_ACCEPTED = "clinics.invitation.accepted"
    INVITATION_REVOKED = "clinics.invitation.revoked"
    API_KEY_CREATED = "clinics.api_key.created"
    API_KEY_REVOKED = "clinics.api_key.revoked"
    AUDIT_VIEWED = "clinics.audit.viewed"
    STAFF_SIGNED_IN = "clinics.staff.signed_in"
    STAFF_PASSWORD_RESET = "clinics.staff.password_reset"  # noqa: S105 (an action name)
    TWO_FACTOR_ENABLED = "clinics.two_factor.enabled"
    TWO_FACTOR_DISABLED = "clinics.two_factor.disabled"

    PATIENT_CREATED = "patients.patient.created"
    PATIENT_UPDATED = "patients.patient.updated"
    PATIENT_VIEWED = "patients.patient.viewed"
    PATIENT_ARCHIVED = "patients.patient.archived"
    PATIENT_RESTORED = "patients.patient.restored"
    GUARDIAN_ADDED = "patients.guardian.added"
    GUARDIAN_REMOVED = "patients.guardian.removed"

    WORKING_HOURS_SET = "patients.working_hours.set"
    DOCTOR_LEAVE_ADDED = "patients.doctor_leave.added"
    DOCTOR_LEAVE_REMOVED = "patients.doctor_leave.removed"
    APPOINTMENT_BOOKED = "patients.appointment.booked"
    APPOINTMENT_RESCHEDULED = "patients.appointment.rescheduled"
    APPOINTMENT_CANCELLED = "patients.appointment.cancelled"
    APPOINTMENT_CHECKED_IN = "patients.appointment.checked_in"
    APPOINTMENT_WALK_IN = "patients.appointment.walk_in"
    APPOINTMENT_NO_SHOW = "patients.appointment.no_show"
    APPOINTMENT_STARTED = "patients.appointment.started"
    APPOINTMENT_COMPLETED = "patients.appointment.completed"

    VISIT_STARTED = "patients.visit.started"
    VISIT_NOTES_UPDATED = "patients.visit.notes_updated"
    VISIT_SIGNED = "patients.visit.signed"
    VISIT_AMENDED = "patients.visit.amended"
    VISIT_VIEWED = "patients.visit.viewed"
    VITALS_RECORDED = "patients.vitals.recorded"
    DIAGNOSIS_ADDED = "patients.diagnosis.added"
    DIAGNOSIS_REMOVED = "patients.diagnosis.removed"
    PROCEDURE_ADDED = "patients.procedure.added"
    PROCEDURE_REMOVED = "patients.procedure.removed"

    DRUG_ADDED = "patients.drug.added"
    DRUG_UPDATED = "patients.drug.updated"
    DRUG_FAVOURITE_SET = "patients.drug.favourite_set"
    DRUG_DEACTIVATED = "patients.drug.deactivated"
    DRUG_REACTIVATED = "patients.drug.reactivated"
    PRESCRIPTION_CREATED = "patients.prescription.created"
    PRESCRIPTION_ITEM_ADDED = "patients.prescription.item_added"
    PRESCRIPTION_ITEM_UPDATED = "patients.prescription.item_updated"
    PRESCRIPTION_ITEM_REMOVED = "patients.prescription.item_removed"
    PRESCRIPTION_ITEM_STOPPED = "patients.prescription.item_stopped"
    PRESCRIPTION_TEMPLATE_APPLIED = "patients.prescription.template_applied"
    PRESCRIPTION_REPEATED = "patients.prescription.repeated"
    PATIENT_ALLERGY_ADDED = "patients.allergy.added"
    PATIENT_ALLERGY_REMOVED = "patients.allergy.removed"
    FORMULARY_IMPORTED = "patients.drug.formulary_imported"
    PRESCRIPTION_TEMPLATE_SAVED = "patients.prescription_template.saved"
    PRESCRIPTION_TEMPLATE_DELETED = "patients.prescription_template.deleted"
    # Documents, certificates and consent forms
    DOCUMENT_REQUESTED = "patients.document.requested"
    DOCUMENT_GENERATED = "patients.document.generated"
    DOCUMENT_FAILED = "patients.document.failed"
    DOCUMENT_UPLOADED = "patients.document.uploaded"
    DOCUMENT_DOWNLOADED = "patients.document.downloaded"
    DOCUMENT_SUPERSEDED = "patients.document.superseded"
    CERTIFICATE_ISSUED = "patients.certificate.issued"
    CERTIFICATE_REVOKED = "patients.certificate.revoked"
    CERTIFICATE_REGISTER_EXPORTED = "patients.certificate.register_exported"
    CONSENT_TEMPLATE_SAVED = "patients.consent_template.saved"
    CONSENT_TEMPLATE_DEACTIVATED = "patients.consent_template.deactivated"
    CONSENT_SIGNED = "patients.consent.signed"
    CONSENT_WITHDRAWN = "patients.consent.withdrawn"
    # Compliance: the DPDP consent ledger
    MESSAGING_CONSENT_GRANTED = "compliance.consent.granted"
    MESSAGING_CONSENT_WITHDRAWN = "compliance.consent.withdrawn"
    # Messaging: WhatsApp account, conversations, reminders, escalations
    WHATSAPP_CONNECTED = "messaging.account.connected"
    WHATSAPP_UPDATED = "messaging.account.updated"
    WHATSAPP_DISCONNECTED = "messaging.account.disconnected"
    WHATSAPP_TOKEN_REJECTED = "messaging.account.token_rejected"  # noqa: S105 (an action name)
    MESSAGING_SETTINGS_UPDATED = "messaging.settings.updated"
    TEMPLATES_SYNCED = "messaging.templates.synced"
    TEMPLATES_SUBMITTED = "messaging.templates.submitted"
    MESSAGE_SENT = "messaging.message.sent"
    MESSAGE_RESENT = "messaging.message.resent"
    CONVERSATION_LINKED = "messaging.conversation.linked"
    CONVERSATION_ASSIGNED = "messaging.conversation.assigned"
    CONVERSATION_RESOLVED = "messaging.conversation.resolved"
    CONVERSATION_VIEWED = "messaging.conversation.viewed"
    REMINDER_CANCELLED = "messaging.reminder.cancelled"
    ESCALATION_OPENED = "messaging.escalation.opened"
    ESCALATION_RESOLVED = "messaging.escalation.resolved"
    ESCALATION_ALERT_QUEUED = "messaging.escalation.whatsapp_alert_queued"
    WHATSAPP_ALERTS_TURNED_ON = "messaging.whatsapp_alerts.turned_on"
    WHATSAPP_ALERTS_CHANGED = "messaging.whatsapp_alerts.changed"
    WHATSAPP_ALERTS_TURNED_OFF = "messaging.whatsapp_alerts.turned_off"

    @classmethod
    def all(cls) -> list[str]:
        return sorted(v for k, v in vars(cls).items() if k.isupper())


def audit_record(
    *,
    clinic: Clinic | int,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    patient_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the service's transaction."""
    ctx = get_context()
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    event = AuditEvent(
        clinic_id=clinic_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        patient_id=patient_id,
        ip=ctx.ip,
        user_agent=(ctx.user_agent or "")[:300],
        via=ctx.via,
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        **audit_fields(actor),
    )
    event.save(force_insert=True)
    return event


# ---------------------------------------------------------------------------------------------
# The chain


def event_digest(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over the event's content, its place in the chain and the previous link."""
    material = {
        "seq": event.seq,
        "prev": prev_hash,
        "clinic": event.clinic_id,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "actor": event.actor_id,
        "api_key": event.api_key_id,
        "actor_label": event.actor_label,
        "via": event.via,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "patient_id": event.patient_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "data": event.data,
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def audit_seal(*, clinic_id: int, batch_size: int = 2000) -> int:
    """Seal a clinic's pending audit events into its hash chain. Returns how many were sealed.

    Idempotent and safe to run from several workers at once: the chain head row lock makes
    sealers of one clinic take turns, and only unsealed events are touched.
    """
    sealed = 0
    with clinic_scope(clinic_id):
        while True:
            with transaction.atomic():
                head, _ = AuditChainHead.objects.get_or_create(clinic_id=clinic_id)
                head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
                pending = list(
                    AuditEvent.objects.filter(hash="").order_by("created_at", "id")[:batch_size]
                )
                if not pending:
                    return sealed
                for event in pending:
                    event.seq = head.last_seq + 1
                    event.prev_hash = head.last_hash
                    event.hash = event_digest(event, head.last_hash)
                    head.last_seq, head.last_hash = event.seq, event.hash
                AuditEvent.objects.bulk_update(pending, ["seq", "prev_hash", "hash"])
                head.sealed_at = timezone.now()
                head.save(update_fields=["last_seq", "last_hash", "sealed_at"])
                sealed += len(pending)
            if len(pending) < batch_size:
                return sealed


@dataclass
class ChainReport:
    ok: bool
    checked: int
    unsealed: int
    problem: str = ""
    broken_seq: int | None = None


def audit_verify(*, clinic_id: int) -> ChainReport:
    """Walk a clinic's chain and report the first broken link.

    Detects an edited event (its hash no longer matches), a deleted event (a gap in `seq` or a
    `prev_hash` that does not match), and deleted events at the end (the head records more).
    """
    with clinic_scope(clinic_id):
        head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
        unsealed = AuditEvent.objects.filter(hash="").count()
        expected_seq, prev_hash, checked = 1, "", 0
        events = AuditEvent.objects.exclude(hash="").order_by("seq").iterator(chunk_size=2000)
        for event in events:
            if event.seq != expected_seq:
                return ChainReport(
                    False,
                    checked,
                    unsealed,
                    f"event #{expected_seq} is missing (next present is #{event.seq})",
                    expected_seq,
                )
            if event.prev_hash != prev_hash:
                return ChainReport(
                    False,
                    checked,
                    unsealed,
                    f"event #{event.seq} does not link to #{event.seq - 1}",
                    event.seq,
                )
            if event_digest(event, prev_hash) != event.hash:
                return ChainReport(
                    False,
                    checked,
                    unsealed,
                    f"event #{event.seq} ({event.action}) was changed after it was sealed",
                    event.seq,
                )
            prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        head_seq = head.last_seq if head else 0
        if head_seq != checked or (head and head.last_hash != prev_hash):
            return ChainReport(
                False,
                checked,
                unsealed,
                f"the chain ends at #{checked} but {head_seq} events were sealed",
                checked + 1,
            )
        return ChainReport(True, checked, unsealed)
