"""Escalation alerts on a doctor's own WhatsApp: their opt-in, the alert message, their replies.

Consent. A doctor is not a patient: the patients' consent rules do not apply, the doctor's own
opt-in does. Only the staff member turns it on, for themselves, at one clinic, giving their
number (`whatsapp_alerts_turn_on`); they or an owner turn it off (`whatsapp_alerts_turn_off`),
and replying STOP to an alert turns it off too. The clinic's setting
`MessagingSettings.alert_doctor_on_whatsapp` must also be on: the clinic's number sends the
alerts and the clinic pays Meta for each, so the owner decides whether they exist at all.

Who gets it. A worrying message (trouble words) is urgent: every doctor who treats the
patient, meaning every staff member with a visit or an appointment (of any status) for the
patient at this clinic, plus the escalation's doctor, each once. Other escalations: the
escalation's doctor; when it has none, the patient's last doctor (latest visit, else latest
appointment). Someone who no longer works at the clinic or is not an owner or doctor gets
nothing, nor does anyone who has not turned WhatsApp alerts on. The in-app alert opens on
the follow-up board whatever happens here. Undeliverable-number escalations are not sent: the
front desk fixes numbers, not the doctor.

What it says (DPDP: the least data for the purpose). The message travels through Meta to a
personal phone whose lock screen, backups and family members Vaidya cannot control. So it
carries the clinic's name, the kind of alert in plain words ("missed doses", "low rating",
"worrying message"), the patient's initials with their patient number, and a link to the
follow-up board, where the doctor signs in to read the rest. Never the medicine, the rating's
comment, the words the patient wrote, a diagnosis or a phone number.

How. `escalation_open` enqueues `messaging.tasks.send_escalation_alert` after its transaction
commits; `escalation_alert_queue` queues one approved template message (purpose "staff") in
the staff member's alert conversation, which the usual sending pipeline delivers (rate limits,
retries, status ticks, the account's stopped state). `EscalationAlert` is unique per
escalation, so a task that runs twice sends once. No connected, working WhatsApp number or no
approved template: nothing is queued and nothing fails.

Replies. Alert conversations have no WhatsApp identity of their own (see `Conversation`), so
the inbox never shows them. When a staff member writes to the clinic's number from their alert
number, the message is kept in their alert conversation, not in a new "unknown number"
conversation; STOP turns alerts off, anything else gets a short note, once a day, that this
number is not read and Vaidya is the place to act. A number that already has a conversation
(a patient's, or one from before the opt-in) or that a patient also uses stays with that
conversation: families share phones, and a patient's message must never be hidden.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.languages import for_patient
from clinics.models import Membership
from clinics.queue import enqueue
from messaging.links import site_url
from messaging.models import (
    WINDOW,
    Conversation,
    Direction,
    Escalation,
    EscalationAlert,
    EscalationReason,
    EscalationState,
    Language,
    Message,
    MessageKind,
    MessagePurpose,
    MessageTemplate,
    WhatsAppAccount,
    WhatsAppAlertOptIn,
)
from messaging.services.accounts import account_for_clinic, messaging_settings_for
from messaging.services.optout import STOP_WORDS, normalise
from messaging.services.sending import (
    message_queue_template,
    message_queue_text,
    template_for,
)
from messaging.services.staff_alert_optin import (
    can_receive_alerts,
    whatsapp_alerts_for,
    whatsapp_alerts_turn_off,
)
from messaging.template_purposes import STAFF_ALERT
from patients.models import Appointment, Patient, Visit

logger = logging.getLogger(__name__)

ALERT_TASK = "messaging.tasks.send_escalation_alert"
# Plain words for the kind of alert; nothing more specific goes to the phone (module docstring).
REASON_WORDS = {
    EscalationReason.MISSED_DOSES: gettext_noop("missed doses"),
    EscalationReason.LOW_RATING: gettext_noop("low rating"),
    EscalationReason.TROUBLE_WORDS: gettext_noop("worrying message"),
}
# What the staff member reads, in the language of their opt-in (gettext, locale/).
REPLY_TEXTS = {
    "stopped": gettext_noop(
        "WhatsApp alerts from {clinic} are now off. Turn them on again in Vaidya, under My "
        "WhatsApp alerts."
    ),
    "not_read": gettext_noop(
        "This number only sends you Vaidya alerts from {clinic}; replies here are not read. "
        "Please open Vaidya to act on an alert. Reply STOP to turn the alerts off."
    ),
}


# --- the alert -----------------------------------------------------------------------------------
def enqueue_escalation_alert(escalation_id: int) -> None:
    """Send the WhatsApp alert about a new escalation in a worker, once the current
    transaction commits (the escalation exists for the worker then)."""
    transaction.on_commit(lambda: enqueue(ALERT_TASK, escalation_id))


def patient_last_doctor(patient_id: int) -> Membership | None:
    """The doctor of the patient's latest visit, else of their latest appointment."""
    visit = (
        Visit.objects.filter(patient_id=patient_id)
        .select_related("doctor")
        .order_by("-created_at", "-id")
        .first()
    )
    if visit is not None:
        return visit.doctor
    appointment = (
        Appointment.objects.filter(patient_id=patient_id)
        .select_related("doctor")
        .order_by("-starts_at", "-id")
        .first()
    )
    return appointment.doctor if appointment is not None else None


def treating_doctors(patient_id: int) -> list[Membership]:
    """Everyone who treats the patient at this clinic: the doctors of their visits and
    appointments (any status), active, most recently seen first."""
    visits = Visit.objects.filter(patient_id=patient_id).order_by("-created_at", "-id")
    appointments = Appointment.objects.filter(patient_id=patient_id).order_by("-starts_at", "-id")
    ordered: list[int] = []
    for doctor_id in [
        *visits.values_list("doctor_id", flat=True),
        *appointments.values_list("doctor_id", flat=True),
    ]:
        if doctor_id not in ordered:
            ordered.append(doctor_id)
    members = Membership.objects.filter(pk__in=ordered, is_active=True).in_bulk()
    return [members[pk] for pk in ordered if pk in members]


def alert_recipients(escalation: Escalation) -> list[Membership]:
    """Who gets the WhatsApp alert (module docstring), among those who may receive alerts."""
    if escalation.reason == EscalationReason.TROUBLE_WORDS:
        people = [escalation.doctor] if escalation.doctor else []
        people += [m for m in treating_doctors(escalation.patient_id) if m not in people]
    else:
        people = [escalation.doctor or patient_last_doctor(escalation.patient_id)]
    return [m for m in people if m is not None and m.is_active and can_receive_alerts(m)]


def patient_reference(patient: Patient) -> str:
    """Initials and patient number, "A. K. (P-000042)": enough to find the patient in Vaidya,
    little to anyone who glances at the doctor's phone."""
    words = patient.full_name.split()[:3]
    initials = " ".join(f"{w[0].upper()}." for w in words if w)
    return f"{initials} ({patient.patient_number})" if initials else patient.patient_number


def board_link(escalation: Escalation) -> str:
    """The follow-up board, at this alert (ids only: no personal data in URLs)."""
    path = reverse("messaging-board", args=[escalation.clinic.slug])
    return f"{site_url()}{path}?show=all#escalation-{escalation.pk}"


def _in(language: str, text: str) -> str:
    """`text` (a gettext message id) in `language` (English without a catalogue for it)."""
    with for_patient(language):
        return gettext(text)


def alert_parameters(escalation: Escalation, *, language: str) -> list[str]:
    """The template's values, in STAFF_ALERT's order. Deliberately minimal: see the module
    docstring before adding anything."""
    words = REASON_WORDS[escalation.reason]
    return [
        " ".join(escalation.clinic.name.split()),
        _in(language, words),
        patient_reference(escalation.patient),
        board_link(escalation),
    ]


def staff_conversation(*, account: WhatsAppAccount, membership: Membership) -> Conversation:
    """The staff member's alert conversation on the clinic's number (created on first use)."""
    conversation = Conversation.objects.filter(account=account, staff=membership).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                clinic_id=account.clinic_id, account=account, staff=membership
            )
    except IntegrityError:  # created concurrently
        return Conversation.objects.get(account=account, staff=membership)


def escalation_alert_queue(*, escalation_id: int) -> str:
    """Queue the WhatsApp alert about one escalation to its doctor, when they want it
    (call inside the clinic's scope). Idempotent: one alert message per escalation.

    Returns what happened, in a few words, for the task's result; never raises for a clinic
    without a working number or an approved template.
    """
    escalation = (
        Escalation.objects.select_related("patient", "clinic", "doctor")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        return "gone"
    why_not = _why_not_alerted(escalation)
    if why_not:
        return why_not
    recipients = alert_recipients(escalation)
    if not recipients:
        return "no doctor to alert"
    results = []
    for recipient in recipients:
        target = _alert_target(escalation, recipient)
        results.append(target if isinstance(target, str) else _alert_queue(escalation, target))
    # One answer when everyone's is the same ("queued", "alerted already"), else each.
    return results[0] if len(set(results)) == 1 else "; ".join(results)


def _why_not_alerted(escalation: Escalation) -> str:
    """Why this escalation gets no WhatsApp alert at all, or "" when it may."""
    if escalation.state != EscalationState.OPEN:
        return "resolved already"
    if escalation.reason not in REASON_WORDS:
        return "not alerted on WhatsApp"
    if not messaging_settings_for(escalation.clinic_id).alert_doctor_on_whatsapp:
        return "the clinic has WhatsApp alerts off"
    return ""


@dataclass(frozen=True)
class _AlertTarget:
    recipient: Membership
    account: WhatsAppAccount
    template: MessageTemplate
    params: list[str]


def _alert_target(escalation: Escalation, recipient: Membership) -> _AlertTarget | str:
    """From which number and with which template `recipient` is alerted; or why not."""
    if EscalationAlert.objects.filter(escalation_id=escalation.pk, recipient=recipient).exists():
        return "alerted already"
    opt_in = WhatsAppAlertOptIn.objects.filter(membership=recipient, enabled=True).first()
    if opt_in is None or not opt_in.phone:
        return "the doctor has WhatsApp alerts off"
    account = account_for_clinic(escalation.clinic_id)
    if account is None or not account.can_send:
        return "no working WhatsApp number"
    template = template_for(
        clinic_id=escalation.clinic_id, purpose=STAFF_ALERT.key, language=opt_in.language
    )
    if template is None:
        logger.info("no approved staff alert template clinic=%s", escalation.clinic_id)
        return "no approved template"
    params = alert_parameters(escalation, language=template.language)
    if template.parameter_count != len(params):
        logger.warning("staff alert template %s has the wrong parameters", template.pk)
        return "template does not match"
    return _AlertTarget(recipient, account, template, params)


@transaction.atomic
def _alert_queue(escalation: Escalation, target: _AlertTarget) -> str:
    try:
        with transaction.atomic():
            alert = EscalationAlert.objects.create(
                clinic_id=escalation.clinic_id, escalation=escalation, recipient=target.recipient
            )
    except IntegrityError:  # another run got here first
        return "alerted already"
    conversation = staff_conversation(account=target.account, membership=target.recipient)
    try:
        message = message_queue_template(
            template=target.template,
            actor=None,
            purpose=MessagePurpose.STAFF,
            conversation=conversation,
            body_params=target.params,
        )
    except DomainError as error:
        # Kept as tried, with the reason: one alert per escalation, and the in-app alert is on
        # the board whatever happens here.
        alert.problem = error.message[:300]
        alert.save(update_fields=["problem"])
        logger.info("staff alert for escalation %s refused: %s", escalation.pk, error.code)
        return "refused"
    alert.message = message
    alert.save(update_fields=["message"])
    audit_record(
        clinic=escalation.clinic_id,
        actor=None,
        action=Actions.ESCALATION_ALERT_QUEUED,
        target=escalation,
        patient_id=escalation.patient_id,
        data={"recipient_id": target.recipient.pk, "message_id": message.pk},
    )
    return "queued"


def staff_conversation_for_number(*, account: WhatsAppAccount, wa_id: str) -> Conversation | None:
    """The alert conversation of the staff member whose alert number is +`wa_id` (created if
    they have none yet); None when no staff member of the clinic gave that number.

    Callers try patients first: a number shared with a patient is the patient's conversation.
    """
    if not wa_id or not wa_id.isdigit():
        return None
    opt_ins = list(
        WhatsAppAlertOptIn.objects.filter(
            clinic_id=account.clinic_id, phone="+" + wa_id, membership__is_active=True
        )
        .select_related("membership")
        .order_by("-enabled", "-updated_at")[:1]
    )
    if not opt_ins:
        return None
    return staff_conversation(account=account, membership=opt_ins[0].membership)


def staff_message_handle(*, message: Message, conversation: Conversation) -> str:
    """A staff member wrote to the clinic's number into their alert conversation: STOP turns
    their alerts off (confirmed); anything else gets, once a day, a note that nobody reads
    this number. Returns what was done."""
    membership = Membership.objects.select_related("user", "clinic").get(pk=conversation.staff_id)
    opt_in = whatsapp_alerts_for(membership)
    language = opt_in.language if opt_in is not None else Language.ENGLISH
    clinic = membership.clinic.name
    if message.kind == MessageKind.TEXT and normalise(message.body) in STOP_WORDS:
        whatsapp_alerts_turn_off(membership=membership, actor=membership.user, via="whatsapp")
        _reply(conversation, _in(language, REPLY_TEXTS["stopped"]).format(clinic=clinic))
        return "alerts turned off"
    since = timezone.now() - WINDOW
    noted = Message.objects.filter(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEXT,
        created_at__gte=since,
    ).exists()
    if noted:
        return "kept"
    _reply(conversation, _in(language, REPLY_TEXTS["not_read"]).format(clinic=clinic))
    return "noted"


def _reply(conversation: Conversation, text: str) -> None:
    try:
        with transaction.atomic():
            # A reply to a staff member about an alert is part of the alert: never held to the
            # clinic's plan (`messages_write`).
            message_queue_text(conversation=conversation, body=text, actor=None, within_plan=False)
    except DomainError as error:
        logger.info("reply in staff conversation %s not sent: %s", conversation.pk, error.code)
