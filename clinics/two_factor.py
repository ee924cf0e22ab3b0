"""Vaidya's two-factor devices for django-otp: an authenticator app (TOTP) whose seed is kept
encrypted with the key ring, and one-time backup codes kept only as keyed hashes.

They are django-otp devices (`Device` with its throttling and timestamp mixins), so
`devices_for_user`, `verify_token`, `django_otp.login` and `OTPMiddleware` work with them as
with the library's own `TOTPDevice` and `StaticDevice`, whose tables stay empty: those keep
the TOTP key and the backup codes in plain text, readable by anyone with a database backup.

- The TOTP seed is an `EncryptedTextField` (Fernet with `ENCRYPTION_KEYS`), so
  `manage.py rotate_encryption_keys` re-encrypts it with the WhatsApp and payment secrets.
- A backup code is stored as HMAC-SHA256 keyed with a key derived from `SECRET_KEY` (which is
  not in the database). Codes have 40 bits of entropy: an unkeyed hash of one is found by brute
  force in minutes, and a slow password hash would have to be tried against every unused code
  on each attempt. A keyed hash is fast and a dump alone gives nothing to try codes against.
  `SECRET_KEY_FALLBACKS` keep codes working across a change of `SECRET_KEY`.
"""

from __future__ import annotations

import time
from base64 import b32encode
from binascii import unhexlify
from os import urandom
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from clinics.fields import EncryptedTextField

__all__ = [
    "AuthenticatorApp",
    "BackupCode",
    "BackupCodes",
    "backup_code_digest",
    "new_backup_code",
    "normalise_backup_code",
]

SEED_BYTES = 20
BACKUP_CODE_SALT = "vaidya.two-factor.backup-code"


def new_seed() -> str:
    """A new random TOTP seed, hex-encoded (20 bytes, as authenticator apps expect)."""
    return random_hex(SEED_BYTES)


class AuthenticatorApp(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) on the user's phone; the seed is encrypted at rest.

    Fields and verification follow django-otp's `TOTPDevice` (same defaults, same replay guard
    `last_t`, same drift sync and throttling), so a seed moved from there keeps working.
    """

    secret = EncryptedTextField(default=new_seed, help_text="Hex-encoded seed, encrypted.")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    def __repr__(self) -> str:
        return f"<AuthenticatorApp {self.pk} user={self.user_id} confirmed={self.confirmed}>"

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.secret.encode())

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            code = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(code, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """The otpauth:// address an authenticator app reads from the QR code."""
        label = str(self.user.get_username())
        params = {
            "secret": b32encode(self.bin_key),
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        query = urlencode(params)
        issuer = (getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        if issuer:
            label = f"{issuer}:{label}"
            query += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{query}"


# ---------------------------------------------------------------------------------------------
# Backup codes


def new_backup_code() -> str:
    """A new backup code: 8 lower-case base32 characters (40 random bits)."""
    return b32encode(urandom(5)).decode("ascii").lower()


def normalise_backup_code(code: str) -> str:
    return "".join(str(code).split()).lower()


def backup_code_digest(code: str, *, secret: str | None = None) -> str:
    """The stored form of a backup code: HMAC-SHA256 keyed from SECRET_KEY (or `secret`)."""
    return salted_hmac(
        BACKUP_CODE_SALT,
        normalise_backup_code(code),
        secret=secret or settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()


def _candidate_digests(code: str) -> list[str]:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [backup_code_digest(code, secret=s) for s in secrets]


class BackupCodes(TimestampMixin, ThrottlingMixin, Device):
    """A user's set of one-time backup codes (each code works once, then is deleted)."""

    class Meta(Device.Meta):
        verbose_name = "backup codes"
        verbose_name_plural = "backup codes"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        match = self.codes.filter(digest__in=_candidate_digests(token or "")).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    """One unused backup code, as its keyed hash only."""

    device = models.ForeignKey(BackupCodes, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="backup_code_once_per_set")
        ]

    def __str__(self) -> str:
        return f"Backup code {self.pk}"
