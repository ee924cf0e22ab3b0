"""One-time codes to a patient's registered WhatsApp number: proof that whoever opens a page
is the patient (their document link today, their privacy page next).

A code is 6 digits, lives 10 minutes and allows 5 tries; asking for a new one retires the
last. At most 3 codes go out per subject and hour. Only a keyed hash is stored (HMAC-SHA256
keyed from SECRET_KEY, the way backup codes are; SECRET_KEY_FALLBACKS still check).

`compliance` does not send WhatsApp messages itself: `messaging` registers a `CodeSender` in
`code_senders` from its `AppConfig.ready()` (checklist on `CodeSender`). The code goes only to
the number on the patient's record, never to one typed on a page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, ngettext

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.registry import Registry
from compliance.models import VerificationCode
from patients.models import Patient

CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_TRIES = 5
SENDS_PER_HOUR = 3
DIGEST_SALT = "vaidya.compliance.verification-code"


@dataclass(frozen=True)
class CodeSender:
    """How a one-time code reaches a patient (messaging registers the WhatsApp one).

    Checklist: `send(patient=, code=, minutes=)` delivers `code` to the patient's registered
    number, inside the caller's transaction (queue the message; deliver after commit), and
    raises `DomainError` with a message a patient can read when it cannot. The first entry
    (by `order`) is used.
    """

    name: str
    order: int
    send: Callable[..., object]


code_senders: Registry[CodeSender] = Registry("one-time code senders")


class CodeProblem(DomainError):
    """The code was refused; `code` says why: wrong, expired, locked, missing, throttled."""


def code_digest(*, patient_id: int, subject: str, code: str, secret: str | None = None) -> str:
    """The stored form of a code, bound to its patient and subject."""
    return salted_hmac(
        DIGEST_SALT,
        f"{patient_id}:{subject}:{code}",
        secret=secret or settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()


def _matches(row: VerificationCode, code: str) -> bool:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        constant_time_compare(
            row.digest,
            code_digest(patient_id=row.patient_id, subject=row.subject, code=code, secret=key),
        )
        for key in keys
    )


def _latest(patient: Patient, subject: str) -> VerificationCode | None:
    return (
        VerificationCode.objects.select_for_update()
        .filter(patient_id=patient.pk, subject=subject, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def verification_code_send(*, patient: Patient, subject: str) -> VerificationCode:
    """Send a fresh code for `subject` to the patient's registered number.

    Raises CodeProblem("throttled") past SENDS_PER_HOUR codes in an hour, and the sender's
    DomainError when the code cannot go out (nothing is stored then).
    """
    now = timezone.now()
    # Serialise concurrent asks for the same patient so the hourly count holds.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    recent = list(
        VerificationCode.objects.filter(
            patient_id=patient.pk, subject=subject, created_at__gt=now - timedelta(hours=1)
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) >= SENDS_PER_HOUR:
        wait = max(1, int((recent[0] + timedelta(hours=1) - now).total_seconds() // 60) + 1)
        raise CodeProblem(
            gettext(
                "We have already sent %(count)s codes in the last hour. Please use the latest "
                "code, or ask for a new one in %(wait)s minutes."
            )
            % {"count": SENDS_PER_HOUR, "wait": wait},
            code="throttled",
        )
    sender = code_senders.first()
    if sender is None:
        raise CodeProblem(gettext("Codes cannot be sent at the moment. Please ask the clinic."))
    VerificationCode.objects.filter(
        patient_id=patient.pk, subject=subject, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = VerificationCode.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        subject=subject[:80],
        digest=code_digest(patient_id=patient.pk, subject=subject[:80], code=code),
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    sender.send(patient=patient, code=code, minutes=CODE_MINUTES)
    audit_record(
        clinic=patient.clinic_id,
        actor=None,
        action=Actions.VERIFICATION_CODE_SENT,
        target=row,
        patient_id=patient.pk,
        data={"subject": row.subject, "via": sender.name},
    )
    return row


def _normalised(code: str) -> str:
    return "".join(str(code or "").split())[:20]


def verification_code_check(*, patient: Patient, subject: str, code: str) -> None:
    """Accept the patient's latest code for `subject` once; raise CodeProblem otherwise.

    A wrong try counts even though the check then fails (the count is committed before the
    error is raised); the sixth try is refused even with the right code.
    """
    outcome, left = _check(patient, subject, _normalised(code))
    if outcome == "ok":
        return
    messages = {
        "missing": gettext("Ask for a code first."),
        "expired": gettext("This code has expired. Ask for a new one."),
        "locked": gettext("Too many wrong tries. Ask for a new code."),
        "wrong": ngettext(
            "That code is not right. %(left)s try left.",
            "That code is not right. %(left)s tries left.",
            left,
        )
        % {"left": left},
    }
    if outcome == "wrong" and left <= 0:
        outcome = "locked"
    raise CodeProblem(messages[outcome], field="code", code=outcome)


@transaction.atomic
def _check(patient: Patient, subject: str, code: str) -> tuple[str, int]:
    now = timezone.now()
    row = _latest(patient, subject)
    if row is None:
        return "missing", 0
    if row.expires_at <= now:
        outcome = "expired"
    elif row.attempts >= MAX_TRIES:
        outcome = "locked"
    else:
        row.attempts += 1
        outcome = "ok" if code.isdigit() and _matches(row, code) else "wrong"
        if outcome == "ok":
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
    audit_record(
        clinic=patient.clinic_id,
        actor=None,
        action=Actions.VERIFICATION_CODE_CHECKED,
        target=row,
        patient_id=patient.pk,
        data={"subject": row.subject, "outcome": outcome, "try": row.attempts},
    )
    return outcome, MAX_TRIES - row.attempts
