"""A patient's allergies as structured entries, which every prescribed medicine is checked
against (`patients.prescribing.checks`). The free text on the patient (`Patient.allergies`)
is kept beside them and is read by the checks too."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from clinics.validators import VisibleText
from patients.models.patients import Patient
from patients.prescribing.classes import ALLERGY_CLASS_CHOICES


class AllergySeverity(models.TextChoices):
    UNKNOWN = "", "Not known"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    ANAPHYLAXIS = "anaphylaxis", "Anaphylaxis"


class PatientAllergy(models.Model):
    """One allergy: a substance (a generic name, a food, latex ...) or a drug class."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="allergy_entries")
    substance = models.CharField(max_length=100, blank=True, validators=[VisibleText("substance")])
    drug_class = models.CharField(max_length=30, blank=True, choices=ALLERGY_CLASS_CHOICES)
    reaction = models.CharField(max_length=200, blank=True, validators=[VisibleText("reaction")])
    severity = models.CharField(max_length=20, blank=True, choices=AllergySeverity.choices)
    note = models.TextField(blank=True, validators=[VisibleText("note", multiline=True)])
    recorded_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.substance or self.get_drug_class_display()
