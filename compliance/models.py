"""Consent ledger (DPDP Act 2023): what each patient agreed to, when, how, and what they read.

Every grant and withdrawal is a new row; rows are never changed or deleted, so the ledger shows
the whole history and the notice text as it was shown. The current state of a purpose is its
latest row. WhatsApp care messages and marketing are separate purposes, and marketing is never
recorded for a minor. Later DPDP purposes (data processing notices, nominations) extend this.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic
from clinics.tenancy import ClinicScopedManager
from patients.models import Patient


class ConsentPurpose(models.TextChoices):
    WHATSAPP_CARE = "whatsapp_care", _("WhatsApp care messages")
    WHATSAPP_MARKETING = "whatsapp_marketing", _("WhatsApp news and health camps")


class ConsentAction(models.TextChoices):
    GRANTED = "granted", _("Agreed")
    WITHDRAWN = "withdrawn", _("Withdrew")


class ConsentMethod(models.TextChoices):
    FORM = "form", _("On a signed form")
    VERBAL = "verbal", _("Verbally, at the desk")
    WHATSAPP_REPLY = "whatsapp_reply", _("By the patient's own WhatsApp message")
    API = "api", _("Through a connected system (API)")
    ERASURE = "erasure", _("With the patient's request to erase their data")


class ConsentImmutableError(Exception):
    """Consent events are append-only."""


class ConsentEvent(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_events")
    purpose = models.CharField(max_length=30, choices=ConsentPurpose.choices)
    action = models.CharField(max_length=10, choices=ConsentAction.choices)
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    # The notice exactly as shown (grants), or the patient's words (a WhatsApp STOP).
    notice_text = models.TextField(blank=True)
    # The phone the consent covers, E.164 (WhatsApp consent is per number).
    phone = models.CharField(max_length=20, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["clinic", "patient", "purpose", "-occurred_at", "-id"],
                name="consent_event_latest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.get_purpose_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ConsentImmutableError("Consent events are never changed; record a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ConsentImmutableError("Consent events are never deleted.")


class VerificationCode(models.Model):
    """A one-time code sent to a patient's registered WhatsApp number (compliance.verification).

    Only a keyed hash of the code is kept. `subject` names what the code unlocks (for example
    "document:42"), never anything about the patient.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=80)
    digest = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        indexes = [
            models.Index(
                fields=["clinic", "subject", "created_at"], name="verification_subject_idx"
            )
        ]

    def __str__(self) -> str:
        return f"code for {self.subject} at {self.created_at:%Y-%m-%d %H:%M}"


# The data-rights requests, exports, erasures and retention models live in their own packages;
# imported here so Django finds them.
from compliance.erasure.models import Erasure, ErasureStatus, StaffErasure  # noqa: E402
from compliance.exports.models import DataExport, ExportStatus, ExportSubject  # noqa: E402
from compliance.retention_models import (  # noqa: E402 (the retention models live apart)
    ErasureNotice,
    LegalHold,
    PurgeRun,
    RetentionPolicy,
)
from compliance.rights.models import (  # noqa: E402
    OPEN_STATUSES,
    Channel,
    CorrectionDecision,
    CorrectionItem,
    CorrectionTarget,
    EvidenceKind,
    IdType,
    Nomination,
    NominationEvidence,
    Requester,
    RightsKind,
    RightsRequest,
    RightsRequestEvent,
    RightsStatus,
    Verification,
)

__all__ = [
    "OPEN_STATUSES",
    "Channel",
    "ConsentAction",
    "ConsentEvent",
    "ConsentImmutableError",
    "ConsentMethod",
    "ConsentPurpose",
    "CorrectionDecision",
    "CorrectionItem",
    "CorrectionTarget",
    "DataExport",
    "Erasure",
    "ErasureNotice",
    "ErasureStatus",
    "EvidenceKind",
    "ExportStatus",
    "ExportSubject",
    "IdType",
    "LegalHold",
    "Nomination",
    "NominationEvidence",
    "PurgeRun",
    "Requester",
    "RetentionPolicy",
    "RightsKind",
    "RightsRequest",
    "RightsRequestEvent",
    "RightsStatus",
    "StaffErasure",
    "Verification",
    "VerificationCode",
]
