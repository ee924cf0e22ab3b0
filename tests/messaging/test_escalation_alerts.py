"""Escalation alerts on the doctor's own WhatsApp: the opt-in page, one template per escalation
over real HTTP against the simulator, what the message may say, and keeping it out of the inbox.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinics.audit import Actions
from clinics.errors import NotAllowed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from messaging import selectors
from messaging.defaults import default_for
from messaging.models import (
    Conversation,
    Escalation,
    EscalationAlert,
    EscalationReason,
    Message,
    MessagePurpose,
    MessageStatus,
    MessagingSettings,
    Reminder,
    ReminderStatus,
    WhatsAppAlertOptIn,
)
from messaging.services import statuses
from messaging.services.adherence import dose_answer, dose_reminded
from messaging.services.escalations import escalation_open
from messaging.services.staff_alert_optin import whatsapp_alerts_turn_off, whatsapp_alerts_turn_on
from messaging.tasks import send_escalation_alert
from patients.models import Prescription
from tests.factories import MembershipFactory
from tests.messaging.care_setup import PARACETAMOL, make_doctor, sign_visit
from tests.messaging.conftest import make_patient, make_template
from tests.messaging.test_inbound import make_relay

DOCTOR = "919988776655"  # the doctor's own phone on the simulator
DOCTOR_TYPED = "99887 76655"  # as a doctor types it: no +91


@pytest.fixture
def doctor(scoped):
    return MembershipFactory(clinic=scoped, role=Role.DOCTOR, user__full_name="Anita Rao")


def page_url(clinic) -> str:
    return reverse("messaging-my-alerts", args=[clinic.slug])


def allow_alerts(clinic, on: bool = True) -> None:
    MessagingSettings.objects.update_or_create(
        clinic=clinic, defaults={"alert_doctor_on_whatsapp": on}
    )


def alert_template(clinic, sim, language="en"):
    default = default_for("staff_alert", language)
    return make_template(
        clinic,
        sim=sim,
        name=default.name,
        language=language,
        purpose="staff_alert",
        body=default.body,
    )


def opt_in(membership, phone=DOCTOR_TYPED, language="en"):
    return whatsapp_alerts_turn_on(
        membership=membership, actor=membership.user, phone=phone, language=language
    )


def open_escalation(patient, doctor, capture, **kwargs):
    fields = {
        "reason": EscalationReason.LOW_RATING,
        "detail": "The patient rated the visit 1 of 5: rude staff, fever not better.",
        "subject": "appointment:1",
    } | kwargs
    with capture(execute=True):
        return escalation_open(patient=patient, doctor=doctor, **fields)


# --- the opt-in page -----------------------------------------------------------------------------
def test_a_doctor_turns_alerts_on_and_off_for_themselves(scoped, doctor, client_for):
    web = client_for(doctor)
    page = web.get(page_url(scoped))
    assert page.status_code == 200
    assert "My WhatsApp alerts" in page.content.decode()
    assert "Turn on WhatsApp alerts" in page.content.decode()

    response = web.post(page_url(scoped), {"phone": DOCTOR_TYPED, "language": "hi"})
    assert response.status_code == 302
    row = WhatsAppAlertOptIn.objects.get(membership=doctor)
    assert (row.enabled, str(row.phone), row.language) == (True, "+" + DOCTOR, "hi")
    assert row.enabled_at is not None
    page = web.get(page_url(scoped)).content.decode()
    assert "+91 99887 76655" in page and "Turn off WhatsApp alerts" in page

    response = web.post(reverse("messaging-my-alerts-off", args=[scoped.slug]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.enabled is False and row.disabled_at is not None
    # Their own choice: the number stays for turning alerts on again.
    assert str(row.phone) == "+" + DOCTOR

    events = list(
        AuditEvent.objects.filter(target_type="messaging.whatsappalertoptin").order_by("id")
    )
    assert [(e.action, e.actor_id) for e in events] == [
        (Actions.WHATSAPP_ALERTS_TURNED_ON, doctor.user_id),
        (Actions.WHATSAPP_ALERTS_TURNED_OFF, doctor.user_id),
    ]
    # The trail never holds the number itself.
    assert all(DOCTOR[2:] not in str(e.data) for e in events)


def test_a_bad_number_is_a_form_error(scoped, doctor, client_for):
    response = client_for(doctor).post(page_url(scoped), {"phone": "12345", "language": "en"})
    assert response.status_code == 400
    assert "Enter a valid WhatsApp number" in response.content.decode()
    assert not WhatsAppAlertOptIn.objects.filter(enabled=True).exists()


def test_only_the_staff_member_can_turn_their_alerts_on(scoped, doctor, client_for):
    colleague = MembershipFactory(clinic=scoped, role=Role.DOCTOR)
    owner = MembershipFactory(clinic=scoped, role=Role.OWNER)
    # The page acts on whoever is signed in: naming someone else changes nothing for them.
    client_for(colleague).post(
        page_url(scoped),
        {"phone": "98123 45678", "language": "en", "membership": doctor.pk},
    )
    assert not WhatsAppAlertOptIn.objects.filter(membership=doctor).exists()
    assert WhatsAppAlertOptIn.objects.get(membership=colleague).enabled
    # Not even an owner can give someone else's consent.
    with pytest.raises(NotAllowed):
        whatsapp_alerts_turn_on(membership=doctor, actor=owner.user, phone=DOCTOR_TYPED)
    assert not WhatsAppAlertOptIn.objects.filter(membership=doctor).exists()
    # And a colleague cannot use the owner's turn-off either.
    opt_in(doctor)
    off = reverse("messaging-staff-alerts-off", args=[scoped.slug, doctor.pk])
    assert client_for(colleague).post(off).status_code == 403
    assert WhatsAppAlertOptIn.objects.get(membership=doctor).enabled


def test_front_desk_has_no_alerts_page(scoped, client_for):
    front_desk = MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)
    assert client_for(front_desk).get(page_url(scoped)).status_code == 403


def test_an_owner_turns_off_alerts_of_someone_who_left_and_their_number_goes(
    scoped, doctor, client_for
):
    owner = MembershipFactory(clinic=scoped, role=Role.OWNER)
    opt_in(doctor)
    page = client_for(owner).get(page_url(scoped)).content.decode()
    assert "Anita Rao" in page
    response = client_for(owner).post(
        reverse("messaging-staff-alerts-off", args=[scoped.slug, doctor.pk])
    )
    assert response.status_code == 302
    row = WhatsAppAlertOptIn.objects.get(membership=doctor)
    assert row.enabled is False and not row.phone and row.disabled_by_id == owner.user_id
    event = AuditEvent.objects.get(action=Actions.WHATSAPP_ALERTS_TURNED_OFF)
    assert (event.actor_id, event.data["by"]) == (owner.user_id, "owner")


def test_another_clinics_membership_is_not_found(scoped, other_clinic, client_for):
    owner = MembershipFactory(clinic=scoped, role=Role.OWNER)
    with clinic_scope(other_clinic):
        theirs = MembershipFactory(clinic=other_clinic, role=Role.DOCTOR)
        opt_in(theirs)
    response = client_for(owner).post(
        reverse("messaging-staff-alerts-off", args=[scoped.slug, theirs.pk])
    )
    assert response.status_code == 404
    with clinic_scope(other_clinic):
        assert WhatsAppAlertOptIn.objects.get(membership=theirs).enabled


def test_the_clinics_own_number_is_refused(scoped, doctor, wa_account, client_for):
    response = client_for(doctor).post(
        page_url(scoped), {"phone": wa_account.display_number, "language": "en"}
    )
    assert response.status_code == 400
    assert "clinic&#x27;s own WhatsApp number" in response.content.decode()


# --- the alert -----------------------------------------------------------------------------------
@pytest.fixture
def ready(scoped, wa_account, sim):
    """A clinic that allows alerts, with the approved alert template on its number."""
    allow_alerts(scoped)
    return alert_template(scoped, sim)


def test_missed_doses_alert_the_opted_in_doctor_once_with_no_clinical_detail(
    scoped, ready, sim, django_capture_on_commit_callbacks
):
    doctor = make_doctor(scoped)
    opt_in(doctor)
    patient = make_patient(scoped, full_name="Kavya Sharma")
    visit = sign_visit(doctor, patient, items=[{**PARACETAMOL, "duration_days": 5}])
    prescription = Prescription.objects.get(visit=visit)
    doses = list(Reminder.objects.filter(source=f"prescription:{prescription.pk}"))
    with django_capture_on_commit_callbacks(execute=True):
        for reminder in doses[:4]:  # three missed opens the alert; the fourth changes nothing
            Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENT)
            dose_answer(dose=dose_reminded(reminder=reminder), taken=False)

    escalation = Escalation.objects.get()
    received = sim.received(DOCTOR)
    assert len(received) == 1
    link = (
        f"http://127.0.0.1:8000/c/{scoped.slug}/messages/follow-ups/?show=all"
        f"#escalation-{escalation.pk}"
    )
    assert received[0]["body"] == (
        f"Vaidya alert from {scoped.name}: patient K. S. ({patient.patient_number}) needs "
        f"attention (missed doses). Open Vaidya to see the details and follow up: {link} "
        "The alert stays open until someone acts on it."
    )
    # Nothing about the patient's health or how to reach them leaves for the doctor's phone.
    text = received[0]["body"].casefold()
    for private in ("kavya", "sharma", "paracetamol", "500 mg", "fever", "9876543210", "doses in"):
        assert private not in text

    alert = EscalationAlert.objects.get()
    message = alert.message
    assert (alert.escalation, alert.recipient) == (escalation, doctor)
    assert (message.status, message.purpose, message.patient_id) == (
        MessageStatus.SENT,
        MessagePurpose.STAFF,
        None,
    )
    assert message.wamid
    # The send is on the record, for the patient whose initials left the clinic.
    event = AuditEvent.objects.get(action=Actions.ESCALATION_ALERT_QUEUED)
    assert event.patient_id == patient.pk

    # Status ticks work as for any message.
    statuses.message_status_record(
        account=message.conversation.account,
        wamid=message.wamid,
        status=MessageStatus.READ,
        occurred_at=message.sent_at,
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.READ


def test_an_escalation_opened_again_or_a_task_run_twice_sends_once(
    scoped, ready, doctor, sim, django_capture_on_commit_callbacks
):
    opt_in(doctor)
    patient = make_patient(scoped)
    escalation = open_escalation(patient, doctor, django_capture_on_commit_callbacks)
    again = open_escalation(patient, doctor, django_capture_on_commit_callbacks)
    assert again.pk == escalation.pk
    with django_capture_on_commit_callbacks(execute=True):
        assert send_escalation_alert(escalation.pk) == "alerted already"
    assert len(sim.received(DOCTOR)) == 1
    assert Message.objects.filter(purpose=MessagePurpose.STAFF).count() == 1


def test_hindi_alerts_use_the_hindi_template_and_words(
    scoped, ready, doctor, sim, django_capture_on_commit_callbacks
):
    alert_template(scoped, sim, language="hi")
    opt_in(doctor, language="hi")
    open_escalation(
        make_patient(scoped),
        doctor,
        django_capture_on_commit_callbacks,
        reason=EscalationReason.TROUBLE_WORDS,
        detail="The patient's WhatsApp message mentions: chest pain",
        subject="message:1",
    )
    (received,) = sim.received(DOCTOR)
    assert received["template"]["language"] == "hi"
    assert "चिंताजनक संदेश" in received["body"] and "chest pain" not in received["body"]


def test_no_alert_for_a_doctor_who_did_not_opt_in_or_turned_it_off(
    scoped, ready, doctor, sim, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped)
    open_escalation(patient, doctor, django_capture_on_commit_callbacks)
    opt_in(doctor)
    whatsapp_alerts_turn_off(membership=doctor, actor=doctor.user)
    open_escalation(patient, doctor, django_capture_on_commit_callbacks, subject="appointment:2")
    assert Escalation.objects.count() == 2
    assert sim.received(DOCTOR) == []
    assert not Message.objects.filter(purpose=MessagePurpose.STAFF).exists()


def test_no_alert_when_the_clinic_has_not_allowed_them(
    scoped, ready, doctor, sim, django_capture_on_commit_callbacks
):
    allow_alerts(scoped, on=False)
    opt_in(doctor)
    open_escalation(make_patient(scoped), doctor, django_capture_on_commit_callbacks)
    assert sim.received(DOCTOR) == []


def test_no_whatsapp_account_sends_nothing_and_fails_nothing(
    scoped, doctor, django_capture_on_commit_callbacks
):
    allow_alerts(scoped)
    opt_in(doctor)
    escalation = open_escalation(
        make_patient(scoped, consent=False), doctor, django_capture_on_commit_callbacks
    )
    assert Escalation.objects.get().pk == escalation.pk  # the in-app alert is open
    assert send_escalation_alert(escalation.pk) == "no working WhatsApp number"
    assert not Message.objects.exists() and not EscalationAlert.objects.exists()


def test_an_escalation_without_a_doctor_goes_to_the_patients_last_doctor(
    scoped, ready, doctor, sim, django_capture_on_commit_callbacks
):
    from patients.models import Visit

    opt_in(doctor)
    patient = make_patient(scoped)
    Visit.objects.create(clinic=scoped, patient=patient, doctor=doctor, created_by=doctor.user)
    open_escalation(patient, None, django_capture_on_commit_callbacks)
    assert len(sim.received(DOCTOR)) == 1
    assert EscalationAlert.objects.get().recipient == doctor


# --- not a patient conversation ------------------------------------------------------------------
def test_the_alert_stays_out_of_the_patient_inbox(
    scoped, ready, doctor, sim, client_for, django_capture_on_commit_callbacks
):
    opt_in(doctor)
    patient = make_patient(scoped, full_name="Kavya Sharma")
    open_escalation(patient, doctor, django_capture_on_commit_callbacks)
    staff_conversation = Conversation.objects.get(staff=doctor)
    assert staff_conversation.patient_id is None and not staff_conversation.is_unknown

    for show, _ in selectors.INBOX_FILTERS:
        assert staff_conversation not in selectors.conversation_list(show=show, membership=doctor)
    assert selectors.unread_conversations_count() == 0
    web = client_for(doctor)
    inbox = web.get(reverse("messaging-inbox", args=[scoped.slug])).content.decode()
    assert "Vaidya alert" not in inbox and "K. S." not in inbox
    thread = reverse("messaging-thread", args=[scoped.slug, staff_conversation.pk])
    assert web.get(thread).status_code == 404
    # Nothing is filed under the patient either.
    assert not Message.objects.filter(patient=patient).exists()


def test_a_doctor_writing_back_stays_in_their_alerts_and_stop_turns_them_off(
    scoped, ready, doctor, sim, receiver, django_capture_on_commit_callbacks
):
    from django.test import Client

    opt_in(doctor)
    open_escalation(make_patient(scoped), doctor, django_capture_on_commit_callbacks)
    relay = make_relay(
        Client(), ready.clinic.whatsapp, receiver, django_capture_on_commit_callbacks
    )

    sim.reply(DOCTOR, "Ok, will call her")
    relay()
    sim.reply(DOCTOR, "Done")
    relay()
    # No "unknown number" conversation: both are kept with the doctor's alerts.
    assert Conversation.objects.count() == 1
    staff_conversation = Conversation.objects.get(staff=doctor)
    assert staff_conversation.messages.filter(direction="in").count() == 2
    assert selectors.conversation_list(show="unknown").count() == 0
    # One note a day that nobody reads this number (after the alert itself).
    notes = [m for m in sim.received(DOCTOR) if m.get("type") == "text"]
    assert len(notes) == 1 and "replies here are not read" in notes[0]["body"]

    sim.reply(DOCTOR, "STOP")
    relay()
    row = WhatsAppAlertOptIn.objects.get(membership=doctor)
    assert row.enabled is False
    assert "now off" in sim.received(DOCTOR)[-1]["body"]
    assert AuditEvent.objects.get(action=Actions.WHATSAPP_ALERTS_TURNED_OFF).data["via"] == (
        "whatsapp"
    )


# --- the demo ------------------------------------------------------------------------------------
def test_the_demo_doctor_gets_alerts_on_the_simulator(db):
    from django.core.management import call_command

    from clinics.demo import DEMO_SLUG
    from clinics.models import Clinic
    from messaging import demo

    call_command("seed_demo", "--patients", "6")
    clinic = Clinic.objects.get(slug=DEMO_SLUG)
    with clinic_scope(clinic):
        assert MessagingSettings.objects.get(clinic=clinic).alert_doctor_on_whatsapp
        row = WhatsAppAlertOptIn.objects.get(enabled=True)
        assert row.membership.role == Role.DOCTOR
        assert row.phone.as_international == demo.DEMO_DOCTOR_ALERT_NUMBER


def test_the_follow_up_board_shows_whether_the_whatsapp_alert_reached_the_doctor(
    scoped, ready, doctor, sim, client_for, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    opt_in(doctor)
    alerted = open_escalation(
        make_patient(scoped, full_name="Kavya Sharma"), doctor, django_capture_on_commit_callbacks
    )
    message = EscalationAlert.objects.get(escalation=alerted).message
    statuses.message_status_record(
        account=message.conversation.account,
        wamid=message.wamid,
        status=MessageStatus.READ,
        occurred_at=message.sent_at,
    )
    allow_alerts(scoped, on=False)  # the next alert is not sent: the board says nothing of one
    quiet = open_escalation(
        make_patient(scoped, phone="+91 98111 22233"),
        doctor,
        django_capture_on_commit_callbacks,
        subject="appointment:2",
    )
    web = client_for(doctor)
    board = reverse("messaging-board", args=[scoped.slug])
    web.get(board)
    with CaptureQueriesContext(connection) as few:
        html = web.get(board).content.decode()
    card = html[html.index(f'id="escalation-{alerted.pk}"') :]
    card = card[: card.index("</article>")]
    assert "WhatsApp alert to Anita Rao: read" in card
    other = html[html.index(f'id="escalation-{quiet.pk}"') :]
    assert "WhatsApp alert" not in other[: other.index("</article>")]

    # Reading the alerts' messages costs no query per alert.
    for n in range(3):
        open_escalation(
            make_patient(scoped, phone=f"+91 98111 3000{n}"),
            doctor,
            django_capture_on_commit_callbacks,
            subject=f"appointment:{10 + n}",
        )
    allow_alerts(scoped)
    open_escalation(
        make_patient(scoped, phone="+91 98111 40000"),
        doctor,
        django_capture_on_commit_callbacks,
        subject="appointment:20",
    )
    with CaptureQueriesContext(connection) as more:
        assert "WhatsApp alert to Anita Rao: sent" in web.get(board).content.decode()
    assert len(more) == len(few)
