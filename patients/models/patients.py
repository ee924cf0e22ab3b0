"""Patients and their guardians."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from clinics.models import Clinic
from clinics.states import STATE_CHOICES
from clinics.tenancy import ClinicScopedManager
from clinics.validators import (
    VisibleText,
    format_abha_number,
    validate_abha_address,
    validate_abha_number,
    validate_pincode,
)

ADULT_AGE = 18


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "O", _("Other")


class BloodGroup(models.TextChoices):
    A_POS = "A+", "A+"
    A_NEG = "A-", "A-"
    B_POS = "B+", "B+"
    B_NEG = "B-", "B-"
    AB_POS = "AB+", "AB+"
    AB_NEG = "AB-", "AB-"
    O_POS = "O+", "O+"
    O_NEG = "O-", "O-"


class Language(models.TextChoices):
    """Languages a patient may prefer for messages and printed advice."""

    ENGLISH = "en", "English"
    HINDI = "hi", "Hindi (हिन्दी)"
    BENGALI = "bn", "Bengali (বাংলা)"
    GUJARATI = "gu", "Gujarati (ગુજરાતી)"
    KANNADA = "kn", "Kannada (ಕನ್ನಡ)"
    MALAYALAM = "ml", "Malayalam (മലയാളം)"
    MARATHI = "mr", "Marathi (मराठी)"
    TAMIL = "ta", "Tamil (தமிழ்)"
    TELUGU = "te", "Telugu (తెలుగు)"


class DiscreetMessages(models.TextChoices):
    """Whether medicine reminders name the medicines (see messaging.services.reminder_content)."""

    AUTO = "auto", _("As the clinic chose (discreet for sensitive medicines)")
    ALWAYS = "always", _("Never name the medicines")
    NEVER = "never", _("Always name the medicines")


class Relation(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Son or daughter")
    LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
    RELATIVE = "relative", _("Other relative")
    OTHER = "other", _("Other")


def validate_not_future(value: date) -> None:
    if value and value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.", code="future_dob")


def validate_plausible_dob(value: date) -> None:
    if value and value.year < timezone.localdate().year - 130:
        raise ValidationError("Check the date of birth: that is over 130 years ago.")


def age_on(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def normalise_name(name: str) -> str:
    """What name search matches against: case-folded, single-spaced."""
    return " ".join((name or "").casefold().split())


class Patient(models.Model):
    """A patient of one clinic. `number` is the clinic's readable patient number."""

    # Covered by the (clinic, number) unique index and the other (clinic, ...) indexes.
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="patients", db_index=False
    )
    number = models.PositiveIntegerField(editable=False)
    full_name = models.CharField(max_length=200, validators=[VisibleText("full name")])
    search_name = models.CharField(max_length=200, editable=False)
    date_of_birth = models.DateField(validators=[validate_not_future, validate_plausible_dob])
    dob_estimated = models.BooleanField("date of birth estimated from age", default=False)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    phone = PhoneNumberField(help_text="Mobile number; Indian numbers need no +91.")
    whatsapp_phone = PhoneNumberField(
        "WhatsApp number", blank=True, help_text="Only if different from the phone number."
    )
    preferred_language = models.CharField(
        max_length=5,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="For WhatsApp messages. Messages fall back to English where the clinic has "
        "no approved template in this language.",
    )
    discreet_messages = models.CharField(
        max_length=6,
        choices=DiscreetMessages.choices,
        default=DiscreetMessages.AUTO,
        help_text="Whether WhatsApp medicine reminders name the medicines or only say "
        '"your evening medicines (2)".',
    )
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True, validators=[VisibleText("address", multiline=True)])
    city = models.CharField(max_length=100, blank=True, validators=[VisibleText("city")])
    pincode = models.CharField(max_length=6, blank=True, validators=[validate_pincode])
    state_code = models.CharField("state", max_length=2, choices=STATE_CHOICES, blank=True)
    blood_group = models.CharField(max_length=3, choices=BloodGroup.choices, blank=True)
    allergies = models.TextField(blank=True)
    chronic_conditions = models.TextField(blank=True)
    abha_number = models.CharField(
        "ABHA number", max_length=14, blank=True, validators=[validate_abha_number]
    )
    abha_address = models.CharField(
        "ABHA address", max_length=120, blank=True, validators=[validate_abha_address]
    )
    emergency_contact_name = models.CharField(
        max_length=150, blank=True, validators=[VisibleText("emergency contact's name")]
    )
    emergency_contact_relation = models.CharField(
        max_length=20, choices=Relation.choices, blank=True
    )
    emergency_contact_phone = PhoneNumberField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never searched by; staff accounts are deactivated, not deleted
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "number"], name="uniq_patient_number"),
        ]
        indexes = [
            models.Index(fields=["clinic", "phone"], name="patient_phone"),
            models.Index(fields=["clinic", "whatsapp_phone"], name="patient_whatsapp"),
            models.Index(fields=["clinic", "search_name"], name="patient_name"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.patient_number})"

    @property
    def patient_number(self) -> str:
        return f"P-{self.number:06d}"

    @property
    def age(self) -> int:
        return age_on(self.date_of_birth, timezone.localdate())

    @property
    def is_minor(self) -> bool:
        return self.age < ADULT_AGE

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def abha_number_display(self) -> str:
        return format_abha_number(self.abha_number)

    @property
    def messaging_phone(self):
        return self.whatsapp_phone or self.phone


class Guardian(models.Model):
    """An adult responsible for a patient: another patient of the clinic, or a contact."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardians")
    guardian_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="wards"
    )
    name = models.CharField(max_length=150, blank=True, validators=[VisibleText("guardian's name")])
    relation = models.CharField(max_length=20, choices=Relation.choices)
    phone = PhoneNumberField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(guardian_patient__isnull=False) | ~models.Q(name=""),
                name="guardian_is_patient_or_named",
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_relation_display()})"

    @property
    def display_name(self) -> str:
        return self.guardian_patient.full_name if self.guardian_patient_id else self.name

    @property
    def contact_phone(self):
        return self.guardian_patient.phone if self.guardian_patient_id else self.phone
