"""Clinic settings."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clinics.audit import Actions
from clinics.models import AuditEvent, Clinic
from clinics.roles import Role
from clinics.tenancy import clinic_scope

SETTINGS = reverse("clinic-settings", args=["asha"])
KARNATAKA_GSTIN = "29ABCPE1234F1Z7"
MAHARASHTRA_GSTIN = "27ABCPE1234F1ZB"


def settings_form(**changes):
    data = {
        "name": "Asha Family Clinic",
        "address": "12, 4th Cross, Jayanagar",
        "city": "Bengaluru",
        "pincode": "560041",
        "state_code": "29",
        "phone": "080 4123 4567",
        "email": "desk@asha.example.in",
        "timezone": "Asia/Kolkata",
        "gstin": "",
        "letterhead_tagline": "Caring for families since 1998",
        "timings": "Mon-Sat 10:00-13:00, 17:00-20:00",
        "registration_details": "KPME 1234/2020, Bengaluru Urban",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def owner_client(owner, client_for):
    return client_for(owner)


def test_settings_page_shows_the_current_values(owner_client):
    html = owner_client.get(SETTINGS).content.decode()
    assert 'value="Asha Family Clinic"' in html
    assert "Karnataka (29)" in html
    assert 'name="require_two_factor"' in html


def test_owner_saves_settings(owner_client, clinic):
    response = owner_client.post(
        SETTINGS, settings_form(name="Asha Clinic", gstin="29abcpe1234f1z7")
    )
    assert response.url == SETTINGS
    clinic.refresh_from_db()
    assert clinic.name == "Asha Clinic"
    assert clinic.gstin == KARNATAKA_GSTIN
    assert str(clinic.phone) == "+918041234567"
    assert clinic.pincode == "560041"
    assert "Clinic settings saved." in owner_client.get(SETTINGS).content.decode()
    with clinic_scope(clinic):
        event = AuditEvent.objects.get(action=Actions.CLINIC_UPDATED)
    assert "name" in event.data["fields"] and "gstin" in event.data["fields"]


def test_a_gstin_from_another_state_is_refused_and_nothing_is_saved(owner_client, clinic):
    response = owner_client.post(
        SETTINGS, settings_form(name="Renamed Clinic", gstin=MAHARASHTRA_GSTIN)
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This GSTIN belongs to another state than the clinic&#x27;s" in html
    clinic.refresh_from_db()
    assert (clinic.name, clinic.gstin) == ("Asha Family Clinic", "")


def test_an_invalid_gstin_and_pincode_are_refused(owner_client, clinic):
    response = owner_client.post(SETTINGS, settings_form(gstin="29ABCPE1234F1Z8", pincode="56004"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid 15-character GSTIN" in html
    assert "A PIN code has 6 digits" in html


def test_a_bad_phone_number_is_refused(owner_client, clinic):
    response = owner_client.post(SETTINGS, settings_form(phone="12345"))
    assert response.status_code == 400
    assert "Enter a valid phone number" in response.content.decode()


def test_owner_turns_on_required_two_factor(owner_client, clinic):
    owner_client.post(SETTINGS, settings_form(require_two_factor="on"))
    assert Clinic.objects.get(pk=clinic.pk).require_two_factor
    # The owner has no authenticator app yet: the next clinic page asks them to set one up.
    assert owner_client.get(SETTINGS).url.startswith(reverse("two-factor-setup"))


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR, Role.BILLING])
def test_other_roles_cannot_change_settings(client_for, clinic, member_factory, role):
    client = client_for(member_factory(clinic, role))
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, settings_form(name="Hijacked")).status_code == 403
    clinic.refresh_from_db()
    assert clinic.name == "Asha Family Clinic"


def test_the_403_page_explains_the_refusal(client_for, clinic, member_factory):
    response = client_for(member_factory(clinic, Role.FRONT_DESK)).get(SETTINGS)
    html = response.content.decode()
    assert "Not allowed" in html
    assert "Your role at this clinic does not allow this." in html


def test_owner_changes_the_booking_horizon(owner_client, clinic):
    html = owner_client.get(SETTINGS).content.decode()
    assert 'name="booking_horizon_days"' in html and 'value="365"' in html
    response = owner_client.post(SETTINGS, settings_form(booking_horizon_days="90"))
    assert response.url == SETTINGS
    clinic.refresh_from_db()
    assert clinic.booking_horizon_days == 90
    with clinic_scope(clinic):
        event = AuditEvent.objects.get(action=Actions.CLINIC_UPDATED)
    assert "booking_horizon_days" in event.data["fields"]


@pytest.mark.parametrize("days", ["0", "731", "-5", "a year"])
def test_a_booking_horizon_outside_1_to_730_days_is_refused(owner_client, clinic, days):
    response = owner_client.post(SETTINGS, settings_form(booking_horizon_days=days))
    assert response.status_code == 400
    assert "booking_horizon_days" in response.context["form"].errors
    clinic.refresh_from_db()
    assert clinic.booking_horizon_days == 365


def test_a_post_without_the_horizon_keeps_it(owner_client, clinic):
    clinic.booking_horizon_days = 30
    clinic.save(update_fields=["booking_horizon_days"])
    response = owner_client.post(SETTINGS, settings_form(name="Asha Clinic"))
    assert response.url == SETTINGS
    clinic.refresh_from_db()
    assert (clinic.name, clinic.booking_horizon_days) == ("Asha Clinic", 30)


def test_the_time_zone_list_starts_with_india_and_its_neighbours(owner_client, clinic):
    html = owner_client.get(reverse("clinic-settings", args=["asha"])).content.decode()
    select = html[html.index('name="timezone"') :]
    select = select[: select.index("</select>")]
    options = re.findall(r'<option value="([^"]+)"', select)
    assert options[0] == "Asia/Kolkata"
    assert options.index("Asia/Kathmandu") < 10 and options.index("Asia/Dubai") < 10
    assert options.count("Asia/Kolkata") == 1  # not offered twice
    assert "Africa/Abidjan" in options  # every zone still there
    assert 'label="Common for Indian clinics"' in select
