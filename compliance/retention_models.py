"""Retention: each clinic's policy (one row per record class), legal holds that stop purges, the
log of each purge run and the notices given before a patient's whole record is erased.

Imported by compliance/models.py (Django finds models there); kept apart so the rights and
erasure models can grow beside them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinics.models import Clinic
from clinics.tenancy import ClinicScopedManager
from patients.models import Patient


class RetentionPolicy(models.Model):
    """How long this clinic keeps one class of records (compliance.personal_data's
    RETENTION_CLASSES): never below the class's floor. A class without a row keeps its default."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    record_class = models.CharField(max_length=30)
    days = models.PositiveIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "record_class"], name="retention_policy_one_per_class"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_class}: {self.days} days"


class LegalHold(models.Model):
    """A hold on a patient's records or on one WhatsApp conversation (a medico-legal case, a
    complaint, a court's order): while it is not lifted, no purge erases what it covers.

    `conversation_id` is a messaging.Conversation's id (compliance does not import messaging)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    conversation_id = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    set_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    lift_reason = models.CharField(max_length=300, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-set_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(patient__isnull=False, conversation_id__isnull=True)
                    | models.Q(patient__isnull=True, conversation_id__isnull=False)
                ),
                name="legal_hold_on_one_thing",
            )
        ]
        indexes = [models.Index(fields=["clinic", "lifted_at"], name="legal_hold_active")]

    def __str__(self) -> str:
        what = (
            f"patient {self.patient_id}"
            if self.patient_id
            else f"conversation {self.conversation_id}"
        )
        return f"Hold on {what}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class PurgeRun(models.Model):
    """One retention purge of one clinic: when it ran and how many rows each kind lost
    (`counts`: {"kinds": {kind name: n}, "classes": {record class: n}, "notices": n,
    "records": n, "held": n})."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    problem = models.CharField(max_length=300, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["clinic", "-started_at"], name="purge_run_latest")]

    def __str__(self) -> str:
        return f"Purge {self.started_at:%Y-%m-%d %H:%M}"


class ErasureNotice(models.Model):
    """The notice given to a patient whose clinical-record period has run out: their whole
    record is erased on the first purge after `erase_after` (48 hours on). `channel` is how
    they were told ("" when there was no way to reach them)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="+")
    noticed_at = models.DateTimeField(default=timezone.now)
    erase_after = models.DateTimeField()
    channel = models.CharField(max_length=30, blank=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"Erasure notice for patient {self.patient_id}"
