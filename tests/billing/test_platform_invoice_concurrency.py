"""The installation's tax invoices to clinics, issued by several workers at the same moment on
PostgreSQL (webhooks for charges arriving together, and the same charge delivered twice): every
clinic's numbers once each, consecutive from 1, one invoice per charge."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing.subscriptions.invoices import platform_invoice_issue
from billing.subscriptions.models import ClinicSubscription, Plan, PlatformInvoice
from clinics.context import actor_context
from clinics.tenancy import clinic_scope
from tests.factories import ClinicFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ISSUERS = 8
CHARGES_EACH = 4


def test_concurrent_issuers_number_platform_invoices_without_gaps_or_repeats():
    plan = Plan.objects.create(name="Clinic", amount_paise=1_18_000, max_doctors=1)
    clinics = [ClinicFactory(), ClinicFactory()]
    subscriptions = {}
    for clinic in clinics:
        with clinic_scope(clinic):
            subscriptions[clinic.pk] = ClinicSubscription.objects.create(
                clinic=clinic,
                plan=plan,
                razorpay_subscription_id=f"sub_{clinic.pk}",
                short_url="https://rzp.io/i/x",
            )
    # Every charge is delivered to two issuers (a webhook retried while the first is running).
    charges = [
        (clinic.pk, f"pay_{clinic.pk}_{n}") for clinic in clinics for n in range(CHARGES_EACH * 4)
    ]
    work = [charges[i::ISSUERS] + charges[(i + 1) % ISSUERS :: ISSUERS] for i in range(ISSUERS)]
    start = threading.Barrier(ISSUERS)
    errors: list[BaseException] = []

    def issue(items: list[tuple[int, str]]) -> None:
        try:
            with actor_context(via="test"):
                start.wait()
                for clinic_id, payment_id in items:
                    with clinic_scope(clinic_id):
                        platform_invoice_issue(
                            subscription=subscriptions[clinic_id],
                            payment_id=payment_id,
                            amount_paise=1_18_000,
                        )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(items,)) for items in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for clinic in clinics:
        with clinic_scope(clinic):
            rows = list(PlatformInvoice.objects.values_list("sequence", "number", "total_paise"))
            charged = ClinicSubscription.objects.get(pk=subscriptions[clinic.pk].pk).charges
        numbers = [number for _, number, _ in rows]
        expected = CHARGES_EACH * 4
        assert len(rows) == len(set(numbers)) == expected
        assert sorted(sequence for sequence, _, _ in rows) == list(range(1, expected + 1))
        assert all(number.endswith(f"/{sequence:04d}") for sequence, number, _ in rows)
        assert {total for _, _, total in rows} == {1_18_000}
        # Each charge counted once, not once per delivery.
        assert charged == expected
