"""Two people clicking "Payment link" on the same bill at the same moment, on PostgreSQL:
Razorpay is asked once, both see the same link, and no error reaches either of them."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from billing.models import Bill
from billing.razorpay.bill_links import bill_payment_link_create
from billing.razorpay.models import PaymentLink
from clinics.context import actor_context
from clinics.tenancy import clinic_scope

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLICKS = 2


def test_two_simultaneous_clicks_make_one_razorpay_link(
    clinic, issued, biller, front_desk, sim, rzp_account, monkeypatch
):
    # Razorpay takes a moment to answer, as it does over the internet: long enough for the
    # second click to arrive while the first one's link is being made.
    create = sim.state.link_create

    def slow_create(*args, **kwargs):
        time.sleep(0.4)
        return create(*args, **kwargs)

    monkeypatch.setattr(sim.state, "link_create", slow_create)
    start = threading.Barrier(CLICKS)
    made: list[int] = []
    errors: list[BaseException] = []

    def click(member) -> None:
        try:
            with actor_context(via="test"), clinic_scope(clinic):
                bill = Bill.objects.get(pk=issued.pk)
                start.wait()
                made.append(bill_payment_link_create(bill=bill, actor=member.user).pk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(m,)) for m in (biller, front_desk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(made) == CLICKS and len(set(made)) == 1  # both people see the same link
    with clinic_scope(clinic):
        assert PaymentLink.objects.count() == 1
    assert len(sim.state.links) == 1  # Razorpay was asked once
