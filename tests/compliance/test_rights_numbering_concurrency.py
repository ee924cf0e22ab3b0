"""Eight staff members recording data-rights requests at the same moment on PostgreSQL: every
reference (DR-<year>-0001) once, in order, with no gaps, even when the year's counter does not
exist yet and one recording fails after taking its number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from clinics.context import actor_context
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.rights.models import RightsKind, RightsRequest
from compliance.rights.services.requests import rights_request_create
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CREATORS = 8
EACH = 5


class _Abandoned(Exception):
    pass


def test_concurrent_creators_take_consecutive_unique_references():
    clinic = ClinicFactory()
    desk = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic)
    start = threading.Barrier(CREATORS)
    errors: list[BaseException] = []

    def create(worker: int) -> None:
        try:
            with actor_context(via="test"), clinic_scope(clinic):
                start.wait()
                for i in range(EACH):
                    try:
                        with transaction.atomic():
                            rights_request_create(
                                clinic=clinic,
                                actor=desk.user,
                                kind=RightsKind.ACCESS,
                                patient=patient,
                            )
                            if worker == 0 and i == 2:  # its number must go to the next one
                                raise _Abandoned
                    except _Abandoned:
                        pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(w,)) for w in range(CREATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with clinic_scope(clinic):
        rows = list(RightsRequest.objects.values_list("reference", "number", "received_at"))
    total = CREATORS * EACH - 1
    references = sorted(r for r, _, _ in rows)
    assert len(references) == len(set(references)) == total
    year = rows[0][2].year
    assert references == [f"DR-{year}-{n:04d}" for n in range(1, total + 1)]
    assert sorted(n for _, n, _ in rows) == list(range(1, total + 1))
