"""Prescriptions, the clinic's drug list and doctors' prescription templates.

A prescription belongs to one visit version and is signed with it. Each item keeps the
structured medication schedule (`schedule`, from `patients.dosing`) so that medicine reminders
can be generated from it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models.patients import Patient
from patients.models.visits import Visit
from patients.prescribing.classes import finding_label


class DrugForm(models.TextChoices):
    TABLET = "tablet", "Tablet"
    CAPSULE = "capsule", "Capsule"
    SYRUP = "syrup", "Syrup"
    SUSPENSION = "suspension", "Suspension"
    INJECTION = "injection", "Injection"
    DROPS = "drops", "Drops"
    OINTMENT = "ointment", "Ointment"
    CREAM = "cream", "Cream"
    GEL = "gel", "Gel"
    LOTION = "lotion", "Lotion"
    INHALER = "inhaler", "Inhaler"
    SPRAY = "spray", "Spray"
    SACHET = "sachet", "Sachet"
    POWDER = "powder", "Powder"
    SUPPOSITORY = "suppository", "Suppository"
    OTHER = "other", "Other"


class Route(models.TextChoices):
    ORAL = "oral", "By mouth"
    SUBLINGUAL = "sublingual", "Under the tongue"
    TOPICAL = "topical", "On the skin"
    EYE = "eye", "In the eye"
    EAR = "ear", "In the ear"
    NASAL = "nasal", "In the nose"
    INHALED = "inhaled", "Inhaled"
    IM = "im", "Intramuscular"
    IV = "iv", "Intravenous"
    SC = "sc", "Subcutaneous"
    RECTAL = "rectal", "Rectal"
    VAGINAL = "vaginal", "Vaginal"
    OTHER = "other", "Other"


class FoodTiming(models.TextChoices):
    # Translated: the prescription says them in the patient's language beside the English.
    ANY = "", _("Any time")
    BEFORE_FOOD = "before_food", _("Before food")
    AFTER_FOOD = "after_food", _("After food")
    WITH_FOOD = "with_food", _("With food")
    EMPTY_STOMACH = "empty_stomach", _("On an empty stomach")


class Drug(models.Model):
    """A drug on the clinic's list, which the prescription form completes from."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    generic_name = models.CharField(max_length=200, help_text="Kept in capitals.")
    strength = models.CharField(max_length=60, blank=True, help_text="For example: 500 mg")
    form = models.CharField(max_length=20, choices=DrugForm.choices, default=DrugForm.TABLET)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.ORAL)
    is_schedule_x = models.BooleanField("Schedule X", default=False)
    is_narcotic = models.BooleanField("narcotic or psychotropic", default=False)
    is_favourite = models.BooleanField(default=False)
    default_dose = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    default_frequency = models.CharField(max_length=40, blank=True)
    default_duration_days = models.PositiveSmallIntegerField(null=True, blank=True)
    default_timing = models.CharField(max_length=20, choices=FoodTiming.choices, blank=True)
    is_active = models.BooleanField(default=True)
    atc_code = models.CharField(
        "ATC code", max_length=8, blank=True, help_text="WHO ATC code, for the class checks."
    )
    usual_adult_dose = models.CharField(max_length=120, blank=True)
    max_daily_dose_mg = models.DecimalField(
        "maximum daily dose (mg)", max_digits=10, decimal_places=3, null=True, blank=True
    )
    brand_names = models.CharField(
        max_length=800, blank=True, help_text="Brand names, separated by semicolons."
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-is_favourite", "generic_name"]
        indexes = [models.Index(fields=["clinic", "generic_name"], name="drug_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "generic_name", "strength", "form"], name="uniq_drug"
            )
        ]

    def __str__(self) -> str:
        return " ".join(p for p in (self.generic_name, self.strength, self.get_form_display()) if p)

    @property
    def is_restricted_for_teleconsultation(self) -> bool:
        return self.is_schedule_x or self.is_narcotic


class DrugBrand(models.Model):
    """A brand name of a drug on the list, searchable by prefix ("dolo 650" finds
    PARACETAMOL 650 mg). `key` is the name in capitals with letters and digits only."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(max_length=60)
    key = models.CharField(max_length=60)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["key", "id"]
        indexes = [models.Index(fields=["clinic", "key"], name="drug_brand_key")]

    def __str__(self) -> str:
        return self.name


class PrescriptionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class Prescription(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="prescription")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    doctor = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="prescriptions", db_index=False
    )
    status = models.CharField(
        max_length=10, choices=PrescriptionStatus.choices, default=PrescriptionStatus.DRAFT
    )
    notes = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Prescription for {self.patient} ({self.get_status_display()})"


class PrescriptionItem(models.Model):
    """One medicine on a prescription, with its structured schedule."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="items")
    drug = models.ForeignKey(
        Drug, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    generic_name = models.CharField(max_length=200)
    strength = models.CharField(max_length=60, blank=True)
    form = models.CharField(max_length=20, choices=DrugForm.choices)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.ORAL)
    dose_amount = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    dose_unit = models.CharField(max_length=20, blank=True, help_text="tablet, ml, drops, puff")
    frequency = models.CharField(max_length=40, help_text="As written: 1-0-1, BD, SOS ...")
    schedule = models.JSONField(default=dict, help_text="The parsed schedule (patients.dosing).")
    duration_days = models.PositiveSmallIntegerField(null=True, blank=True)
    timing = models.CharField(max_length=20, choices=FoodTiming.choices, blank=True)
    instructions = models.CharField(max_length=300, blank=True)
    quantity = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    long_term = models.BooleanField(
        default=False,
        help_text="Taken for months: the patient is reminded to refill before it runs out.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    brand_name = models.CharField(
        max_length=60, blank=True, help_text="The brand the doctor chose, printed in brackets."
    )
    override_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the doctor prescribed it despite the safety checks' warnings.",
    )
    override_findings = models.JSONField(
        default=list, blank=True, help_text="What the checks found: codes such as allergy:nsaids."
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.generic_name} {self.strength} {self.frequency}".strip()

    @property
    def override_labels(self) -> list[str]:
        """What the safety checks found when the doctor prescribed it anyway, in words."""
        return [finding_label(key) for key in self.override_findings or []]


class PrescriptionTemplate(models.Model):
    """A doctor's set of items that fills a prescription at once ("viral fever adult")."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="prescription_templates"
    )
    name = models.CharField(max_length=100)
    items = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "doctor", "name"], name="uniq_rx_template")
        ]

    def __str__(self) -> str:
        return self.name
