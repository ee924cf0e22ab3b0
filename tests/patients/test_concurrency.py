"""Patient numbers stay unique and gap-free when several desks register at the same moment."""

import threading

import pytest
from django.db import connection

from clinics.tenancy import clinic_scope
from patients.models import Patient
from patients.services import patient_create
from tests.factories import ClinicFactory, MembershipFactory

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
