"""Reminders are planned, moved and cancelled with their sources, in the clinic's time zone and
outside its quiet hours. The clock stands at Tuesday 10 March 2026, 09:00 in India."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinics.audit import Actions
from clinics.errors import DomainError
from clinics.models import AuditEvent
from messaging.models import MessagingSettings, Reminder, ReminderKind, ReminderStatus
from messaging.services.accounts import messaging_settings_for
from messaging.services.reminders import (
    plan_for_appointment,
    plan_for_prescription,
    quiet_adjusted,
    reminder_cancel,
)
from patients.models import Document, Prescription, PrescriptionItem
from patients.services import prescription_item_stop, visit_amend, visit_sign
from patients.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_start,
)
from tests.messaging.care_setup import (
    AMOXICILLIN,
    IBUPROFEN_SOS,
    PARACETAMOL,
    by,
    make_doctor,
    sign_visit,
)

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=IST)


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=IST)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def doctor(scoped, clock):
    return make_doctor(scoped)


def planned(source: str | None = None, kind: str | None = None):
    rows = Reminder.objects.filter(status=ReminderStatus.PLANNED)
    if source:
        rows = rows.filter(source=source)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("due_at"))


# --- appointments ---------------------------------------------------------------------------
def test_booking_plans_a_confirmation_now_and_reminders_24_and_2_hours_before(doctor, patient):
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(11, 11)
    )
    source = f"appointment:{appt.pk}"
    confirmation = planned(source, ReminderKind.APPOINTMENT_CONFIRMATION)
    assert [r.due_at for r in confirmation] == [NOW]
    reminders = planned(source, ReminderKind.APPOINTMENT_REMINDER)
    assert [r.due_at for r in reminders] == [ist(10, 11), ist(11, 9)]
    # 09:00 in India is 03:30 UTC.
    assert reminders[1].due_at.astimezone(UTC) == datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    assert [r.context["hours_before"] for r in reminders] == [24, 2]
    assert all(r.patient_id == patient.pk for r in reminders)

    # Planning the same appointment again plans nothing new.
    plan_for_appointment(appointment=appt)
    assert Reminder.objects.filter(source=source).count() == 3


def test_reminder_times_already_past_are_not_planned(doctor, patient):
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(10, 10, 30)
    )
    kinds = [r.kind for r in planned(f"appointment:{appt.pk}")]
    assert kinds == [ReminderKind.APPOINTMENT_CONFIRMATION]


def test_clinic_settings_choose_the_hours_and_the_confirmation(scoped, doctor, patient):
    settings_row = messaging_settings_for(scoped.pk)
    settings_row.appointment_reminder_hours = [48, 3]
    settings_row.send_appointment_confirmations = False
    settings_row.save()
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(12, 12)
    )
    assert [(r.kind, r.due_at) for r in planned(f"appointment:{appt.pk}")] == [
        (ReminderKind.APPOINTMENT_REMINDER, ist(10, 12)),
        (ReminderKind.APPOINTMENT_REMINDER, ist(12, 9)),
    ]


def test_an_appointment_reminder_in_quiet_hours_waits_for_their_end(scoped, doctor, patient):
    settings_row = messaging_settings_for(scoped.pk)
    settings_row.quiet_hours_end = time(9, 0)
    settings_row.save()
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(11, 10)
    )
    reminders = planned(f"appointment:{appt.pk}", ReminderKind.APPOINTMENT_REMINDER)
    # 2 hours before is 08:00, inside quiet hours (until 09:00): sent at 09:00 instead.
    assert [r.due_at for r in reminders] == [ist(10, 10), ist(11, 9)]


def test_rescheduling_cancels_the_old_plan_and_plans_the_new_time(doctor, patient, clock):
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(11, 11)
    )
    source = f"appointment:{appt.pk}"
    clock.move_to(ist(10, 9, 5))
    appointment_reschedule(appointment=appt, actor=doctor.user, starts_at=ist(12, 18))
    cancelled = Reminder.objects.filter(source=source, status=ReminderStatus.CANCELLED)
    assert cancelled.count() == 3
    assert {r.outcome for r in cancelled} == {"The appointment was moved."}
    now_planned = planned(source)
    # The patient is told it moved (not a second "booked" confirmation).
    assert [(r.kind, r.due_at) for r in now_planned] == [
        (ReminderKind.APPOINTMENT_MOVED, ist(10, 9, 5)),
        (ReminderKind.APPOINTMENT_REMINDER, ist(11, 18)),
        (ReminderKind.APPOINTMENT_REMINDER, ist(12, 16)),
    ]
    assert now_planned[0].context["note"] == ""

    # Moving it back to the first time plans those rows again (they are unique by time).
    appointment_reschedule(appointment=appt, actor=doctor.user, starts_at=ist(11, 11))
    assert [r.due_at for r in planned(source, ReminderKind.APPOINTMENT_REMINDER)] == [
        ist(10, 11),
        ist(11, 9),
    ]


@pytest.mark.parametrize("how", ["cancel", "no_show"])
def test_cancelled_or_missed_appointments_cancel_their_reminders(doctor, patient, clock, how):
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(10, 12)
    )
    if how == "cancel":
        appointment_cancel(appointment=appt, actor=doctor.user, reason="Patient travelling")
    else:
        clock.move_to(ist(10, 12, 30))
        appointment_mark_no_show(appointment=appt, actor=doctor.user)
    # Only the notice that the clinic cancelled it is left to send.
    notice = [ReminderKind.APPOINTMENT_CANCELLED] if how == "cancel" else []
    assert [r.kind for r in planned(f"appointment:{appt.pk}")] == notice
    assert Reminder.objects.filter(status=ReminderStatus.CANCELLED).count() == 2


def test_a_completed_visit_asks_for_a_rating_hours_later_but_not_at_night(doctor, patient, clock):
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(10, 19)
    )
    clock.move_to(ist(10, 19))
    appointment_check_in(appointment=appt, actor=doctor.user)
    appointment_start(appointment=appt, actor=doctor.user)
    clock.move_to(ist(10, 19, 40))
    appointment_complete(appointment=appt, actor=doctor.user)
    review = planned(f"appointment:{appt.pk}", ReminderKind.REVIEW_REQUEST)
    # 3 hours after 19:40 is 22:40, inside quiet hours (21:30-07:30): the next morning.
    assert [r.due_at for r in review] == [ist(11, 7, 30)]


def test_no_review_request_when_the_clinic_turned_them_off(scoped, doctor, patient, clock):
    MessagingSettings.objects.create(clinic=scoped, send_review_requests=False)
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(10, 10)
    )
    clock.move_to(ist(10, 10))
    appointment_check_in(appointment=appt, actor=doctor.user)
    appointment_start(appointment=appt, actor=doctor.user)
    appointment_complete(appointment=appt, actor=doctor.user)
    assert planned(kind=ReminderKind.REVIEW_REQUEST) == []


# --- quiet hours ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("local", "nearest", "expected"),
    [
        ((10, 21, 0), False, (10, 21, 0)),  # before quiet hours
        ((10, 21, 30), False, (10, 21, 30)),  # the edge itself is not quiet
        ((10, 22, 0), False, (11, 7, 30)),
        ((10, 22, 0), True, (10, 21, 30)),  # a bedtime dose: the evening edge is nearer
        ((11, 6, 0), True, (11, 7, 30)),
        ((11, 0, 0), True, (10, 21, 30)),
        ((11, 3, 0), False, (11, 7, 30)),
        ((11, 7, 30), True, (11, 7, 30)),
    ],
)
def test_quiet_hours_move_times_to_an_edge(scoped, local, nearest, expected):
    settings_row = messaging_settings_for(scoped.pk)
    moved = quiet_adjusted(
        ist(*local).astimezone(UTC), tz=IST, settings=settings_row, nearest=nearest
    )
    assert moved == ist(*expected)


def test_quiet_hours_that_do_not_cross_midnight(scoped):
    settings_row = messaging_settings_for(scoped.pk)
    settings_row.quiet_hours_start, settings_row.quiet_hours_end = time(13), time(15)
    assert quiet_adjusted(ist(10, 14), tz=IST, settings=settings_row) == ist(10, 15)
    assert quiet_adjusted(ist(10, 13, 30), tz=IST, settings=settings_row, nearest=True) == ist(
        10, 13
    )
    assert quiet_adjusted(ist(10, 16), tz=IST, settings=settings_row) == ist(10, 16)


# --- medicines ------------------------------------------------------------------------------
def medicine_rows(prescription_id: int):
    return planned(f"prescription:{prescription_id}", ReminderKind.MEDICINE)


def test_signing_plans_one_reminder_per_dose_time_grouping_medicines(doctor, patient):
    visit = sign_visit(doctor, patient, items=[PARACETAMOL, AMOXICILLIN, IBUPROFEN_SOS])
    prescription = Prescription.objects.get(visit=visit)
    rows = medicine_rows(prescription.pk)
    # Three days from today; this morning's 08:00 dose has passed. SOS gets no reminder.
    assert [r.due_at for r in rows] == [
        ist(10, 14),
        ist(10, 21),
        ist(11, 8),
        ist(11, 14),
        ist(11, 21),
        ist(12, 8),
        ist(12, 14),
        ist(12, 21),
    ]
    # 08:00 in India is 02:30 UTC.
    assert rows[2].due_at.astimezone(UTC) == datetime(2026, 3, 11, 2, 30, tzinfo=UTC)
    night = rows[1].context
    assert [i["text"] for i in night["items"]] == [
        "PARACETAMOL 500 mg - 1 tablet after food",
        "AMOXICILLIN 250 mg - 1 capsule",
    ]
    assert night["dose_time"] == "9:00 PM"
    assert [i["text"] for i in rows[0].context["items"]] == ["AMOXICILLIN 250 mg - 1 capsule"]
    ibuprofen = PrescriptionItem.objects.get(generic_name="IBUPROFEN")
    assert all(ibuprofen.pk not in [i["id"] for i in r.context["items"]] for r in rows)

    # Planning again plans nothing new.
    plan_for_prescription(prescription=prescription)
    assert Reminder.objects.filter(source=f"prescription:{prescription.pk}").count() == 8


def test_a_bedtime_dose_moves_to_the_evening_edge_and_q6h_night_doses_are_not_moved_closer(
    doctor, patient
):
    bedtime = {**PARACETAMOL, "frequency": "HS", "duration_days": 2}
    every_six = {
        **AMOXICILLIN,
        "frequency": "Q6H",
        "duration_days": 1,
        "starts_on": date(2026, 3, 11),
    }
    visit = sign_visit(doctor, patient, items=[bedtime, every_six])
    rows = medicine_rows(Prescription.objects.get(visit=visit).pk)
    got = [(r.due_at, r.context["dose_time"]) for r in rows]
    # Q6H's 00:00 and 06:00 fall in quiet hours (21:30-07:30); either edge would bring them
    # closer than 6 hours to the 18:00 or 12:00 dose, so they are not reminded (issue 19).
    assert got == [
        (ist(10, 21, 30), "10:00 PM"),  # HS at 22:00 -> the evening edge, same night
        (ist(11, 12), "12:00 PM"),
        (ist(11, 18), "6:00 PM"),
        (ist(11, 21, 30), "10:00 PM"),
    ]
    assert all(len(r.context["items"]) == 1 for r in rows)


def test_medicine_times_follow_the_clinic_time_zone(scoped, patient):
    scoped.timezone = "Asia/Dubai"
    scoped.save()
    dubai = ZoneInfo("Asia/Dubai")
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=dubai), tick=False):
        doctor = make_doctor(scoped)
        visit = sign_visit(doctor, patient, items=[{**PARACETAMOL, "duration_days": 1}])
    rows = medicine_rows(Prescription.objects.get(visit=visit).pk)
    # 21:00 in Dubai is 17:00 UTC.
    assert [r.due_at for r in rows] == [datetime(2026, 3, 10, 17, 0, tzinfo=UTC)]


def test_medicine_reminders_can_be_turned_off(scoped, doctor, patient):
    MessagingSettings.objects.create(clinic=scoped, send_medicine_reminders=False)
    visit = sign_visit(doctor, patient, items=[PARACETAMOL])
    assert medicine_rows(Prescription.objects.get(visit=visit).pk) == []


def test_stopping_a_medicine_drops_it_from_future_reminders(doctor, patient, clock):
    visit = sign_visit(doctor, patient, items=[PARACETAMOL, AMOXICILLIN])
    prescription = Prescription.objects.get(visit=visit)
    amoxicillin = PrescriptionItem.objects.get(
        prescription=prescription, generic_name="AMOXICILLIN"
    )
    clock.move_to(ist(11, 10))
    prescription_item_stop(item=amoxicillin, actor=doctor.user, reason="side_effect")
    rows = [r for r in medicine_rows(prescription.pk) if r.due_at > ist(11, 10)]
    # Afternoon doses had only amoxicillin: cancelled. The rest keep paracetamol alone.
    assert [r.due_at for r in rows] == [ist(11, 21), ist(12, 8), ist(12, 21)]
    assert all(
        [i["text"] for i in r.context["items"]] == ["PARACETAMOL 500 mg - 1 tablet after food"]
        for r in rows
    )
    cancelled = Reminder.objects.filter(status=ReminderStatus.CANCELLED)
    assert sorted(r.due_at for r in cancelled) == [ist(11, 14), ist(12, 14)]
    # Reminders before the stop are left as they were (history).
    assert Reminder.objects.get(due_at=ist(10, 21)).context["items"][1]["id"] == amoxicillin.pk


def test_signing_a_correction_replaces_the_earlier_plan(doctor, patient, clock):
    visit = sign_visit(doctor, patient, items=[PARACETAMOL], follow_up=date(2026, 3, 20))
    old = Prescription.objects.get(visit=visit)
    assert len(medicine_rows(old.pk)) == 5
    clock.move_to(ist(10, 12))
    amendment = visit_amend(visit=visit, **by(doctor), reason="Wrong duration")
    item = PrescriptionItem.objects.get(prescription__visit=amendment)
    from patients.services import prescription_item_update

    prescription_item_update(item=item, **by(doctor), duration_days=2)
    visit_sign(visit=amendment, **by(doctor))
    assert medicine_rows(old.pk) == []
    assert planned(f"visit:{visit.pk}") == []
    new = Prescription.objects.get(visit=amendment)
    assert [r.due_at for r in medicine_rows(new.pk)] == [ist(10, 21), ist(11, 8), ist(11, 21)]
    assert [r.due_at for r in planned(f"visit:{amendment.pk}")] == [ist(19, 9, 30)]


# --- follow-up and documents -----------------------------------------------------------------
def test_follow_up_reminder_the_day_before_at_the_clinic_time(scoped, doctor, patient):
    MessagingSettings.objects.create(clinic=scoped, follow_up_reminder_time=time(9, 0))
    visit = sign_visit(doctor, patient, follow_up=date(2026, 3, 17))
    rows = planned(f"visit:{visit.pk}", ReminderKind.FOLLOW_UP)
    # 09:00 in India on the 16th is 03:30 UTC.
    assert [r.due_at for r in rows] == [datetime(2026, 3, 16, 3, 30, tzinfo=UTC)]


def test_generated_documents_plan_a_document_ready_notice(
    doctor, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = sign_visit(doctor, patient, items=[PARACETAMOL])
    documents = Document.objects.filter(visit=visit)
    assert documents.count() == 2  # the prescription and the visit summary
    rows = planned(kind=ReminderKind.DOCUMENT_READY)
    assert sorted(r.source for r in rows) == sorted(f"document:{d.pk}" for d in documents)


# --- staff cancel ---------------------------------------------------------------------------
def test_staff_cancel_a_planned_reminder_with_a_reason_and_it_is_audited(doctor, patient):
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(11, 11)
    )
    reminder = planned(f"appointment:{appt.pk}", ReminderKind.APPOINTMENT_REMINDER)[0]
    with pytest.raises(DomainError, match="Say why"):
        reminder_cancel(reminder=reminder, actor=doctor.user, reason="  ")
    reminder = reminder_cancel(reminder=reminder, actor=doctor.user, reason="Patient called")
    assert reminder.status == ReminderStatus.CANCELLED and reminder.outcome == "Patient called"
    event = AuditEvent.objects.get(action=Actions.REMINDER_CANCELLED)
    assert event.patient_id == patient.pk and event.actor == doctor.user
    with pytest.raises(DomainError, match="Only a planned reminder"):
        reminder_cancel(reminder=reminder, actor=doctor.user, reason="again")


def test_reminders_are_planned_without_consent_and_checked_when_sent(scoped, doctor):
    from tests.messaging.conftest import make_patient

    patient = make_patient(scoped, consent=False)
    appt = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=ist(11, 11)
    )
    # Planned now; whether it may go out is decided at send time (test_dispatch).
    assert len(planned(f"appointment:{appt.pk}")) == 3
    assert timedelta(0) == planned(f"appointment:{appt.pk}")[0].due_at - NOW


def test_large_plans_written_with_copy_plan_once_and_keep_their_context(
    doctor, patient, monkeypatch
):
    """On PostgreSQL plans of many rows are written with COPY; planning again falls back to
    the conflict-tolerant insert. (On SQLite both go through that insert.)"""
    monkeypatch.setattr("messaging.services.reminder_rows.COPY_FROM_ROWS", 1)
    visit = sign_visit(doctor, patient, items=[PARACETAMOL, AMOXICILLIN])
    prescription = Prescription.objects.get(visit=visit)
    rows = medicine_rows(prescription.pk)
    assert len(rows) == 8
    assert all(r.status == ReminderStatus.PLANNED and r.created_at for r in rows)
    assert [i["text"] for i in rows[1].context["items"]] == [
        "PARACETAMOL 500 mg - 1 tablet after food",
        "AMOXICILLIN 250 mg - 1 capsule",
    ]
    plan_for_prescription(prescription=prescription)
    assert Reminder.objects.filter(source=f"prescription:{prescription.pk}").count() == 8


def _dose_plan(prescription_id: int):
    return [
        (r.due_at, r.context["dose_time"], [i["text"] for i in r.context["items"]])
        for r in medicine_rows(prescription_id)
    ]


def test_copy_and_the_row_insert_plan_the_same_dose_reminders(doctor, patient, monkeypatch):
    """The same course planned through COPY (PostgreSQL) and through the row insert gives the
    same times, dose times and medicines; rows sharing a clock time keep their own context."""
    items = [
        PARACETAMOL,
        {**AMOXICILLIN, "duration_days": 2},
        {**PARACETAMOL, "generic_name": "cetirizine", "strength": "10 mg", "frequency": "HS"},
        {**AMOXICILLIN, "generic_name": "ondansetron", "strength": "4 mg", "frequency": "Q6H"},
    ]
    monkeypatch.setattr("messaging.services.reminder_rows.COPY_FROM_ROWS", 1)
    copied = Prescription.objects.get(visit=sign_visit(doctor, patient, items=items))
    monkeypatch.setattr("messaging.services.reminder_rows.COPY_FROM_ROWS", 10**6)
    inserted = Prescription.objects.get(visit=sign_visit(doctor, patient, items=items))

    plan = _dose_plan(copied.pk)
    assert plan == _dose_plan(inserted.pk)
    # Q6H's 00:00 and 06:00 are in quiet hours and cannot move within 6 hours: not reminded.
    assert len(plan) == 16
    # The night doses share 21:00, except on the last night (amoxicillin's course has ended):
    # same clock time, its own medicines. The bedtime dose moves to 21:30 alone.
    night = ["PARACETAMOL 500 mg - 1 tablet after food", "AMOXICILLIN 250 mg - 1 capsule"]
    assert [(due, meds) for due, dose_time, meds in plan if dose_time == "9:00 PM"] == [
        (ist(10, 21), night),
        (ist(11, 21), night),
        (ist(12, 21), night[:1]),
    ]
    assert [due for due, dose_time, _ in plan if dose_time == "10:00 PM"] == [
        ist(10, 21, 30),
        ist(11, 21, 30),
        ist(12, 21, 30),
    ]
    rows = medicine_rows(copied.pk)
    assert {r.context["prescription_id"] for r in rows} == {copied.pk}
    assert {r.context["prescription_id"] for r in medicine_rows(inserted.pk)} == {inserted.pk}


def test_planning_a_copied_plan_again_brings_back_its_cancelled_doses(doctor, patient, monkeypatch):
    """Rows are unique by (source, kind, due time) whatever their status: planning again a
    course written with COPY plans its cancelled doses again and adds no duplicate."""
    monkeypatch.setattr("messaging.services.reminder_rows.COPY_FROM_ROWS", 1)
    prescription = Prescription.objects.get(visit=sign_visit(doctor, patient, items=[AMOXICILLIN]))
    source = f"prescription:{prescription.pk}"
    cancelled_times = [ist(11, 14), ist(12, 8)]
    Reminder.objects.filter(source=source, due_at__in=cancelled_times).update(
        status=ReminderStatus.CANCELLED, outcome="Replaced by the corrected visit."
    )
    assert len(medicine_rows(prescription.pk)) == 6

    plan_for_prescription(prescription=prescription)
    rows = medicine_rows(prescription.pk)
    assert len(rows) == 8
    assert Reminder.objects.filter(source=source).count() == 8
    again = [r for r in rows if r.due_at in cancelled_times]
    assert [(r.outcome, r.context["dose_time"]) for r in again] == [
        ("", "2:00 PM"),
        ("", "8:00 AM"),
    ]


@pytest.mark.postgres
def test_a_new_course_is_written_without_reading_its_reminders_back(doctor, patient, monkeypatch):
    """A plan written whole with COPY met no existing row (the unique key covers cancelled rows
    too), so there is nothing to plan again and no reminder is read back: at most the settings,
    the items and the savepoint around COPY."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    visit = sign_visit(doctor, patient, items=[PARACETAMOL, AMOXICILLIN])
    # Read as the signing listener reads it (`reminders._visit_signed`): the patient comes
    # with it, since the medicines' lines are written in the patient's language.
    prescription = Prescription.objects.select_related("clinic", "visit", "patient").get(
        visit=visit
    )
    Reminder.objects.filter(source=f"prescription:{prescription.pk}").delete()
    monkeypatch.setattr("messaging.services.reminder_rows.COPY_FROM_ROWS", 1)
    with CaptureQueriesContext(connection) as queries:
        assert plan_for_prescription(prescription=prescription) == 8
    assert len(medicine_rows(prescription.pk)) == 8
    assert len(queries) <= 4
    assert not [q for q in queries if Reminder._meta.db_table in q["sql"]]
