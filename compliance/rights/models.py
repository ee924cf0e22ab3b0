"""Data-rights requests (DPDP Act 2023 s.11-14) and what hangs off them: the timeline, proposed
corrections, nominations and the evidence a nominee shows. Imported by `compliance.models`.

Personal values live only in these rows (the request's words, a correction's old and new
text, a nominee's name and phone); the audit trail gets ids and field names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models import Guardian, Patient, Visit


class RightsKind(models.TextChoices):
    ACCESS = "access", _("Access (what is held)")
    CORRECTION = "correction", _("Correction")
    ERASURE = "erasure", _("Erasure")
    PORTABILITY = "portability", _("Portability (a copy to take elsewhere)")
    NOMINATION = "nomination", _("Nomination")
    GRIEVANCE = "grievance", _("Grievance")


class RightsStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    VERIFYING = "verifying", _("Checking identity")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (
    RightsStatus.RECEIVED,
    RightsStatus.VERIFYING,
    RightsStatus.IN_PROGRESS,
    RightsStatus.AWAITING_APPROVAL,
)


class Requester(models.TextChoices):
    PATIENT = "patient", _("The patient")
    GUARDIAN = "guardian", _("A guardian")
    NOMINEE = "nominee", _("A nominee")
    OTHER = "other", _("Someone who is not a patient (grievance)")


class Verification(models.TextChoices):
    NONE = "", _("Not checked yet")
    IN_PERSON_ID = "in_person_id", _("In person, with an ID")
    ONE_TIME_CODE = "one_time_code", _("One-time code to the registered WhatsApp number")
    GUARDIAN = "guardian", _("A guardian, known to the clinic")


class IdType(models.TextChoices):
    AADHAAR = "aadhaar", _("Aadhaar")
    PAN = "pan", _("PAN card")
    PASSPORT = "passport", _("Passport")
    VOTER_ID = "voter_id", _("Voter ID")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    OTHER = "other", _("Other photo ID")


class Channel(models.TextChoices):
    DESK = "desk", _("At the clinic")
    WHATSAPP = "whatsapp", _("WhatsApp")
    API = "api", _("A connected system (API)")


class RightsRequest(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=20)  # DR-2026-0001
    kind = models.CharField(max_length=20, choices=RightsKind.choices)
    # A grievance may come from someone who is not (yet) a patient; a WhatsApp sender may not
    # be linked to a patient yet.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requester = models.CharField(max_length=10, choices=Requester.choices)
    requester_name = models.CharField(max_length=200, blank=True)
    requester_phone = models.CharField(max_length=20, blank=True)  # E.164
    requester_email = models.EmailField(max_length=254, blank=True)
    guardian = models.ForeignKey(
        Guardian, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    nomination = models.ForeignKey(
        "compliance.Nomination",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    details = models.TextField(blank=True)  # what was asked, in the requester's words
    records_copy = models.BooleanField(default=False)  # copies of medical records: 72 hours
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.DESK)
    # The channel's own id ("message:123"), for idempotent hand-over.
    source_reference = models.CharField(max_length=80, blank=True)
    verification = models.CharField(max_length=20, choices=Verification.choices, blank=True)
    id_type = models.CharField(max_length=20, choices=IdType.choices, blank=True)
    id_last4 = models.CharField(max_length=4, blank=True)  # never the whole number
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=RightsStatus.choices, default=RightsStatus.RECEIVED
    )
    refusal_reason = models.TextField(blank=True)
    reply = models.TextField(blank=True)  # the answer as given, naming the privacy contact
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Work a job does for the request (an export, an erasure): its kind and id, no FK.
    job_kind = models.CharField(max_length=30, blank=True)
    job_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "reference"], name="rights_reference_uniq"),
            models.UniqueConstraint(
                fields=["clinic", "source_reference", "kind"],
                condition=~models.Q(source_reference=""),
                name="rights_source_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "due_at"], name="rights_open_due_idx"),
            models.Index(fields=["clinic", "patient", "status"], name="rights_patient_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()


class RightsRequestEvent(models.Model):
    """One line of a request's timeline: who did what, when (the words staff see)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    what = models.CharField(max_length=40)
    note = models.TextField(blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.what} at {self.at:%Y-%m-%d %H:%M}"


class CorrectionTarget(models.TextChoices):
    PATIENT = "patient", _("The patient's record")
    VISIT = "visit", _("A visit's notes")


class CorrectionDecision(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved and made")
    REFUSED = "refused", _("Refused")


class CorrectionItem(models.Model):
    """One field a correction request proposes to change, from `old_value` to `new_value`."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="corrections")
    target = models.CharField(max_length=10, choices=CorrectionTarget.choices)
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(max_length=40)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    decision = models.CharField(
        max_length=10, choices=CorrectionDecision.choices, default=CorrectionDecision.PENDING
    )
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A signed visit's correction is a new version: the amendment the approval opened.
    amendment = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"correction of {self.field}"


class Nomination(models.Model):
    """Someone the patient names to exercise their rights on death or incapacity (s.14)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    relation = models.CharField(max_length=20)
    phone = models.CharField(max_length=20)  # E.164
    request = models.ForeignKey(
        RightsRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"nomination {self.pk}"


class EvidenceKind(models.TextChoices):
    DEATH_CERTIFICATE = "death_certificate", _("Death certificate")
    INCAPACITY_CERTIFICATE = "incapacity_certificate", _("Certificate of incapacity")
    COURT_ORDER = "court_order", _("Court order")


class NominationEvidence(models.Model):
    """What a nominee showed when they came to act for the patient, and who checked it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="evidence")
    request = models.ForeignKey(
        RightsRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices)
    document_date = models.DateField()
    note = models.TextField(blank=True)
    checked_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.document_date}"
