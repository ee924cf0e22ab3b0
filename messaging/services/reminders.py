"""Planning reminders from care events, and cancelling them.

`on_care_event` is registered with `patients.events.register_care_listener` (in
`MessagingConfig.ready`). It runs inside the transaction of the change that caused it, so a
planned (or cancelled) reminder commits or rolls back with the appointment, visit or item.
Planning writes `Reminder` rows only; consent is checked when a reminder is sent
(`messaging.services.dispatch`), so a patient who opts in later still gets later reminders.

Rows are unique by (clinic, source, kind, due_at): planning the same thing twice plans once,
and planning again a row that was cancelled (an appointment moved back to its first time)
plans it again.

Sources: "appointment:<id>" (confirmation, reminders, review request, and the notices that
the clinic moved or cancelled it, with the reason it chose to tell the patient), "prescription:<id>"
(medicine reminders: one row per dose time, listing every medicine of that prescription due
then), "visit:<id>" (follow-up) and "document:<id>" (document ready).

Quiet hours (MessagingSettings.quiet_hours_start/end, clinic local time; the edges themselves
are not quiet):
- a dose inside quiet hours is moved to the nearer edge only when that keeps it at least the
  drug's minimum gap from the doses before and after it (`patients.dosing.quiet`): a bedtime
  dose at 22:00 with quiet hours from 21:30 is reminded at 21:30 the same evening; the 22:00,
  02:00 and 06:00 doses of a Q4H drug cannot move without coming closer than 4 hours to another
  dose, so they are not reminded, and the visit's sign page tells the doctor so. A dose is
  never moved to the next morning when the evening edge is nearer (a bedtime medicine reminded
  at breakfast would be taken at the wrong time). The text says the time the dose is due, and
  lists each medicine once;
- a confirmation, a review request, a follow-up reminder or a document notice inside quiet
  hours waits for quiet_hours_end;
- an appointment reminder inside quiet hours waits for quiet_hours_end if that is still
  before the appointment, else it is not planned (the other reminder and the confirmation
  cover it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError
from clinics.languages import for_patient
from clinics.models import ApiKey, User
from messaging.models import Reminder, ReminderKind, ReminderStatus
from messaging.services.accounts import messaging_settings_for
from messaging.services.medicine_doses import DoseTable
from messaging.services.medicine_doses import medicine_line as medicine_line
from messaging.services.quiet_hours import quiet_adjusted, quiet_hours
from messaging.services.reminder_rows import cancel_planned, plan_rows, plan_series
from patients import events
from patients.models import (
    Appointment,
    AppointmentStatus,
    Document,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    Visit,
)

APPOINTMENT_KINDS = (
    ReminderKind.APPOINTMENT_CONFIRMATION,
    ReminderKind.APPOINTMENT_REMINDER,
)
DOCUMENT_KINDS_REMINDED = ("prescription", "visit_summary", "certificate")


def appointment_source(appointment_id: int) -> str:
    return f"appointment:{appointment_id}"


def prescription_source(prescription_id: int) -> str:
    return f"prescription:{prescription_id}"


def visit_source(visit_id: int) -> str:
    return f"visit:{visit_id}"


def document_source(document_id: int) -> str:
    return f"document:{document_id}"


def source_id(source: str) -> int | None:
    """12 from "appointment:12"."""
    _, _, value = source.partition(":")
    return int(value) if value.isdigit() else None


# --- appointments ---------------------------------------------------------------------------
def plan_for_appointment(
    *,
    appointment: Appointment,
    now: dt.datetime | None = None,
    moved: bool = False,
    confirm: bool = True,
) -> int:
    """Plan the confirmation (unless `confirm` is False: a moved appointment gets its own
    notice) and the reminders before a booked appointment."""
    now = now or timezone.now()
    if appointment.status != AppointmentStatus.BOOKED:
        return 0
    settings = messaging_settings_for(appointment.clinic_id)
    tz = appointment.clinic.tzinfo
    source = appointment_source(appointment.pk)
    rows: list[Reminder] = []

    def row(kind: str, due_at: dt.datetime, context: dict[str, Any]) -> Reminder:
        return Reminder(
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            kind=kind,
            source=source,
            due_at=due_at,
            context={"starts_at": appointment.starts_at.isoformat(), **context},
        )

    if confirm and settings.send_appointment_confirmations and appointment.starts_at > now:
        due = quiet_adjusted(now, tz=tz, settings=settings)
        if due < appointment.starts_at:
            rows.append(row(ReminderKind.APPOINTMENT_CONFIRMATION, due, {"moved": moved}))
    for hours in sorted({int(h) for h in settings.appointment_reminder_hours or []}):
        due = appointment.starts_at - dt.timedelta(hours=hours)
        due = quiet_adjusted(due, tz=tz, settings=settings)
        if due <= now or due >= appointment.starts_at:
            continue
        rows.append(row(ReminderKind.APPOINTMENT_REMINDER, due, {"hours_before": hours}))
    return plan_rows(rows)


def _appointment_event(event: str, appointment: Appointment, **details: Any) -> None:
    source = appointment_source(appointment.pk)
    if event == events.APPOINTMENT_BOOKED:
        # A patient who booked on WhatsApp was answered there: no "booked" confirmation.
        plan_for_appointment(appointment=appointment, confirm=not details.get("by_patient"))
    elif event == events.APPOINTMENT_RESCHEDULED:
        cancel_planned(
            clinic_id=appointment.clinic_id,
            sources=[source],
            kinds=(*APPOINTMENT_KINDS, ReminderKind.APPOINTMENT_MOVED),
            reason="The appointment was moved.",
        )
        # A confirmation was for the old time.
        Appointment.objects.filter(pk=appointment.pk).update(patient_confirmed_at=None)
        # The moved notice replaces the confirmation ("moved", not "booked"); a patient who
        # chose the time on WhatsApp was answered there and gets neither.
        plan_for_appointment(appointment=appointment, moved=True, confirm=False)
        if not details.get("by_patient"):
            plan_change_notice(
                appointment=appointment,
                kind=ReminderKind.APPOINTMENT_MOVED,
                note=details.get("patient_note") or "",
            )
    elif event in (events.APPOINTMENT_CANCELLED, events.APPOINTMENT_NO_SHOW):
        reason = (
            "The appointment was cancelled."
            if event == events.APPOINTMENT_CANCELLED
            else "The patient did not come."
        )
        cancel_planned(clinic_id=appointment.clinic_id, sources=[source], reason=reason)
        if event == events.APPOINTMENT_CANCELLED and not details.get("by_patient"):
            plan_change_notice(
                appointment=appointment,
                kind=ReminderKind.APPOINTMENT_CANCELLED,
                note=details.get("patient_note") or "",
            )
    elif event == events.APPOINTMENT_COMPLETED:
        cancel_planned(
            clinic_id=appointment.clinic_id,
            sources=[source],
            kinds=APPOINTMENT_KINDS,
            reason="The visit is over.",
        )
        plan_review_request(appointment=appointment)


def plan_change_notice(
    *, appointment: Appointment, kind: str, note: str, now: dt.datetime | None = None
) -> int:
    """Tell the patient the clinic moved or cancelled their appointment (soon, never in quiet
    hours), with the reason the clinic chose to give; nothing for a time already past."""
    now = now or timezone.now()
    if appointment.starts_at <= now:
        return 0
    settings = messaging_settings_for(appointment.clinic_id)
    due = quiet_adjusted(now, tz=appointment.clinic.tzinfo, settings=settings)
    if kind == ReminderKind.APPOINTMENT_MOVED and due >= appointment.starts_at:
        return 0
    return plan_rows(
        [
            Reminder(
                clinic_id=appointment.clinic_id,
                patient_id=appointment.patient_id,
                kind=kind,
                source=appointment_source(appointment.pk),
                due_at=due,
                context={"starts_at": appointment.starts_at.isoformat(), "note": note},
            )
        ]
    )


def plan_review_request(*, appointment: Appointment) -> int:
    """Ask for a 1-5 rating some hours after a completed visit (never in quiet hours)."""
    settings = messaging_settings_for(appointment.clinic_id)
    if not settings.send_review_requests or appointment.completed_at is None:
        return 0
    due = appointment.completed_at + dt.timedelta(hours=settings.review_request_delay_hours)
    due = quiet_adjusted(due, tz=appointment.clinic.tzinfo, settings=settings)
    return plan_rows(
        [
            Reminder(
                clinic_id=appointment.clinic_id,
                patient_id=appointment.patient_id,
                kind=ReminderKind.REVIEW_REQUEST,
                source=appointment_source(appointment.pk),
                due_at=due,
                context={},
            )
        ]
    )


# --- medicines and follow-up ----------------------------------------------------------------
def plan_for_prescription(
    *,
    prescription: Prescription,
    now: dt.datetime | None = None,
    items: Iterable[PrescriptionItem] | None = None,
) -> int:
    """One medicine reminder per dose time of a signed prescription, from now on.

    Items due at the same moment share one reminder (context "items": [{"id", "text"}]).
    SOS / as-needed, STAT and long-term items (no duration) get none; stopped items neither.
    """
    now = now or timezone.now()
    if prescription.status != PrescriptionStatus.SIGNED:
        return 0
    settings = messaging_settings_for(prescription.clinic_id)
    if not settings.send_medicine_reminders:
        return 0
    if items is None:
        items = PrescriptionItem.objects.filter(
            prescription=prescription, stopped_at__isnull=True
        ).order_by("position", "id")
    tz = prescription.clinic.tzinfo
    doses = DoseTable(
        prescription_id=prescription.pk,
        tz=tz,
        quiet=quiet_hours(settings),
        now=now,
        visit_day=timezone.localtime(prescription.visit.created_at, tz).date(),
    )
    # The medicines' lines ("1 tablet after food") and dose times in the patient's language,
    # like the template they fill; never in the language of the doctor who signed.
    with for_patient(prescription.patient.preferred_language):
        for item in items:
            doses.add(item)
        contexts = doses.contexts()
    return plan_series(
        clinic_id=prescription.clinic_id,
        patient_id=prescription.patient_id,
        kind=ReminderKind.MEDICINE,
        source=prescription_source(prescription.pk),
        contexts=contexts,
    )


def plan_follow_up(*, visit: Visit, now: dt.datetime | None = None) -> int:
    """Remind the patient the day before the visit's follow-up date, at the clinic's time."""
    now = now or timezone.now()
    if visit.follow_up_date is None:
        return 0
    settings = messaging_settings_for(visit.clinic_id)
    if not settings.send_follow_up_reminders:
        return 0
    tz = visit.clinic.tzinfo
    at = settings.follow_up_reminder_time
    if isinstance(at, str):
        at = dt.time.fromisoformat(at)
    local = dt.datetime.combine(visit.follow_up_date - dt.timedelta(days=1), at, tzinfo=tz)
    due = quiet_adjusted(local.astimezone(dt.UTC), tz=tz, settings=settings)
    if due <= now:
        return 0
    return plan_rows(
        [
            Reminder(
                clinic_id=visit.clinic_id,
                patient_id=visit.patient_id,
                kind=ReminderKind.FOLLOW_UP,
                source=visit_source(visit.pk),
                due_at=due,
                context={
                    "follow_up_date": visit.follow_up_date.isoformat(),
                    "doctor_id": visit.doctor_id,
                },
            )
        ]
    )


def _visit_signed(visit: Visit) -> None:
    if visit.amends_id:
        # The correction replaces the earlier version's plan: its doses and follow-up go.
        old_sources = [visit_source(visit.amends_id)]
        old_rx = Prescription.objects.filter(visit_id=visit.amends_id).values_list("pk", flat=True)
        old_sources += [prescription_source(pk) for pk in old_rx]
        cancel_planned(
            clinic_id=visit.clinic_id,
            sources=old_sources,
            reason="Replaced by the corrected visit.",
        )
    prescription = (
        Prescription.objects.filter(visit=visit)
        .select_related("clinic", "visit", "patient")
        .first()
    )
    if prescription is not None:
        plan_for_prescription(prescription=prescription)
    plan_follow_up(visit=visit)


def _item_stopped(item: PrescriptionItem) -> None:
    """Drop a stopped medicine from its future dose reminders; cancel those left empty."""
    stopped_at = item.stopped_at or timezone.now()
    reminders = Reminder.objects.filter(
        clinic_id=item.clinic_id,
        source=prescription_source(item.prescription_id),
        kind=ReminderKind.MEDICINE,
        status=ReminderStatus.PLANNED,
        due_at__gte=stopped_at,
    ).select_for_update()
    for reminder in reminders:
        items = (reminder.context or {}).get("items") or []
        kept = [entry for entry in items if entry.get("id") != item.pk]
        if len(kept) == len(items):
            continue
        if kept:
            reminder.context = {**reminder.context, "items": kept}
            reminder.save(update_fields=["context", "updated_at"])
        else:
            reminder.status = ReminderStatus.CANCELLED
            reminder.outcome = "The medicine was stopped."
            reminder.save(update_fields=["status", "outcome", "updated_at"])


def _document_ready(document: Document) -> None:
    if document.kind not in DOCUMENT_KINDS_REMINDED or document.patient_id is None:
        return
    settings = messaging_settings_for(document.clinic_id)
    due = quiet_adjusted(timezone.now(), tz=document.clinic.tzinfo, settings=settings)
    plan_rows(
        [
            Reminder(
                clinic_id=document.clinic_id,
                patient_id=document.patient_id,
                kind=ReminderKind.DOCUMENT_READY,
                source=document_source(document.pk),
                due_at=due,
                context={"document_id": document.pk},
            )
        ]
    )


# --- the listener ---------------------------------------------------------------------------
def on_care_event(event: str, **kwargs: Any) -> None:
    """Plan, move or cancel reminders for a care event (runs in the source's transaction)."""
    if event.startswith("appointment."):
        _appointment_event(event, **kwargs)
    elif event == events.VISIT_SIGNED:
        _visit_signed(kwargs["visit"])
    elif event == events.PRESCRIPTION_ITEM_STOPPED:
        _item_stopped(kwargs["item"])
    elif event == events.DOCUMENT_READY:
        _document_ready(kwargs["document"])


# --- staff ----------------------------------------------------------------------------------
@transaction.atomic
def reminder_cancel(*, reminder: Reminder, actor: User | ApiKey, reason: str) -> Reminder:
    """Cancel a planned reminder (staff or the API); it will not be sent."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Say why the reminder is cancelled.", field="reason")
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status != ReminderStatus.PLANNED:
        raise Conflict(
            f"Only a planned reminder can be cancelled; this one is "
            f"{reminder.get_status_display().lower()}."
        )
    reminder.status = ReminderStatus.CANCELLED
    reminder.outcome = reason[:300]
    reminder.save(update_fields=["status", "outcome", "updated_at"])
    audit_record(
        clinic=reminder.clinic_id,
        actor=actor,
        action=Actions.REMINDER_CANCELLED,
        target=reminder,
        patient_id=reminder.patient_id,
        data={"kind": reminder.kind},
    )
    return reminder
