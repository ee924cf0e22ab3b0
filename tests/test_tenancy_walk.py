"""Every route, walked: a member of clinic A never reaches clinic B's objects.

The walk reads the URL configuration, so routes added later are covered automatically. A route
whose URL names an object kwarg this file does not know fails the test until a factory for it is
added to OBJECT_KWARGS below.
"""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from clinics.roles import Role
from clinics.services import invitation_create
from clinics.tenancy import clinic_scope
from compliance.models import LegalHold
from patients.models import (
    Appointment,
    CertificateKind,
    Diagnosis,
    DisplayLink,
    DoctorLeave,
    Document,
    DocumentKind,
    Drug,
    MedicalCertificate,
    PatientAllergy,
    Prescription,
    PrescriptionItem,
    PrescriptionTemplate,
    ProcedureDone,
    Visit,
)
from patients.models.documents import new_verify_token
from patients.selectors.consent import current_version
from patients.services.consent import consent_sign
from patients.services.consent_templates import consent_template_save
from tests.factories import (
    ClinicFactory,
    GuardianFactory,
    MembershipFactory,
    PatientFactory,
    make_api_key,
)

# Catch-alls, DRF's format-suffix twins and sign-in links: they name no clinic object.
SKIPPED_KWARGS = {"format", "rest", "token", "uidb64"}


def _drawn_signature() -> str:
    """A PNG data URL with a line drawn on it, as the signing pad sends."""
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 150), (300, 40), (580, 160)], fill=(0, 0, 0, 255), width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _objects_of(clinic, owner):
    """One object of each kind that a URL may name, all belonging to `clinic`.

    Objects that hang off a patient (guardian, visit and its parts) all belong to the same
    patient, so a route naming a patient and one of its objects gets a consistent pair.
    """
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic)
        guardian = GuardianFactory(patient=patient)
        allergy = PatientAllergy.objects.create(clinic=clinic, patient=patient, substance="Latex")
        membership = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
        invitation = invitation_create(
            clinic=clinic, actor=owner.user, email="new.person@example.in", role=Role.FRONT_DESK
        )
        key, _ = make_api_key(clinic)
        visit = Visit.objects.create(clinic=clinic, patient=patient, doctor=membership)
        diagnosis = Diagnosis.objects.create(clinic=clinic, visit=visit, text="Fever")
        procedure = ProcedureDone.objects.create(clinic=clinic, visit=visit, name="Dressing")
        drug = Drug.objects.create(clinic=clinic, generic_name="PARACETAMOL", strength="500 mg")
        prescription = Prescription.objects.create(
            clinic=clinic, visit=visit, patient=patient, doctor=membership
        )
        item = PrescriptionItem.objects.create(
            clinic=clinic,
            prescription=prescription,
            drug=drug,
            generic_name="PARACETAMOL",
            form="tablet",
            frequency="1-0-1",
        )
        template = PrescriptionTemplate.objects.create(
            clinic=clinic, doctor=membership, name="Fever adult"
        )
        document = Document.objects.create(
            clinic=clinic,
            patient=patient,
            visit=visit,
            kind=DocumentKind.PRESCRIPTION,
            title="Prescription",
            verify_token=new_verify_token(),
        )
        certificate = MedicalCertificate.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=membership,
            kind=CertificateKind.GENERAL,
            year=2026,
            serial=1,
            issued_at=timezone.now(),
            effective_from=timezone.localdate(),
            identification_mark="Mole on the left cheek",
            created_by=owner.user,
        )
        consent_template = consent_template_save(
            clinic=clinic,
            actor=owner.user,
            actor_membership=owner,
            name="Walk consent",
            kind="general",
            title="General consent",
            body="I agree to be examined.",
        )
        consent = consent_sign(
            patient=patient,
            template_version=current_version(consent_template),
            details="",
            signer_kind="patient",
            signer_name="",
            signer_relation="",
            signature_data_url=_drawn_signature(),
            actor=owner.user,
            actor_membership=owner,
        )
        soon = timezone.now() + timedelta(days=3)
        leave = DoctorLeave.objects.create(
            clinic=clinic, doctor=membership, starts_at=soon, ends_at=soon + timedelta(hours=2)
        )
        appointment = Appointment.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=membership,
            starts_at=soon + timedelta(days=1),
            ends_at=soon + timedelta(days=1, minutes=15),
        )
        display_link = DisplayLink.objects.create(
            clinic=clinic,
            name="Waiting room TV",
            token_digest=f"{clinic.pk:064d}",
            created_by=owner.user,
        )
        messaging = _messaging_objects(clinic, patient, membership)
        rights = _rights_objects(clinic, patient, visit)
        data = _data_objects(clinic, patient)
        billing = _billing_objects(clinic, patient)
        platform = _platform_objects(clinic)
        hold = LegalHold.objects.create(clinic=clinic, patient=patient, reason="MLC")
    return {
        **messaging,
        **rights,
        **data,
        **platform,
        **billing,
        "hold_id": hold.pk,
        "patient_id": patient.pk,
        "guardian_id": guardian.pk,
        "allergy_id": allergy.pk,
        "membership_id": membership.pk,
        "doctor_id": membership.pk,
        "invitation_id": invitation.pk,
        "api_key_id": key.pk,
        "leave_id": leave.pk,
        "link_id": display_link.pk,
        "appointment_id": appointment.pk,
        "visit_id": visit.pk,
        "diagnosis_id": diagnosis.pk,
        "procedure_id": procedure.pk,
        "prescription_id": prescription.pk,
        "item_id": item.pk,
        "drug_id": drug.pk,
        "template_id": template.pk,
        "document_id": document.pk,
        "certificate_id": certificate.pk,
        "consent_template_id": consent_template.pk,
        "consent_id": consent.pk,
        "kind": DocumentKind.PRESCRIPTION.value,
    }


def _rights_objects(clinic, patient, visit) -> dict[str, int]:
    """A data-rights request of `clinic` with a proposed correction."""
    from compliance.models import CorrectionItem, RightsRequest

    request = RightsRequest.objects.create(
        clinic=clinic,
        number=1,
        reference="DR-2026-0001",
        kind="correction",
        patient=patient,
        requester="patient",
        due_at=timezone.now() + timedelta(days=7),
    )
    item = CorrectionItem.objects.create(
        clinic=clinic, request=request, target="visit", visit=visit, field="advice"
    )
    return {"rights_request_id": request.pk, "correction_id": item.pk}


def _data_objects(clinic, patient) -> dict[str, int]:
    """A ready export of the patient's data and a planned erasure, of `clinic`."""
    from compliance.models import DataExport, Erasure

    export = DataExport.objects.create(
        clinic=clinic, subject="patient", patient=patient, status="ready", file="walk.zip"
    )
    erasure = Erasure.objects.create(clinic=clinic, patient=patient, patient_number=patient.number)
    return {"export_id": export.pk, "erasure_id": erasure.pk}


def _billing_objects(clinic, patient) -> dict[str, int]:
    """A draft bill of `clinic` with one line."""
    from billing.models import Bill, BillLine

    bill = Bill.objects.create(clinic=clinic, patient=patient)
    line = BillLine.objects.create(
        clinic=clinic, bill=bill, description="Consultation", unit_price_paise=50000
    )
    return {"bill_id": bill.pk, "line_id": line.pk}


def _platform_objects(clinic) -> dict[str, int]:
    """An invoice of the installation to `clinic` for a subscription charge."""
    from billing.subscriptions.models import ClinicSubscription, Plan, PlatformInvoice

    plan = Plan.objects.create(name=f"Walk plan {clinic.pk}", amount_paise=1_18_000)
    subscription = ClinicSubscription.objects.create(
        clinic=clinic,
        plan=plan,
        status="active",
        razorpay_subscription_id=f"sub_Walk{clinic.pk:010d}",
        short_url="http://127.0.0.1/subscribe/",
    )
    invoice = PlatformInvoice.objects.create(
        clinic=clinic,
        subscription=subscription,
        number=f"S{clinic.pk:05d}/2627/0001",
        financial_year="2026-27",
        sequence=1,
        razorpay_payment_id=f"pay_Walk{clinic.pk:010d}",
        clinic_state_code=clinic.state_code,
        taxable_paise=1_00_000,
        igst_paise=18_000,
        total_paise=1_18_000,
    )
    return {"invoice_id": invoice.pk}


def _messaging_objects(clinic, patient, doctor) -> dict[str, int]:
    """A WhatsApp conversation with a message, a reminder and an alert of `clinic`."""
    from messaging.models import (
        Conversation,
        Direction,
        Escalation,
        Message,
        MessageKind,
        MessageStatus,
        Reminder,
        ReminderKind,
        WhatsAppAccount,
    )

    account = WhatsAppAccount.objects.create(
        clinic=clinic,
        phone_number_id=f"10000000000{clinic.pk:04d}",
        business_account_id="200000000000001",
        display_number="+91 80 4000 1234",
        access_token="walk-token",
        app_secret="walk-secret",
        verify_token="walk-verify",
    )
    conversation = Conversation.objects.create(
        clinic=clinic, account=account, patient=patient, wa_id="919876543210"
    )
    message = Message.objects.create(
        clinic=clinic,
        conversation=conversation,
        patient=patient,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEXT,
        body="Walk",
        status=MessageStatus.FAILED,
    )
    reminder = Reminder.objects.create(
        clinic=clinic,
        patient=patient,
        kind=ReminderKind.FOLLOW_UP,
        source="visit:1",
        due_at=timezone.now() + timedelta(days=1),
    )
    escalation = Escalation.objects.create(
        clinic=clinic,
        patient=patient,
        doctor=doctor,
        reason="low_rating",
        detail="Rated 1/5",
        subject="appointment:1",
    )
    return {
        "conversation_id": conversation.pk,
        "message_id": message.pk,
        "reminder_id": reminder.pk,
        "escalation_id": escalation.pk,
    }


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _routes():
    seen = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if pattern.name and (pattern.name, route) not in seen:
            seen.add((pattern.name, route))
            yield route, pattern


_KWARG_RE = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def _kwarg_names(route: str) -> list[str]:
    """The URL kwargs of a whole route, including those its parent includes capture."""
    return list(dict.fromkeys(a or b for a, b in _KWARG_RE.findall(route)))


def _url_for(pattern, route, objects, clinic_slug):
    """(url, object kwarg names) for a route, or None for routes the walk does not apply to."""
    names = _kwarg_names(route)
    if set(names) & SKIPPED_KWARGS:
        return None
    kwargs = {}
    for name in names:
        if name == "clinic_slug":
            kwargs[name] = clinic_slug
        elif name in objects:
            kwargs[name] = objects[name]
        else:
            pytest.fail(f"Route {route!r} names {name!r}: add it to the tenancy walk's objects.")
    return reverse(pattern.name, kwargs=kwargs), [n for n in names if n != "clinic_slug"]


@pytest.fixture
def two_clinics(db):
    a, b = ClinicFactory(slug="clinic-a"), ClinicFactory(slug="clinic-b")
    owner_a = MembershipFactory(clinic=a, role=Role.OWNER)
    owner_b = MembershipFactory(clinic=b, role=Role.OWNER)
    return a, b, owner_a, owner_b


def test_web_routes_answer_404_for_another_clinics_objects_and_slug(two_clinics, client):
    a, b, owner_a, owner_b = two_clinics
    objects_b = _objects_of(b, owner_b)
    client.force_login(owner_a.user)
    checked = 0
    for route, pattern in _routes():
        if not route.startswith("c/"):
            continue
        built = _url_for(pattern, route, objects_b, clinic_slug=a.slug)
        if built is None:
            continue
        url, object_names = built
        if object_names:
            # Clinic A's slug, clinic B's object ids.
            get, post = client.get(url), client.post(url, {})
            assert get.status_code in (404, 405), f"GET {url} -> {get.status_code}"
            assert post.status_code in (404, 405), f"POST {url} -> {post.status_code}"
            assert 404 in (get.status_code, post.status_code), url
        # Clinic B's slug: the member of A is not a member there.
        url_b, _ = _url_for(pattern, route, objects_b, clinic_slug=b.slug)
        assert client.get(url_b).status_code == 404, f"GET {url_b}"
        assert client.post(url_b, {}).status_code == 404, f"POST {url_b}"
        checked += 1
    assert checked >= 1


def test_api_routes_answer_404_for_another_clinics_objects(two_clinics):
    a, b, _, owner_b = two_clinics
    objects_b = _objects_of(b, owner_b)
    _, token = make_api_key(a, role=Role.OWNER, read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    checked = 0
    for route, pattern in _routes():
        if not route.startswith("api/v1/"):
            continue
        built = _url_for(pattern, route, objects_b, clinic_slug=a.slug)
        if built is None:
            continue
        url, object_names = built
        if not object_names:
            continue
        statuses = set()
        for method in ("get", "post", "patch", "put", "delete"):
            response = getattr(api, method)(url, {}, format="json")
            assert response.status_code in (404, 405), (
                f"{method.upper()} {url} -> {response.status_code}"
            )
            statuses.add(response.status_code)
            if response.status_code == 404:
                assert response.json()["type"] == "not_found"
        assert 404 in statuses, url
        checked += 1
    assert checked >= 1
