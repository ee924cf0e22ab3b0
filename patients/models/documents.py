"""Clinical documents: generated PDFs (prescriptions, visit summaries, certificates, signed
consent forms) and files staff upload (lab reports, scans, photos, referral letters).

A document's file lives in the storage of settings.STORAGES["default"] (encrypted local files,
or S3 / R2) under a key that carries no personal data: `clinics/<clinic id>/<kind>/<uuid>.<ext>`.
Once a file is stored it is frozen: it is never overwritten, and a correction is a new document
that supersedes the old one (`supersedes`). Generated documents carry a random verification
token printed as a QR code; the public verification page shows only whether the document is
valid, and a few facts that identify no patient.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic
from clinics.roles import Perm
from clinics.tenancy import ClinicScopedManager
from patients.models.patients import Patient
from patients.models.visits import Visit


class DocumentKind(models.TextChoices):
    PRESCRIPTION = "prescription", _("Prescription")
    VISIT_SUMMARY = "visit_summary", _("Visit summary")
    CERTIFICATE = "certificate", _("Medical certificate")
    CONSENT = "consent", _("Signed consent form")
    LAB_REPORT = "lab_report", _("Lab report")
    SCAN = "scan", _("Scan or imaging report")
    PHOTO = "photo", _("Clinical photo")
    REFERRAL = "referral", _("Referral letter")
    OTHER = "other", _("Other document")


GENERATED_KINDS = frozenset(
    {
        DocumentKind.PRESCRIPTION,
        DocumentKind.VISIT_SUMMARY,
        DocumentKind.CERTIFICATE,
        DocumentKind.CONSENT,
    }
)
UPLOAD_KINDS = tuple(k for k in DocumentKind if k not in GENERATED_KINDS)

# Who may open which kind. Prescriptions follow the prescription permission (front desk may
# print one for a patient); everything else holds clinical information.
VIEW_PERM: dict[str, str] = {kind: Perm.CLINICAL_VIEW for kind in DocumentKind}
VIEW_PERM[DocumentKind.PRESCRIPTION] = Perm.PRESCRIPTIONS_VIEW


class DocumentStatus(models.TextChoices):
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not be prepared"


def new_verify_token() -> str:
    return secrets.token_urlsafe(24)


class Document(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="documents")
    visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PREPARING
    )
    # Why rendering failed, in words staff can act on (never a stack trace).
    problem = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Generated documents: when rendering was last enqueued, and when a worker claimed it (the
    # lost-task sweep enqueues a document again when both are older than a task can take).
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The stored file. `file` is the storage key; the rest describes the plain content.
    file = models.FileField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # The name the file had on the uploader's device (uploads only; shown to staff, never in keys).
    original_name = models.CharField(max_length=255, blank=True)
    # Versions: a correction supersedes the earlier document, which stays readable.
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Issued (generated) documents only: printed as a QR code for the public verification page.
    verify_token = models.CharField(max_length=40, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "patient", "-created_at"], name="document_patient_idx"),
            models.Index(fields=["visit", "kind"], name="document_visit_idx"),
            models.Index(
                fields=["clinic", "queued_at"],
                condition=models.Q(status="preparing"),
                name="document_preparing_idx",
            ),
        ]
        constraints = [
            # One prescription PDF and one summary per visit version (a new version is a new
            # visit row): preparing it twice finds the first.
            models.UniqueConstraint(
                fields=["visit", "kind"],
                condition=models.Q(kind__in=["prescription", "visit_summary"]),
                name="document_one_per_visit_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | ~models.Q(file=""),
                name="document_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_generated(self) -> bool:
        return self.kind in GENERATED_KINDS

    @property
    def is_ready(self) -> bool:
        return self.status == DocumentStatus.READY

    @property
    def looks_stuck(self) -> bool:
        """Preparing for longer than rendering can take (TASK_LOST_AFTER_SECONDS since it was
        enqueued or claimed): its task was lost, and Retry enqueues it again."""
        if self.status != DocumentStatus.PREPARING:
            return False
        since = max(t for t in (self.queued_at or self.created_at, self.claimed_at) if t)
        return since < timezone.now() - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)

    @property
    def validity(self) -> str:
        """valid, superseded or revoked: what the verification page says."""
        if self.revoked_at:
            return "revoked"
        if self.superseded_at:
            return "superseded"
        return "valid"

    @property
    def view_perm(self) -> str:
        return VIEW_PERM[self.kind]
