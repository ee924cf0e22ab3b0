"""Messaging's entries in the personal-data registry (registered from `MessagingConfig.ready()`).

Message texts are anonymised when their period runs out (or on an erasure request): the row keeps
its date, direction, kind and status, which stay with the clinical record. Inbound media files are
deleted on their own shorter period. Raw webhook deliveries carry phone numbers and texts; a
patient's deliveries are the ones whose body names the WhatsApp number of one of the patient's
conversations. See compliance/personal_data.py for the checklist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from compliance.personal_data import (
    ANONYMISE,
    CLINICAL,
    DELETE,
    MESSAGE_BODY,
    NOBODY,
    PATIENT,
    RETAIN,
    STAFF,
    STAFF_ACCOUNT,
    WEBHOOK_PAYLOAD,
    WHATSAPP_MEDIA,
    PersonalData,
    personal_data,
)

META = "Meta (WhatsApp Cloud API)"


ERASED_PREFIX = "erased-"


def _anonymise_conversation(rows: Any) -> int:
    """A patient's conversation keeps a WhatsApp identity (a database rule, and the unique number
    per account): the number becomes "erased-<id>", which names no one."""
    from django.db.models import CharField, Value  # noqa: PLC0415
    from django.db.models.functions import Cast, Concat  # noqa: PLC0415

    return rows.filter(staff__isnull=True).update(
        wa_id=Concat(Value(ERASED_PREFIX), Cast("pk", CharField())),
        bsuid="",
        profile_name="",
        request_label="",
    )


def _anonymise_message(rows: Any) -> int:
    return rows.update(body="", parameters={}, payload="")


def _anonymise_media(rows: Any) -> int:
    return rows.update(media_file="", media_filename="")


def _media_files(row: Any) -> list[Any]:
    return [row.media_file] if row.media_file else []


def _anonymise_reminder(rows: Any) -> int:
    return rows.update(context={})


def _anonymise_rating(rows: Any) -> int:
    return rows.update(comment="")


def webhook_rows(patient_id: int) -> Any:
    """The raw deliveries that name one of the patient's WhatsApp numbers (deliveries are kept a
    short time, so the clinic's are read and matched here)."""
    from messaging.models import Conversation, WebhookDelivery  # noqa: PLC0415

    numbers = {
        n
        for pair in Conversation.objects.filter(patient_id=patient_id).values_list("wa_id", "bsuid")
        for n in pair
        if n
    }
    needles = [f'"{n}"'.encode() for n in numbers]
    ids = [
        pk
        for pk, body in WebhookDelivery.objects.values_list("pk", "body").iterator()
        if any(needle in bytes(body) for needle in needles)
    ]
    return WebhookDelivery.objects.filter(pk__in=ids)


def message_fhir(row: Any) -> dict[str, Any] | None:
    """A message as a FHIR R4 Communication (text only; files travel as DocumentReference)."""
    from messaging.models import Direction  # noqa: PLC0415

    inbound = row.direction == Direction.INBOUND
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": f"message-{row.pk}",
        "identifier": [{"system": "urn:vaidya:message", "value": str(row.public_id)}],
        "status": "completed" if row.status not in ("failed", "queued") else "unknown",
        "medium": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                        "code": "WRITTEN",
                        "display": "written",
                    }
                ],
                "text": "WhatsApp",
            }
        ],
    }
    if row.patient_id:
        reference = {"reference": f"Patient/patient-{row.patient_id}"}
        resource["subject"] = reference
        resource["sender" if inbound else "recipient"] = reference if inbound else [reference]
    when = row.sent_at or row.created_at
    if when is not None:
        resource["sent"] = when.isoformat()
    if row.delivered_at is not None:
        resource["received"] = row.delivered_at.isoformat()
    if row.body:
        resource["payload"] = [{"contentString": row.body}]
    return resource


ENTRIES = (
    PersonalData(
        name="messaging.conversation",
        order=600,
        model="messaging.Conversation",
        subject=PATIENT,
        description="WhatsApp conversations: the number and profile name they are with",
        purpose="talking with the patient on WhatsApp",
        fields=("wa_id", "bsuid", "profile_name", "request_label"),
        retention=CLINICAL,
        erasure=ANONYMISE,
        patient_path="patient",
        conversation_path="id",
        anonymise=_anonymise_conversation,
        processors=(META,),
        extra={"holds_data": ~Q(wa_id__startswith=ERASED_PREFIX, bsuid="", profile_name="")},
    ),
    PersonalData(
        name="messaging.message",
        order=610,
        model="messaging.Message",
        subject=PATIENT,
        description="WhatsApp message texts, template values and button answers",
        purpose="talking with the patient on WhatsApp; reminders",
        fields=("body", "parameters", "payload"),
        retention=MESSAGE_BODY,
        erasure=ANONYMISE,
        patient_path="patient",
        conversation_path="conversation",
        age_field="created_at",
        anonymise=_anonymise_message,
        fhir=message_fhir,
        processors=(META,),
        extra={
            "holds_data": ~Q(body="", parameters={}, payload=""),
            "not_personal": {
                "error_title": "Meta's error text",
                "template_name": "the clinic's template",
                "media_sha256": "a checksum",
                "context_wamid": "Meta's id of the message replied to",
            },
        },
    ),
    PersonalData(
        name="messaging.message_media",
        order=611,
        model="messaging.Message",
        subject=PATIENT,
        description="Voice notes, photos and files the patient sent on WhatsApp",
        purpose="talking with the patient on WhatsApp",
        fields=("media_file", "media_filename"),
        retention=WHATSAPP_MEDIA,
        erasure=ANONYMISE,
        patient_path="patient",
        conversation_path="conversation",
        age_field="created_at",
        anonymise=_anonymise_media,
        files=_media_files,
        processors=(META,),
        extra={"holds_data": ~Q(media_file="", media_filename="")},
    ),
    PersonalData(
        name="messaging.webhook_delivery",
        order=620,
        model="messaging.WebhookDelivery",
        subject=PATIENT,
        description="Raw WhatsApp deliveries as they arrived (numbers, names and texts)",
        purpose="processing what WhatsApp sent; troubleshooting",
        fields=("body", "error"),
        retention=WEBHOOK_PAYLOAD,
        erasure=DELETE,
        rows=webhook_rows,
        age_field="received_at",
        processors=(META,),
    ),
    PersonalData(
        name="messaging.reminder",
        order=630,
        model="messaging.Reminder",
        subject=PATIENT,
        description="Planned reminders and the details they carry",
        purpose="appointment, medicine and follow-up reminders",
        fields=("context", "outcome"),
        retention=MESSAGE_BODY,
        erasure=ANONYMISE,
        patient_path="patient",
        age_field="due_at",
        anonymise=_anonymise_reminder,
        extra={"holds_data": ~Q(context={})},
    ),
    PersonalData(
        name="messaging.dose_record",
        order=640,
        model="messaging.DoseRecord",
        subject=PATIENT,
        description="Doses the patient said they took or missed",
        purpose="medicine adherence, part of the clinical record",
        fields=("due_at", "outcome", "changed_from"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="messaging.dose_answer",
        order=641,
        model="messaging.DoseAnswer",
        subject=PATIENT,
        description="Each answer to a dose reminder",
        purpose="medicine adherence, part of the clinical record",
        fields=("outcome", "answered_at"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="dose__patient",
    ),
    PersonalData(
        name="messaging.visit_rating",
        order=650,
        model="messaging.VisitRating",
        subject=PATIENT,
        description="Ratings and comments after a visit",
        purpose="the clinic's quality of care",
        fields=("rating", "comment"),
        retention=MESSAGE_BODY,
        erasure=ANONYMISE,
        patient_path="patient",
        age_field="created_at",
        anonymise=_anonymise_rating,
        extra={"holds_data": ~Q(comment="")},
    ),
    PersonalData(
        name="messaging.escalation",
        order=660,
        model="messaging.Escalation",
        subject=PATIENT,
        description="Problems raised to a doctor (missed doses, low ratings, trouble words)",
        purpose="patient safety; part of the clinical record",
        fields=("reason", "detail", "subject", "resolution"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="messaging.alert_opt_in",
        order=670,
        model="messaging.WhatsAppAlertOptIn",
        subject=STAFF,
        description="A staff member's WhatsApp number for alerts",
        purpose="alerting the doctor",
        fields=("phone", "language"),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="membership__user",
        processors=(META,),
    ),
    # --- about nobody --------------------------------------------------------------------------
    PersonalData(
        name="messaging.whatsapp_account",
        order=960,
        model="messaging.WhatsAppAccount",
        subject=NOBODY,
        description="The clinic's WhatsApp business number and its (encrypted) credentials.",
    ),
    PersonalData(
        name="messaging.message_template",
        order=961,
        model="messaging.MessageTemplate",
        subject=NOBODY,
        description="The clinic's message templates (placeholders, no patient's values).",
    ),
    PersonalData(
        name="messaging.settings",
        order=962,
        model="messaging.MessagingSettings",
        subject=NOBODY,
        description="The clinic's messaging settings and trouble words.",
    ),
    PersonalData(
        name="messaging.status_event",
        order=963,
        model="messaging.MessageStatusEvent",
        subject=NOBODY,
        description="Delivery statuses and Meta's error codes (no content).",
    ),
    PersonalData(
        name="messaging.escalation_alert",
        order=964,
        model="messaging.EscalationAlert",
        subject=NOBODY,
        description="Which staff member an escalation alerted, and any send problem (no text).",
    ),
)


def register() -> None:
    for entry in ENTRIES:
        personal_data.register(entry)
