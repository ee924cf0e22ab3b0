"""Conversations with patients and the messages in them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from messaging.models.accounts import MessageTemplate, WhatsAppAccount
from patients.models import Document, Patient

WINDOW = timedelta(hours=24)


class ConversationState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Conversation(models.Model):
    """Everything exchanged with one WhatsApp user on the clinic's number.

    The WhatsApp identity is (wa_id, bsuid): the phone number in E.164 digits and the
    business-scoped user id; either may be empty (a user with a username may have no phone).
    A conversation whose patient is not known yet is "unknown" until staff link it.
    `window_expires_at` is 24 hours after the user's last message: free-form replies only before.

    A conversation with `staff` set carries escalation alerts to that staff member's own
    WhatsApp (messaging.services.staff_alerts). It has no patient and no identity of its own
    (wa_id and bsuid stay empty, so it never takes a patient's number: a doctor's family is
    often registered under the doctor's phone); the number comes from the staff member's
    opt-in when a message is sent. The inbox never lists it.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    account = models.ForeignKey(WhatsAppAccount, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    wa_id = models.CharField("WhatsApp number", max_length=20, blank=True)
    bsuid = models.CharField("business-scoped user id", max_length=80, blank=True)
    profile_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(
        max_length=10, choices=ConversationState.choices, default=ConversationState.OPEN
    )
    assigned_to = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    staff = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set for the conversation carrying alerts to this staff member.",
    )
    unread_count = models.PositiveIntegerField(default=0)
    needs_reply = models.BooleanField(default=False)
    # What the patient asked for that staff must not miss, shown beside "needs reply":
    # "Data request: copy, deletion" (messaging.services.rights_requests). Cleared on resolve.
    request_label = models.CharField(max_length=80, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    window_expires_at = models.DateTimeField(null=True, blank=True)
    # WhatsApp said the number cannot receive messages (131026): stop sending until it writes.
    unreachable_at = models.DateTimeField(null=True, blank=True)
    # Per-recipient back-off after 131056 (pair rate): nothing is sent before this time.
    paused_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "wa_id"],
                condition=~Q(wa_id=""),
                name="uniq_conversation_wa_id",
            ),
            models.UniqueConstraint(
                fields=["account", "bsuid"],
                condition=~Q(bsuid=""),
                name="uniq_conversation_bsuid",
            ),
            # A patient's conversation has a WhatsApp identity; a staff member's has none.
            models.CheckConstraint(
                condition=(Q(staff__isnull=True) & ~Q(wa_id="", bsuid=""))
                | Q(staff__isnull=False, wa_id="", bsuid=""),
                name="conversation_has_identity",
            ),
            models.UniqueConstraint(
                fields=["account", "staff"],
                condition=Q(staff__isnull=False),
                name="uniq_conversation_staff",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "state", "-last_message_at"], name="conversation_inbox"),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"

    @property
    def is_unknown(self) -> bool:
        return self.patient_id is None and self.staff_id is None

    @property
    def for_staff(self) -> bool:
        return self.staff_id is not None

    def window_open(self, now=None) -> bool:
        now = now or timezone.now()
        return bool(self.window_expires_at and self.window_expires_at > now)

    def window_left(self, now=None) -> timedelta:
        now = now or timezone.now()
        if not self.window_open(now):
            return timedelta(0)
        return self.window_expires_at - now


class Direction(models.TextChoices):
    INBOUND = "in", "From the patient"
    OUTBOUND = "out", "From the clinic"


class MessageKind(models.TextChoices):
    TEXT = "text", "Text"
    TEMPLATE = "template", "Template"
    DOCUMENT = "document", "Document"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    STICKER = "sticker", "Sticker"
    BUTTON = "button", "Button reply"
    INTERACTIVE = "interactive", "Interactive reply"
    LOCATION = "location", "Location"
    REACTION = "reaction", "Reaction"
    UNSUPPORTED = "unsupported", "Unsupported"


class MessagePurpose(models.TextChoices):
    """Why a business message was sent: decides which consent it needs."""

    REPLY = "reply", "Reply in a conversation"
    CARE = "care", "Care reminder"
    MARKETING = "marketing", "Marketing"
    # To a staff member's own WhatsApp, on their own opt-in (not a patient's consent).
    STAFF = "staff", "Alert to staff"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    RECEIVED = "received", "Received"


# Status only moves forward; failed is terminal. A status webhook can skip steps (read without
# delivered) and can arrive out of order: keep the furthest.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
    MessageStatus.FAILED: 9,
    MessageStatus.RECEIVED: 0,
}


class Message(models.Model):
    """One message in or out. `public_id` is our id (sent to Meta as biz_opaque_callback_data)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    purpose = models.CharField(
        max_length=10, choices=MessagePurpose.choices, default=MessagePurpose.REPLY
    )
    body = models.TextField(blank=True)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    template_name = models.CharField(max_length=512, blank=True)
    template_language = models.CharField(max_length=10, blank=True)
    # {"header": [...], "body": [...], "buttons": [{"index": 0, "payload": "..."}]}
    parameters = models.JSONField(default=dict, blank=True)
    # A quick-reply payload the patient pressed, or a reply id from an interactive message.
    payload = models.CharField(max_length=256, blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    media_mime_type = models.CharField(max_length=100, blank=True)
    # Inbound media, copied into the clinic's storage on arrival (Meta's ids expire in 7
    # days). Key: clinics/<clinic id>/whatsapp_media/<uuid>.<ext>.
    media_file = models.FileField(max_length=300, blank=True)
    media_sha256 = models.CharField(max_length=64, blank=True)
    media_size = models.PositiveIntegerField(null=True, blank=True)
    media_filename = models.CharField(max_length=255, blank=True)
    wamid = models.CharField(max_length=200, null=True, blank=True, unique=True)
    context_wamid = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The send may have reached Meta but we never heard back: staff decide, Vaidya never
    # re-sends it blindly.
    uncertain = models.BooleanField(default=False)
    # When the send task was last enqueued again (by the lost-task sweep or a reconnect); until
    # then `created_at` is when it was first enqueued.
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        "clinics.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_thread"),
            models.Index(fields=["clinic", "status", "next_attempt_at"], name="message_pending"),
            # The plan's monthly count of outbound messages (messaging/usage.py), asked before
            # each message is queued: a range of the month, not the clinic's whole history.
            models.Index(fields=["clinic", "direction", "created_at"], name="message_month"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_kind_display()} {self.public_id}"

    @property
    def is_outbound(self) -> bool:
        return self.direction == Direction.OUTBOUND


class MessageStatusEvent(models.Model):
    """Each status Meta reported for a message, once: duplicates of (message, status) are
    ignored, so a redelivered webhook changes nothing."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="status_events")
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    occurred_at = models.DateTimeField()
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "status"], name="uniq_message_status")
        ]

    def __str__(self) -> str:
        return f"{self.status} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class WebhookDelivery(models.Model):
    """A verified webhook body, kept only until the background task has processed it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="+")
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    # When its task was last enqueued again by the lost-task sweep (until then, `received_at`).
    queued_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"Webhook delivery {self.pk}"
