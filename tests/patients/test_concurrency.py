"""Patient numbers stay unique and gap-free when several desks register at the same moment;
two presses of Call next at once call one patient."""

import threading

import pytest
from django.db import connection

from clinics.tenancy import clinic_scope
from patients.models import Appointment, AppointmentStatus, Patient, Visit
from patients.services import patient_create
from patients.services.appointments import appointment_walk_in
from patients.services.queue import queue_call_next
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_registrations_get_distinct_consecutive_numbers():
    clinic = ClinicFactory()
    owner = MembershipFactory(clinic=clinic, role="owner")
    errors: list[Exception] = []
    start = threading.Barrier(4)

    def register(worker: int) -> None:
        try:
            start.wait()
            with clinic_scope(clinic):
                for i in range(10):
                    patient_create(
                        clinic=clinic,
                        actor=owner.user,
                        full_name=f"Worker {worker} Patient {i}",
                        sex="F",
                        phone=f"+9198450{worker}{i:04d}",
                        date_of_birth="1990-01-01",
                    )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with clinic_scope(clinic):
        numbers = sorted(Patient.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 41))


def _call_next_together(doctor, member, expected_id, presses: int) -> tuple[list, list]:
    """`presses` presses of one doctor's Call next at the same moment."""
    called: list[int] = []
    errors: list[Exception] = []
    start = threading.Barrier(presses)

    def press() -> None:
        try:
            start.wait()
            with clinic_scope(doctor.clinic):
                done = queue_call_next(
                    doctor=doctor,
                    actor=member.user,
                    actor_membership=member,
                    open_visit=True,
                    expected_id=expected_id,
                )
                called.append(done.appointment.pk)
        except Exception as exc:  # surfaced by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(presses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return called, errors


def test_two_presses_of_call_next_at_once_call_one_patient_and_open_one_visit():
    clinic = ClinicFactory()
    doctor = MembershipFactory(clinic=clinic, role="doctor")
    with clinic_scope(clinic):
        tokens = [
            appointment_walk_in(
                patient=PatientFactory(clinic=clinic),
                doctor=doctor,
                actor=doctor.user,
                override_reason="Test at any hour",
            )
            for _ in range(3)
        ]
    # The same button pressed twice (it showed token 1): one patient, one visit.
    called, errors = _call_next_together(doctor, doctor, tokens[0].pk, presses=2)
    assert errors == [] and called == [tokens[0].pk, tokens[0].pk]
    with clinic_scope(clinic):
        statuses = dict(Appointment.objects.values_list("pk", "status"))
        assert Visit.objects.filter(appointment=tokens[0]).count() == 1
    assert statuses[tokens[1].pk] == statuses[tokens[2].pk] == AppointmentStatus.CHECKED_IN
    # Two presses from two pages that showed no token: two different patients.
    called, errors = _call_next_together(doctor, doctor, None, presses=2)
    assert errors == [] and sorted(called) == [tokens[1].pk, tokens[2].pk]
