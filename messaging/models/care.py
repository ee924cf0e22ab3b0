"""Reminders, adherence, review ratings and escalations to the doctor."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from messaging.models.conversations import Message
from patients.models import Appointment, Patient, PrescriptionItem, Visit


class ReminderKind(models.TextChoices):
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    MEDICINE = "medicine", "Medicine reminder"
    FOLLOW_UP = "follow_up", "Follow-up reminder"
    REVIEW_REQUEST = "review_request", "Review request"
    DOCUMENT_READY = "document_ready", "Document ready"
    APPOINTMENT_MOVED = "appointment_moved", "Appointment moved by the clinic"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Appointment cancelled by the clinic"
    REFILL = "refill", "Refill reminder"


class ReminderStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CLAIMED = "claimed", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Not sent"
    FAILED = "failed", "Failed"
    UNCERTAIN = "uncertain", "Check: may have been sent"


class Reminder(models.Model):
    """A business-initiated message planned for a due time.

    Planned when its source happens (an appointment booked, a visit signed, a document ready)
    and unique by (source, kind, due time), so planning twice plans once. `source` is
    "<type>:<id>" (appointment:12, prescription_item:40, visit:7, document:9). Moved or
    cancelled when the source changes. The dispatcher claims due rows in batches.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=30, choices=ReminderKind.choices)
    source = models.CharField(max_length=60)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PLANNED
    )
    # What the message needs beyond its source (a dose's medicines, the hours-before, ...).
    context = models.JSONField(default=dict, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=40, blank=True)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="reminder"
    )
    outcome = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "source", "kind", "due_at"], name="uniq_reminder"
            )
        ]
        indexes = [
            # The dispatcher's claim: planned rows by due time, across clinics.
            models.Index(fields=["due_at"], condition=Q(status="planned"), name="reminder_due"),
            models.Index(fields=["clinic", "source"], name="reminder_source"),
            models.Index(fields=["clinic", "patient", "due_at"], name="reminder_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_at:%Y-%m-%d %H:%M}"


class DoseOutcome(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    TAKEN = "taken", "Taken"
    SKIPPED = "skipped", "Skipped"
    UNANSWERED = "unanswered", "No answer"


class DoseRecord(models.Model):
    """One reminded dose time and what the patient said about it (adherence).

    A dose time can cover several medicines of one prescription (one reminder lists them all).
    A pending dose becomes unanswered when the next dose is reminded or after 12 hours.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dose_records")
    reminder = models.OneToOneField(Reminder, on_delete=models.CASCADE, related_name="dose")
    prescription_items = models.ManyToManyField(PrescriptionItem, related_name="+")
    due_at = models.DateTimeField()
    outcome = models.CharField(
        max_length=12, choices=DoseOutcome.choices, default=DoseOutcome.PENDING
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # The patient's answer before the latest one, when they changed it (Taken, then Skipped):
    # the doctor sees "Skipped, changed from Taken". Every answer is kept in `answers`.
    changed_from = models.CharField(max_length=12, choices=DoseOutcome.choices, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["clinic", "patient", "due_at"], name="dose_patient")]

    def __str__(self) -> str:
        return f"Dose at {self.due_at:%Y-%m-%d %H:%M}: {self.outcome}"


class DoseAnswer(models.Model):
    """One answer of the patient about a dose, with when they gave it. A dose's outcome is
    its latest answer; the earlier ones stay here (a patient who pressed Taken, then Skipped)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    dose = models.ForeignKey(DoseRecord, on_delete=models.CASCADE, related_name="answers")
    outcome = models.CharField(max_length=12, choices=DoseOutcome.choices)
    answered_at = models.DateTimeField()
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["answered_at", "id"]
        indexes = [models.Index(fields=["clinic", "dose"], name="dose_answer_dose")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.answered_at:%Y-%m-%d %H:%M}"


class VisitRating(models.Model):
    """A patient's 1-5 rating of a visit, answered to the review request."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="rating")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Rating {self.rating}/5"


class EscalationReason(models.TextChoices):
    MISSED_DOSES = "missed_doses", "Missed doses"
    LOW_RATING = "low_rating", "Low rating"
    TROUBLE_WORDS = "trouble_words", "Worrying message"
    UNDELIVERABLE = "undeliverable", "Cannot be reached on WhatsApp"
    REPEAT_PRESCRIPTION = "repeat_prescription", "Asks for a repeat prescription"


class EscalationState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Escalation(models.Model):
    """An alert to the doctor that stays open until someone acts on it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="escalations")
    doctor = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=EscalationReason.choices)
    detail = models.CharField(max_length=500)
    # What it is about, so one cause opens one alert (prescription:12, appointment:5, message:9).
    subject = models.CharField(max_length=60)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=EscalationState.choices, default=EscalationState.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "clinics.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)
    # Someone has seen an urgent alert (a worrying message): it no longer leads the board.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "clinics.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "reason", "subject"],
                condition=Q(state="open"),
                name="uniq_open_escalation",
            )
        ]
        indexes = [models.Index(fields=["clinic", "state", "doctor"], name="escalation_open")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_state_display()})"
