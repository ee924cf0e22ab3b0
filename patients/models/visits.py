"""Visits (encounters): notes, vitals, diagnoses and procedures, signed by the doctor.

A signed visit is frozen. Correcting it creates a new version (`amends` points to the version
it corrects, which is then marked superseded); every version stays readable, with who signed it
and when.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models.patients import Patient
from patients.models.scheduling import Appointment


class VisitMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    TELECONSULTATION = "teleconsultation", "Teleconsultation"


class VisitStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class Visit(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    doctor = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    mode = models.CharField(max_length=20, choices=VisitMode.choices, default=VisitMode.IN_PERSON)
    status = models.CharField(max_length=10, choices=VisitStatus.choices, default=VisitStatus.DRAFT)
    chief_complaints = models.TextField(blank=True)
    history = models.TextField(blank=True)
    examination = models.TextField("examination findings", blank=True)
    investigations_advised = models.TextField(blank=True)
    advice = models.TextField(blank=True)
    follow_up_date = models.DateField(null=True, blank=True)
    # Versions
    version = models.PositiveSmallIntegerField(default=1)
    amends = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendment"
    )
    amendment_reason = models.CharField(max_length=300, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "doctor", "created_at"], name="visit_doctor_time"),
            # A patient's visits in time order: whether they were seen before (reports).
            models.Index(fields=["clinic", "patient", "created_at"], name="visit_patient_time"),
        ]

    def __str__(self) -> str:
        return f"Visit of {self.patient} on {self.created_at:%Y-%m-%d} (v{self.version})"

    @property
    def is_signed(self) -> bool:
        return self.status == VisitStatus.SIGNED

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


def _quantize(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


class Vitals(models.Model):
    """Vitals taken at a visit. Assistants may record them on a draft visit."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="vitals")
    bp_systolic = models.PositiveSmallIntegerField("BP systolic (mmHg)", null=True, blank=True)
    bp_diastolic = models.PositiveSmallIntegerField("BP diastolic (mmHg)", null=True, blank=True)
    pulse = models.PositiveSmallIntegerField("pulse (/min)", null=True, blank=True)
    temperature_c = models.DecimalField(
        "temperature (°C)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(
        "respiratory rate (/min)", null=True, blank=True
    )
    weight_kg = models.DecimalField(
        "weight (kg)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    height_cm = models.DecimalField(
        "height (cm)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name_plural = "vitals"

    def __str__(self) -> str:
        return f"Vitals for {self.visit}"

    @property
    def bmi(self) -> Decimal | None:
        """Body mass index, kg/m², to one decimal place."""
        if not self.weight_kg or not self.height_cm:
            return None
        metres = Decimal(self.height_cm) / 100
        return _quantize(Decimal(self.weight_kg) / (metres * metres), "0.1")

    @property
    def blood_pressure(self) -> str:
        if self.bp_systolic and self.bp_diastolic:
            return f"{self.bp_systolic}/{self.bp_diastolic}"
        return ""


class Diagnosis(models.Model):
    """A diagnosis: with a WHO ICD-10 code, the code's title and the doctor's own qualifier
    ("recurrent", "left ear") beside it; without a code, the doctor's words."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="diagnoses")
    text = models.CharField(max_length=300)
    icd10_code = models.CharField("ICD-10 code", max_length=10, blank=True)
    qualifier = models.CharField(max_length=200, blank=True)
    is_provisional = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "diagnoses"

    def __str__(self) -> str:
        shown = f"{self.text} ({self.icd10_code})" if self.icd10_code else self.text
        return f"{shown} — {self.qualifier}" if self.qualifier else shown


class ProcedureDone(models.Model):
    """A procedure performed at the visit (dressing, nebulisation, suturing, ...)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="procedures")
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "procedure performed"
        verbose_name_plural = "procedures performed"

    def __str__(self) -> str:
        return self.name
