"""The WhatsApp inbox: the list and its filters, the thread, replies, templates, assignment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from messaging.models import (
    Conversation,
    ConversationState,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    WhatsAppAccount,
)
from tests.messaging.conftest import PATIENT, make_patient, make_template

pytestmark = pytest.mark.django_db


def url(clinic, suffix=""):
    return f"/c/{clinic.slug}/messages/{suffix}"


def make_account(clinic, phone_number_id="109876543210009"):
    return WhatsAppAccount.objects.create(
        clinic=clinic,
        phone_number_id=phone_number_id,
        business_account_id="209876543210009",
        display_number="+91 80 4000 9999",
        access_token="token-x",
        app_secret="secret-x",
        verify_token="verify-x",
    )


def make_conversation(account, *, patient=None, wa_id="919800011111", **fields):
    fields.setdefault("last_message_at", timezone.now())
    return Conversation.objects.create(
        clinic_id=account.clinic_id, account=account, patient=patient, wa_id=wa_id, **fields
    )


def inbound(conversation, body="Hello doctor", **fields):
    return Message.objects.create(
        clinic_id=conversation.clinic_id,
        conversation=conversation,
        patient=conversation.patient,
        direction=Direction.INBOUND,
        kind=MessageKind.TEXT,
        body=body,
        status=MessageStatus.RECEIVED,
        **fields,
    )


@pytest.fixture
def desk(scoped, member_factory, client_for):
    membership = member_factory(scoped, role=Role.FRONT_DESK)
    return membership, client_for(membership)


def test_list_filters_show_the_right_conversations(scoped, desk):
    membership, web = desk
    account = make_account(scoped)
    known = make_patient(scoped, phone="+91 98000 11111", full_name="Meera Iyer")
    unread = make_conversation(account, patient=known, wa_id="919800011111", unread_count=3)
    needs = make_conversation(
        account, wa_id="919800022222", profile_name="Ravi K", needs_reply=True
    )
    mine = make_conversation(account, wa_id="919800033333", assigned_to=membership)
    done = make_conversation(
        account, wa_id="919800044444", profile_name="Old Chat", state=ConversationState.RESOLVED
    )

    def names(show):
        page = web.get(url(scoped), {"show": show})
        assert page.status_code == 200
        return {c.pk for c in page.context["page"]}

    assert names("open") == {unread.pk, needs.pk, mine.pk}
    assert names("unread") == {unread.pk}
    assert names("needs_reply") == {needs.pk}
    assert names("mine") == {mine.pk}
    assert names("unknown") == {needs.pk, mine.pk}
    assert names("resolved") == {done.pk}
    page = web.get(url(scoped)).content.decode()
    assert "Meera Iyer" in page and "Ravi K" in page and "unknown" in page
    assert 'aria-label="3 unread"' in page


def test_list_query_count_does_not_grow_with_rows(scoped, desk):
    _, web = desk
    account = make_account(scoped)
    staff = Role.ASSISTANT

    def add(n, start):
        for i in range(n):
            patient = make_patient(scoped, phone=f"+91 98{start + i:08d}", consent=False)
            from tests.factories import MembershipFactory

            make_conversation(
                account,
                patient=patient,
                wa_id=f"9198{start + i:08d}",
                assigned_to=MembershipFactory(clinic=scoped, role=staff),
            )

    add(2, 10000000)
    web.get(url(scoped))  # the first page view also remembers the clinic in the session
    with CaptureQueriesContext(connection) as few:
        assert web.get(url(scoped)).status_code == 200
    add(8, 20000000)
    with CaptureQueriesContext(connection) as many:
        assert web.get(url(scoped)).status_code == 200
    assert len(many) == len(few)


def test_htmx_poll_returns_only_the_list_fragment(scoped, desk):
    _, web = desk
    make_conversation(make_account(scoped), profile_name="Ravi K")
    response = web.get(
        url(scoped), {"show": "open"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="conversation-list"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="conversation-list"' in body and "Ravi K" in body
    assert 'hx-trigger="every' in body


def test_opening_a_thread_marks_it_read_and_audits_the_view(scoped, desk):
    _, web = desk
    patient = make_patient(scoped, phone="+91 98000 11111")
    conversation = make_conversation(make_account(scoped), patient=patient, unread_count=2)
    inbound(conversation, "My fever is gone")
    page = web.get(url(scoped, f"{conversation.pk}/"))
    assert page.status_code == 200
    assert "My fever is gone" in page.content.decode()
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert AuditEvent.objects.filter(
        action=Actions.CONVERSATION_VIEWED, patient_id=patient.pk
    ).exists()


def test_thread_poll_returns_the_messages_fragment(scoped, desk):
    _, web = desk
    conversation = make_conversation(make_account(scoped), unread_count=1)
    inbound(conversation, "Anyone there?")
    response = web.get(
        url(scoped, f"{conversation.pk}/"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="thread-live"
    )
    body = response.content.decode()
    assert "<html" not in body and "Anyone there?" in body and "Reply window closed" in body
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_window_timer_and_status_ticks(scoped, desk):
    _, web = desk
    conversation = make_conversation(
        make_account(scoped),
        window_expires_at=timezone.now() + timedelta(hours=5, minutes=12, seconds=30),
    )
    for status, extra in [
        (MessageStatus.QUEUED, {}),
        (MessageStatus.DELIVERED, {}),
        (MessageStatus.FAILED, {"error_title": "Message undeliverable"}),
        (MessageStatus.SENDING, {"uncertain": True}),
    ]:
        Message.objects.create(
            clinic_id=scoped.pk,
            conversation=conversation,
            direction=Direction.OUTBOUND,
            kind=MessageKind.TEXT,
            body=f"out {status}",
            status=status,
            **extra,
        )
    body = web.get(url(scoped, f"{conversation.pk}/")).content.decode()
    assert "Reply window open for 5 h 12 min" in body
    assert 'aria-label="Queued"' in body and 'aria-label="Delivered"' in body
    assert "Not delivered: Message undeliverable" in body
    assert "Check and send again" in body
    assert 'name="body"' in body  # the reply box, since the window is open


def test_reply_inside_the_window_reaches_the_patient(
    scoped, desk, wa_account, patient, sim, django_capture_on_commit_callbacks
):
    _, web = desk
    sim.open_window(PATIENT)
    conversation = make_conversation(
        wa_account,
        patient=patient,
        wa_id=PATIENT,
        window_expires_at=timezone.now() + timedelta(hours=3),
        needs_reply=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(url(scoped, f"{conversation.pk}/reply/"), {"body": "Take rest"})
    assert response.status_code == 302
    message = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert message.body == "Take rest" and message.status != MessageStatus.QUEUED
    assert any("Take rest" in str(m) for m in sim.received(PATIENT))
    conversation.refresh_from_db()
    assert conversation.needs_reply is False


def test_reply_outside_the_window_is_refused_with_the_reason(scoped, desk, wa_account, patient):
    _, web = desk
    conversation = make_conversation(wa_account, patient=patient, wa_id=PATIENT)
    response = web.post(url(scoped, f"{conversation.pk}/reply/"), {"body": "Hello"})
    assert response.status_code == 200
    assert "The 24-hour window has closed" in response.content.decode()
    assert not Message.objects.filter(conversation=conversation).exists()


def test_template_with_parameters_reaches_the_simulator(
    scoped, desk, wa_account, patient, sim, django_capture_on_commit_callbacks
):
    _, web = desk
    template = make_template(scoped, sim=sim)
    conversation = make_conversation(wa_account, patient=patient, wa_id=PATIENT)
    page = web.get(url(scoped, f"{conversation.pk}/")).content.decode()
    assert "Reply window closed" in page and 'name="param_2"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            url(scoped, f"{conversation.pk}/template/"),
            {"template_id": template.pk, "param_1": "Asha", "param_2": "12 Jan 2027"},
        )
    assert response.status_code == 302
    message = Message.objects.get(conversation=conversation)
    assert message.purpose == "care"
    assert message.body == "Hello Asha, this is a reminder of your appointment on 12 Jan 2027."
    received = sim.received(PATIENT)
    assert received and "Asha" in str(received[-1]) and "12 Jan 2027" in str(received[-1])


def test_template_missing_a_value_is_a_form_error(scoped, desk, wa_account, patient):
    _, web = desk
    template = make_template(scoped)
    conversation = make_conversation(wa_account, patient=patient, wa_id=PATIENT)
    response = web.post(
        url(scoped, f"{conversation.pk}/template/"),
        {"template_id": template.pk, "param_1": "Asha", "param_2": "  "},
    )
    assert response.status_code == 200
    assert "Every template value must be filled in." in response.content.decode()
    assert not Message.objects.exists()


def test_assign_resolve_and_reopen_are_audited(scoped, desk, member_factory):
    _, web = desk
    doctor = member_factory(scoped, role=Role.DOCTOR)
    conversation = make_conversation(make_account(scoped), needs_reply=True)
    base = url(scoped, f"{conversation.pk}/")
    assert web.post(base + "assign/", {"assignee": doctor.pk}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to_id == doctor.pk
    assert web.post(base + "resolve/").status_code == 302
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.RESOLVED and not conversation.needs_reply
    again = web.post(base + "resolve/")
    assert "already resolved" in again.content.decode()
    assert web.post(base + "reopen/").status_code == 302
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.OPEN
    actions = list(
        AuditEvent.objects.filter(
            target_type="messaging.conversation", target_id=str(conversation.pk)
        ).values_list("action", flat=True)
    )
    assert Actions.CONVERSATION_ASSIGNED in actions
    assert actions.count(Actions.CONVERSATION_RESOLVED) == 2


def test_assigning_someone_without_access_is_refused(scoped, desk, member_factory):
    _, web = desk
    billing = member_factory(scoped, role=Role.BILLING)
    conversation = make_conversation(make_account(scoped))
    response = web.post(url(scoped, f"{conversation.pk}/assign/"), {"assignee": billing.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assigned_to_id is None


def test_unknown_conversation_is_linked_to_a_found_patient(scoped, desk):
    _, web = desk
    patient = make_patient(scoped, phone="+91 98000 55555", full_name="Kavya Rao")
    conversation = make_conversation(make_account(scoped), wa_id="919800077777")
    inbound(conversation)
    link = url(scoped, f"{conversation.pk}/link/")
    matches = web.get(link, {"patient": "Kavya"}, HTTP_HX_REQUEST="true")
    assert "Kavya Rao" in matches.content.decode() and "<html" not in matches.content.decode()
    typed = web.post(link, {"patient": "Kavya"})
    assert "Pick the patient from the list." in typed.content.decode()
    assert web.post(link, {"patient": "Kavya", "patient_id": patient.pk}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.patient_id == patient.pk
    refused = web.post(link, {"patient_id": patient.pk})
    assert "already linked" in refused.content.decode()


def test_uncertain_message_can_be_sent_again(
    scoped, desk, wa_account, patient, sim, django_capture_on_commit_callbacks
):
    _, web = desk
    sim.open_window(PATIENT)
    conversation = make_conversation(
        wa_account,
        patient=patient,
        wa_id=PATIENT,
        window_expires_at=timezone.now() + timedelta(hours=1),
    )
    stuck = Message.objects.create(
        clinic_id=scoped.pk,
        conversation=conversation,
        patient=patient,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEXT,
        body="Your report is ready",
        status=MessageStatus.SENDING,
        uncertain=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(url(scoped, f"{conversation.pk}/messages/{stuck.pk}/resend/"))
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.uncertain is False
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert any("Your report is ready" in str(m) for m in sim.received(PATIENT))


def test_billing_gets_403_and_another_clinics_conversation_404(
    scoped, other_clinic, member_factory, client_for, desk
):
    _, web = desk
    billing = client_for(member_factory(scoped, role=Role.BILLING))
    conversation = make_conversation(make_account(scoped))
    assert billing.get(url(scoped)).status_code == 403
    assert billing.get(url(scoped, f"{conversation.pk}/")).status_code == 403
    from clinics.tenancy import clinic_scope

    with clinic_scope(other_clinic):
        theirs = make_conversation(make_account(other_clinic, "109876543210077"))
    assert web.get(url(scoped, f"{theirs.pk}/")).status_code == 404
    assert web.post(url(scoped, f"{theirs.pk}/reply/"), {"body": "x"}).status_code == 404


def test_navigation_links(scoped, desk, member_factory, client_for):
    _, web = desk
    page = web.get(url(scoped)).content.decode()
    assert f'href="/c/{scoped.slug}/messages/"' in page
    assert "Follow-ups" not in page  # the front desk does not see clinical follow-ups
    doctor = client_for(member_factory(scoped, role=Role.DOCTOR))
    assert "Follow-ups" in doctor.get(url(scoped)).content.decode()


def test_the_list_previews_each_conversations_last_message(scoped, desk):
    _, web = desk
    account = make_account(scoped)
    asks = make_conversation(account, wa_id="919800044444", profile_name="Ravi K")
    inbound(asks, body="Can I take the tablets\nwith milk?")
    long = make_conversation(account, wa_id="919800055555", profile_name="Sita")
    inbound(long, body="x" * 500)
    page = web.get(url(scoped)).content.decode()
    assert "Can I take the tablets with milk?" in page
    assert "x" * 79 + "…" in page and "x" * 81 not in page


def test_the_template_picker_shows_titles_and_only_templates_meant_for_patients(
    scoped, desk, wa_account, patient
):
    _, web = desk
    make_template(scoped, name="vaidya_appointment_reminder", language="hi")
    alert = make_template(
        scoped,
        name="vaidya_staff_alert",
        purpose="staff_alert",
        body="{{1}}: {{2}} for {{3}}. {{4}}",
    )
    conversation = make_conversation(wa_account, patient=patient, wa_id=PATIENT)
    page = web.get(url(scoped, f"{conversation.pk}/")).content.decode()
    assert "Appointment reminder · Hindi" in page
    assert "vaidya_appointment_reminder (hi)" not in page
    assert "Patient&#x27;s first name {{1}}" in page  # the value's meaning, not "Value {{1}}"
    assert "Alert to a doctor" not in page and "vaidya_staff_alert" not in page
    # Posting the doctor's alert template at a patient is refused too.
    response = web.post(
        url(scoped, f"{conversation.pk}/template/"),
        {"template_id": alert.pk, **{f"param_{i}": "x" for i in range(1, 5)}},
        follow=True,
    )
    assert "Choose one of the clinic&#x27;s approved templates." in response.content.decode()
    assert not Message.objects.filter(conversation=conversation).exists()


def test_the_thread_header_says_the_conversation_and_the_window_state_apart(
    scoped, desk, wa_account, patient
):
    _, web = desk
    conversation = make_conversation(wa_account, patient=patient, wa_id=PATIENT)
    page = web.get(url(scoped, f"{conversation.pk}/")).content.decode()
    assert "Conversation open" in page
    assert "Reply window closed: the patient has not written in the last 24 hours" in page
    assert "Closed: send a template" not in page
