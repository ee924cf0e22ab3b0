"""WhatsApp in the API: conversations, messages, reminders and consent.

Input serializers are strict (unknown fields are refused) and only parse; the services decide.
Output serializers declare their fields for the OpenAPI schema and build the JSON with a plain
`to_representation`. Times go out in the clinic's time zone (`context["tz"]`), ISO 8601 with
the offset.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from clinics.api.fields import declared
from clinics.api.pagination import PagedQuerySerializer
from compliance.models import ConsentPurpose
from messaging.models import (
    ConversationState,
    Direction,
    MessageKind,
    MessagePurpose,
    MessageStatus,
    ReminderKind,
    ReminderStatus,
)
from patients.api.serializers_schedule import AwareDateTimeField, id_field, iso

CONVERSATION_FILTERS = ["open", "unread", "needs_reply", "unknown", "resolved"]


# --- output -------------------------------------------------------------------------------------
class PatientBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    patient_number = serializers.CharField(help_text="P-000123")
    full_name = serializers.CharField()


def _patient(patient) -> dict | None:
    if patient is None:
        return None
    return {
        "id": patient.pk,
        "patient_number": patient.patient_number,
        "full_name": patient.full_name,
    }


class ConversationSerializer(serializers.Serializer):
    """A conversation with one WhatsApp user. `patient` is null while the sender is unknown."""

    id = serializers.IntegerField()
    patient = PatientBriefSerializer(allow_null=True)
    wa_id = serializers.CharField(help_text="The WhatsApp number, E.164 digits without +.")
    profile_name = serializers.CharField(help_text="The name the user gave WhatsApp.")
    state = serializers.ChoiceField(choices=ConversationState.choices)
    unread_count = serializers.IntegerField()
    needs_reply = serializers.BooleanField()
    assigned_to = serializers.IntegerField(allow_null=True, help_text="A staff member's id.")
    last_message_at = serializers.DateTimeField(allow_null=True)
    window_open = serializers.BooleanField(
        help_text="Whether free-form replies are possible (the user wrote in the last 24 hours)."
    )
    window_expires_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, conversation) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": conversation.pk,
            "patient": _patient(conversation.patient),
            "wa_id": conversation.wa_id,
            "profile_name": conversation.profile_name,
            "state": conversation.state,
            "unread_count": conversation.unread_count,
            "needs_reply": conversation.needs_reply,
            "assigned_to": conversation.assigned_to_id,
            "last_message_at": iso(conversation.last_message_at, tz),
            "window_open": conversation.window_open(),
            "window_expires_at": iso(conversation.window_expires_at, tz),
        }


class MessageSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Vaidya's id of the message.")
    conversation_id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    purpose = serializers.ChoiceField(choices=MessagePurpose.choices)
    body = serializers.CharField(help_text="The text, or a template's text with its values.")
    template_name = serializers.CharField()
    template_language = serializers.CharField()
    parameters = serializers.DictField(
        help_text='{"body": [...], "header": [...], "buttons": [...]}'
    )
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    uncertain = serializers.BooleanField(
        help_text="The send may or may not have reached WhatsApp: check before sending again."
    )
    error_code = serializers.IntegerField(allow_null=True)
    error_title = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, message) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": str(message.public_id),
            "conversation_id": message.conversation_id,
            "direction": message.direction,
            "kind": message.kind,
            "purpose": message.purpose,
            "body": message.body,
            "template_name": message.template_name,
            "template_language": message.template_language,
            "parameters": message.parameters or {},
            "status": message.status,
            "uncertain": message.uncertain,
            "error_code": message.error_code,
            "error_title": message.error_title,
            "created_at": iso(message.created_at, tz),
            "sent_at": iso(message.sent_at, tz),
            "delivered_at": iso(message.delivered_at, tz),
            "read_at": iso(message.read_at, tz),
            "failed_at": iso(message.failed_at, tz),
        }


class ReminderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    patient = PatientBriefSerializer()
    kind = serializers.ChoiceField(choices=ReminderKind.choices)
    source = serializers.CharField(help_text="What it is for: appointment:12, visit:7, ...")
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ReminderStatus.choices)
    outcome = serializers.CharField(help_text="Why it was not sent, or was cancelled.")
    message_id = serializers.UUIDField(allow_null=True, help_text="The message sent, if any.")

    def to_representation(self, reminder) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": reminder.pk,
            "patient": _patient(reminder.patient),
            "kind": reminder.kind,
            "source": reminder.source,
            "due_at": iso(reminder.due_at, tz),
            "status": reminder.status,
            "outcome": reminder.outcome,
            "message_id": str(reminder.message.public_id) if reminder.message_id else None,
        }


class ConsentStateSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    granted = serializers.BooleanField(help_text="Whether the patient's latest word is yes.")
    action = serializers.CharField(
        allow_null=True, help_text="granted or withdrawn; null: never asked."
    )
    method = serializers.CharField(allow_null=True)
    occurred_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, item) -> dict[str, Any]:
        purpose, event = item
        return {
            "purpose": purpose,
            "granted": bool(event and event.action == "granted"),
            "action": event.action if event else None,
            "method": event.method if event else None,
            "occurred_at": iso(event.occurred_at, self.context["tz"]) if event else None,
        }


class PatientConsentSerializer(serializers.Serializer):
    patient_id = serializers.IntegerField()
    consents = ConsentStateSerializer(many=True)


# --- input --------------------------------------------------------------------------------------
class ConversationListQuerySerializer(PagedQuerySerializer):
    show = serializers.ChoiceField(choices=CONVERSATION_FILTERS, required=False, default="open")
    patient = id_field("Only this patient's conversation.", required=False)
    assigned_to = id_field("Only conversations assigned to this staff member.", required=False)


class TemplateSendInputSerializer(StrictInputSerializer):
    template_id = id_field("An approved template of the clinic.", refers_to="approved template")
    parameters = serializers.ListField(
        child=serializers.CharField(max_length=1024, allow_blank=True),
        required=False,
        default=list,
        max_length=20,
        help_text="One value per placeholder of the body ({{1}}, {{2}}, ...), in order.",
    )
    purpose = serializers.ChoiceField(
        choices=MessagePurpose.choices,
        required=False,
        help_text=(
            "reply inside the 24-hour window, care (needs the patient's opt-in) outside it; "
            "chosen from the window when left out. A marketing template is always marketing "
            "(needs the marketing opt-in, never to a minor)."
        ),
    )


class ReminderListQuerySerializer(PagedQuerySerializer):
    patient = id_field("Only this patient's reminders.", required=False)
    status = serializers.ChoiceField(choices=ReminderStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=ReminderKind.choices, required=False)
    due_from = AwareDateTimeField(required=False, help_text="Due at or after this time.")
    due_to = declared(
        AwareDateTimeField(required=False, help_text="Due before this time."),
        rule="Must be after due_from when both are given.",
    )

    def validate(self, data):
        if "due_from" in data and "due_to" in data and data["due_to"] <= data["due_from"]:
            raise serializers.ValidationError({"due_to": ["Must be after due_from."]})
        return data


class ReminderCancelInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why it is cancelled.")


class ConsentRecordInputSerializer(StrictInputSerializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    action = serializers.ChoiceField(
        choices=[("grant", "The patient agrees"), ("withdraw", "The patient withdraws")]
    )
    notice = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="The notice exactly as the patient saw it (grants; Vaidya's own when empty).",
    )
