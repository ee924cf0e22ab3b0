"""The encryption helper: secrets and files encrypted at rest, with key rotation."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from clinics import crypto
from clinics.storage import storage

OLD, NEW = crypto.generate_key(), crypto.generate_key()


def test_values_round_trip_and_are_not_readable_as_stored(settings):
    settings.ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt_str("EAAG-access-token-123")
    assert "EAAG" not in token
    assert crypto.decrypt_str(token) == "EAAG-access-token-123"
    assert crypto.encrypt_str("same") != crypto.encrypt_str("same")  # random IV each time


def test_a_new_key_first_still_opens_old_values_and_rotation_moves_them(settings):
    settings.ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt(b"app secret")
    settings.ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.decrypt(token) == b"app secret"
    assert not crypto.is_current(token)
    rotated = crypto.rotate(token)
    assert crypto.is_current(rotated)
    settings.ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(rotated) == b"app secret"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(token)


def test_a_tampered_value_is_refused_not_returned_as_garbage(settings):
    settings.ENCRYPTION_KEYS = [OLD]
    token = bytearray(crypto.encrypt(b"secret"))
    token[-5] = ord("A") if token[-5] != ord("A") else ord("B")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(bytes(token))


def test_a_malformed_key_is_a_clear_configuration_error(settings):
    settings.ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a valid key"):
        crypto.encrypt(b"x")
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="at least one key"):
        crypto.encrypt(b"x")


def test_rotate_command_reencrypts_stored_files_and_reports(settings, db):
    settings.ENCRYPTION_KEYS = [OLD]
    name = storage().save("clinics/1/lab_report/abc.pdf", ContentFile(b"%PDF-1.7 report"))
    settings.ENCRYPTION_KEYS = [NEW, OLD]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "files in local storage: 1 re-encrypted, 0 already current" in out.getvalue()
    settings.ENCRYPTION_KEYS = [NEW]
    with storage().open(name) as fh:
        assert fh.read() == b"%PDF-1.7 report"
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "files in local storage: 0 re-encrypted, 1 already current" in out.getvalue()


def test_rotate_command_fails_clearly_when_a_key_is_missing(settings, db):
    settings.ENCRYPTION_KEYS = [OLD]
    storage().save("clinics/1/scan/abc.png", ContentFile(b"\x89PNG data"))
    settings.ENCRYPTION_KEYS = [NEW]  # the old key was dropped too early
    err = io.StringIO()
    with pytest.raises(CommandError, match="Rotation incomplete"):
        call_command("rotate_encryption_keys", stdout=io.StringIO(), stderr=err)
    assert "Put back the key" in err.getvalue()


def test_generate_encryption_key_prints_a_usable_key(settings):
    out = io.StringIO()
    call_command("generate_encryption_key", stdout=out)
    settings.ENCRYPTION_KEYS = [out.getvalue().strip()]
    assert crypto.decrypt(crypto.encrypt(b"ok")) == b"ok"
