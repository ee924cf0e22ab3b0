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


def _credit_fields(issued) -> tuple[int, int]:
    consultation, strips = issued.lines.order_by("position")
    return consultation.pk, strips.pk


def test_credit_part_of_lines_from_the_bill_page(scoped, biller, client_for, issued):
    client = client_for(biller)
    consultation, strips = _credit_fields(issued)
    page = client.get(_url(scoped, f"{issued.pk}/")).content.decode()
    assert 'id="credit-note-form"' in page and f'name="qty_{strips}"' in page
    # One of the two strips (Rs 20 at 5%: Rs 21.00) and Rs 100 off the exempt consultation.
    response = client.post(
        _url(scoped, f"{issued.pk}/credit-note/"),
        {f"qty_{strips}": "1", f"amount_{consultation}": "100.00", "reason": "Returned strip"},
    )
    note = Bill.objects.get(credit_for=issued)
    assert response.status_code == 302 and response["Location"].endswith(f"/billing/{note.pk}/")
    assert note.number.startswith("CN/") and note.reason == "Returned strip"
    assert sorted(note.lines.values_list("taxable_value_paise", "cgst_paise", "sgst_paise")) == [
        (2000, 50, 50),
        (10000, 0, 0),
    ]
    issued.refresh_from_db()
    assert issued.credited_paise == 12100 and issued.amount_due_paise == 54200 - 12100
    # The month's GST summary takes the credit note off the rate it was charged at.
    gst = client.get(_url(scoped, "gst/?format=csv")).content.decode()
    assert "rate,5%,2000,50,50,0" in gst and "exempt,,40000" in gst
    assert "credit_notes,1,12000,50,50,0" in gst
    # What is left shows on the page, and more than that is refused.
    page = client.get(_url(scoped, f"{issued.pk}/")).content.decode()
    assert "left to credit Rs 400.00" in page and "left to credit Rs 20.00" in page
    refused = client.post(
        _url(scoped, f"{issued.pk}/credit-note/"),
        {f"qty_{strips}": "2", "reason": "Both strips"},
    )
    assert refused.status_code == 400
    assert "At most Rs 20.00 is left to credit on this line." in refused.content.decode()
    assert Bill.objects.filter(credit_for=issued).count() == 1


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({}, "Choose what to credit"),
        ({"qty_S": "1", "amount_S": "20.00"}, "Give a quantity or an amount, not both."),
        ({"qty_S": "3"}, "less than or equal to 2"),
        ({"qty_S": "0"}, "greater than or equal to 1"),
        ({"qty_S": "1.5"}, "Enter a whole number."),
        ({"amount_C": "-5"}, "greater than or equal to 0.01"),
        ({"amount_C": "0.001"}, "no more than 2 decimal places"),
        ({"amount_C": "500.01"}, "At most Rs 500.00 is left to credit on this line."),
        ({"amount_C": "1e9"}, "At most Rs 500.00 is left"),
        ({"amount_C": "99999999999999"}, "Ensure that there are no more than"),
        ({"amount_C": "abc"}, "Enter a number."),
    ],
)
def test_bad_credit_note_input_is_a_form_error(scoped, biller, client_for, issued, post, message):
    consultation, strips = _credit_fields(issued)
    data = {
        key.replace("_S", f"_{strips}").replace("_C", f"_{consultation}"): value
        for key, value in post.items()
    }
    response = client_for(biller).post(
        _url(scoped, f"{issued.pk}/credit-note/"), {**data, "reason": "Correction"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Bill.objects.filter(credit_for=issued).exists()


def test_a_credit_note_needs_a_reason_and_an_issued_bill(scoped, biller, client_for, issued):
    client = client_for(biller)
    consultation, _ = _credit_fields(issued)
    url = _url(scoped, f"{issued.pk}/credit-note/")
    no_reason = client.post(url, {f"amount_{consultation}": "10.00", "reason": "  "})
    assert no_reason.status_code == 400 and "This field is required." in no_reason.content.decode()
    from billing.services import bill_cancel

    bill_cancel(bill=issued, reason="Wrong patient", actor=biller.user)
    # Valid input or not: the page says why, as it shows no credit-note form for this bill.
    for body in ({f"amount_{consultation}": "10.00", "reason": "Late"}, {"qty_1": "x"}):
        cancelled = client.post(url, body, follow=True)
        assert cancelled.redirect_chain[-1][0].endswith(f"/billing/{issued.pk}/")
        assert "only be issued against an issued bill" in cancelled.content.decode()
    assert not Bill.objects.filter(credit_for=issued).exists()


def test_the_bill_page_says_total_paid_and_due_above_the_lines(scoped, biller, client_for, issued):
    # On a phone the lines table scrolls sideways; the amounts the desk needs stay in sight.
    page = client_for(biller).get(_url(scoped, f"{issued.pk}/")).content.decode()
    summary = page[page.index('class="bill-amounts"') : page.index('id="bill-lines"')]
    assert "Total</strong> Rs 542.00" in summary
    assert "Paid Rs 0.00" in summary and "Due</strong> Rs 542.00" in summary
