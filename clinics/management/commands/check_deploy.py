"""Check this installation's own production configuration before it serves a clinic.

It reads the settings the way every Vaidya process does (the environment, then `.env` beside
manage.py), substitutes nothing and writes no key file (manage.py runs it with the keys
read-only). Each missing or unsafe setting is named with what to do; an error exits with
status 1, a warning (a choice that is fine on one machine) does not. Django's own deployment
checks run too. `make check-deploy` runs it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from clinics.audit_keys import MIN_KEY_LENGTH

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
# Django's deployment checks that this command already reports in its own words.
COVERED = {"security.W009", "security.W018", "security.W020"}
# Those that DEBUG=false turns on by default (secure cookies, HSTS, the HTTPS redirect): with
# DEBUG on, the DEBUG error says it.
FOLLOW_DEBUG = {"security.W004", "security.W008", "security.W012", "security.W016"}
WEAK_KEY_LENGTH = 50


def _key_source(variable: str, file_name: str) -> str:
    """Where a key comes from: "environment", "file" (generated into the data folder) or ""."""
    if os.environ.get(variable, "").strip():
        return "environment"
    if (Path(settings.DATA_DIR) / file_name).exists():
        return "file"
    return ""


def _secret_key() -> str:
    try:
        return settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses an empty one
        return ""


def _weak(key: str) -> bool:
    """Django's measure: short, few distinct characters, or the one startproject makes."""
    return len(key) < WEAK_KEY_LENGTH or len(set(key)) < 5 or key.startswith("django-insecure-")


def _valid_fernet_key(key: str) -> bool:
    try:
        Fernet(key.strip())
    except ValueError:
        return False
    return True


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def check_core(report: Report) -> None:
    if settings.DEBUG:
        report.error(
            "DEBUG is on: set DEBUG=false (error pages would show settings and code, and the "
            "secure cookies, HSTS and the HTTPS redirect stay off)."
        )
    if getattr(settings, "DEVTOOLS", False):
        report.error("DEVTOOLS is on: unset it (the WhatsApp simulator is for development).")
    hosts = [h for h in settings.ALLOWED_HOSTS if h]
    if not os.environ.get("ALLOWED_HOSTS", "").strip() or not hosts:
        report.error(
            "ALLOWED_HOSTS is not set: set it to the host name(s), e.g. clinic.example.in."
        )
    elif "*" in hosts:
        report.error("ALLOWED_HOSTS contains '*': name the host names Vaidya answers to.")
    elif set(hosts) <= LOCAL_HOSTS:
        report.error("ALLOWED_HOSTS names only this machine: add the public host name.")
    site = urlsplit(settings.SITE_URL)
    if site.scheme != "https" or not site.hostname:
        report.error(
            f"SITE_URL is {settings.SITE_URL!r}: set the public https:// address (links in "
            "emails and on WhatsApp use it)."
        )


def check_keys(report: Report) -> None:
    source = _key_source("SECRET_KEY", "secret_key")
    if not source:
        report.error(
            "SECRET_KEY is not set: make one with `manage.py generate_secret_key` and set it."
        )
    elif _weak(_secret_key()):
        report.error(
            f"SECRET_KEY is weak (fewer than {WEAK_KEY_LENGTH} characters or too repetitive): "
            "make one with `manage.py generate_secret_key`."
        )
    elif source == "file":
        report.warning(
            f"SECRET_KEY comes from {settings.DATA_DIR}/secret_key: fine on one machine; set "
            "SECRET_KEY when several machines serve Vaidya."
        )
    source = _key_source("ENCRYPTION_KEYS", "encryption_key")
    if not source:
        report.error(
            "ENCRYPTION_KEYS is not set: make a key with `manage.py generate_encryption_key`, "
            "set it, and keep a copy apart from the backups it protects."
        )
    elif not all(_valid_fernet_key(k) for k in settings.ENCRYPTION_KEYS):
        report.error(
            "ENCRYPTION_KEYS holds a value that is not a key: make one with "
            "`manage.py generate_encryption_key`."
        )
    elif source == "file":
        report.warning(
            f"ENCRYPTION_KEYS comes from {settings.DATA_DIR}/encryption_key: fine on one "
            "machine; set ENCRYPTION_KEYS when several machines serve Vaidya."
        )
    check_audit_keys(report)


def check_audit_keys(report: Report) -> None:
    source = _key_source("AUDIT_KEYS", "audit_key")
    if not source:
        report.error(
            "AUDIT_KEYS is not set: make a key with `manage.py generate_audit_key`, set it, and "
            "keep it apart from the database backups (it seals the audit trail)."
        )
    elif any(len(k) < MIN_KEY_LENGTH for k in settings.AUDIT_KEYS):
        report.error(
            f"AUDIT_KEYS holds a key shorter than {MIN_KEY_LENGTH} characters: make one with "
            "`manage.py generate_audit_key`."
        )
    elif source == "file":
        report.warning(
            f"AUDIT_KEYS comes from {settings.DATA_DIR}/audit_key: fine on one machine; set "
            "AUDIT_KEYS when several machines serve Vaidya."
        )


def check_services(report: Report) -> None:
    if settings.SECURE_SSL_REDIRECT and not settings.BEHIND_TLS_PROXY:
        report.warning(
            "BEHIND_TLS_PROXY is not set: Vaidya redirects every plain-HTTP request to https. "
            "Behind a proxy that ends TLS and sets X-Forwarded-Proto, set BEHIND_TLS_PROXY=true "
            "(otherwise every page redirects to itself)."
        )
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        report.warning(
            "DATABASE_URL is not set: SQLite in the data folder (one machine only; "
            "PostgreSQL for more)."
        )
    if "redis" not in settings.Q_CLUSTER:
        report.warning("REDIS_URL is not set: tasks queue in the database (one machine only).")
    if settings.STORAGES["default"]["BACKEND"] == "clinics.storage.EncryptedFileSystemStorage":
        report.warning(
            f"S3_BUCKET is not set: documents are kept in {settings.MEDIA_ROOT} (back it up "
            "with the database)."
        )
    if settings.EMAIL_BACKEND.endswith(".console.EmailBackend"):
        report.warning(
            "EMAIL_URL is not set: emails (invitations, password resets) are printed, not sent."
        )


def check_django(report: Report) -> None:
    """Django's own deployment checks (HSTS, cookies and the rest), minus what is above."""
    skipped = COVERED | FOLLOW_DEBUG if settings.DEBUG else COVERED
    for message in checks.run_checks(include_deployment_checks=True):
        if message.id in skipped or message.is_silenced():
            continue
        text = f"{message.msg} {message.hint or ''} ({message.id})".replace("  ", " ")
        if message.level >= checks.WARNING:
            report.error(text)


class Command(BaseCommand):
    help = (
        "Check this installation's production configuration (environment and .env): names each "
        "missing or unsafe setting and exits with status 1 on an error."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        report = Report()
        for check in (check_core, check_keys, check_services, check_django):
            check(report)
        for message in report.warnings:
            self.stdout.write(self.style.WARNING(f"WARN  {message}"))
        for message in report.errors:
            self.stderr.write(self.style.ERROR(f"FAIL  {message}"))
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} setting(s) to fix before serving patients; see above.",
                returncode=1,
            )
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS("The production configuration is complete."))
