"""Django admin for messaging: read-only, superusers only (see clinics/admin/).

Clinic staff connect WhatsApp, answer conversations and manage reminders in the clinic's own
pages, where every action is checked and audited. Here a superuser can look things up across
clinics. Secrets (access token, app secret, verify token) are never shown.
"""

from __future__ import annotations

from django.contrib import admin

from clinics.admin import ReadOnlyAdmin
from messaging.models import (
    Conversation,
    Escalation,
    EscalationAlert,
    Message,
    MessageTemplate,
    Reminder,
    WhatsAppAccount,
    WhatsAppAlertOptIn,
)


@admin.register(WhatsAppAccount)
class WhatsAppAccountAdmin(ReadOnlyAdmin):
    readonly_what = "WhatsApp connections"
    list_display = ("clinic", "display_number", "phone_number_id", "status", "last_checked_at")
    list_filter = ("status",)
    list_select_related = ("clinic",)
    search_fields = ("=phone_number_id", "display_number", "=clinic__slug")
    # The secrets are deliberately absent.
    fields = (
        "clinic",
        "display_number",
        "phone_number_id",
        "business_account_id",
        "status",
        "problem",
        "send_rate_per_second",
        "connected_at",
        "last_checked_at",
    )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyAdmin):
    readonly_what = "message templates"
    list_display = ("name", "language", "clinic", "category", "purpose", "status")
    list_filter = ("status", "category", "language")
    list_select_related = ("clinic",)
    search_fields = ("name", "=clinic__slug")
    fields = (
        "clinic",
        "name",
        "language",
        "category",
        "purpose",
        "header_text",
        "body",
        "footer_text",
        "buttons",
        "status",
        "rejected_reason",
        "meta_template_id",
        "submitted_at",
        "synced_at",
    )


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    readonly_what = "conversations"
    list_display = ("pk", "clinic", "patient", "state", "unread_count", "last_message_at")
    list_filter = ("state",)
    list_select_related = ("clinic", "patient")
    search_fields = ("=clinic__slug",)
    fields = (
        "clinic",
        "patient",
        "state",
        "assigned_to",
        "unread_count",
        "needs_reply",
        "last_message_at",
        "last_inbound_at",
        "window_expires_at",
        "unreachable_at",
        "paused_until",
    )


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    readonly_what = "messages"
    list_display = ("public_id", "clinic", "direction", "kind", "status", "created_at")
    list_filter = ("direction", "kind", "status", "uncertain")
    list_select_related = ("clinic",)
    search_fields = ("=wamid", "=public_id")
    # The text is a patient's health conversation: shown to the clinic, not listed here.
    fields = (
        "clinic",
        "conversation",
        "public_id",
        "direction",
        "kind",
        "purpose",
        "template_name",
        "template_language",
        "wamid",
        "status",
        "uncertain",
        "attempts",
        "sent_at",
        "delivered_at",
        "read_at",
        "failed_at",
        "error_code",
        "error_title",
        "created_at",
    )


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    readonly_what = "reminders"
    list_display = ("pk", "clinic", "kind", "source", "due_at", "status")
    list_filter = ("status", "kind")
    list_select_related = ("clinic",)
    search_fields = ("=source", "=clinic__slug")
    fields = ("clinic", "patient", "kind", "source", "due_at", "status", "outcome", "message")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    readonly_what = "escalations"
    list_display = ("pk", "clinic", "reason", "state", "opened_at", "resolved_at")
    list_filter = ("state", "reason")
    list_select_related = ("clinic",)
    search_fields = ("=clinic__slug",)
    fields = (
        "clinic",
        "patient",
        "doctor",
        "reason",
        "detail",
        "state",
        "opened_at",
        "resolved_at",
        "resolved_by",
        "resolution",
    )


@admin.register(WhatsAppAlertOptIn)
class WhatsAppAlertOptInAdmin(ReadOnlyAdmin):
    readonly_what = "staff members' WhatsApp alert choices"
    list_display = ("pk", "clinic", "membership", "enabled", "language", "enabled_at")
    list_filter = ("enabled", "language")
    list_select_related = ("clinic", "membership__user")
    search_fields = ("=clinic__slug",)
    # The staff member's own phone number is left out: nothing here needs it.
    fields = ("clinic", "membership", "enabled", "language", "enabled_at", "disabled_at")


@admin.register(EscalationAlert)
class EscalationAlertAdmin(ReadOnlyAdmin):
    readonly_what = "escalation alerts sent on WhatsApp"
    list_display = ("pk", "clinic", "escalation", "recipient", "message", "created_at")
    list_select_related = ("clinic", "recipient__user")
    search_fields = ("=clinic__slug",)
    fields = ("clinic", "escalation", "recipient", "message", "problem", "created_at")
