"""Exports of a person's data (access and portability): one ZIP per export, built by a task.

The ZIP holds a readable PDF summary, JSON of every registered kind and an HL7 FHIR R4 Bundle
(`compliance.exports.build`). It is stored privately under a key with no personal data in it,
handed out by a signed link valid a few minutes (`compliance.exports.links`) and removed after
`EXPORT_KEEP_DAYS` by the `vaidya.exports_expire` schedule.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models import Patient


class ExportSubject(models.TextChoices):
    PATIENT = "patient", "A patient's data"
    STAFF = "staff", "A staff member's own data"


class ExportStatus(models.TextChoices):
    PREPARING = "preparing", _("Preparing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Could not be prepared")
    EXPIRED = "expired", _("Removed after 7 days")


class DataExport(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    subject = models.CharField(max_length=10, choices=ExportSubject.choices)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The data-rights request this export answers, when there is one.
    request_reference = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001 (to become a link)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PREPARING
    )
    problem = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # Rows per registered kind, as written to the JSON part ({"patients.visit": 500}).
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "status", "expires_at"], name="export_expiry")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
