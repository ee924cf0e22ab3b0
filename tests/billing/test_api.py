"""The billing API: the whole flow, the error shape for bad input, tenancy and roles."""

from __future__ import annotations

import pytest

from billing.models import Bill, BillingProfile
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.api.conftest import assert_error
from tests.billing.conftest import GSTIN_KA
from tests.factories import PatientFactory


@pytest.fixture
def api(clinic, api_client_for):
    return api_client_for(clinic, role=Role.BILLING)


@pytest.fixture
def patient(clinic):
    with clinic_scope(clinic):
        BillingProfile.objects.create(
            clinic=clinic,
            gst_registered=True,
            gstin=GSTIN_KA,
            legal_name="Asha LLP",
            state_code="29",
        )
        return PatientFactory(clinic=clinic, state_code="29")


def _draft(api, patient, **extra):
    body = {
        "patient_id": patient.pk,
        "lines": [
            {"description": "Consultation", "unit_price_paise": 50000, "code": "999312"},
            {
                "description": "ORS",
                "unit_price_paise": 2000,
                "quantity": 2,
                "taxable": True,
                "rate_bp": 500,
                "is_goods": True,
            },
        ],
        **extra,
    }
    return api.post("/api/v1/bills/", body, format="json")


def test_draft_issue_pay_and_ledger(api, patient, django_capture_on_commit_callbacks):
    response = _draft(api, patient)
    assert response.status_code == 201, response.content
    bill = response.json()
    assert bill["status"] == "draft" and bill["number"] == ""
    assert bill["total_paise"] == 54200 and bill["doc_type"] == "invoice_bill_of_supply"
    with django_capture_on_commit_callbacks(execute=True):
        issued = api.post(f"/api/v1/bills/{bill['id']}/issue/", HTTP_IDEMPOTENCY_KEY="issue-1")
    assert issued.status_code == 200, issued.content
    assert issued.json()["number"].startswith("INV/")
    again = api.post(f"/api/v1/bills/{bill['id']}/issue/", HTTP_IDEMPOTENCY_KEY="issue-1")
    assert again["Idempotent-Replayed"] == "true"
    paid = api.post(
        f"/api/v1/bills/{bill['id']}/payments/",
        {"amount_paise": 54200, "mode": "upi", "reference": "UTR99"},
        format="json",
    )
    assert paid.status_code == 201, paid.content
    assert paid.json()["receipt_number"].startswith("RCT/")
    ledger = api.get(f"/api/v1/patients/{patient.pk}/ledger/").json()
    assert (ledger["billed_paise"], ledger["paid_paise"], ledger["due_paise"]) == (54200, 54200, 0)
    assert api.get(f"/api/v1/bills/{bill['id']}/").json()["pdf_ready"] is True


def test_bad_input_answers_in_the_error_shape(api, patient):
    fractional = _draft(api, patient, discount_paise=10.5, discount_reason="x")
    assert "discount_paise" in assert_error(fractional, 400)["fields"]
    negative = api.post(
        "/api/v1/bills/",
        {"patient_id": patient.pk, "lines": [{"description": "X", "unit_price_paise": -1}]},
        format="json",
    )
    assert_error(negative, 400)
    above = api.post(
        "/api/v1/bills/",
        {
            "patient_id": patient.pk,
            "lines": [
                {
                    "description": "X",
                    "unit_price_paise": 100,
                    "discount_paise": 101,
                    "discount_reason": "Friend",
                }
            ],
        },
        format="json",
    )
    assert "lines.0.discount_paise" in assert_error(above, 400)["fields"]
    with clinic_scope(patient.clinic_id):
        assert not Bill.objects.exists()


def test_paying_a_cancelled_bill_and_refunding_above_paid(api, patient):
    bill = _draft(api, patient).json()
    api.post(f"/api/v1/bills/{bill['id']}/issue/")
    refund = api.post(
        f"/api/v1/bills/{bill['id']}/refunds/",
        {"amount_paise": 1, "mode": "cash", "reason": "Test"},
        format="json",
    )
    assert "amount_paise" in assert_error(refund, 400)["fields"]
    cancelled = api.post(
        f"/api/v1/bills/{bill['id']}/cancel/", {"reason": "Wrong patient"}, format="json"
    )
    assert cancelled.json()["status"] == "cancelled"
    pay = api.post(
        f"/api/v1/bills/{bill['id']}/payments/",
        {"amount_paise": 100, "mode": "cash"},
        format="json",
    )
    assert_error(pay, 409, "conflict")
    delete = api.delete(f"/api/v1/bills/{bill['id']}/")
    assert_error(delete, 409)


def test_another_clinics_bill_is_404(api, patient, other_clinic, api_client_for):
    bill = _draft(api, patient).json()
    other = api_client_for(other_clinic, role=Role.OWNER)
    for path in ("", "issue/", "cancel/", "payments/", "credit-notes/", "refunds/"):
        if path:
            response = other.post(f"/api/v1/bills/{bill['id']}/{path}", {}, format="json")
        else:
            response = other.get(f"/api/v1/bills/{bill['id']}/")
        assert_error(response, 404)
    assert_error(other.get(f"/api/v1/patients/{patient.pk}/ledger/"), 404)
    assert other.get("/api/v1/bills/").json()["results"] == []


def test_roles(clinic, patient, api_client_for):
    doctor = api_client_for(clinic, role=Role.DOCTOR)
    assert doctor.get("/api/v1/bills/").status_code == 200
    assert_error(_draft(doctor, patient), 403)
    read_only = api_client_for(clinic, role=Role.BILLING, read_only=True)
    assert_error(_draft(read_only, patient), 403)
    front_desk = api_client_for(clinic, role=Role.FRONT_DESK)
    assert _draft(front_desk, patient).status_code == 201
    assert_error(
        front_desk.post(
            "/api/v1/catalogue/",
            {"kind": "procedure", "name": "Suturing", "price_paise": 100},
            format="json",
        ),
        403,
    )
