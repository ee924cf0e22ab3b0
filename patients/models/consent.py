"""Consent forms: clinic-defined templates with versions, signed on screen and frozen as PDF.

A template's text is never edited in place once anyone has signed it: saving new text makes a
new version, and each signed consent points to the exact version the patient read. The
signature is an image drawn on a tablet (stored as a PNG with its SHA-256), signed by the
patient or, for a minor, a guardian, with the member of staff who witnessed it and the server
time. The signed form is rendered to a PDF document once and never changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models.documents import Document
from patients.models.patients import Patient, Relation
from patients.models.visits import Visit


class ConsentKind(models.TextChoices):
    PROCEDURE = "procedure", "Procedure consent"
    PHOTOGRAPHY = "photography", "Clinical photography consent"
    ANAESTHESIA = "anaesthesia", "Local anaesthesia consent"
    TELECONSULTATION = "teleconsultation", "Teleconsultation consent"
    GENERAL = "general", "General consent"


class ConsentTemplate(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="consent_template_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ConsentTemplateVersion(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    template = models.ForeignKey(ConsentTemplate, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    # Plain text; blank lines separate paragraphs. Printed as written.
    body = models.TextField()
    language = models.CharField(max_length=10, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "version"], name="consent_template_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class SignerKind(models.TextChoices):
    PATIENT = "patient", "The patient"
    GUARDIAN = "guardian", "Parent or guardian"


class SignedConsent(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
        db_index=False,
    )
    template_version = models.ForeignKey(
        ConsentTemplateVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # What exactly is consented to (the procedure, the site, the photos), filled in at the desk.
    details = models.CharField(max_length=500, blank=True)
    signer_kind = models.CharField(max_length=10, choices=SignerKind.choices)
    signer_name = models.CharField(max_length=200)
    signer_relation = models.CharField(max_length=20, choices=Relation.choices, blank=True)
    # The drawn signature: a PNG in storage, with its hash.
    signature = models.FileField(max_length=200)
    signature_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    witness = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    document = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="signed_consent"
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "patient", "-signed_at"], name="consent_patient_idx")
        ]

    def __str__(self) -> str:
        return f"Consent #{self.pk}"
