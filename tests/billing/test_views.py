"""Billing pages: the queue's "Bill" action through to a paid, printed bill; the reports."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Bill, DayClosing, Payment
from patients.models import Appointment, AppointmentStatus, Visit

pytestmark = pytest.mark.usefixtures("registered")


def _url(clinic, rest: str) -> str:
    return f"/c/{clinic.slug}/billing/{rest}"


@pytest.fixture
def with_doctor(scoped, patient, doctor):
    now = timezone.now()
    appointment = Appointment.objects.create(
        clinic=scoped,
        patient=patient,
        doctor=doctor,
        starts_at=now,
        ends_at=now + timedelta(minutes=15),
        status=AppointmentStatus.IN_CONSULTATION,
        token_number=7,
        checked_in_at=now,
        started_at=now,
    )
    Visit.objects.create(clinic=scoped, patient=patient, doctor=doctor, appointment=appointment)
    return appointment


def test_bill_from_the_queue_take_upi_and_print(
    scoped, front_desk, client_for, items, with_doctor, django_capture_on_commit_callbacks
):
    client = client_for(front_desk)
    queue = client.get(f"/c/{scoped.slug}/schedule/queue/")
    assert f"billing/appointment/{with_doctor.pk}/" in queue.content.decode()
    opened = client.post(_url(scoped, f"appointment/{with_doctor.pk}/"))
    bill = Bill.objects.get()
    assert opened.status_code == 302 and opened["Location"].endswith(f"/billing/{bill.pk}/")
    assert list(bill.lines.values_list("description", flat=True)) == ["Consultation (first visit)"]
    client.post(
        _url(scoped, f"{bill.pk}/lines/"),
        {"item": items["paracetamol"].pk, "quantity": 2, "description": ""},
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(scoped, f"{bill.pk}/issue/"))
    bill.refresh_from_db()
    assert bill.number.startswith("INV/") and bill.total_paise == 54200
    page = client.get(_url(scoped, f"{bill.pk}/")).content.decode()
    assert "UPI QR code" in page and "Rs 542.00" in page
    paid = client.post(
        _url(scoped, f"{bill.pk}/payments/"), {"amount": "542.00", "mode": "upi", "reference": "U1"}
    )
    assert paid.status_code == 302
    bill.refresh_from_db()
    assert bill.amount_due_paise == 0
    for layout in ("a4", "receipt"):
        pdf = client.get(_url(scoped, f"{bill.pk}/pdf/?layout={layout}"))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Billed once: the queue's action opens the same bill again.
    client.post(_url(scoped, f"appointment/{with_doctor.pk}/"))
    assert Bill.objects.count() == 1


def test_overpayment_is_a_form_error_not_a_payment(scoped, biller, client_for, issued):
    response = client_for(biller).post(
        _url(scoped, f"{issued.pk}/payments/"), {"amount": "1000.00", "mode": "cash"}
    )
    assert response.status_code == 400
    assert "more than the Rs 542.00 due" in response.content.decode()
    assert not Payment.objects.exists()


def test_checkout_lists_patients_seen_and_not_billed(scoped, front_desk, client_for, with_doctor):
    page = client_for(front_desk).get(_url(scoped, "")).content.decode()
    assert "Checkout" in page and with_doctor.patient.full_name in page


def test_reports_day_book_closing_gst_and_zip(scoped, biller, client_for, issued):
    client = client_for(biller)
    client.post(_url(scoped, f"{issued.pk}/payments/"), {"amount": "200.00", "mode": "cash"})
    book = client.get(_url(scoped, "day-book/"))
    assert "Rs 200.00" in book.content.decode()
    csv = client.get(_url(scoped, "day-book/?format=csv")).content.decode()
    assert "mode,Cash,20000,0" in csv
    client.post(_url(scoped, "day-book/close/"), {"counted": "190.00"})
    closing = DayClosing.objects.get()
    assert (closing.expected_cash_paise, closing.difference_paise) == (20000, -1000)
    gst = client.get(_url(scoped, "gst/?format=csv")).content.decode()
    assert "rate,5%,4000,100,100,0" in gst and "exempt,,50000" in gst
    assert "Rs 342.00" in client.get(_url(scoped, "outstanding/")).content.decode()
    archive = zipfile.ZipFile(io.BytesIO(client.get(_url(scoped, "gst/bills.zip")).content))
    assert archive.namelist() == [f"{issued.number.replace('/', '-')}.pdf"]


def test_the_bill_qr_verifies_and_shows_cancelled(scoped, biller, issued, client):
    page = client.get(f"/verify/{issued.verify_token}/")
    assert page.status_code == 200 and "Valid" in page.content.decode()
    from billing.services import bill_cancel

    bill_cancel(bill=issued, reason="Wrong patient", actor=biller.user)
    assert "Cancelled" in client.get(f"/verify/{issued.verify_token}/").content.decode()


def test_another_clinics_bill_is_404(scoped, other_clinic, member_factory, client_for, issued):
    from clinics.roles import Role

    stranger = member_factory(other_clinic, Role.OWNER)
    client = client_for(stranger)
    assert client.get(f"/c/{other_clinic.slug}/billing/{issued.pk}/").status_code == 404
    assert client.post(f"/c/{other_clinic.slug}/billing/{issued.pk}/issue/").status_code == 404
