"""The consent ledger for WhatsApp messages: agreeing and withdrawing at the desk, with the
notice kept as shown, the history, no marketing to minors, and who may record it."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from compliance.models import ConsentEvent, ConsentImmutableError, ConsentPurpose
from compliance.selectors import consent_granted
from compliance.services import consent_grant, consent_withdraw
from tests.factories import MembershipFactory, PatientFactory

CARE = ConsentPurpose.WHATSAPP_CARE
MARKETING = ConsentPurpose.WHATSAPP_MARKETING


def page(clinic, patient):
    return reverse("messaging-consent", args=[clinic.slug, patient.pk])


def record(clinic, patient):
    return reverse("messaging-consent-record", args=[clinic.slug, patient.pk])


@pytest.fixture
def desk(scoped):
    return MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Ravi Kumar", phone="+919845012345")


def test_the_desk_records_agreement_with_the_notice_as_shown(scoped, client_for, desk, patient):
    client = client_for(desk)
    shown = client.get(page(scoped, patient)).content.decode()
    assert "Asha Family Clinic will send you WhatsApp messages" in shown
    assert "+91 98450 12345" in shown and "Not asked" in shown
    response = client.post(
        record(scoped, patient),
        {"purpose": CARE, "action": "grant", "method": "verbal", "notice_shown": "on"},
    )
    assert response.status_code == 302
    assert consent_granted(patient_id=patient.pk, purpose=CARE)
    assert not consent_granted(patient_id=patient.pk, purpose=MARKETING)
    event = ConsentEvent.objects.get()
    assert event.method == "verbal" and event.recorded_by == desk.user
    assert event.phone == "+919845012345"
    assert "Reply STOP at any time" in event.notice_text
    audit = AuditEvent.objects.get(action=Actions.MESSAGING_CONSENT_GRANTED)
    assert audit.patient_id == patient.pk and audit.data == {"purpose": CARE, "method": "verbal"}


def test_agreement_needs_the_notice_to_have_been_shown(scoped, client_for, desk, patient):
    response = client_for(desk).post(
        record(scoped, patient), {"purpose": CARE, "action": "grant", "method": "verbal"}
    )
    assert response.status_code == 400
    assert "Show the patient the notice" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_withdrawing_is_one_click_and_the_history_keeps_both(scoped, client_for, desk, patient):
    consent_grant(patient=patient, purpose=CARE, method="form", actor=desk.user)
    client = client_for(desk)
    response = client.post(
        record(scoped, patient), {"purpose": CARE, "action": "withdraw", "method": "verbal"}
    )
    assert response.status_code == 302
    assert not consent_granted(patient_id=patient.pk, purpose=CARE)
    assert list(ConsentEvent.objects.values_list("action", flat=True)) == [
        "withdrawn",
        "granted",
    ]
    body = client.get(page(scoped, patient)).content.decode()
    assert "Withdrawn" in body and "Agreed whatsapp care messages" in body


def test_agreeing_twice_records_nothing_new(scoped, desk, patient):
    assert consent_grant(patient=patient, purpose=CARE, method="form", actor=desk.user)
    assert consent_grant(patient=patient, purpose=CARE, method="form", actor=desk.user) is None
    assert consent_withdraw(patient=patient, purpose=MARKETING, method="verbal", actor=None) is None
    assert ConsentEvent.objects.count() == 1


def test_no_marketing_for_a_minor(scoped, client_for, desk):
    child = PatientFactory(clinic=scoped, date_of_birth=date(2019, 5, 1), phone="+919845099999")
    response = client_for(desk).post(
        record(scoped, child),
        {"purpose": MARKETING, "action": "grant", "method": "verbal", "notice_shown": "on"},
    )
    assert response.status_code == 400
    assert "never sends marketing messages to patients under 18" in response.content.decode()
    assert not ConsentEvent.objects.exists()
    # Care reminders (to the guardian's number) are fine.
    consent_grant(patient=child, purpose=CARE, method="form", actor=desk.user)
    assert consent_granted(patient_id=child.pk, purpose=CARE)


def test_the_ledger_is_append_only(scoped, desk, patient):
    event = consent_grant(patient=patient, purpose=CARE, method="form", actor=desk.user)
    event.method = "verbal"
    with pytest.raises(ConsentImmutableError):
        event.save()
    with pytest.raises(ConsentImmutableError):
        event.delete()


def test_billing_can_read_but_not_record_and_other_clinics_get_404(
    scoped, client_for, patient, other_clinic, member_factory
):
    billing = MembershipFactory(clinic=scoped, role=Role.BILLING)
    client = client_for(billing)
    assert client.get(page(scoped, patient)).status_code == 200
    response = client.post(
        record(scoped, patient),
        {"purpose": CARE, "action": "grant", "method": "verbal", "notice_shown": "on"},
    )
    assert response.status_code == 403 and not ConsentEvent.objects.exists()
    outsider = client_for(member_factory(other_clinic, Role.OWNER))
    url = reverse("messaging-consent", args=[other_clinic.slug, patient.pk])
    assert outsider.get(url).status_code == 404
