"""The billing API: the whole flow, the error shape for bad input, tenancy and roles."""

from __future__ import annotations

import pytest

from billing.models import Bill, BillingProfile
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.api.conftest import assert_error
from tests.billing.conftest import GSTIN_KA
from tests.factories import GuardianFactory, PatientFactory


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


# --- editing and deleting drafts ----------------------------------------------------------------
ONE_LINE = [{"description": "Dressing", "unit_price_paise": 30000, "code": "999312"}]


def test_put_replaces_a_drafts_lines_payer_and_discount(api, patient):
    with clinic_scope(patient.clinic_id):
        guardian = GuardianFactory(patient=patient)
    bill = _draft(api, patient, discount_paise=1000, discount_reason="Staff").json()
    response = api.put(
        f"/api/v1/bills/{bill['id']}/",
        {
            "lines": [{**ONE_LINE[0], "discount_paise": 5000, "discount_reason": "Camp"}],
            "payer_guardian_id": guardian.pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [x["description"] for x in body["lines"]] == ["Dressing"]
    assert body["lines"][0]["discount_reason"] == "Camp"
    # PUT clears what it leaves out: the bill discount is gone.
    assert (body["discount_paise"], body["discount_reason"]) == (0, "")
    assert body["payer_guardian_id"] == guardian.pk
    assert body["total_paise"] == 25000 and body["status"] == "draft"
    assert api.get(f"/api/v1/bills/{bill['id']}/").json()["total_paise"] == 25000
    # A PUT without lines is refused: it replaces everything.
    assert (
        "lines"
        in assert_error(api.put(f"/api/v1/bills/{bill['id']}/", {}, format="json"), 400)["fields"]
    )


def test_patch_changes_only_what_is_sent(api, patient):
    with clinic_scope(patient.clinic_id):
        guardian = GuardianFactory(patient=patient)
    bill = _draft(api, patient, payer_guardian_id=guardian.pk).json()
    url = f"/api/v1/bills/{bill['id']}/"
    discounted = api.patch(url, {"discount_paise": 4200, "discount_reason": "Senior"}, "json")
    assert discounted.status_code == 200, discounted.content
    body = discounted.json()
    assert len(body["lines"]) == 2 and body["payer_guardian_id"] == guardian.pk
    assert body["discount_paise"] == 4200 and body["discount_reason"] == "Senior"
    assert body["total_paise"] < bill["total_paise"]
    relined = api.patch(url, {"lines": ONE_LINE, "payer_guardian_id": None}, format="json").json()
    assert [x["unit_price_paise"] for x in relined["lines"]] == [30000]
    assert relined["payer_guardian_id"] is None and relined["discount_paise"] == 4200
    assert relined["total_paise"] == 30000 - 4200


def test_editing_a_draft_refuses_bad_input_and_leaves_it_as_it_was(api, patient, other_clinic):
    bill = _draft(api, patient).json()
    url = f"/api/v1/bills/{bill['id']}/"
    with clinic_scope(other_clinic):
        strangers = GuardianFactory(patient=PatientFactory(clinic=other_clinic))
    with clinic_scope(patient.clinic_id):
        sibling = GuardianFactory(patient=PatientFactory(clinic=patient.clinic))
    too_many = [{"description": "X", "unit_price_paise": 1}] * 101
    cases = [
        ({"lines": []}, "lines"),
        ({"lines": too_many}, "lines"),
        ({"lines": "Consultation"}, "lines"),
        ({"lines": [{"description": "X", "unit_price_paise": 10.5}]}, "lines"),
        ({"lines": [{"description": "X", "unit_price_paise": "100"}]}, "lines"),
        ({"lines": [{"description": "x" * 201, "unit_price_paise": 100}]}, "lines"),
        ({"lines": [{"description": "X", "unit_price_paise": 10**13}]}, "lines"),
        ({"lines": [{"description": "X", "unit_price_paise": 100, "surprise": 1}]}, "lines"),
        ({"lines": [{"unit_price_paise": 100}]}, "lines.0.description"),
        ({"lines": [{"item_id": 999999, "quantity": 1}]}, "lines.0.item_id"),
        ({"discount_paise": -1}, "discount_paise"),
        ({"discount_paise": 100}, "discount_reason"),
        ({"discount_paise": 10**9, "discount_reason": "All"}, "discount_paise"),
        ({"discount_reason": 5}, "discount_reason"),
        ({"payer_guardian_id": strangers.pk}, "payer_guardian_id"),
        ({"payer_guardian_id": sibling.pk}, "payer_guardian_id"),
        ({"payer_guardian_id": "1"}, "payer_guardian_id"),
        ({"patient_id": patient.pk}, "patient_id"),
    ]
    for body, field in cases:
        response = api.patch(url, body, format="json")
        fields = assert_error(response, 400)["fields"]
        assert any(name.startswith(field) for name in fields), (body, fields)
    assert_error(api.patch(url, [1, 2], format="json"), 400)
    assert_error(api.patch(url, "lines", content_type="text/plain"), 415)
    after = api.get(url).json()
    assert after["lines"] == bill["lines"] and after["total_paise"] == bill["total_paise"]


def test_issued_and_cancelled_bills_refuse_every_change(api, patient):
    issued = _draft(api, patient).json()
    api.post(f"/api/v1/bills/{issued['id']}/issue/")
    cancelled = _draft(api, patient).json()
    api.post(f"/api/v1/bills/{cancelled['id']}/issue/")
    api.post(f"/api/v1/bills/{cancelled['id']}/cancel/", {"reason": "Wrong"}, format="json")
    for bill in (issued, cancelled):
        url = f"/api/v1/bills/{bill['id']}/"
        before = api.get(url).json()
        # Valid and invalid input alike: the bill's state is what is refused.
        for body in ({"lines": ONE_LINE}, {"lines": "nonsense"}, {}):
            assert_error(api.patch(url, body, format="json"), 409, "conflict")
            assert_error(api.put(url, body, format="json"), 409, "conflict")
        assert_error(api.delete(url), 409, "conflict")
        assert api.get(url).json() == before


def test_delete_a_draft(api, patient):
    bill = _draft(api, patient).json()
    response = api.delete(f"/api/v1/bills/{bill['id']}/")
    assert response.status_code == 204
    assert_error(api.get(f"/api/v1/bills/{bill['id']}/"), 404)
    assert_error(api.delete(f"/api/v1/bills/{bill['id']}/"), 404)
    with clinic_scope(patient.clinic_id):
        assert not Bill.objects.filter(pk=bill["id"]).exists()


def test_another_clinics_draft_cannot_be_edited_or_deleted(
    api, patient, other_clinic, api_client_for
):
    bill = _draft(api, patient).json()
    other = api_client_for(other_clinic, role=Role.OWNER)
    url = f"/api/v1/bills/{bill['id']}/"
    assert_error(other.patch(url, {"lines": ONE_LINE}, format="json"), 404)
    assert_error(other.put(url, {"lines": ONE_LINE}, format="json"), 404)
    assert_error(other.delete(url), 404)
    assert api.get(url).json()["lines"] == bill["lines"]


def test_only_billing_roles_edit_drafts(clinic, patient, api, api_client_for):
    bill = _draft(api, patient).json()
    url = f"/api/v1/bills/{bill['id']}/"
    doctor = api_client_for(clinic, role=Role.DOCTOR)
    read_only = api_client_for(clinic, role=Role.BILLING, read_only=True)
    for client in (doctor, read_only):
        assert_error(client.patch(url, {"lines": ONE_LINE}, format="json"), 403)
        assert_error(client.delete(url), 403)
    front_desk = api_client_for(clinic, role=Role.FRONT_DESK)
    assert front_desk.patch(url, {"lines": ONE_LINE}, format="json").status_code == 200
