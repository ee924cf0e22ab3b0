"""Medical certificates and the clinic's certificate register (IMC 2002 reg. 1.3.3).

Certificates are numbered in sequence per clinic and calendar year (gap-free, taken in the same
transaction that issues the certificate). The issue time is the server's clock at issue and can
never be entered; "effective from" is a separate date and may not precede the examination the
certificate rests on. A certificate is never edited: a correction is a new certificate (with the
next number) that supersedes it, and a certificate issued in error is revoked with a reason.
Both stay in the register.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models.documents import Document
from patients.models.patients import Patient
from patients.models.visits import Visit


class CertificateKind(models.TextChoices):
    SICKNESS = "sickness", "Sickness (rest advised)"
    FITNESS = "fitness", "Fitness to resume duties"
    GENERAL = "general", "General medical certificate"


class CertificateStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    SUPERSEDED = "superseded", "Superseded by a correction"
    REVOKED = "revoked", "Revoked"


class MedicalCertificate(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="certificates")
    visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
        db_index=False,
    )
    doctor = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="certificates", db_index=False
    )
    kind = models.CharField(max_length=10, choices=CertificateKind.choices)
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    # Server time when issued: set by the service, never typed in.
    issued_at = models.DateTimeField()
    effective_from = models.DateField()
    # Sickness: rest advised until (inclusive). Fitness and general: usually empty.
    effective_to = models.DateField(null=True, blank=True)
    condition = models.CharField("diagnosis or condition", max_length=300, blank=True)
    remarks = models.TextField(blank=True)
    # Addressed to / the purpose the patient needs it for (employer, school, ...).
    purpose = models.CharField(max_length=200, blank=True)
    # Copied onto the certificate as the law asks; kept with it as issued.
    identification_mark = models.CharField(max_length=200)
    patient_address = models.CharField(max_length=500, blank=True)
    # As printed at issue: the register shows it even if the doctor's profile changes later.
    doctor_registration_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(
        max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.ISSUED
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # Why this certificate corrects the one it supersedes (may be clinical: kept here, not in
    # the audit trail).
    correction_reason = models.CharField(max_length=300, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)
    document = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-year", "-serial"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "year", "serial"], name="certificate_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="certificate_period_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "patient", "-issued_at"], name="certificate_patient_idx")
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"MC/{self.year}/{self.serial:05d}"

    @property
    def rest_days(self) -> int | None:
        if self.effective_to is None:
            return None
        return (self.effective_to - self.effective_from).days + 1
