"""The clinic's day: doctors' working hours and leave, appointments and the queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.tenancy import ClinicScopedManager
from patients.models.patients import Patient


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One weekly session of a doctor (several a day, e.g. 10:00-13:00 and 17:00-20:00),
    in the clinic's local time, cut into slots of `slot_minutes`."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=15)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["doctor", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        indexes = [models.Index(fields=["clinic", "doctor", "weekday"], name="hours_doctor_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="hours_start_before_end",
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="hours_slot_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class LeaveKind(models.TextChoices):
    LEAVE = "leave", "Leave"
    BLOCKED = "blocked", "Blocked time"


class DoctorLeave(models.Model):
    """A period a doctor cannot be booked: leave days or a blocked stretch of a day."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="leaves")
    kind = models.CharField(max_length=10, choices=LeaveKind.choices, default=LeaveKind.LEAVE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["clinic", "doctor", "starts_at"], name="leave_doctor_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="leave_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%H:%M}"


class AppointmentKind(models.TextChoices):
    BOOKED = "booked", "Booked"
    WALK_IN = "walk_in", "Walk-in"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Waiting"
    IN_CONSULTATION = "in_consultation", "With the doctor"
    COMPLETED = "completed", "Done"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Did not come"


# Statuses that hold the doctor's time: a booked slot is taken until cancelled or missed.
ACTIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_CONSULTATION,
    AppointmentStatus.COMPLETED,
)


class Appointment(models.Model):
    """A booked slot with a doctor, or a walk-in to the day's queue.

    Booked appointments occupy [starts_at, ends_at) of the doctor's time; two active booked
    appointments of one doctor never overlap (checked under a lock by the booking service, and
    by an exclusion constraint on PostgreSQL). Walk-ins take no slot: `starts_at` is their
    arrival. `token_number` is the patient's number in the doctor's queue for that local day.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    doctor = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    kind = models.CharField(
        max_length=10, choices=AppointmentKind.choices, default=AppointmentKind.BOOKED
    )
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    token_number = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField("reason for visit", max_length=200, blank=True)
    notes = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)
    # The patient pressed "Confirm" on a WhatsApp reminder (cleared when the time moves).
    patient_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Why an owner or the doctor booked or queued this outside the doctor's hours (or on leave).
    override_reason = models.CharField(max_length=200, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "doctor", "starts_at"], name="appt_doctor_time"),
            models.Index(fields=["clinic", "starts_at"], name="appt_clinic_time"),
            # A patient's appointments in time order: whether they were seen before (reports).
            models.Index(fields=["clinic", "patient", "starts_at"], name="appt_patient_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="appt_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} with {self.doctor.user} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_APPOINTMENT_STATUSES


class DoctorRoom(models.Model):
    """Where a doctor sees patients ("Room 2"): shown on the waiting-room display and the
    token slip. Optional; one per doctor's membership."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.OneToOneField(Membership, on_delete=models.PROTECT, related_name="room")
    room = models.CharField(max_length=40, blank=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return self.room


class DisplayLink(models.Model):
    """A link the waiting room's screen opens without signing in: the queue's token numbers,
    doctors and rooms, nothing more. Only a digest of its secret is kept; the owner revokes it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=60)
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["revoked_at", "-created_at"]
        indexes = [models.Index(fields=["clinic", "created_at"], name="display_link_clinic")]

    def __str__(self) -> str:
        return self.name
