"""A clinic's WhatsApp Business number, its message templates and its messaging settings."""

from __future__ import annotations

import secrets
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from clinics.fields import EncryptedTextField
from clinics.models import Clinic
from clinics.tenancy import ClinicScopedManager


def new_webhook_key() -> str:
    return secrets.token_urlsafe(24)


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Connected"
    TOKEN_INVALID = "token_invalid", "Access token rejected"
    DISCONNECTED = "disconnected", "Disconnected"


class WhatsAppAccount(models.Model):
    """The clinic's WhatsApp Business number on the Cloud API (one per clinic).

    Secrets are encrypted at rest and never shown again after they are saved. Meta calls the
    clinic's own webhook URL, /webhooks/whatsapp/<webhook_key>/, signed with its app secret.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="whatsapp")
    phone_number_id = models.CharField(max_length=40, unique=True)
    business_account_id = models.CharField("business account id", max_length=40)
    display_number = models.CharField(max_length=24, help_text="As patients see it: +91 ...")
    access_token = EncryptedTextField()
    app_secret = EncryptedTextField()
    verify_token = EncryptedTextField()
    webhook_key = models.CharField(max_length=40, unique=True, default=new_webhook_key)
    send_rate_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Leave empty for the default (80 messages per second).",
    )
    status = models.CharField(
        max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    problem = models.CharField(max_length=300, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"WhatsApp {self.display_number}"

    def __repr__(self) -> str:
        return f"<WhatsAppAccount {self.pk} phone_number_id={self.phone_number_id}>"

    @property
    def can_send(self) -> bool:
        return self.status == AccountStatus.ACTIVE


class TemplateCategory(models.TextChoices):
    UTILITY = "UTILITY", "Utility"
    MARKETING = "MARKETING", "Marketing"
    AUTHENTICATION = "AUTHENTICATION", "Authentication"


class TemplateStatus(models.TextChoices):
    DRAFT = "DRAFT", "Not submitted"
    PENDING = "PENDING", "Waiting for Meta's review"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    PAUSED = "PAUSED", "Paused"
    DISABLED = "DISABLED", "Disabled"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    HINDI = "hi", "हिन्दी (Hindi)"


class MessageTemplate(models.Model):
    """One template in one language, as registered with Meta for the clinic's account.

    `purpose` ties Vaidya's own templates to what they are for (appointment_reminder, ...);
    templates found on Meta that Vaidya did not create have an empty purpose and can still be
    picked in the inbox. `body` holds positional placeholders {{1}}, {{2}}, ...
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=10)
    category = models.CharField(max_length=20, choices=TemplateCategory.choices)
    purpose = models.CharField(max_length=40, blank=True)
    header_text = models.CharField(max_length=60, blank=True)
    body = models.TextField()
    footer_text = models.CharField(max_length=60, blank=True)
    # Quick-reply buttons, in order: [{"text": "Confirm", "payload": "appt_confirm"}, ...].
    buttons = models.JSONField(default=list, blank=True)
    parameter_count = models.PositiveSmallIntegerField(default=0)
    # Example values for Meta's review, one per placeholder.
    examples = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    meta_template_id = models.CharField(max_length=40, blank=True)
    rejected_reason = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "name", "language"], name="uniq_template_name_language"
            )
        ]
        indexes = [models.Index(fields=["clinic", "purpose", "language"], name="template_purpose")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def is_approved(self) -> bool:
        return self.status == TemplateStatus.APPROVED


def default_reminder_hours() -> list[int]:
    return [24, 2]


# English, Hinglish (Hindi in Latin letters) and Hindi. A word matches at the start of a word
# of the message ("fits" is not found in "benefits"; "chest pain" is found in "chest pains").
DEFAULT_TROUBLE_WORDS = (
    "chest pain\nheart attack\nbreathless\nbreathing difficulty\ncannot breathe\n"
    "can't breathe\nunconscious\nfainted\nbleeding\nseizure\nfits\nstroke\nsuicide\n"
    "kill myself\noverdose\nallergic reaction\nswelling of face\nsevere pain\n"
    "seene mein dard\nseene me dard\nchhati mein dard\nchhati me dard\nsaans\nsans nahi\n"
    "behosh\nkhoon\ndaura\nसीने में दर्द\nछाती में दर्द\nसांस\nसाँस\nबेहोश\nखून\nदौरा\n"
    "आत्महत्या"
)


class MessagingSettings(models.Model):
    """Per-clinic choices for reminders, quiet hours and escalations."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="messaging_settings"
    )
    send_appointment_confirmations = models.BooleanField(default=True)
    appointment_reminder_hours = models.JSONField(
        default=default_reminder_hours,
        help_text="Hours before the appointment to remind the patient, e.g. 24 and 2.",
    )
    send_medicine_reminders = models.BooleanField(default=True)
    discreet_sensitive_medicines = models.BooleanField(
        default=True,
        help_text="Medicine reminders that include a sensitive medicine (psychiatric, HIV, "
        'sexual and reproductive health, addiction treatment) say "your evening medicines '
        "(2)\" instead of the names. A patient's own choice comes first.",
    )
    send_follow_up_reminders = models.BooleanField(default=True)
    follow_up_reminder_time = models.TimeField(
        default="09:30", help_text="Local time on the day before the follow-up date."
    )
    refill_reminder_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Days before a long-term medicine runs out to remind the patient to refill.",
    )
    send_review_requests = models.BooleanField(default=True)
    review_request_delay_hours = models.PositiveSmallIntegerField(default=3)
    review_link = models.URLField(blank=True, help_text="Where happy patients can leave a review.")
    quiet_hours_start = models.TimeField(default="21:30")
    quiet_hours_end = models.TimeField(default="07:30")
    missed_doses_threshold = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Alert the doctor after this many doses in a row are skipped or unanswered.",
    )
    low_rating_threshold = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="Ratings at or below this go to the clinic as feedback and alert the doctor.",
    )
    trouble_words = models.TextField(
        default=DEFAULT_TROUBLE_WORDS,
        blank=True,
        help_text="One word or phrase per line; a patient's message containing one alerts the "
        "doctor.",
    )
    # The clinic's number sends these and the clinic pays for each, so the owner decides
    # whether they are available at all; each doctor then opts in for themselves.
    alert_doctor_on_whatsapp = models.BooleanField(
        default=False,
        help_text="Let doctors who turn it on for themselves get escalation alerts on their "
        "own WhatsApp.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"Messaging settings of clinic {self.clinic_id}"

    def trouble_word_list(self) -> list[str]:
        return [w.strip().casefold() for w in self.trouble_words.splitlines() if w.strip()]


def new_public_id() -> uuid.UUID:
    return uuid.uuid4()
