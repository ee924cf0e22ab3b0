"""The WhatsApp settings page: connecting the number, testing it, templates, reminder settings,
the "WhatsApp stopped" banner, and the patient's preferred language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from messaging.defaults import DEFAULTS
from messaging.models import AccountStatus, MessageTemplate, TemplateStatus, WhatsAppAccount
from messaging.services.accounts import messaging_settings_for
from patients.models import Patient
from tests.messaging.conftest import APP_SECRET, PHONE_NUMBER_ID, TOKEN, VERIFY_TOKEN, WABA_ID

SECRETS = (TOKEN, APP_SECRET, VERIFY_TOKEN)


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def connect_data(**overrides):
    data = {
        "phone_number_id": PHONE_NUMBER_ID,
        "business_account_id": WABA_ID,
        "display_number": "+91 80 4000 1234",
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    data.update(overrides)
    return data


def test_owner_connects_and_the_page_never_shows_the_secrets(clinic, owner, client_for):
    client = client_for(owner)
    page = client.get(url(clinic, "messaging-settings"))
    assert page.status_code == 200
    assert "Connect WhatsApp" in page.content.decode()

    response = client.post(url(clinic, "messaging-account-save"), connect_data(), follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "WhatsApp number connected" in html
    with clinic_scope(clinic):
        account = WhatsAppAccount.objects.get(clinic=clinic)
    assert f"http://testserver/webhooks/whatsapp/{account.webhook_key}/" in html
    assert html.count(">Set") >= 3
    assert 'type="password"' in html
    assert not any(secret in html for secret in SECRETS)
    # The audit page does not show them either.
    audit = client.get(reverse("audit-list", args=[clinic.slug])).content.decode()
    assert "messaging.account.connected" in audit or "WhatsApp" in audit
    assert not any(secret in audit for secret in SECRETS)


def test_invalid_input_is_explained_and_secrets_are_not_re_rendered(clinic, owner, client_for):
    response = client_for(owner).post(
        url(clinic, "messaging-account-save"),
        connect_data(phone_number_id="abc", display_number="12"),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "digits only" in html
    assert "for example +91 80 4000 1234" in html
    assert not any(secret in html for secret in SECRETS)
    with clinic_scope(clinic):
        assert not WhatsAppAccount.objects.exists()


def test_update_with_blank_secrets_keeps_them(wa_account, owner, client_for):
    clinic = wa_account.clinic
    response = client_for(owner).post(
        url(clinic, "messaging-account-save"),
        connect_data(
            access_token="", app_secret="", verify_token="", display_number="080 4000 5678"
        ),
    )
    assert response.status_code == 302
    wa_account.refresh_from_db()
    assert wa_account.display_number == "+91 80 4000 5678"
    assert (wa_account.access_token, wa_account.app_secret, wa_account.verify_token) == SECRETS


def test_test_connection_button_plain_and_htmx(wa_account, owner, client_for):
    client = client_for(owner)
    response = client.post(url(wa_account.clinic, "messaging-account-test"), follow=True)
    assert "Connected: WhatsApp knows this number" in response.content.decode()

    response = client.post(url(wa_account.clinic, "messaging-account-test"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="test-result"' in response.content.decode()
    assert "Connected" in response.content.decode()


def test_wrong_token_shows_the_problem_and_a_banner_on_every_staff_page(
    wa_account, owner, client_for, member_factory
):
    wa_account.access_token = "EAAGwrongTokenForTheSimulator987654321"
    wa_account.save()
    client = client_for(owner)

    response = client.post(url(wa_account.clinic, "messaging-account-test"), follow=True)

    html = response.content.decode()
    assert "WhatsApp refused the access token" in html
    assert "EAAGwrong" not in html
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.TOKEN_INVALID
    front_desk = member_factory(wa_account.clinic, Role.FRONT_DESK)
    page = client_for(front_desk).get(reverse("patient-list", args=[wa_account.clinic.slug]))
    assert "WhatsApp stopped: reconnect" in page.content.decode()
    assert "Ask the clinic's owner" in page.content.decode()

    # A new token that works clears the banner.
    client.post(
        url(wa_account.clinic, "messaging-account-save"),
        connect_data(app_secret="", verify_token=""),
    )
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.ACTIVE
    page = client_for(front_desk).get(reverse("patient-list", args=[wa_account.clinic.slug]))
    assert "WhatsApp stopped" not in page.content.decode()


def test_templates_submit_and_sync_buttons(wa_account, sim, owner, client_for):
    client = client_for(owner)
    response = client.post(url(wa_account.clinic, "messaging-templates-submit"), follow=True)
    html = response.content.decode()
    assert f"{len(DEFAULTS)} template(s) sent to WhatsApp for review" in html
    assert "vaidya_appointment_reminder" in html and "Waiting for Meta&#x27;s review" in html

    sim.set_template_status("vaidya_appointment_reminder", "hi", "APPROVED")
    response = client.post(url(wa_account.clinic, "messaging-templates-sync"), follow=True)
    assert "1 updated" in response.content.decode()
    row = MessageTemplate.objects.get(name="vaidya_appointment_reminder", language="hi")
    assert row.status == TemplateStatus.APPROVED


def test_submit_without_a_connected_number_says_so(clinic, owner, client_for):
    response = client_for(owner).post(url(clinic, "messaging-templates-submit"), follow=True)
    assert "Connect the clinic&#x27;s WhatsApp number" in response.content.decode()


def test_messaging_settings_form(clinic, owner, client_for):
    client = client_for(owner)
    data = {
        "send_appointment_confirmations": "on",
        "appointment_reminder_hours": "48, 3",
        "follow_up_reminder_time": "09:00",
        "review_request_delay_hours": "2",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "22:00",
        "missed_doses_threshold": "3",
        "low_rating_threshold": "2",
        "trouble_words": "chest pain",
    }
    response = client.post(url(clinic, "messaging-preferences-save"), data)
    assert response.status_code == 400
    assert "Quiet hours must end at another time" in response.content.decode()

    response = client.post(
        url(clinic, "messaging-preferences-save"), {**data, "appointment_reminder_hours": "0"}
    )
    assert response.status_code == 400
    assert "between 1 and 168" in response.content.decode()

    response = client.post(
        url(clinic, "messaging-preferences-save"), {**data, "quiet_hours_end": "07:00"}
    )
    assert response.status_code == 302
    with clinic_scope(clinic):
        row = messaging_settings_for(clinic.pk)
    assert row.appointment_reminder_hours == [48, 3]
    assert row.send_medicine_reminders is False
    assert row.quiet_hours_end.hour == 7
    assert row.discreet_sensitive_medicines is False  # unticked
    assert row.refill_reminder_days == 3  # left empty: unchanged

    client.post(
        url(clinic, "messaging-preferences-save"),
        {**data, "quiet_hours_end": "07:00", "refill_reminder_days": "5"},
    )
    with clinic_scope(clinic):
        assert messaging_settings_for(clinic.pk).refill_reminder_days == 5
    response = client.post(
        url(clinic, "messaging-preferences-save"),
        {**data, "quiet_hours_end": "07:00", "refill_reminder_days": "45"},
    )
    assert response.status_code == 400
    assert "less than or equal to 30" in response.content.decode()


def test_sensitive_medicines_are_discreet_unless_the_clinic_unticks_it(clinic, owner, client_for):
    client = client_for(owner)
    page = client.get(url(clinic, "messaging-settings")).content.decode()
    assert "Do not name sensitive medicines in reminders" in page
    with clinic_scope(clinic):
        assert messaging_settings_for(clinic.pk).discreet_sensitive_medicines is True
    data = {
        "follow_up_reminder_time": "09:00",
        "review_request_delay_hours": "2",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:00",
        "missed_doses_threshold": "3",
        "low_rating_threshold": "2",
        "discreet_sensitive_medicines": "on",
    }
    assert client.post(url(clinic, "messaging-preferences-save"), data).status_code == 302
    with clinic_scope(clinic):
        assert messaging_settings_for(clinic.pk).discreet_sensitive_medicines is True
    data.pop("discreet_sensitive_medicines")
    assert client.post(url(clinic, "messaging-preferences-save"), data).status_code == 302
    with clinic_scope(clinic):
        assert messaging_settings_for(clinic.pk).discreet_sensitive_medicines is False


@pytest.mark.parametrize(
    "name",
    [
        "messaging-settings",
        "messaging-account-save",
        "messaging-account-test",
        "messaging-account-disconnect",
        "messaging-templates-submit",
        "messaging-templates-sync",
        "messaging-template-language-add",
        "messaging-preferences-save",
    ],
)
def test_only_owners_and_only_their_clinic(
    wa_account, owner, other_clinic, member_factory, client_for, name
):
    clinic = wa_account.clinic
    doctor = member_factory(clinic, Role.DOCTOR)
    method = "get" if name == "messaging-settings" else "post"
    assert getattr(client_for(doctor), method)(url(clinic, name)).status_code == 403
    # Another clinic's owner reaching this clinic's pages: not found.
    stranger = member_factory(other_clinic, Role.OWNER)
    assert getattr(client_for(stranger), method)(url(clinic, name)).status_code == 404
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.ACTIVE


def test_disconnect(wa_account, owner, client_for):
    response = client_for(owner).post(url(wa_account.clinic, "messaging-account-disconnect"))
    assert response.status_code == 302
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.DISCONNECTED and wa_account.access_token == ""


def test_clinic_settings_page_links_to_whatsapp_settings(clinic, owner, client_for):
    html = client_for(owner).get(reverse("clinic-settings", args=[clinic.slug])).content.decode()
    assert url(clinic, "messaging-settings") in html


def test_patient_preferred_language_on_the_form_and_page(clinic, member_factory, client_for):
    front_desk = member_factory(clinic, Role.FRONT_DESK)
    client = client_for(front_desk)
    data = {
        "full_name": "Lakshmi Iyer",
        "sex": "F",
        "date_of_birth": "1980-03-14",
        "phone": "98450 12345",
        "preferred_language": "hi",
    }
    response = client.post(reverse("patient-create", args=[clinic.slug]), data, follow=True)
    assert response.status_code == 200
    with clinic_scope(clinic):
        patient = Patient.objects.get(full_name="Lakshmi Iyer")
    assert patient.preferred_language == "hi"
    page = client.get(reverse("patient-detail", args=[clinic.slug, patient.pk])).content.decode()
    assert "Language for messages" in page and "हिन्दी" in page
    form = client.get(reverse("patient-edit", args=[clinic.slug, patient.pk])).content.decode()
    assert 'value="hi" selected' in form
