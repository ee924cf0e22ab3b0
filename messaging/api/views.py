"""WhatsApp API: conversations and messages (read; send a template), reminders (list, cancel),
a patient's WhatsApp consent (read, record)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from clinics.api.base import idempotent, parsed
from clinics.api.pagination import ClinicCursorPagination
from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.roles import Perm
from compliance.models import ConsentMethod
from compliance.selectors import consent_states
from compliance.services import consent_grant, consent_withdraw
from messaging import selectors
from messaging.api.serializers import (
    ConsentRecordInputSerializer,
    ConversationListQuerySerializer,
    ConversationSerializer,
    MessageSerializer,
    PatientConsentSerializer,
    ReminderCancelInputSerializer,
    ReminderListQuerySerializer,
    ReminderSerializer,
    TemplateSendInputSerializer,
)
from messaging.models import (
    Conversation,
    MessagePurpose,
    Reminder,
)
from messaging.services import sending
from messaging.services.reminders import reminder_cancel
from patients.api.views import IDEMPOTENCY_KEY, PATIENT_ID
from patients.models import Patient
from patients.selectors import patient_or_404

CONVERSATION_ID = OpenApiParameter(
    "conversation_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The conversation's id."
)
REMINDER_ID = OpenApiParameter(
    "reminder_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The reminder's id."
)


def _context(request) -> dict:
    return {"tz": request.clinic.tzinfo}


def _conversation_or_404(conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_detail(conversation_id=conversation_id)
    except Conversation.DoesNotExist:
        raise exceptions.NotFound("No such conversation at this clinic.") from None


class _Pages(ClinicCursorPagination):
    ordering = "-id"


class _ReminderPages(_Pages):
    ordering = ("due_at", "id")
    position_is = "time"


def _page(view, request, rows, serializer_class) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    data = serializer_class(page, many=True, context=_context(request)).data
    return paginator.get_paginated_response(data)


# --- conversations ------------------------------------------------------------------------------
class ConversationListView(ClinicAPIView):
    required_perms = {"GET": Perm.MESSAGING_VIEW}
    pagination_class = _Pages

    @extend_schema(
        operation_id="conversations_list",
        summary="List WhatsApp conversations",
        description=(
            "Newest conversations first, 20 a page; follow `next` for more. `show` picks the "
            "inbox filter: open (default), unread, needs_reply, unknown (sender not linked to "
            "a patient) or resolved."
        ),
        parameters=[ConversationListQuerySerializer],
        responses={200: ConversationSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        query = parsed(ConversationListQuerySerializer, request.query_params)
        rows = selectors.conversation_list(show=query["show"])
        if "patient" in query:
            rows = rows.filter(patient_id=query["patient"])
        if "assigned_to" in query:
            rows = rows.filter(assigned_to_id=query["assigned_to"])
        return _page(self, request, rows, ConversationSerializer)


class ConversationMessagesView(ClinicAPIView):
    required_perms = {"GET": Perm.MESSAGING_VIEW}
    pagination_class = _Pages

    @extend_schema(
        operation_id="conversations_messages_list",
        summary="Messages of a conversation",
        description="Newest first, 20 a page; follow `next` for older messages.",
        parameters=[CONVERSATION_ID],
        responses={200: MessageSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, conversation_id: int):
        conversation = _conversation_or_404(conversation_id)
        rows = selectors.conversation_messages(conversation=conversation)
        return _page(self, request, rows, MessageSerializer)


class ConversationTemplateSendView(ClinicAPIView):
    required_perms = {"POST": Perm.MESSAGING_SEND}

    @extend_schema(
        operation_id="conversations_templates_send",
        summary="Send a template in a conversation",
        description=(
            "Queues one of the clinic's approved templates with a value for each placeholder; "
            "it goes out in the background (watch `status`). Outside the 24-hour window the "
            "patient must have agreed to WhatsApp care messages; a message that may not be "
            "sent answers 400 with code cannot_send and the reason in `detail`. Send an "
            "Idempotency-Key to retry safely."
        ),
        parameters=[CONVERSATION_ID, IDEMPOTENCY_KEY],
        request=TemplateSendInputSerializer,
        responses={
            201: OpenApiResponse(MessageSerializer, description="The message is queued."),
            **error_responses(
                400,
                404,
                415,
                422,
                rules={
                    "cannot_send": "the message may not be sent now (no opt-in outside the "
                    "24-hour window, a minor and marketing, ...), `detail` says why"
                },
            ),
        },
    )
    @idempotent
    def post(self, request, conversation_id: int):
        conversation = _conversation_or_404(conversation_id)
        data = parsed(TemplateSendInputSerializer, request.data)
        template = (
            selectors.approved_templates(clinic_id=conversation.clinic_id)
            .filter(pk=data["template_id"])
            .first()
        )
        if template is None:
            raise exceptions.ValidationError(
                {"template_id": ["No approved template with this id at this clinic."]}
            )
        purpose = data.get("purpose") or (
            MessagePurpose.REPLY if conversation.window_open() else MessagePurpose.CARE
        )
        message = sending.message_queue_template(
            template=template,
            actor=request.actor,
            purpose=purpose,
            conversation=conversation,
            body_params=data["parameters"],
        )
        body = MessageSerializer(message, context=_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- reminders ----------------------------------------------------------------------------------
class ReminderListView(ClinicAPIView):
    required_perms = {"GET": Perm.MESSAGING_VIEW}
    pagination_class = _ReminderPages

    @extend_schema(
        operation_id="reminders_list",
        summary="List reminders",
        description="Planned and past WhatsApp reminders by due time, 20 a page.",
        parameters=[ReminderListQuerySerializer],
        responses={200: ReminderSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        query = parsed(ReminderListQuerySerializer, request.query_params)
        rows = selectors.reminder_list(
            patient_id=query.get("patient"),
            status=query.get("status"),
            kind=query.get("kind"),
            due_from=query.get("due_from"),
            due_to=query.get("due_to"),
        ).select_related("message")
        return _page(self, request, rows, ReminderSerializer)


class ReminderCancelView(ClinicAPIView):
    required_perms = {"POST": Perm.MESSAGING_SEND}

    @extend_schema(
        operation_id="reminders_cancel",
        summary="Cancel a reminder",
        description=(
            "A planned reminder will not be sent. A reason is required. Send an "
            "Idempotency-Key to retry safely."
        ),
        parameters=[REMINDER_ID, IDEMPOTENCY_KEY],
        request=ReminderCancelInputSerializer,
        responses={
            200: OpenApiResponse(ReminderSerializer, description="The reminder is cancelled."),
            **error_responses(400, 404, 409, 415, 422),
        },
    )
    @idempotent
    def post(self, request, reminder_id: int):
        reminder = Reminder.objects.select_related("patient").filter(pk=reminder_id).first()
        if reminder is None:
            raise exceptions.NotFound("No such reminder at this clinic.")
        data = parsed(ReminderCancelInputSerializer, request.data)
        reminder = reminder_cancel(reminder=reminder, actor=request.actor, reason=data["reason"])
        reminder = Reminder.objects.select_related("patient", "message").get(pk=reminder.pk)
        return Response(ReminderSerializer(reminder, context=_context(request)).data)


# --- consent ------------------------------------------------------------------------------------
def _consent_body(request, patient: Patient) -> dict:
    states = consent_states(patient_id=patient.pk)
    return PatientConsentSerializer(
        {"patient_id": patient.pk, "consents": list(states.items())}, context=_context(request)
    ).data


class PatientConsentView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENTS_VIEW, "POST": Perm.PATIENTS_EDIT}

    @extend_schema(
        operation_id="patients_consent_retrieve",
        summary="A patient's WhatsApp consent",
        description="The latest word of the patient on each purpose (care messages, marketing).",
        parameters=[PATIENT_ID],
        responses={200: PatientConsentSerializer, **error_responses(404)},
    )
    def get(self, request, patient_id: int):
        return Response(_consent_body(request, patient_or_404(patient_id)))

    @extend_schema(
        operation_id="patients_consent_record",
        summary="Record a patient's WhatsApp consent",
        description=(
            "Records that the patient agreed to (`grant`) or withdrew (`withdraw`) a purpose, "
            "as told to a connected system (method api). Marketing is never recorded for a "
            "patient under 18 (400, code minor). Recording what is already so changes nothing. "
            "Send an Idempotency-Key to retry safely."
        ),
        parameters=[PATIENT_ID, IDEMPOTENCY_KEY],
        request=ConsentRecordInputSerializer,
        responses={
            200: OpenApiResponse(PatientConsentSerializer, description="The consent now."),
            **error_responses(
                400,
                404,
                415,
                422,
                rules={"minor": "marketing is never recorded for a patient under 18"},
            ),
        },
    )
    @idempotent
    def post(self, request, patient_id: int):
        patient = patient_or_404(patient_id)
        data = parsed(ConsentRecordInputSerializer, request.data)
        if data["action"] == "grant":
            consent_grant(
                patient=patient,
                purpose=data["purpose"],
                method=ConsentMethod.API,
                actor=request.actor,
                notice=data.get("notice") or "",
            )
        else:
            consent_withdraw(
                patient=patient,
                purpose=data["purpose"],
                method=ConsentMethod.API,
                actor=request.actor,
            )
        return Response(_consent_body(request, patient))
