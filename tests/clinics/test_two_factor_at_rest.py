"""Two-factor secrets at rest: a database dump holds no TOTP seed and no backup code, the seed
follows key rotation, and existing devices survive the move from django-otp's plain tables."""

from __future__ import annotations

import io
import re
import time
from base64 import b32decode, b32encode

import pytest
import time_machine
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from clinics import crypto
from clinics.roles import Role
from clinics.two_factor import AuthenticatorApp, BackupCode, BackupCodes, backup_code_digest

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password
SETUP = reverse("two-factor-setup")
OLD, NEW = crypto.generate_key(), crypto.generate_key()
BEFORE = ("clinics", "0006_clinic_booking_horizon")
AFTER = ("clinics", "0007_two_factor_secrets_at_rest")
# django-otp's own tables, as they were before Vaidya moved the devices out of them.
PLAIN_TEXT_STATE = [
    BEFORE,
    ("otp_totp", "0003_add_timestamps"),
    ("otp_static", "0003_add_timestamps"),
]


@pytest.fixture(autouse=True)
def _steady_clock():
    """Codes change every 30 seconds. A step boundary crossed between enrolling and signing in
    (a loaded machine) makes django-otp record a drift and refuse the next step's code, so the
    clock stands still just after a step begins."""
    with time_machine.travel((int(time.time()) // 30) * 30 + 1, tick=False):
        yield


def code_for(seed: bytes, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for `seed` now (or some 30-second steps later)."""
    totp = TOTP(seed)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def enrol(client: Client) -> tuple[bytes, list[str]]:
    """Set up an authenticator app the way a person does; returns (seed, backup codes) as the
    pages showed them."""
    client.post(SETUP, {"action": "start"})
    page = client.get(SETUP).content.decode()
    shown = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    seed = b32decode(shown.replace(" ", ""))
    done = client.post(SETUP, {"action": "confirm", "token": code_for(seed)})
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    assert len(codes) == 8
    return seed, codes


def sign_in_with_code(email: str, code: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD})
    assert response.url == reverse("login-otp")
    client.post(reverse("login-otp"), {"token": code})
    return client


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def database_dump() -> str:
    """Every row of every table, as text: what someone holding a backup can read."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks).lower()


def b32encode_lower(seed: bytes) -> str:
    return b32encode(seed).decode().lower()


def raw_secret(device_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM clinics_authenticatorapp WHERE id = %s", [device_id])
        return cursor.fetchone()[0]


@pytest.fixture
def doctor(clinic, member_factory):
    return member_factory(clinic, Role.DOCTOR)


def test_a_database_dump_holds_neither_the_seed_nor_the_backup_codes(doctor, client_for):
    seed, codes = enrol(client_for(doctor))
    dump = database_dump()
    assert seed.hex() not in dump
    assert b32encode_lower(seed) not in dump
    for code in codes:
        assert code not in dump
    # The seed is there, encrypted with the key ring.
    device = AuthenticatorApp.objects.get(user=doctor.user)
    assert crypto.decrypt_str(raw_secret(device.pk)) == seed.hex()


def test_after_enrolling_both_the_app_and_a_backup_code_sign_in_once(doctor, client_for):
    seed, codes = enrol(client_for(doctor))
    email = doctor.user.email
    assert is_signed_in(sign_in_with_code(email, code_for(seed, steps_ahead=1)))
    assert is_signed_in(sign_in_with_code(email, codes[0].upper()))
    # Neither can be used again (a wrong code also slows the next try: django-otp throttling).
    assert not is_signed_in(sign_in_with_code(email, code_for(seed, steps_ahead=1)))
    assert not is_signed_in(sign_in_with_code(email, codes[0]))
    assert BackupCode.objects.filter(device__user=doctor.user).count() == 7


def test_backup_codes_are_keyed_to_the_secret_key(doctor, client_for, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # no pause after the refused try
    _, codes = enrol(client_for(doctor))
    old_secret_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert not is_signed_in(sign_in_with_code(doctor.user.email, codes[0]))
    settings.SECRET_KEY_FALLBACKS = [old_secret_key]
    assert is_signed_in(sign_in_with_code(doctor.user.email, codes[0]))


def test_rotating_encryption_keys_re_encrypts_the_seed(doctor, client_for, settings):
    settings.ENCRYPTION_KEYS = [OLD]
    seed, _ = enrol(client_for(doctor))
    device = AuthenticatorApp.objects.get(user=doctor.user)
    before = raw_secret(device.pk)

    settings.ENCRYPTION_KEYS = [NEW, OLD]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "encrypted database fields: 1 re-encrypted" in out.getvalue()
    after = raw_secret(device.pk)
    assert after != before
    assert crypto.is_current(after.encode())

    settings.ENCRYPTION_KEYS = [NEW]  # the old key is gone: the app still signs in
    assert is_signed_in(sign_in_with_code(doctor.user.email, code_for(seed, steps_ahead=1)))


def test_the_admin_shows_two_factor_devices_without_their_seed(doctor, client_for):
    seed, _ = enrol(client_for(doctor))
    device = AuthenticatorApp.objects.get(user=doctor.user)
    superuser = type(doctor.user).objects.create_superuser(
        email="root@example.in", password=PASSWORD
    )
    client = Client()
    client.force_login(superuser)
    page = client.get(reverse("admin:clinics_authenticatorapp_change", args=[device.pk]))
    assert page.status_code == 200
    html = page.content.decode().lower()
    assert doctor.user.full_name.lower() in html
    assert seed.hex() not in html and b32encode_lower(seed) not in html
    assert raw_secret(device.pk).lower() not in html
    # django-otp's own pages (which show the key and the codes) are gone.
    assert not any(m._meta.app_label.startswith("otp_") for m in admin.site._registry)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Moving existing devices out of django-otp's plain-text tables


def migrate_to_latest() -> None:
    """Leave the database as every later migration expects it (the tests after this run on it)."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migration_moves_existing_devices_and_leaves_no_plain_text(doctor):
    seed = bytes(range(1, 21))
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old_apps = executor.loader.project_state(PLAIN_TEXT_STATE).apps
    totp = old_apps.get_model("otp_totp", "TOTPDevice").objects.create(
        user_id=doctor.user.pk, name="Phone", confirmed=True, key=seed.hex()
    )
    static = old_apps.get_model("otp_static", "StaticDevice").objects.create(
        user_id=doctor.user.pk, name="Backup codes", confirmed=True
    )
    for token in ("abcd2345", "efgh6723"):
        old_apps.get_model("otp_static", "StaticToken").objects.create(device=static, token=token)

    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])

    dump = database_dump()
    assert seed.hex() not in dump
    assert "abcd2345" not in dump and "efgh6723" not in dump
    with connection.cursor() as cursor:
        for table in ("otp_totp_totpdevice", "otp_static_statictoken", "otp_static_staticdevice"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0
    device = AuthenticatorApp.objects.get(user=doctor.user)
    assert device.name == "Phone" and device.confirmed and totp.pk
    assert crypto.decrypt_str(raw_secret(device.pk)) == seed.hex()
    assert BackupCodes.objects.get(user=doctor.user).codes.count() == 2
    assert set(BackupCode.objects.values_list("digest", flat=True)) == {
        backup_code_digest("abcd2345"),
        backup_code_digest("efgh6723"),
    }

    # The rest of the schema as it is today (later migrations), then: the same phone and the
    # same unused backup codes sign in.
    migrate_to_latest()
    assert is_signed_in(sign_in_with_code(doctor.user.email, code_for(seed)))
    assert is_signed_in(sign_in_with_code(doctor.user.email, "abcd2345"))
    assert not is_signed_in(sign_in_with_code(doctor.user.email, "abcd2345"))


@pytest.mark.django_db(transaction=True)
def test_migrating_back_restores_the_authenticator_app(doctor, client_for):
    seed, _ = enrol(client_for(doctor))
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old_apps = executor.loader.project_state(PLAIN_TEXT_STATE).apps
    restored = old_apps.get_model("otp_totp", "TOTPDevice").objects.get(user_id=doctor.user.pk)
    assert restored.key == seed.hex() and restored.confirmed
    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])
    assert AuthenticatorApp.objects.get(user=doctor.user).secret == seed.hex()
    migrate_to_latest()
