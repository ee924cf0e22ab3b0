"""The patient's document link in a browser: the code goes to the patient's WhatsApp (the
simulator, over real HTTP), a wrong code and an expired one are refused, the sixth try is
refused, and a signed-in front-desk user gets the staff page's 403."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.models import ConsentMethod, ConsentPurpose, VerificationCode
from compliance.services import consent_grant
from devtools.whatsapp_simulator import running_simulator
from messaging.links import document_link
from messaging.models import MessageTemplate, TemplateStatus, WhatsAppAccount
from patients.models import DocumentKind
from patients.services.documents import document_upload
from tests.clinics.test_storage_local import _pdf_with_text
from tests.e2e.test_front_desk import sign_in
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, UserFactory
from tests.messaging.conftest import AUTH_COMPONENTS

pytestmark = pytest.mark.django_db(transaction=True)

PNID, TOKEN, WABA = "109876543210001", "EAAGdocumentLinkToken", "209876543210001"
PATIENT_WA = "919876543210"
BODY = "{{1}} is your verification code. For your security, do not share this code."


@pytest.fixture
def sim():
    with running_simulator(
        phone_number_id=PNID, token=TOKEN, waba_id=WABA, status_delay=0.01
    ) as simulator:
        yield simulator


@pytest.fixture
def linked(sim, settings):
    settings.WHATSAPP_API_BASE_URL = sim.base_url
    settings.WHATSAPP_TIMEOUT_SECONDS = 3
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    desk = UserFactory(email="desk@asha.example", full_name="Dev Front")
    MembershipFactory(clinic=clinic, user=desk, role=Role.FRONT_DESK)
    doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    sim.add_template(
        name="vaidya_verification_code",
        language="en",
        category="AUTHENTICATION",
        components=AUTH_COMPONENTS,
    )
    with clinic_scope(clinic):
        WhatsAppAccount.objects.create(
            clinic=clinic,
            phone_number_id=PNID,
            business_account_id=WABA,
            display_number="+91 80 4000 1234",
            access_token=TOKEN,
            app_secret="doc-link-secret",
            verify_token="doc-link-verify",
        )
        MessageTemplate.objects.create(
            clinic=clinic,
            name="vaidya_verification_code",
            language="en",
            category="AUTHENTICATION",
            purpose="verification_code",
            body=BODY,
            parameter_count=1,
            status=TemplateStatus.APPROVED,
        )
        patient = PatientFactory(clinic=clinic, full_name="Meera Iyer", phone="+91 98765 43210")
        consent_grant(
            patient=patient,
            purpose=ConsentPurpose.WHATSAPP_CARE,
            method=ConsentMethod.VERBAL,
            actor=doctor.user,
        )
        document = document_upload(
            patient=patient,
            kind=DocumentKind.LAB_REPORT,
            title="Report",
            data=_pdf_with_text("Depressive episode (F32.9)"),
            original_name="report.pdf",
            actor=doctor.user,
            actor_membership=doctor,
        )
        path = urlsplit(document_link(document)).path
    return clinic, path


def _latest_code(sim) -> str:
    bodies = [m["body"] for m in sim.received(PATIENT_WA)]
    assert bodies, "no code reached the patient's WhatsApp"
    return re.findall(r"\b(\d{6})\b", bodies[-1])[-1]


def _ask_for_code(page):
    page.get_by_role("button", name=re.compile("Send (me a|a new) code")).click()
    page.get_by_text("We sent a code to your WhatsApp").wait_for()


def _type(page, code):
    page.fill("#code", code)
    page.get_by_role("button", name="Open the document").click()


def test_patient_opens_the_document_with_the_code_from_whatsapp(page, live_server, linked, sim):
    _clinic, path = linked
    page.goto(f"{live_server.url}{path}")
    assert "F32.9" not in page.content() and "Meera" not in page.content()
    _ask_for_code(page)
    code = _latest_code(sim)
    assert len(sim.received(PATIENT_WA)) == 1

    wrong = "000000" if code != "000000" else "111111"
    _type(page, wrong)
    page.get_by_text("That code is not right. 4 tries left.").wait_for()

    with page.expect_response(lambda r: urlsplit(r.url).path == path and r.status == 200) as got:
        _type(page, code)
    assert got.value.headers["content-type"] == "application/pdf"


def test_expired_code_and_the_sixth_try_are_refused(page, live_server, linked, sim):
    clinic, path = linked
    page.goto(f"{live_server.url}{path}")
    _ask_for_code(page)
    code = _latest_code(sim)
    with clinic_scope(clinic):
        VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _type(page, code)
    page.get_by_text("This code has expired. Ask for a new one.").wait_for()

    _ask_for_code(page)
    code = _latest_code(sim)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        _type(page, wrong)
        page.get_by_text(re.compile(f"{left} tr(y|ies) left")).wait_for()
    _type(page, wrong)
    page.get_by_text("Too many wrong tries. Ask for a new code.").wait_for()
    page.get_by_role("button", name=re.compile("Send me a code")).wait_for()
    # The sixth try, with the right code, does not open the file.
    page.evaluate(
        """code => {
            const form = document.createElement('form');
            form.method = 'post';
            form.innerHTML = document.querySelector('#send-form').innerHTML
                .replace('value="send"', 'value="check"') +
                `<input name="code" value="${code}">`;
            document.body.append(form);
            form.submit();
        }""",
        code,
    )
    page.get_by_text("Too many wrong tries. Ask for a new code.").wait_for()
    assert page.url.endswith(path)


def test_front_desk_clicking_the_link_gets_their_own_403(page, live_server, linked, sim):
    _clinic, path = linked
    sign_in(page, live_server, "desk@asha.example")
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 403
    assert re.search(r"/c/asha/documents/\d+/open/$", page.url)
    assert not sim.received(PATIENT_WA)
