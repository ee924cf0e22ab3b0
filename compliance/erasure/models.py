"""Erasures of a patient's data: planned (the dry run, shown to the owner), then confirmed once.

The plan and the result hold counts per registered kind, legal bases and dates, never personal
values, and the row keeps only the patient's number, so it can stay as the clinic's evidence
after the patient's own data went. The certificate of erasure is a PDF stored for the clinic.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models import Patient


class ErasureStatus(models.TextChoices):
    PLANNED = "planned", _("Planned (dry run)")
    DONE = "done", _("Erased")


class Erasure(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    # Cleared if the patient's row itself goes; `patient_number` stays as the reference.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    patient_number = models.PositiveIntegerField()
    request_reference = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001 (to become a link)
    status = models.CharField(
        max_length=10, choices=ErasureStatus.choices, default=ErasureStatus.PLANNED
    )
    # The dry run: [{"kind", "description", "erase", "keep", "basis", "erasable_on", ...}].
    plan = models.JSONField(default=list)
    # What the confirmed erasure did: {"kind": rows erased or anonymised}, and the steps run.
    result = models.JSONField(default=dict, blank=True)
    planned_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    planned_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    certificate = models.FileField(max_length=200, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-planned_at", "-id"]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return self.request_reference or f"ERA-{self.pk:06d}"


class StaffErasure(models.Model):
    """A departed staff member's personal data erased at one clinic (the schedule's marker)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    membership = models.OneToOneField(Membership, on_delete=models.PROTECT, related_name="+")
    erased_at = models.DateTimeField(default=timezone.now)
    result = models.JSONField(default=dict, blank=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"staff erasure {self.pk}"
