"""The document link asks for a one-time code on the patient's WhatsApp before the file opens
(issue 19 item 7), over real HTTP against the simulator."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from compliance.models import VerificationCode
from messaging.defaults import default_for
from messaging.links import document_link
from messaging.models import Conversation, Message
from messaging.services.send_rules import conversation_for_patient
from patients.models import DocumentKind
from patients.services.documents import document_upload
from tests.clinics.test_storage_local import _pdf_with_text
from tests.factories import MembershipFactory
from tests.messaging.conftest import PATIENT, make_patient, make_template


@pytest.fixture
def auth_templates(scoped, sim):
    for language in ("en", "hi"):
        make_template(
            scoped,
            sim=sim,
            name="vaidya_verification_code",
            language=language,
            purpose="verification_code",
            category="AUTHENTICATION",
            body=default_for("verification_code", language).body,
        )


def _document(clinic, patient):
    doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    return document_upload(
        patient=patient,
        kind=DocumentKind.LAB_REPORT,
        title="CBC report",
        data=_pdf_with_text("Depressive episode (F32.9)"),
        original_name="report.pdf",
        actor=doctor.user,
        actor_membership=doctor,
    )


@pytest.fixture
def setup(scoped, wa_account, auth_templates):
    patient = make_patient(scoped, full_name="Meera Iyer")
    document = _document(scoped, patient)
    return patient, document, urlsplit(document_link(document)).path


def _send(web, path, capture):
    with capture(execute=True):
        return web.post(path, {"action": "send"})


def _last_code(sim) -> str:
    return re.findall(r"\b(\d{6})\b", sim.received(PATIENT)[-1]["body"])[-1]


def _is_file(response) -> bool:
    return response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_link_alone_shows_the_code_page_not_the_file(setup):
    _, _, path = setup
    response = Client().get(path)
    assert response.status_code == 200 and not _is_file(response)
    assert b"Send me a code on WhatsApp" in response.content
    assert b"Meera" not in response.content and b"F32.9" not in response.content
    assert not AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED).exists()


def test_code_goes_to_the_registered_number_and_opens_the_file_once_typed(
    setup, sim, django_capture_on_commit_callbacks
):
    patient, _, path = setup
    web = Client()
    response = _send(web, path, django_capture_on_commit_callbacks)
    assert b"We sent a code to your WhatsApp" in response.content
    [received] = sim.received(PATIENT)
    assert " is your verification code." in received["body"]  # Meta's wording
    assert received["buttons"] == [{"text": "Copy code", "copy_code": _last_code(sim)}]
    code = _last_code(sim)
    stored = VerificationCode.objects.get()
    assert code not in stored.digest and len(stored.digest) == 64
    # Staff reading the inbox cannot read the code: the message row holds a mask.
    [sent] = Message.objects.filter(direction="out")
    assert code not in sent.body and code not in str(sent.parameters) and "••••••" in sent.body
    assert sent.status == "sent" and sent.wamid

    wrong = "000000" if code != "000000" else "111111"
    response = web.post(path, {"action": "check", "code": wrong})
    assert response.status_code == 400 and b"4 tries left" in response.content

    response = web.post(path, {"action": "check", "code": code})
    assert response.status_code == 302
    assert _is_file(web.get(path))
    event = AuditEvent.objects.get(action=Actions.DOCUMENT_DOWNLOADED)
    assert event.actor_id is None and event.actor_label == "patient (WhatsApp link, code verified)"
    assert event.patient_id == patient.pk and event.data["verified"] == "whatsapp code"

    # Another browser with the same link still has to ask for its own code.
    assert not _is_file(Client().get(path))
    # The used code does not work twice.
    other = Client()
    assert other.post(path, {"action": "check", "code": code}).status_code == 400


def test_code_in_the_open_window_is_a_text_naming_the_clinic_in_hindi(
    scoped, wa_account, auth_templates, sim, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped, preferred_language="hi")
    document = _document(scoped, patient)
    sim.open_window(PATIENT)
    conversation = conversation_for_patient(patient=patient, account=wa_account)
    Conversation.objects.filter(pk=conversation.pk).update(
        window_expires_at=timezone.now() + timedelta(hours=5), needs_reply=True
    )
    path = urlsplit(document_link(document)).path
    assert _send(Client(), path, django_capture_on_commit_callbacks).status_code == 200
    body = sim.received(PATIENT)[-1]["body"]
    assert scoped.name in body and "आपका कोड" in body
    code = _last_code(sim)
    assert not Message.objects.filter(body__contains=code).exists()
    assert Conversation.objects.get(pk=conversation.pk).needs_reply  # a code is no answer


def test_expired_code_is_refused(setup, sim, django_capture_on_commit_callbacks):
    _, _, path = setup
    web = Client()
    _send(web, path, django_capture_on_commit_callbacks)
    code = _last_code(sim)
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = web.post(path, {"action": "check", "code": code})
    assert response.status_code == 400 and b"This code has expired" in response.content
    assert not _is_file(web.get(path))


def test_the_sixth_try_is_refused_even_with_the_right_code(
    setup, sim, django_capture_on_commit_callbacks
):
    _, _, path = setup
    web = Client()
    _send(web, path, django_capture_on_commit_callbacks)
    code = _last_code(sim)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        web.post(path, {"action": "check", "code": wrong})
    response = web.post(path, {"action": "check", "code": code})
    assert response.status_code == 400 and b"Too many wrong tries" in response.content
    assert not _is_file(web.get(path))


def test_a_fourth_code_in_an_hour_is_refused_clearly(
    setup, sim, django_capture_on_commit_callbacks
):
    _, _, path = setup
    web = Client()
    for _ in range(3):
        assert _send(web, path, django_capture_on_commit_callbacks).status_code == 200
    response = _send(web, path, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert b"already sent 3 codes in the last hour" in response.content
    assert len(sim.received(PATIENT)) == 3


def test_the_verified_window_is_short(setup, sim, django_capture_on_commit_callbacks):
    _, document, path = setup
    web = Client()
    _send(web, path, django_capture_on_commit_callbacks)
    web.post(path, {"action": "check", "code": _last_code(sim)})
    session = web.session
    session[f"document-link:{document.pk}"] = time.time() - 1
    session.save()
    assert not _is_file(web.get(path))


def test_a_patient_without_whatsapp_gets_a_clear_message(
    scoped, wa_account, auth_templates, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped, consent=False)
    path = urlsplit(document_link(_document(scoped, patient))).path
    response = _send(Client(), path, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert b"could not send a code to your WhatsApp number" in response.content
    assert not VerificationCode.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(Role.FRONT_DESK, 403), (Role.DOCTOR, 200)])
def test_staff_are_sent_to_their_own_document_page(setup, scoped, client_for, role, status):
    _, document, path = setup
    member = MembershipFactory(clinic=scoped, role=role)
    web = client_for(member)
    response = web.get(path)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/documents/{document.pk}/open/")
    assert web.get(response["Location"]).status_code == status
    opened = AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED)
    if status == 200:
        assert opened.get().actor_id == member.user_id
    else:
        assert not opened.exists()
