"""Eight people issuing bills at the same moment on PostgreSQL: every number once, no gaps."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing.models import Bill, BillingProfile
from billing.services import LineDraft, bill_draft_create, bill_issue
from clinics.context import actor_context
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ISSUERS = 8
BILLS_EACH = 5


def test_concurrent_issuers_take_consecutive_unique_numbers():
    clinic = ClinicFactory()
    biller = MembershipFactory(clinic=clinic, role=Role.BILLING)
    with clinic_scope(clinic):
        BillingProfile.objects.create(clinic=clinic)  # unregistered: BIL series
        patient = PatientFactory(clinic=clinic)
        drafts = [
            bill_draft_create(
                patient=patient,
                actor=biller.user,
                lines=[LineDraft(description="Consultation", unit_price_paise=50000)],
            ).pk
            for _ in range(ISSUERS * BILLS_EACH)
        ]
    start = threading.Barrier(ISSUERS)
    errors: list[BaseException] = []

    def issue(ids: list[int]) -> None:
        try:
            with actor_context(via="test"), clinic_scope(clinic):
                start.wait()
                for pk in ids:
                    bill_issue(bill=Bill.objects.get(pk=pk), actor=biller.user)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(drafts[i::ISSUERS],)) for i in range(ISSUERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with clinic_scope(clinic):
        numbers = sorted(Bill.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == ISSUERS * BILLS_EACH
    assert [int(n.rsplit("/", 1)[1]) for n in numbers] == list(range(1, ISSUERS * BILLS_EACH + 1))
