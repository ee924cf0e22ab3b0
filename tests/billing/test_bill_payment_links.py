"""A bill's online payment over real HTTP: the payment link made through the SDK against the
Razorpay simulator, the patient paying, the webhook recording an online payment on the bill,
and the link sent on WhatsApp through the WhatsApp simulator."""

from __future__ import annotations

import pytest
import requests
from django.db import transaction

from billing.models import Bill, BillStatus, Payment, PaymentMode
from billing.razorpay.bill_links import (
    bill_link_paid,
    bill_payment_link_create,
    bill_payment_link_send,
)
from billing.razorpay.models import PaymentLink
from billing.services import bill_cancel, bill_payment_record
from clinics.audit import Actions
from clinics.errors import Conflict, DomainError
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from devtools.razorpay_simulator.state import Event, sign
from tests.api.conftest import assert_error
from tests.billing.conftest import KEY_ID, WEBHOOK_SECRET, webhook_path
from tests.factories import ClinicFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

DUE = 54_200  # the `issued` bill: Rs 500 consultation + 2 strips at Rs 20 with 5% GST


def bill_url(bill, rest: str = "") -> str:
    return f"/c/{bill.clinic.slug}/billing/{bill.pk}/{rest}"


def fresh(clinic, bill) -> Bill:
    with clinic_scope(clinic):
        return Bill.objects.get(pk=bill.pk)


def links(clinic) -> list[PaymentLink]:
    with clinic_scope(clinic):
        return list(PaymentLink.objects.order_by("id"))


def payments(clinic, bill) -> list[Payment]:
    with clinic_scope(clinic):
        return list(Payment.objects.filter(bill_id=bill.pk).order_by("id"))


def test_front_desk_makes_the_link_the_patient_pays_and_the_bill_shows_paid(
    clinic, issued, front_desk, client_for, live_webhooks
):
    web = client_for(front_desk)
    assert web.post(bill_url(issued, "payment-link/")).status_code == 302
    assert web.post(bill_url(issued, "payment-link/")).status_code == 302  # shown, not made again
    (link,) = links(clinic)
    remote = live_webhooks.link(link.razorpay_link_id)
    assert remote["reference_id"] == issued.number and remote["amount"] == DUE
    assert remote["customer"]["name"] == "Kavya Reddy"
    assert link.on_paid_key == "billing.bill"
    page = web.get(bill_url(issued)).content.decode()
    assert link.short_url in page and "Rs 542.00" in page

    sent = live_webhooks.pay_link(link.razorpay_link_id)  # the patient pays on Razorpay's page

    assert [d.status for d in live_webhooks.deliveries] == [200, 200]
    bill = fresh(clinic, issued)
    assert bill.amount_due_paise == 0 and bill.paid_paise == DUE
    (payment,) = payments(clinic, issued)
    assert payment.mode == PaymentMode.ONLINE and payment.amount_paise == DUE
    assert payment.reference == sent["razorpay_payment_id"]
    assert payment.receipt_number.startswith("RCT/")
    page = web.get(bill_url(issued)).content.decode()
    assert "badge ok" in page and payment.receipt_number in page
    assert "Online (payment link)" in page


def test_a_second_notice_of_the_same_payment_records_nothing(
    clinic, issued, biller, live_webhooks, live_server, rzp_account
):
    with clinic_scope(clinic):
        link = bill_payment_link_create(bill=issued, actor=biller.user)
    sent = live_webhooks.pay_link(link.razorpay_link_id)
    # Razorpay sends the news again under a new event id (a replay from its dashboard).
    account = live_webhooks.state.accounts[KEY_ID]
    again = Event(
        account,
        "payment_link.paid",
        {
            "payment_link": live_webhooks.link(link.razorpay_link_id),
            "payment": {"id": sent["razorpay_payment_id"], "amount": DUE},
        },
    ).body()
    answer = requests.post(
        live_server.url + webhook_path(rzp_account),
        data=again,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(WEBHOOK_SECRET, again),
            "X-Razorpay-Event-Id": "evt_ReplayOfPaid01",
        },
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json() == {"status": "stored"}
    with clinic_scope(clinic):
        link.refresh_from_db()
        with transaction.atomic():  # as the webhook task calls it: inside the paying transaction
            bill_link_paid(link, DUE, sent["razorpay_payment_id"])  # the handler itself, twice
    assert len(payments(clinic, issued)) == 1
    assert fresh(clinic, issued).paid_paise == DUE


def test_more_than_is_due_is_recorded_as_far_as_the_bill_allows_and_the_rest_shown_to_staff(
    clinic, issued, biller, client_for, live_webhooks
):
    with clinic_scope(clinic):
        link = bill_payment_link_create(bill=issued, actor=biller.user)
        # Meanwhile the patient pays Rs 200 in cash at the counter.
        bill_payment_record(bill=issued, amount_paise=20_000, mode="cash", actor=biller.user)
    live_webhooks.pay_link(link.razorpay_link_id)

    assert [d.status for d in live_webhooks.deliveries] == [200, 200]
    online = [p for p in payments(clinic, issued) if p.mode == PaymentMode.ONLINE]
    assert [p.amount_paise for p in online] == [DUE - 20_000]
    assert fresh(clinic, issued).amount_due_paise == 0
    with clinic_scope(clinic):
        (event,) = AuditEvent.objects.filter(action=Actions.ONLINE_PAYMENT_NOT_RECORDED)
    assert event.data["paid_paise"] == DUE and event.data["recorded_paise"] == DUE - 20_000
    page = client_for(biller).get(bill_url(issued)).content.decode()
    assert "Rs 200.00 could not be recorded on this bill" in page


def test_a_link_paid_after_its_bill_was_cancelled_is_reported_not_recorded(
    clinic, issued, biller, client_for, sim, rzp_account
):
    with clinic_scope(clinic):
        link = bill_payment_link_create(bill=issued, actor=biller.user)
        bill_cancel(bill=issued, reason="Wrong patient", actor=biller.user)
        link.refresh_from_db()
        with transaction.atomic():
            bill_link_paid(link, DUE, "pay_AfterCancel001")
    assert payments(clinic, issued) == []
    with clinic_scope(clinic):
        assert AuditEvent.objects.filter(action=Actions.ONLINE_PAYMENT_NOT_RECORDED).count() == 1


def test_a_fully_paid_bill_gets_no_link(clinic, issued, biller, client_for, sim, rzp_account):
    web = client_for(biller)
    with clinic_scope(clinic):
        bill_payment_record(bill=issued, amount_paise=DUE, mode="upi", actor=biller.user)
        with pytest.raises(Conflict, match="Nothing is due"):
            bill_payment_link_create(bill=issued, actor=biller.user)
    page = web.post(bill_url(issued, "payment-link/"), follow=True).content.decode()
    assert "Nothing is due on this bill." in page
    assert links(clinic) == [] and not [r for r in sim.requests if r[1] == "/v1/payment_links"]


def test_a_cancelled_bill_gets_no_link_and_the_api_says_why(
    clinic, issued, biller, api_client_for, sim, rzp_account
):
    with clinic_scope(clinic):
        bill_cancel(bill=issued, reason="Entered twice", actor=biller.user)
    api = api_client_for(clinic, role=Role.BILLING)
    body = assert_error(api.post(f"/api/v1/bills/{issued.pk}/payment-link/"), 409, "conflict")
    assert "cancelled" in body["detail"]
    assert links(clinic) == []


def test_without_razorpay_the_page_and_the_api_say_so(clinic, issued, biller, api_client_for):
    api = api_client_for(clinic, role=Role.BILLING)
    response = api.post(f"/api/v1/bills/{issued.pk}/payment-link/")
    assert_error(response, 400, "razorpay_not_connected")


def test_the_api_makes_the_link_once_and_then_returns_it(
    clinic, issued, api_client_for, sim, rzp_account
):
    api = api_client_for(clinic, role=Role.FRONT_DESK)
    made = api.post(f"/api/v1/bills/{issued.pk}/payment-link/")
    assert made.status_code == 201, made.content
    again = api.post(f"/api/v1/bills/{issued.pk}/payment-link/")
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    body = made.json()
    assert body["bill_id"] == issued.pk and body["reference_id"] == issued.number
    assert body["amount_paise"] == DUE and body["status"] == "created"
    assert body["short_url"].startswith(sim.base_url)
    assert len(links(clinic)) == 1


def test_another_clinics_bill_is_a_404(
    clinic, issued, api_client_for, client_for, sim, rzp_account
):
    other = ClinicFactory(name="Other Clinic", slug="other")
    api = api_client_for(other, role=Role.BILLING)
    assert_error(api.post(f"/api/v1/bills/{issued.pk}/payment-link/"), 404)
    with clinic_scope(other):
        from tests.factories import MembershipFactory

        stranger = MembershipFactory(clinic=other, role=Role.BILLING)
    web = client_for(stranger)
    assert web.post(f"/c/other/billing/{issued.pk}/payment-link/").status_code == 404
    assert web.post(f"/c/other/billing/{issued.pk}/payment-link/send/").status_code == 404
    assert links(clinic) == []


def test_a_doctor_cannot_make_a_link(clinic, issued, doctor, client_for, sim, rzp_account):
    assert client_for(doctor).post(bill_url(issued, "payment-link/")).status_code == 403
    assert links(clinic) == []


def test_send_without_whatsapp_is_refused_clearly(
    clinic, issued, biller, client_for, sim, rzp_account
):
    page = client_for(biller).post(bill_url(issued, "payment-link/send/"), follow=True)
    assert "WhatsApp" in page.content.decode()
    with clinic_scope(clinic):
        assert not AuditEvent.objects.filter(action=Actions.BILL_PAYMENT_LINK_SENT).exists()
    with clinic_scope(clinic), pytest.raises(DomainError):
        bill_payment_link_send(bill=issued, actor=biller.user)


def test_a_draft_is_not_paid_online(clinic, scoped, biller, items, sim, rzp_account):
    from billing.services import LineDraft, bill_draft_create

    patient = PatientFactory(clinic=scoped)
    draft = bill_draft_create(
        patient=patient, actor=biller.user, lines=[LineDraft(item_id=items["dressing"].pk)]
    )
    assert draft.status == BillStatus.DRAFT
    with pytest.raises(Conflict, match="Issue the bill"):
        bill_payment_link_create(bill=draft, actor=biller.user)


def test_the_guardian_who_pays_is_razorpays_customer(scoped, biller, items, sim, rzp_account):
    from billing.services import LineDraft, bill_draft_create, bill_issue
    from patients.models import Guardian

    child = PatientFactory(clinic=scoped, full_name="Anu Rao")
    mother = Guardian.objects.create(
        clinic=scoped, patient=child, name="Lata Rao", relation="mother", phone="+919812300001"
    )
    draft = bill_draft_create(
        patient=child,
        payer_guardian=mother,
        actor=biller.user,
        lines=[LineDraft(item_id=items["dressing"].pk)],
    )
    bill = bill_issue(bill=draft, actor=biller.user)
    link = bill_payment_link_create(bill=bill, actor=biller.user)
    remote = sim.link(link.razorpay_link_id)
    assert remote["customer"] == {"name": "Lata Rao", "contact": "+919812300001"}
    assert remote["amount"] == 20_000 and link.reference_id == bill.number
