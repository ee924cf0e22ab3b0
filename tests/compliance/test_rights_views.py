"""The rights desk's pages: the desk and its filters, a request's page and its actions,
recording from the patient's page, the dashboard's overdue list and the privacy contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.roles import Role
from compliance.models import CorrectionItem, Nomination, RightsKind, RightsRequest, RightsStatus
from compliance.rights.services import rights_request_assign, rights_request_create
from patients.models import Patient
from tests.factories import MembershipFactory, PatientFactory


@pytest.fixture
def owner_m(scoped):
    return MembershipFactory(clinic=scoped, role=Role.OWNER, user__full_name="Meera Iyer")


@pytest.fixture
def desk(scoped):
    return MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Ravi Kumar", phone="+919845012345")


def url(clinic, path):
    return f"/c/{clinic.slug}/compliance/{path}"


def test_recording_from_the_patient_page(scoped, desk, patient, client_for):
    client = client_for(desk)
    page = client.get(f"/c/{scoped.slug}/patients/{patient.pk}/").content.decode()
    assert "No open data requests." in page and f"patients/{patient.pk}/rights/" in page
    response = client.post(
        url(scoped, f"patients/{patient.pk}/rights/"),
        {"kind": "access", "requester": "patient", "records_copy": "on", "details": "A copy"},
    )
    request = RightsRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"rights/{request.pk}/")
    assert request.records_copy and request.created_by == desk.user
    page = client.get(f"/c/{scoped.slug}/patients/{patient.pk}/").content.decode()
    assert request.reference in page
    # Bad input: a clear form error, nothing recorded.
    response = client.post(
        url(scoped, f"patients/{patient.pk}/rights/"), {"kind": "gossip", "requester": "patient"}
    )
    assert response.status_code == 400 and RightsRequest.objects.count() == 1


def test_the_desk_filters_open_overdue_and_mine(scoped, owner_m, desk, patient, client_for):
    late = rights_request_create(
        clinic=scoped,
        actor=desk.user,
        kind=RightsKind.ERASURE,
        patient=patient,
        received_at=timezone.now() - timedelta(days=9),
    )
    fresh = rights_request_create(
        clinic=scoped, actor=desk.user, kind=RightsKind.ACCESS, patient=patient
    )
    rights_request_assign(request=fresh, actor=owner_m.user, owner=owner_m)
    client = client_for(owner_m)
    page = lambda show: client.get(url(scoped, f"rights/?show={show}")).content.decode()  # noqa: E731
    assert late.reference in page("open") and fresh.reference in page("open")
    assert late.reference in page("overdue") and fresh.reference not in page("overdue")
    assert fresh.reference in page("mine") and late.reference not in page("mine")
    dashboard = client.get(f"/c/{scoped.slug}/").content.decode()
    assert "Overdue data requests" in dashboard and late.reference in dashboard
    # The front desk records requests but does not see the desk.
    assert client_for(desk).get(url(scoped, "rights/")).status_code == 403


def test_a_request_page_shows_the_timeline_and_moves(scoped, owner_m, desk, patient, client_for):
    request = rights_request_create(
        clinic=scoped, actor=desk.user, kind=RightsKind.GRIEVANCE, patient=patient
    )
    client = client_for(owner_m)
    detail = url(scoped, f"rights/{request.pk}/")
    page = client.get(detail).content.decode()
    assert "Received via At the clinic" in page and "privacy contact" in page
    client.post(url(scoped, f"rights/{request.pk}/status/"), {"status": "in_progress"})
    response = client.post(
        url(scoped, f"rights/{request.pk}/status/"), {"status": "done", "reply": "Sorry."}
    )
    assert response.status_code == 400 and "privacy contact" in response.content.decode()
    scoped.privacy_contact_name = "Meera Iyer"
    scoped.privacy_contact_email = "privacy@asha.example"
    scoped.save()
    client.post(url(scoped, f"rights/{request.pk}/status/"), {"status": "done", "reply": "Sorry."})
    request.refresh_from_db()
    assert request.status == RightsStatus.DONE and "Data Protection Board" in request.reply
    assert "In progress -&gt; Done" in client.get(detail).content.decode()
    # An illegal move is a form error.
    response = client.post(url(scoped, f"rights/{request.pk}/status/"), {"status": "received"})
    assert response.status_code == 400


def test_identity_in_person_and_a_correction_through_the_pages(
    scoped, owner_m, desk, patient, client_for
):
    request = rights_request_create(
        clinic=scoped, actor=desk.user, kind=RightsKind.CORRECTION, patient=patient
    )
    owner = client_for(owner_m)
    response = owner.post(
        url(scoped, f"rights/{request.pk}/verify/"),
        {"method": "in_person_id", "id_type": "aadhaar", "id_last4": "123456789012"},
    )
    assert response.status_code == 400 and "last 4" in response.content.decode()
    owner.post(
        url(scoped, f"rights/{request.pk}/verify/"),
        {"method": "in_person_id", "id_type": "aadhaar", "id_last4": "9012"},
    )
    assert RightsRequest.objects.get(pk=request.pk).id_last4 == "9012"
    front = client_for(desk)
    front.post(
        url(scoped, f"rights/{request.pk}/corrections/"),
        {"field": "city", "new_value": "Mysuru"},
    )
    item = CorrectionItem.objects.get()
    front.post(
        url(scoped, f"rights/{request.pk}/corrections/{item.pk}/decide/"), {"decision": "approve"}
    )
    assert Patient.objects.get(pk=patient.pk).city == "Mysuru"


def test_a_nominee_is_recorded_from_the_patient_page(scoped, desk, patient, client_for):
    client = client_for(desk)
    response = client.post(
        url(scoped, f"patients/{patient.pk}/nominee/"),
        {"name": "Arun Kumar", "relation": "child", "phone": "98450 33333"},
    )
    assert response.status_code == 302
    assert Nomination.objects.get().phone == "+919845033333"
    bad = client.post(
        url(scoped, f"patients/{patient.pk}/nominee/"), {"name": "", "relation": "x", "phone": "1"}
    )
    assert bad.status_code == 400


def test_the_settings_page_sets_the_privacy_contact(scoped, owner_m, client_for):
    client = client_for(owner_m)
    page = client.get(f"/c/{scoped.slug}/settings/").content.decode()
    assert "Contact person for privacy" in page
    data = {
        "name": scoped.name,
        "state_code": scoped.state_code,
        "timezone": scoped.timezone,
        "privacy_contact_name": "Meera  Iyer",
        "privacy_contact_email": "privacy@asha.example",
        "privacy_contact_phone": "98450 00111",
        "rights_target_days": "5",
    }
    response = client.post(f"/c/{scoped.slug}/settings/", data)
    assert response.status_code == 302
    scoped.refresh_from_db()
    assert scoped.privacy_contact_name == "Meera Iyer" and scoped.rights_target_days == 5
    data["rights_target_days"] = "120"
    assert client.post(f"/c/{scoped.slug}/settings/", data).status_code == 400


def _verified(scoped, actor, patient, kind):
    from compliance.rights.services import rights_request_verify

    request = rights_request_create(clinic=scoped, actor=actor.user, kind=kind, patient=patient)
    return rights_request_verify(
        request=request, actor=actor.user, method="in_person_id", id_type="aadhaar", id_last4="1234"
    )


def test_the_desk_prepares_the_copy_an_access_request_asks_for(
    scoped, owner_m, desk, patient, client_for
):
    from compliance.models import DataExport

    unverified = rights_request_create(
        clinic=scoped, actor=desk.user, kind=RightsKind.ACCESS, patient=patient
    )
    client = client_for(owner_m)
    assert (
        "Prepare the copy"
        not in client.get(url(scoped, f"rights/{unverified.pk}/")).content.decode()
    )
    # Asked anyway before identity is checked: refused, nothing prepared.
    client.post(url(scoped, f"rights/{unverified.pk}/export/"))
    assert not DataExport.objects.exists()

    request = _verified(scoped, owner_m, patient, RightsKind.PORTABILITY)
    assert "Prepare the copy" in client.get(url(scoped, f"rights/{request.pk}/")).content.decode()
    response = client.post(url(scoped, f"rights/{request.pk}/export/"))
    assert response.status_code == 302
    export = DataExport.objects.get()
    request.refresh_from_db()
    assert export.patient == patient and export.request_reference == request.reference
    assert (request.job_kind, request.job_id, request.status) == (
        "export",
        str(export.pk),
        RightsStatus.IN_PROGRESS,
    )
    page = client.get(url(scoped, f"rights/{request.pk}/")).content.decode()
    assert f"patients/{patient.pk}/data/" in page
    # The front desk may not start the work.
    assert client_for(desk).post(url(scoped, f"rights/{request.pk}/export/")).status_code == 403


def test_the_owner_plans_an_erasure_from_its_request_and_only_the_owner(
    scoped, owner_m, patient, client_for
):
    from compliance.models import Erasure

    doctor = MembershipFactory(clinic=scoped, role=Role.DOCTOR)
    request = _verified(scoped, owner_m, patient, RightsKind.ERASURE)
    assert client_for(doctor).post(url(scoped, f"rights/{request.pk}/erasure/")).status_code == 403
    response = client_for(owner_m).post(url(scoped, f"rights/{request.pk}/erasure/"))
    erasure = Erasure.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"erasures/{erasure.pk}/")
    assert erasure.request_reference == request.reference and erasure.status == "planned"
    request.refresh_from_db()
    assert (request.job_kind, request.job_id) == ("erasure", str(erasure.pk))
    # An access request cannot start an erasure.
    other = _verified(scoped, owner_m, patient, RightsKind.ACCESS)
    client_for(owner_m).post(url(scoped, f"rights/{other.pk}/erasure/"))
    assert Erasure.objects.count() == 1


def test_a_grievance_from_someone_who_is_not_a_patient(scoped, owner_m, desk, patient, client_for):
    desk_page = client_for(owner_m).get(url(scoped, "rights/")).content.decode()
    assert "rights/grievance/" in desk_page
    client = client_for(desk)  # the front desk records; the owner and doctors see the desk
    assert "rights/grievance/" in client.get(f"/c/{scoped.slug}/").content.decode()  # the menu
    assert client.get(url(scoped, "rights/grievance/")).status_code == 200
    rights_request_create(clinic=scoped, actor=desk.user, kind=RightsKind.ACCESS, patient=patient)
    response = client.post(
        url(scoped, "rights/grievance/"),
        {
            "requester_name": "Sunil Verma",
            "requester_email": "Sunil.V@Example.COM",
            "details": "The receptionist read my mother's report aloud in the waiting room.",
        },
    )
    grievance = RightsRequest.objects.get(requester_name="Sunil Verma")
    assert response.status_code == 302 and response["Location"].endswith(f"/{grievance.pk}/")
    year = grievance.received_at.year
    assert grievance.reference == f"DR-{year}-0002"  # the same numbering as every request
    assert (grievance.kind, grievance.requester, grievance.patient) == ("grievance", "other", None)
    assert grievance.requester_email == "Sunil.V@example.com" and grievance.created_by == desk.user
    page = client.get(url(scoped, f"rights/{grievance.pk}/")).content.decode()
    assert "Sunil Verma" in page and "Sunil.V@example.com" in page
    assert "Sunil Verma" in client_for(owner_m).get(url(scoped, "rights/")).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"requester_name": "Sunil Verma", "details": "x"}, "requester_phone"),  # no contact
        ({"requester_name": "", "requester_phone": "9845011111", "details": "x"}, "requester_name"),
        ({"requester_name": "S" * 201, "requester_phone": "9845011111", "details": "x"}, None),
        ({"requester_name": "Sunil\u202e", "requester_phone": "9845011111", "details": "x"}, None),
        ({"requester_name": "Sunil", "requester_phone": "12", "details": "x"}, "requester_phone"),
        ({"requester_name": "Sunil", "requester_email": "not-an-email", "details": "x"}, None),
        ({"requester_name": "Sunil", "requester_phone": "9845011111", "details": "d" * 4001}, None),
        ({"requester_name": "Sunil", "requester_phone": "9845011111", "details": ""}, "details"),
    ],
)
def test_a_grievance_with_bad_input_is_refused_on_the_form(scoped, desk, client_for, data, field):
    response = client_for(desk).post(url(scoped, "rights/grievance/"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors and (field is None or field in form.errors), form.errors
    assert not RightsRequest.objects.exists()


def test_only_staff_who_record_requests_may_record_a_grievance(scoped, client_for):
    billing = client_for(MembershipFactory(clinic=scoped, role=Role.BILLING))
    assert billing.get(url(scoped, "rights/grievance/")).status_code == 403
    data = {"requester_name": "Sunil", "requester_phone": "9845011111", "details": "x"}
    assert billing.post(url(scoped, "rights/grievance/"), data).status_code == 403
    assert not RightsRequest.objects.exists()
