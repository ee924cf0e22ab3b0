"""Connecting the clinic's WhatsApp number: secrets at rest, validation, test connection, and
the messaging settings."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from clinics.audit import Actions
from clinics.errors import Conflict, ValidationFailed
from clinics.models import AuditEvent
from clinics.tenancy import clinic_scope
from messaging.models import AccountStatus, WhatsAppAccount
from messaging.services.accounts import (
    account_connect,
    account_disconnect,
    account_test_connection,
    account_update,
    messaging_settings_for,
    messaging_settings_update,
)
from tests.messaging.conftest import APP_SECRET, PHONE_NUMBER_ID, TOKEN, VERIFY_TOKEN, WABA_ID

SECRETS = (TOKEN, APP_SECRET, VERIFY_TOKEN)


def _connect(clinic, actor=None, **overrides):
    values = {
        "phone_number_id": PHONE_NUMBER_ID,
        "business_account_id": WABA_ID,
        "display_number": "080 4000 1234",
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    values.update(overrides)
    return account_connect(clinic=clinic, actor=actor, **values)


def _raw_secrets(account_id: int) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, app_secret, verify_token FROM messaging_whatsappaccount "
            "WHERE id = %s",
            [account_id],
        )
        return cursor.fetchone()


def _audit_text(clinic) -> str:
    with clinic_scope(clinic):
        rows = AuditEvent.objects.filter(clinic=clinic).values("action", "data")
        return json.dumps(list(rows), default=str)


def test_connect_keeps_secrets_encrypted_and_out_of_the_audit(scoped, owner):
    account = _connect(scoped, owner.user)

    raw = _raw_secrets(account.pk)
    for secret, stored in zip(SECRETS, raw, strict=True):
        assert stored and secret not in stored
    fresh = WhatsAppAccount.objects.get(pk=account.pk)
    assert (fresh.access_token, fresh.app_secret, fresh.verify_token) == SECRETS
    assert fresh.display_number == "+91 80 4000 1234"
    assert fresh.status == AccountStatus.ACTIVE
    audit = _audit_text(scoped)
    assert Actions.WHATSAPP_CONNECTED in audit
    assert not any(secret in audit for secret in SECRETS)
    assert not any(secret in repr(fresh) + str(fresh) for secret in SECRETS)


def test_rotating_keys_re_encrypts_the_secrets(scoped, settings):
    account = _connect(scoped)
    before = _raw_secrets(account.pk)
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, *settings.ENCRYPTION_KEYS]

    call_command("rotate_encryption_keys", stdout=io.StringIO())

    after = _raw_secrets(account.pk)
    assert all(old != new for old, new in zip(before, after, strict=True))
    settings.ENCRYPTION_KEYS = [new_key]  # the old key is gone: the values must still open
    fresh = WhatsAppAccount.objects.get(pk=account.pk)
    assert (fresh.access_token, fresh.app_secret, fresh.verify_token) == SECRETS


def test_bad_input_gets_clear_errors_that_never_repeat_a_secret(scoped):
    with pytest.raises(ValidationFailed) as caught:
        _connect(
            scoped,
            phone_number_id="12ab",
            business_account_id="",
            display_number="12",
            access_token="EAA secret with spaces",
            app_secret="",
        )
    errors = caught.value.errors
    assert set(errors) == {
        "phone_number_id",
        "business_account_id",
        "display_number",
        "access_token",
        "app_secret",
    }
    assert "EAA secret" not in json.dumps(errors)
    assert not WhatsAppAccount.objects.exists()


def test_one_number_per_clinic_and_a_number_belongs_to_one_clinic(scoped, other_clinic):
    _connect(scoped)
    with pytest.raises(Conflict, match="already has a WhatsApp number"):
        _connect(scoped, phone_number_id="109876543210999")
    with clinic_scope(other_clinic), pytest.raises(ValidationFailed) as caught:
        _connect(other_clinic)
    assert "another clinic" in caught.value.errors["phone_number_id"][0]


def test_update_keeps_blank_secrets_and_audits_field_names_only(scoped, owner):
    account = _connect(scoped)
    account_update(
        account=account,
        actor=owner.user,
        display_number="+91 80 4000 9999",
        access_token="",
        app_secret="new-app-secret-1234",
        verify_token="",
    )
    fresh = WhatsAppAccount.objects.get(pk=account.pk)
    assert fresh.access_token == TOKEN and fresh.verify_token == VERIFY_TOKEN
    assert fresh.app_secret == "new-app-secret-1234"
    assert fresh.display_number == "+91 80 4000 9999"
    with clinic_scope(scoped):
        event = AuditEvent.objects.filter(action=Actions.WHATSAPP_UPDATED).get()
    assert sorted(event.data["changed"]) == ["app_secret", "display_number"]
    assert "new-app-secret-1234" not in _audit_text(scoped)


def test_disconnect_erases_the_secrets_and_a_clinic_can_connect_again(scoped):
    account = _connect(scoped)
    account_disconnect(account=account, actor=None)
    assert _raw_secrets(account.pk) == ("", "", "")
    assert WhatsAppAccount.objects.get(pk=account.pk).status == AccountStatus.DISCONNECTED
    again = _connect(scoped)
    assert again.pk == account.pk and again.status == AccountStatus.ACTIVE


def test_test_connection_succeeds_and_clears_a_rejected_token(wa_account):
    wa_account.status = AccountStatus.TOKEN_INVALID
    wa_account.problem = "Token rejected"
    wa_account.save()

    result = account_test_connection(account=wa_account, actor=None)

    assert result.ok, result.message
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.ACTIVE
    assert wa_account.problem == ""
    assert wa_account.last_checked_at is not None


def test_test_connection_with_a_wrong_token_stops_sending(wa_account):
    wrong = "EAAGwrongTokenForTheSimulator987654321"
    wa_account.access_token = wrong
    wa_account.save()

    result = account_test_connection(account=wa_account, actor=None)

    assert not result.ok and result.invalid_token
    assert "access token" in result.message and wrong not in result.message
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.TOKEN_INVALID
    assert not wa_account.can_send
    assert wa_account.problem == result.message
    audit = _audit_text(wa_account.clinic)
    assert Actions.WHATSAPP_TOKEN_REJECTED in audit and wrong not in audit


def test_test_connection_with_an_unknown_number_id_explains(wa_account):
    wa_account.phone_number_id = "109876543219999"
    wa_account.save()
    result = account_test_connection(account=wa_account, actor=None)
    assert not result.ok and not result.invalid_token
    assert "phone number id" in result.message
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.ACTIVE  # not a token problem: nothing stopped
    assert wa_account.problem == result.message


@pytest.mark.parametrize(
    "hours", [[0], [169], ["x"], "24, abc", [1, 2, 3, 4, 5, 6], [True]], ids=str
)
def test_reminder_hours_must_be_1_to_168(scoped, hours):
    with pytest.raises(ValidationFailed) as caught:
        messaging_settings_update(clinic=scoped, actor=None, appointment_reminder_hours=hours)
    assert "appointment_reminder_hours" in caught.value.errors


def test_settings_update_validates_and_audits(scoped, owner):
    import datetime as dt

    with pytest.raises(ValidationFailed) as caught:
        messaging_settings_update(
            clinic=scoped,
            actor=owner.user,
            quiet_hours_start=dt.time(22, 0),
            quiet_hours_end=dt.time(22, 0),
            missed_doses_threshold=0,
            low_rating_threshold=5,
        )
    assert {"quiet_hours_end", "missed_doses_threshold", "low_rating_threshold"} <= set(
        caught.value.errors
    )

    row = messaging_settings_update(
        clinic=scoped,
        actor=owner.user,
        appointment_reminder_hours="2, 24, 48",
        missed_doses_threshold=4,
        trouble_words="chest pain\n\nchest pain\nbehosh",
    )
    row = messaging_settings_for(scoped.pk)
    assert row.appointment_reminder_hours == [48, 24, 2]
    assert row.missed_doses_threshold == 4
    assert row.trouble_word_list() == ["chest pain", "behosh"]
    with clinic_scope(scoped):
        event = AuditEvent.objects.get(action=Actions.MESSAGING_SETTINGS_UPDATED)
    assert set(event.data["changed"]) == {
        "appointment_reminder_hours",
        "missed_doses_threshold",
        "trouble_words",
    }
