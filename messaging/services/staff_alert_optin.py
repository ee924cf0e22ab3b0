"""A staff member's own opt-in to escalation alerts on their WhatsApp (the alerts themselves are
in `messaging.services.staff_alerts`).

A doctor is not a patient: the patients' consent rules do not apply, the doctor's own opt-in
does. Only the staff member turns it on, for themselves, at one clinic, giving their number
(`whatsapp_alerts_turn_on`); they or an owner turn it off (`whatsapp_alerts_turn_off`), and
replying STOP to an alert turns it off too. The clinic's setting
`MessagingSettings.alert_doctor_on_whatsapp` must also be on (`alert_readiness` says what is
missing)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed
from clinics.models import Membership, User
from clinics.roles import Perm
from messaging.models import (
    Conversation,
    Language,
    MessageTemplate,
    TemplateStatus,
    WhatsAppAlertOptIn,
)
from messaging.services.accounts import account_for_clinic, messaging_settings_for
from messaging.template_purposes import STAFF_ALERT
from patients.phones import to_e164

PHONE_ERROR = "Enter a valid WhatsApp number, for example 98765 43210 or +44 7700 900123."


def can_receive_alerts(membership: Membership) -> bool:
    """Whether this staff member may get escalation alerts on WhatsApp: the people escalations
    are addressed to, who write and sign clinical notes (doctors and owners)."""
    return membership.has_perm(Perm.CLINICAL_EDIT)


def whatsapp_alerts_for(membership: Membership) -> WhatsAppAlertOptIn | None:
    """The staff member's WhatsApp alert choice at their clinic (None if never made)."""
    return WhatsAppAlertOptIn.objects.filter(membership=membership).first()


def whatsapp_alerts_list() -> list[WhatsAppAlertOptIn]:
    """Everyone at the clinic (the current scope) with WhatsApp alerts on, for the owner."""
    return list(
        WhatsAppAlertOptIn.objects.filter(enabled=True)
        .select_related("membership__user")
        .order_by("membership__user__full_name", "pk")
    )


def alert_readiness(clinic_id: int) -> list[str]:
    """Why alerts would not reach anyone at the clinic now, in words for staff (empty: they
    would). For the opt-in page, so nobody turns alerts on and waits for nothing."""
    problems = []
    if not messaging_settings_for(clinic_id).alert_doctor_on_whatsapp:
        problems.append(
            "The clinic has not allowed alerts on staff members' WhatsApp yet: an owner can "
            "allow them in Settings, WhatsApp, under Alerts to the doctor."
        )
    account = account_for_clinic(clinic_id)
    if account is None or not account.can_send:
        problems.append("The clinic's WhatsApp number is not connected or not working.")
    elif not MessageTemplate.objects.filter(
        clinic_id=clinic_id, purpose=STAFF_ALERT.key, status=TemplateStatus.APPROVED
    ).exists():
        problems.append(
            "WhatsApp has not approved the alert message yet: an owner can send Vaidya's "
            "messages for review in Settings, WhatsApp."
        )
    return problems


def _clean_phone(phone: str, *, clinic_id: int) -> str:
    e164 = to_e164(phone or "")
    if e164 is None:
        raise DomainError(PHONE_ERROR, field="phone")
    account = account_for_clinic(clinic_id)
    if account is not None and to_e164(account.display_number) == e164:
        raise DomainError(
            "That is the clinic's own WhatsApp number: give the number of your own phone.",
            field="phone",
        )
    return e164


@transaction.atomic
def whatsapp_alerts_turn_on(
    *, membership: Membership, actor: User, phone: str, language: str = Language.ENGLISH
) -> WhatsAppAlertOptIn:
    """Turn on (or change the number or language of) the staff member's own WhatsApp alerts.

    Only the person themself may do this: it is their consent to messages on their phone.
    """
    if actor is None or actor.pk != membership.user_id:
        raise NotAllowed("Only the staff member themself can turn on their WhatsApp alerts.")
    if not can_receive_alerts(membership):
        raise NotAllowed("WhatsApp alerts are for the clinic's doctors and owners.")
    if language not in Language.values:
        raise DomainError("Choose English or Hindi.", field="language")
    e164 = _clean_phone(phone, clinic_id=membership.clinic_id)
    now = timezone.now()
    row, _ = WhatsAppAlertOptIn.objects.get_or_create(
        membership=membership, defaults={"clinic_id": membership.clinic_id}
    )
    row = WhatsAppAlertOptIn.objects.select_for_update().get(pk=row.pk)
    was_on, old_phone = row.enabled, str(row.phone or "")
    if was_on and old_phone == e164 and row.language == language:
        return row  # nothing changed
    row.phone, row.language, row.enabled = e164, language, True
    if not was_on:
        row.enabled_at, row.disabled_at, row.disabled_by = now, None, None
    row.save()
    if old_phone != e164:
        # A new number may well receive what the old one could not: start afresh.
        Conversation.objects.filter(staff=membership).update(unreachable_at=None, paused_until=None)
    audit_record(
        clinic=membership.clinic_id,
        actor=actor,
        action=Actions.WHATSAPP_ALERTS_CHANGED if was_on else Actions.WHATSAPP_ALERTS_TURNED_ON,
        target=row,
        # Never the number itself: the trail is read by others at the clinic.
        data={
            "membership_id": membership.pk,
            "language": language,
            "number_changed": bool(was_on and old_phone != e164),
        },
    )
    return row


@transaction.atomic
def whatsapp_alerts_turn_off(
    *, membership: Membership, actor: User, via: str = "web"
) -> WhatsAppAlertOptIn | None:
    """Turn a staff member's WhatsApp alerts off: by themselves, or by an owner (someone who
    left). An owner turning them off also erases the number. None when they were never on."""
    if actor is None:
        raise NotAllowed("Sign in to change WhatsApp alerts.")
    by_self = actor.pk == membership.user_id
    if not by_self:
        manager = Membership.objects.filter(
            clinic_id=membership.clinic_id, user=actor, is_active=True
        ).first()
        if manager is None or not manager.has_perm(Perm.STAFF_MANAGE):
            raise NotAllowed("Only the staff member or an owner can turn their alerts off.")
    row = WhatsAppAlertOptIn.objects.select_for_update().filter(membership=membership).first()
    if row is None:
        return None
    if not row.enabled and (by_self or not row.phone):
        return row
    fields = ["enabled", "disabled_at", "disabled_by", "updated_at"]
    was_on = row.enabled
    row.enabled, row.disabled_by = False, actor
    if was_on:
        row.disabled_at = timezone.now()
    if not by_self:
        row.phone = ""
        fields.append("phone")
    row.save(update_fields=fields)
    audit_record(
        clinic=membership.clinic_id,
        actor=actor,
        action=Actions.WHATSAPP_ALERTS_TURNED_OFF,
        target=row,
        data={"membership_id": membership.pk, "by": "self" if by_self else "owner", "via": via},
    )
    return row
