"""The audit trail: action names, writing events, sealing them into a keyed chain, verifying it.

Every service that creates, changes, signs, exports or deletes something calls `audit_record`
inside its transaction, so the event exists exactly when the change does.

Sealing: events are written unsealed (no `seq`, no hash) so writers never queue on a
clinic-wide lock. `audit_seal` (run by a django-q2 schedule every AUDIT_SEAL_INTERVAL_SECONDS,
60 s by default) takes the clinic's chain head row lock, numbers the pending events and links
each to the previous one by HMAC-SHA256 with the audit key (clinics.audit_keys), which is not in
the database. An unsealed event is not protected: it is sealed within about one interval.

Verification (`audit_verify`, `manage.py verify_audit_chain`) only reads: it checks every sealed
link with the keys, checks the chain against the heads published outside the database
(clinics.audit_heads) to catch a chain cut short, and counts unsealed events separately.

Pruning (`audit_prune`, called by the retention purge): events older than the clinic's period
for audit logs are deleted from the start of the chain, a batch per short transaction. Each
batch first checks the links it removes, then moves the clinic's `AuditAnchor` (the last removed
event's seq and hash, sealed with the audit key) forward in the same transaction, so the chain
verifies from the anchor onward; a changed anchor, or events removed without moving it, show as a
break. Pruning stops at the first event about a patient under a legal hold.

Events sealed with plain SHA-256 before keyed sealing keep their digests (`key_id` empty). They
may only form the start of a chain, and migration 0008 anchored each clinic's unkeyed prefix
with the key (`AuditChainHead.legacy_*`), so they cannot be rewritten or extended either.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models.sql import DeleteQuery
from django.utils import timezone

from clinics import audit_keys
from clinics.actors import Actor, audit_fields
from clinics.audit_heads import PublishedHead, published_heads
from clinics.context import get_context
from clinics.models import AuditAnchor, AuditChainHead, AuditEvent, Clinic
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
    DOCTOR_ROOM_SET = "patients.doctor_room.set"
    DISPLAY_LINK_CREATED = "patients.display_link.created"
    DISPLAY_LINK_REVOKED = "patients.display_link.revoked"
    APPOINTMENT_BOOKED = "patients.appointment.booked"
    APPOINTMENT_RESCHEDULED = "patients.appointment.rescheduled"
    APPOINTMENT_CANCELLED = "patients.appointment.cancelled"
    APPOINTMENT_CHECKED_IN = "patients.appointment.checked_in"
    APPOINTMENT_WALK_IN = "patients.appointment.walk_in"
    APPOINTMENT_NO_SHOW = "patients.appointment.no_show"
    APPOINTMENT_STARTED = "patients.appointment.started"
    APPOINTMENT_COMPLETED = "patients.appointment.completed"
    APPOINTMENT_REOPENED = "patients.appointment.reopened"

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
    VERIFICATION_CODE_SENT = "compliance.verification.code_sent"
    VERIFICATION_CODE_CHECKED = "compliance.verification.code_checked"
    RIGHTS_REQUEST_RECORDED = "compliance.rights_request.recorded"
    RIGHTS_REQUEST_STATUS_CHANGED = "compliance.rights_request.status_changed"
    RIGHTS_REQUEST_ASSIGNED = "compliance.rights_request.assigned"
    RIGHTS_REQUEST_VERIFIED = "compliance.rights_request.verified"
    RIGHTS_REQUEST_ANSWERED = "compliance.rights_request.answered"
    RIGHTS_REQUEST_REMINDED = "compliance.rights_request.reminded"
    RIGHTS_REQUEST_JOB_ATTACHED = "compliance.rights_request.job_attached"
    CORRECTION_PROPOSED = "compliance.correction.proposed"
    CORRECTION_APPROVED = "compliance.correction.approved"
    CORRECTION_REFUSED = "compliance.correction.refused"
    NOMINATION_RECORDED = "compliance.nomination.recorded"
    NOMINATION_REVOKED = "compliance.nomination.revoked"
    NOMINATION_EVIDENCE_RECORDED = "compliance.nomination.evidence_recorded"
    # Compliance: retention, legal holds and the purge
    RETENTION_POLICY_CHANGED = "compliance.retention.policy_changed"
    LEGAL_HOLD_SET = "compliance.legal_hold.set"
    LEGAL_HOLD_LIFTED = "compliance.legal_hold.lifted"
    RETENTION_PURGED = "compliance.retention.purged"
    ERASURE_NOTICE_GIVEN = "compliance.retention.erasure_noticed"
    PATIENT_RECORD_ERASED_EXPIRED = "compliance.retention.record_erased"
    # Messaging: WhatsApp account, conversations, reminders, escalations
    WHATSAPP_CONNECTED = "messaging.account.connected"
    WHATSAPP_UPDATED = "messaging.account.updated"
    WHATSAPP_DISCONNECTED = "messaging.account.disconnected"
    WHATSAPP_TOKEN_REJECTED = "messaging.account.token_rejected"  # noqa: S105 (an action name)
    MESSAGING_SETTINGS_UPDATED = "messaging.settings.updated"
    TEMPLATES_SYNCED = "messaging.templates.synced"
    TEMPLATES_SUBMITTED = "messaging.templates.submitted"
    TEMPLATES_LANGUAGE_ADDED = "messaging.templates.language_added"
    MESSAGE_SENT = "messaging.message.sent"
    MESSAGE_RESENT = "messaging.message.resent"
    CONVERSATION_LINKED = "messaging.conversation.linked"
    CONVERSATION_ASSIGNED = "messaging.conversation.assigned"
    CONVERSATION_RESOLVED = "messaging.conversation.resolved"
    CONVERSATION_VIEWED = "messaging.conversation.viewed"
    REMINDER_CANCELLED = "messaging.reminder.cancelled"
    ESCALATION_OPENED = "messaging.escalation.opened"
    ESCALATION_RESOLVED = "messaging.escalation.resolved"
    ESCALATION_ACKNOWLEDGED = "messaging.escalation.acknowledged"
    ESCALATION_ALERT_QUEUED = "messaging.escalation.whatsapp_alert_queued"
    WHATSAPP_ALERTS_TURNED_ON = "messaging.whatsapp_alerts.turned_on"
    WHATSAPP_ALERTS_CHANGED = "messaging.whatsapp_alerts.changed"
    WHATSAPP_ALERTS_TURNED_OFF = "messaging.whatsapp_alerts.turned_off"
    DATA_EXPORT_REQUESTED = "compliance.data_export.requested"
    DATA_EXPORT_READY = "compliance.data_export.ready"
    DATA_EXPORT_LINK_ISSUED = "compliance.data_export.link_issued"
    DATA_EXPORT_DOWNLOADED = "compliance.data_export.downloaded"
    DATA_EXPORT_REMOVED = "compliance.data_export.removed"
    ERASURE_PLANNED = "compliance.erasure.planned"
    ERASURE_CONFIRMED = "compliance.erasure.confirmed"
    ERASURE_EXPIRED_RECORD = "compliance.erasure.expired_record"
    STAFF_DATA_ERASED = "compliance.staff_data.erased"
    # Billing: catalogue, GST profile, bills, payments
    CATALOGUE_ITEM_SAVED = "billing.catalogue_item.saved"
    BILLING_PROFILE_SAVED = "billing.profile.saved"
    BILL_DRAFTED = "billing.bill.drafted"
    BILL_DRAFT_UPDATED = "billing.bill.draft_updated"
    BILL_DRAFT_DELETED = "billing.bill.draft_deleted"
    BILL_ISSUED = "billing.bill.issued"
    BILL_CANCELLED = "billing.bill.cancelled"
    BILL_PDF_STORED = "billing.bill.pdf_stored"
    BILL_SENT = "billing.bill.sent_on_whatsapp"
    BILL_OPENED_BY_PATIENT = "billing.bill.opened_by_patient"
    CREDIT_NOTE_ISSUED = "billing.credit_note.issued"
    PAYMENT_RECORDED = "billing.payment.recorded"
    ADVANCE_RECORDED = "billing.advance.recorded"
    REFUND_RECORDED = "billing.refund.recorded"
    DAY_CLOSED = "billing.day.closed"
    # billing: the clinic's Razorpay account, payment links, the installation's subscriptions
    RAZORPAY_CONNECTED = "billing.razorpay.connected"
    RAZORPAY_UPDATED = "billing.razorpay.updated"
    RAZORPAY_DISCONNECTED = "billing.razorpay.disconnected"
    RAZORPAY_TESTED = "billing.razorpay.tested"
    PAYMENT_LINK_CREATED = "billing.payment_link.created"
    PAYMENT_LINK_CHANGED = "billing.payment_link.status_changed"
    BILL_PAYMENT_LINK_SENT = "billing.payment_link.sent"
    ONLINE_PAYMENT_NOT_RECORDED = "billing.payment_link.not_recorded"
    SUBSCRIPTION_STARTED = "billing.subscription.started"
    SUBSCRIPTION_CHANGED = "billing.subscription.status_changed"
    SUBSCRIPTION_CANCELLED = "billing.subscription.cancelled"
    PLATFORM_INVOICE_ISSUED = "billing.platform_invoice.issued"

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
    label: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the service's transaction.

    `label` names who acted when it was no staff member and not Vaidya itself (actor None):
    "patient (WhatsApp link, code verified)".
    """
    ctx = get_context()
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    fields = audit_fields(actor)
    if label and actor is None:
        fields["actor_label"] = label[:200]
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
        **fields,
    )
    event.save(force_insert=True)
    return event


# ---------------------------------------------------------------------------------------------
# The chain


def _material(event: AuditEvent, prev_hash: str) -> dict[str, Any]:
    return {
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


def event_digest(event: AuditEvent, prev_hash: str, *, key: bytes | None) -> str:
    """The event's link: HMAC-SHA256 with `key` over its content, its place in the chain, the
    previous link and the key's id; plain SHA-256 (no key) for events sealed before keys."""
    material = _material(event, prev_hash)
    if key is None:
        blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()
    return audit_keys.mac(key, {**material, "key": event.key_id})


def audit_seal(*, clinic_id: int, batch_size: int = 2000) -> int:
    """Seal a clinic's pending audit events into its keyed chain. Returns how many were sealed.

    Idempotent and safe to run from several workers at once: the chain head row lock makes
    sealers of one clinic take turns, and only unsealed events are touched.
    """
    key_id, key = audit_keys.current_key()
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
                    event.key_id = key_id
                    event.hash = event_digest(event, head.last_hash, key=key)
                    head.last_seq, head.last_hash = event.seq, event.hash
                AuditEvent.objects.bulk_update(pending, ["seq", "prev_hash", "key_id", "hash"])
                head.sealed_at = timezone.now()
                head.save(update_fields=["last_seq", "last_hash", "sealed_at"])
                sealed += len(pending)
            if len(pending) < batch_size:
                return sealed


@dataclass
class ChainReport:
    """What verifying one clinic's chain found. `ok` is about the sealed chain; unsealed events
    are not verified (nothing protects them yet) and are only counted."""

    ok: bool
    checked: int
    unsealed: int
    problem: str = ""
    broken_seq: int | None = None
    oldest_unsealed_at: datetime | None = None
    unkeyed: int = 0
    published: int = 0
    pruned_to: int = 0  # the chain starts after this event: the retention purge removed the rest


class _Broken(Exception):
    def __init__(self, problem: str, seq: int | None) -> None:
        super().__init__(problem)
        self.problem, self.seq = problem, seq


def _event_key(event: AuditEvent, seen_keyed: bool) -> bytes | None:
    """The key to check `event` with; None for an unkeyed (plain SHA-256) event."""
    if not event.key_id:
        if seen_keyed:
            raise _Broken(
                f"event #{event.seq} is sealed without the audit key after keyed events "
                "(the chain was rewritten)",
                event.seq,
            )
        return None
    key = audit_keys.key_for(event.key_id)
    if key is None:
        raise _Broken(
            f"event #{event.seq} was sealed with audit key {event.key_id}, which is not in "
            "AUDIT_KEYS (add the key back, or the chain was rewritten)",
            event.seq,
        )
    return key


def _check_link(event: AuditEvent, expected_seq: int, prev_hash: str, key: bytes | None) -> None:
    if event.seq != expected_seq:
        raise _Broken(
            f"event #{expected_seq} is missing (next present is #{event.seq})", expected_seq
        )
    if event.prev_hash != prev_hash:
        raise _Broken(f"event #{event.seq} does not link to #{event.seq - 1}", event.seq)
    if event_digest(event, prev_hash, key=key) != event.hash:
        raise _Broken(
            f"event #{event.seq} ({event.action}) was changed after it was sealed", event.seq
        )


def _check_published(event: AuditEvent, published: dict[int, PublishedHead]) -> None:
    head = published.get(event.seq)
    if head is not None and head.hash != event.hash:
        raise _Broken(
            f"event #{event.seq} is not the one published on {head.published_at:%Y-%m-%d %H:%M} "
            "UTC (the chain was rewritten)",
            event.seq,
        )


def _check_unkeyed_anchor(
    head: AuditChainHead | None, unkeyed: int, last_hash: str, start: int = 0
) -> None:
    """Unkeyed events are allowed only as the prefix the migration anchored with the key.

    `start` is where the chain now begins (the pruning anchor's seq): the unkeyed events kept are
    #start+1 to #start+unkeyed, and the anchored prefix must end exactly there, unless the purge
    removed all of it (then no unkeyed event may be left)."""
    anchored = head.legacy_seq if head else 0
    if anchored <= start:
        if unkeyed == 0:
            return
        raise _Broken(
            f"events #{start + 1} to #{start + unkeyed} are sealed without the audit key but "
            f"the anchor made when keyed sealing began covers only {anchored} events",
            start + 1,
        )
    key = audit_keys.key_for(head.legacy_key_id) if head else None
    material = audit_keys.legacy_anchor_material(
        clinic_id=head.clinic_id if head else 0, seq=start + unkeyed, last_hash=last_hash
    )
    if (
        start + unkeyed != anchored
        or key is None
        or audit_keys.mac(key, material) != head.legacy_mac
    ):
        raise _Broken(
            f"events #{start + 1} to #{start + unkeyed} are sealed without the audit key but do "
            f"not match the anchor made when keyed sealing began ({anchored} events)",
            start + 1,
        )


def _anchor_material(anchor: AuditAnchor) -> dict[str, Any]:
    return {
        "kind": "audit-prune-anchor",
        "clinic": anchor.clinic_id,
        "seq": anchor.seq,
        "hash": anchor.hash,
        "pruned_before": (
            anchor.pruned_before.astimezone(UTC).isoformat() if anchor.pruned_before else None
        ),
        "key": anchor.key_id,
    }


def _seal_anchor(anchor: AuditAnchor) -> None:
    anchor.key_id, key = audit_keys.current_key()
    anchor.mac = audit_keys.mac(key, _anchor_material(anchor))


def _check_anchor(anchor: AuditAnchor | None) -> tuple[int, str]:
    """(seq, hash) the kept chain starts after; a changed or unsealed anchor is a break."""
    if anchor is None or (anchor.seq == 0 and not anchor.hash and not anchor.mac):
        return 0, ""  # made by a purge that found nothing to remove yet
    key = audit_keys.key_for(anchor.key_id)
    if key is None:
        raise _Broken(
            f"the pruning anchor at #{anchor.seq} was sealed with audit key {anchor.key_id!r}, "
            "which is not in AUDIT_KEYS (add the key back, or the anchor was forged)",
            anchor.seq + 1,
        )
    if audit_keys.mac(key, _anchor_material(anchor)) != anchor.mac:
        raise _Broken(
            f"the pruning anchor at #{anchor.seq} was changed after it was sealed "
            "(events may have been removed to hide it)",
            anchor.seq + 1,
        )
    return anchor.seq, anchor.hash


def _walk(clinic_id: int, head: AuditChainHead | None, report: ChainReport) -> None:
    try:
        heads, strangers = published_heads(clinic_id=clinic_id)
    except Exception as exc:  # any storage failure: the check cannot finish
        raise _Broken(
            f"the published heads cannot be read ({type(exc).__name__}), so the chain could "
            "not be checked against them",
            None,
        ) from exc
    if strangers:
        raise _Broken(f"unexpected objects among the published heads: {strangers[0]}", None)
    published = {h.seq: h for h in heads}
    report.published = len(heads)
    start, prev_hash = _check_anchor(AuditAnchor.objects.filter(clinic_id=clinic_id).first())
    report.pruned_to = start
    pruned_head = published.get(start)
    if start and pruned_head is not None and pruned_head.hash != prev_hash:
        raise _Broken(
            f"the pruning anchor at #{start} is not the event published on "
            f"{pruned_head.published_at:%Y-%m-%d %H:%M} UTC (the chain was rewritten)",
            start + 1,
        )
    expected_seq, seen_keyed, last_unkeyed_hash = start + 1, False, ""
    events = (
        AuditEvent.objects.exclude(hash="")
        .filter(seq__gt=start)
        .order_by("seq")
        .iterator(chunk_size=2000)
    )
    for event in events:
        key = _event_key(event, seen_keyed)
        _check_link(event, expected_seq, prev_hash, key)
        _check_published(event, published)
        if key is None:
            report.unkeyed, last_unkeyed_hash = report.unkeyed + 1, event.hash
        seen_keyed = seen_keyed or key is not None
        prev_hash, expected_seq, report.checked = event.hash, expected_seq + 1, report.checked + 1
    _check_unkeyed_anchor(head, report.unkeyed, last_unkeyed_hash, start)
    end = start + report.checked
    head_seq = head.last_seq if head else 0
    if head_seq != end or (head and head.last_hash != prev_hash):
        raise _Broken(f"the chain ends at #{end} but {head_seq} events were sealed", end + 1)
    longest = max(heads, key=lambda h: h.seq, default=None)
    if longest is not None and longest.seq > end:
        raise _Broken(
            f"the chain ends at #{end} but #{longest.seq} was published on "
            f"{longest.published_at:%Y-%m-%d %H:%M} UTC (events were removed)",
            end + 1,
        )


def audit_verify(*, clinic_id: int) -> ChainReport:
    """Walk a clinic's sealed chain and report the first broken link. Reads only: never seals.

    Detects an edited event (its keyed hash no longer matches), a deleted event (a gap in `seq`
    or a `prev_hash` that does not match), a chain re-hashed without the audit key, deleted
    events at the end (the head records more, or a published head is longer or differs).
    Unsealed events are counted, with the oldest one's time, not verified.
    """
    with clinic_scope(clinic_id):
        head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
        pending = AuditEvent.objects.filter(hash="").aggregate(
            count=models.Count("id"), oldest=models.Min("created_at")
        )
        report = ChainReport(
            ok=True, checked=0, unsealed=pending["count"], oldest_unsealed_at=pending["oldest"]
        )
        try:
            _walk(clinic_id, head, report)
        except _Broken as broken:
            report.ok, report.problem, report.broken_seq = False, broken.problem, broken.seq
        return report


# ---------------------------------------------------------------------------------------------
# Pruning (the retention purge)

PRUNE_BATCH_SECONDS = 0.3  # a batch's transaction should take about this long, never seconds


class AuditPruneRefused(Exception):
    """The part of the chain due for pruning does not verify: pruning it would hide that."""


def _prunable(
    events: list[AuditEvent],
    start: int,
    prev_hash: str,
    before: datetime,
    held: set[int],
    legacy_seq: int,
) -> list[AuditEvent]:
    """The leading events of `events` (the next ones after the anchor) that may go: older than
    `before`, not about a held patient, each checked as a sound link first."""
    taken: list[AuditEvent] = []
    seen_keyed = start >= legacy_seq  # past the anchored unkeyed prefix, every event is keyed
    for event in events:
        held_patient = event.patient_id is not None and event.patient_id in held
        if event.created_at >= before or held_patient:
            break
        try:
            key = _event_key(event, seen_keyed)
            _check_link(event, start + len(taken) + 1, prev_hash, key)
        except _Broken as broken:
            raise AuditPruneRefused(broken.problem) from broken
        seen_keyed = seen_keyed or key is not None
        prev_hash = event.hash
        taken.append(event)
    return taken


def audit_prune(
    *,
    clinic_id: int,
    before: datetime,
    held_patients: set[int] | frozenset[int] = frozenset(),
    batch_size: int = 2000,
    dry_run: bool = False,
) -> int:
    """Delete the clinic's sealed audit events created before `before`, from the start of the
    chain, moving its sealed anchor forward. Returns how many went (or would go, `dry_run`).

    Call outside any transaction: each batch is its own short transaction (lock the anchor,
    check the batch's links, move the anchor, delete the batch), shrinking when a batch was slow.
    Stops at the first event that is newer than `before`, not sealed yet, or about a patient in
    `held_patients` (a legal hold keeps that event and every later one). Raises
    AuditPruneRefused, deleting nothing more, when the events it would remove do not verify.
    Safe to re-run and to run from two workers at once (the anchor row lock makes them take
    turns).
    """
    held = set(held_patients)
    done, size = 0, batch_size
    with clinic_scope(clinic_id):
        head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
        legacy_seq = head.legacy_seq if head else 0
        if dry_run:
            anchor = AuditAnchor.objects.filter(clinic_id=clinic_id).first()
            start, prev_hash = (anchor.seq, anchor.hash) if anchor else (0, "")
            while True:
                events = list(
                    AuditEvent.objects.exclude(hash="")
                    .filter(seq__gt=start)
                    .order_by("seq")[:batch_size]
                )
                taken = _prunable(events, start, prev_hash, before, held, legacy_seq)
                done += len(taken)
                if len(taken) < len(events) or len(events) < batch_size:
                    return done
                start, prev_hash = taken[-1].seq, taken[-1].hash
        AuditAnchor.objects.get_or_create(clinic_id=clinic_id)
        while True:
            started = time.monotonic()
            with transaction.atomic():
                anchor = AuditAnchor.objects.select_for_update().get(clinic_id=clinic_id)
                try:
                    _check_anchor(anchor)
                except _Broken as broken:
                    raise AuditPruneRefused(broken.problem) from broken
                events = list(
                    AuditEvent.objects.exclude(hash="")
                    .filter(seq__gt=anchor.seq)
                    .order_by("seq")[:size]
                )
                taken = _prunable(events, anchor.seq, anchor.hash, before, held, legacy_seq)
                if not taken:
                    return done
                anchor.seq, anchor.hash = taken[-1].seq, taken[-1].hash
                anchor.pruned_before = before
                anchor.pruned += len(taken)
                anchor.updated_at = timezone.now()
                _seal_anchor(anchor)
                anchor.save()
                # AuditEvent's manager refuses deletes everywhere else; this is the one path.
                DeleteQuery(AuditEvent).delete_batch(
                    [e.pk for e in taken], router.db_for_write(AuditEvent)
                )
                done += len(taken)
            took = time.monotonic() - started
            if len(taken) < len(events) or len(events) < size:
                return done
            if took > PRUNE_BATCH_SECONDS:
                size = max(100, size // 2)
            elif took < PRUNE_BATCH_SECONDS / 3:
                size = min(batch_size * 4, size * 2)
