"""Escalation alerts on staff members' own WhatsApp: each person's opt-in, and the message that
carried each alert."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from messaging.models.accounts import Language
from messaging.models.care import Escalation
from messaging.models.conversations import Message


class WhatsAppAlertOptIn(models.Model):
    """A staff member's own choice to get escalation alerts on their WhatsApp, at one clinic.

    It is their consent, so only they turn it on; an owner may turn it off (someone who left).
    The row stays when alerts are turned off, so when they were on and off is on record (the
    audit trail has each change). An owner turning it off also erases the number: the clinic
    has no reason to keep a former colleague's personal phone.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    membership = models.OneToOneField(
        Membership, on_delete=models.PROTECT, related_name="whatsapp_alerts"
    )
    phone = PhoneNumberField("WhatsApp number", blank=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    enabled = models.BooleanField(default=False)
    enabled_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        "clinics.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["clinic", "membership"]
        # A staff member's reply to the clinic's number is matched by its sender's number.
        indexes = [models.Index(fields=["clinic", "phone"], name="alert_optin_phone")]

    def __str__(self) -> str:
        return (
            f"WhatsApp alerts of membership {self.membership_id}: {'on' if self.enabled else 'off'}"
        )


class EscalationAlert(models.Model):
    """The WhatsApp message that told a staff member about an escalation: at most one per
    escalation and staff member (unique, so a task that runs twice sends once). A worrying
    message alerts every doctor who treats the patient; other escalations alert one."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, related_name="whatsapp_alerts"
    )
    recipient = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalation_alert"
    )
    # Why no message was queued, when the sending rules refused it.
    problem = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "recipient"], name="uniq_escalation_alert_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"WhatsApp alert for escalation {self.escalation_id}"
