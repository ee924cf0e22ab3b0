"""Writes for data-rights requests: record, assign, verify identity, move along the statuses,
answer, attach a job, remind the owner. Each writes one audit event and a timeline line."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from clinics.actors import Actor, actor_user, require, resolve
from clinics.audit import Actions
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import Clinic, Membership
from clinics.roles import Perm
from clinics.sequences import counter_next
from clinics.validators import hidden_character
from compliance import verification
from compliance.rights import rules
from compliance.rights.alerts import owner_alert
from compliance.rights.models import (
    OPEN_STATUSES,
    Channel,
    CorrectionDecision,
    IdType,
    Nomination,
    Requester,
    RightsKind,
    RightsRequest,
    RightsStatus,
    Verification,
)
from compliance.rights.services._common import audit, bounded_text, reply_text, timeline
from patients.models import Guardian, Patient
from patients.phones import to_e164

NOT_ALLOWED = "Your role cannot handle data-rights requests. Ask the clinic's owner or a doctor."
CANNOT_RECORD = "Your role cannot record data-rights requests."
ONLY_OWNER_ERASES = "Only the clinic's owner can approve an erasure."
NO_CONTACT = "Give a phone number or an email address, so the clinic can answer."
EMAIL_MAX = 254


def _requester_name(value: str) -> str:
    name = bounded_text(value, "requester_name", limit=200)
    if hidden_character(name) is not None:
        raise ValidationFailed(
            {"requester_name": ["The name contains an invisible character; type it again."]}
        )
    return name


def _requester_email(value: str) -> str:
    email = (value or "").strip()
    if not email:
        return ""
    if len(email) > EMAIL_MAX:
        raise ValidationFailed({"requester_email": [f"Keep this to {EMAIL_MAX} characters."]})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed({"requester_email": ["Enter a valid email address."]}) from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _reference(clinic_id: int, year: int) -> tuple[int, str]:
    # A counter per clinic and year: consecutive, unique, no gaps (locked until commit).
    number = counter_next(clinic_id=clinic_id, name=f"rights-{year}")
    return number, f"DR-{year}-{number:04d}"


def _requester_checks(
    *,
    kind: str,
    patient: Patient | None,
    requester: str,
    guardian: Guardian | None,
    nomination: Nomination | None,
    requester_name: str,
    channel: str,
    has_contact: bool,
) -> None:
    if requester not in Requester.values:
        raise ValidationFailed({"requester": [gettext("Say who is asking.")]})
    # A WhatsApp sender may not be linked to a patient yet: staff find the patient later.
    if patient is None and kind != RightsKind.GRIEVANCE and channel != Channel.WHATSAPP:
        raise ValidationFailed({"patient": [gettext("Choose the patient the request is about.")]})
    if requester == Requester.OTHER and (kind != RightsKind.GRIEVANCE or not requester_name):
        raise ValidationFailed(
            {
                "requester_name": [
                    gettext("Someone who is not a patient can raise a grievance; give their name.")
                ]
            }
        )
    if requester == Requester.OTHER and not has_contact:
        raise ValidationFailed({"requester_phone": [NO_CONTACT], "requester_email": [NO_CONTACT]})
    if requester == Requester.GUARDIAN and (
        guardian is None or patient is None or guardian.patient_id != patient.pk
    ):
        raise ValidationFailed({"guardian": [gettext("Choose one of the patient's guardians.")]})
    if requester == Requester.NOMINEE and (
        nomination is None
        or patient is None
        or nomination.patient_id != patient.pk
        or nomination.revoked_at is not None
    ):
        raise ValidationFailed(
            {"requester": [gettext("A nominee can ask only when the patient has one on record.")]}
        )


@transaction.atomic
def rights_request_create(
    *,
    clinic: Clinic,
    actor: Actor,
    kind: str,
    patient: Patient | None = None,
    requester: str = Requester.PATIENT,
    requester_name: str = "",
    requester_phone: str = "",
    requester_email: str = "",
    guardian: Guardian | None = None,
    nomination: Nomination | None = None,
    details: str = "",
    records_copy: bool = False,
    channel: str = Channel.DESK,
    source_reference: str = "",
    status: str = RightsStatus.RECEIVED,
    received_at: datetime | None = None,
) -> RightsRequest:
    """Record a data-rights request and give it the clinic's next reference (DR-2026-0001).

    Staff record on the patient's behalf (`rights.record`); Vaidya itself (actor None) records
    what a channel handed over. The answer is due by the clinic's target (at most 90 days), or
    within 72 hours for copies of medical records. Someone who is not a patient (requester
    other) may raise only a grievance, with their name and a phone number or an email address.
    """
    if actor is not None:
        require(actor, Perm.RIGHTS_RECORD, clinic_id=clinic.pk, message=CANNOT_RECORD)
    if kind not in RightsKind.values:
        raise ValidationFailed({"kind": [gettext("Choose what the request is for.")]})
    if channel not in Channel.values or status not in (
        RightsStatus.RECEIVED,
        RightsStatus.VERIFYING,
    ):
        raise DomainError(gettext("A request starts as received or being checked."))
    requester_name = _requester_name(requester_name)
    requester_email = _requester_email(requester_email)
    if nomination is not None:  # as it is now: it may have been withdrawn since it was read
        nomination = Nomination.objects.filter(pk=nomination.pk).first()
    _requester_checks(
        kind=kind,
        patient=patient,
        requester=requester,
        guardian=guardian,
        nomination=nomination,
        requester_name=requester_name,
        channel=channel,
        has_contact=bool((requester_phone or "").strip() or requester_email),
    )
    phone = ""
    if requester_phone:
        phone = to_e164(requester_phone) or ""
        if not phone:
            raise ValidationFailed({"requester_phone": [gettext("Enter a valid phone number.")]})
    received_at = received_at or timezone.now()
    copy = rules.copies_records(kind, records_copy)
    clinic = Clinic.objects.get(pk=clinic.pk)
    number, reference = _reference(clinic.pk, received_at.year)
    request = RightsRequest.objects.create(
        clinic_id=clinic.pk,
        number=number,
        reference=reference,
        kind=kind,
        patient=patient,
        requester=requester,
        requester_name=requester_name,
        requester_phone=phone,
        requester_email=requester_email,
        guardian=guardian if requester == Requester.GUARDIAN else None,
        nomination=nomination if requester == Requester.NOMINEE else None,
        details=bounded_text(details, "details"),
        records_copy=copy,
        channel=channel,
        source_reference=source_reference[:80],
        status=status,
        received_at=received_at,
        due_at=rules.due_at(
            received_at=received_at,
            clinic_target=clinic.rights_target_days,
            records_copy=copy,
        ),
        created_by=actor_user(actor),
    )
    with translation.override("en"):  # timeline notes are kept in English
        note = f"Received via {request.get_channel_display()}."
    timeline(request, actor, "recorded", note)
    audit(
        request,
        actor,
        Actions.RIGHTS_REQUEST_RECORDED,
        channel=channel,
        requester=requester,
        status=status,
    )
    return request


def _locked(request: RightsRequest) -> RightsRequest:
    return RightsRequest.objects.select_for_update().get(pk=request.pk)


@transaction.atomic
def rights_request_assign(
    *, request: RightsRequest, actor: Actor, owner: Membership | None
) -> RightsRequest:
    """Give the request an owner (a staff member of the clinic), or take it back."""
    require(actor, Perm.RIGHTS_HANDLE, clinic_id=request.clinic_id, message=NOT_ALLOWED)
    request = _locked(request)
    if not request.is_open:
        raise Conflict(gettext("This request is closed."))
    if owner is not None and (not owner.is_active or owner.clinic_id != request.clinic_id):
        raise ValidationFailed({"owner": [gettext("Choose an active staff member.")]})
    request.owner = owner
    request.reminded_at = None  # the new owner gets their own reminder
    request.save(update_fields=["owner", "reminded_at"])
    name = owner.user.full_name if owner is not None else "nobody"
    timeline(request, actor, "assigned", f"Owner: {name}.")
    audit(request, actor, Actions.RIGHTS_REQUEST_ASSIGNED, owner_id=owner.pk if owner else None)
    return request


def _cleaned_last4(id_type: str, id_last4: str) -> tuple[str, str]:
    if id_type not in IdType.values:
        raise ValidationFailed({"id_type": [gettext("Choose the kind of ID shown.")]})
    last4 = "".join(str(id_last4 or "").split()).upper()
    if len(last4) != 4 or not last4.isalnum():
        raise ValidationFailed(
            {
                "id_last4": [
                    gettext("Enter only the last 4 characters of the ID, never the whole number.")
                ]
            }
        )
    return id_type, last4


@transaction.atomic
def rights_request_send_code(*, request: RightsRequest, actor: Actor) -> None:
    """Send a one-time code to the patient's registered WhatsApp number, to check identity."""
    require(actor, Perm.RIGHTS_HANDLE, clinic_id=request.clinic_id, message=NOT_ALLOWED)
    if request.patient_id is None:
        raise DomainError(
            gettext("The request is not linked to a patient: check identity in person.")
        )
    patient = Patient.objects.get(pk=request.patient_id)
    verification.verification_code_send(patient=patient, subject=f"rights:{request.pk}")
    timeline(request, actor, "code_sent", "A one-time code was sent to the registered number.")


@transaction.atomic
def rights_request_verify(
    *,
    request: RightsRequest,
    actor: Actor,
    method: str,
    id_type: str = "",
    id_last4: str = "",
    code: str = "",
) -> RightsRequest:
    """Record how the requester's identity was checked: an ID seen in person (its type and
    last 4 characters only), the one-time code they read back, or a guardian known to the
    clinic. A request still "received" moves to "checking identity"."""
    access = require(actor, Perm.RIGHTS_HANDLE, clinic_id=request.clinic_id, message=NOT_ALLOWED)
    request = _locked(request)
    if request.status not in (RightsStatus.RECEIVED, RightsStatus.VERIFYING):
        raise Conflict(
            gettext("Identity is checked before the work starts; this request is past that.")
        )
    if method == Verification.IN_PERSON_ID:
        request.id_type, request.id_last4 = _cleaned_last4(id_type, id_last4)
    elif method == Verification.ONE_TIME_CODE:
        if request.patient_id is None:
            raise DomainError(
                gettext("The request is not linked to a patient: check identity in person.")
            )
        patient = Patient.objects.get(pk=request.patient_id)
        verification.verification_code_check(
            patient=patient, subject=f"rights:{request.pk}", code=code
        )
    elif method == Verification.GUARDIAN:
        if request.guardian_id is None:
            raise ValidationFailed({"method": [gettext("The request was not made by a guardian.")]})
    else:
        raise ValidationFailed({"method": [gettext("Say how identity was checked.")]})
    request.verification = method
    request.verified_at = timezone.now()
    request.verified_by = access.membership
    request.status = RightsStatus.VERIFYING
    request.save(
        update_fields=[
            "verification",
            "id_type",
            "id_last4",
            "verified_at",
            "verified_by",
            "status",
        ]
    )
    with translation.override("en"):
        note = f"Identity checked: {request.get_verification_display()}."
    timeline(request, actor, "verified", note)
    audit(request, actor, Actions.RIGHTS_REQUEST_VERIFIED, method=method)
    return request


def _check_move(request: RightsRequest, actor: Actor, new: str) -> None:
    if new not in RightsStatus.values or not rules.may_move(request.status, new):
        raise Conflict(
            gettext("A request that is %(old)s cannot become %(new)s.")
            % {
                "old": request.get_status_display().lower(),
                "new": RightsStatus(new).label.lower() if new in RightsStatus.values else new,
            },
            field="status",
        )
    starting = new == RightsStatus.IN_PROGRESS and request.status != RightsStatus.AWAITING_APPROVAL
    if starting and request.kind != RightsKind.GRIEVANCE and not request.verification:
        raise DomainError(
            gettext(
                "Check the requester's identity first (in person with an ID, a one-time code, "
                "or a guardian)."
            ),
            code="not_verified",
        )
    if new == RightsStatus.DONE and request.kind == RightsKind.ERASURE:
        require(
            actor,
            Perm.RIGHTS_APPROVE_ERASURE,
            clinic_id=request.clinic_id,
            message=ONLY_OWNER_ERASES,
        )
    if (
        new == RightsStatus.DONE
        and request.kind == RightsKind.CORRECTION
        and request.corrections.filter(decision=CorrectionDecision.PENDING).exists()
    ):
        raise Conflict(gettext("Approve or refuse every proposed correction first."))


@transaction.atomic
def rights_request_move(
    *, request: RightsRequest, actor: Actor, status: str, reply: str = "", reason: str = ""
) -> RightsRequest:
    """Move the request to `status` along the allowed transitions.

    Done and refused answer the requester: they need `reply` (and refused a `reason`), and the
    clinic's privacy contact, whom the stored answer names. An erasure is done only with the
    owner's approval; work starts only once identity was checked (not for a grievance).
    """
    require(actor, Perm.RIGHTS_HANDLE, clinic_id=request.clinic_id, message=NOT_ALLOWED)
    request = _locked(request)
    _check_move(request, actor, status)
    old = request.status
    fields = ["status"]
    if status in rules.ANSWERS:
        text = bounded_text(reply, "reply", required=True)
        if status == RightsStatus.REFUSED:
            request.refusal_reason = bounded_text(reason, "reason", required=True)
            fields.append("refusal_reason")
        request.reply = reply_text(
            request=request, clinic=Clinic.objects.get(pk=request.clinic_id), text=text
        )
        fields.append("reply")
    if status in rules.CLOSED:
        request.closed_at = timezone.now()
        fields.append("closed_at")
    request.status = status
    request.save(update_fields=fields)
    with translation.override("en"):  # the timeline keeps its notes as written, in English
        note = f"{RightsStatus(old).label} -> {request.get_status_display()}."
    if status == RightsStatus.REFUSED:
        note += f" Reason: {request.refusal_reason}"
    timeline(request, actor, "status", note)
    action = (
        Actions.RIGHTS_REQUEST_ANSWERED
        if status in rules.ANSWERS
        else Actions.RIGHTS_REQUEST_STATUS_CHANGED
    )
    audit(request, actor, action, status_from=old, status_to=status)
    return request


@transaction.atomic
def rights_request_attach_job(
    *, request: RightsRequest, kind: str, job_id: str | int, actor: Actor = None
) -> RightsRequest:
    """Attach the job doing the request's work (an export, an erasure) by kind and id.

    The entry point for the export and erasure jobs: the request names the job, its timeline
    says when it was attached, and a request still waiting moves to "in progress".
    """
    kind = str(kind or "").strip()[:30]
    job = str(job_id or "").strip()[:64]
    if not kind or not job:
        raise ValidationFailed({"job": [gettext("Give the job's kind and id.")]})
    request = _locked(request)
    if not request.is_open:
        raise Conflict(gettext("This request is closed."))
    request.job_kind, request.job_id = kind, job
    fields = ["job_kind", "job_id"]
    if request.status == RightsStatus.VERIFYING and request.verification:
        request.status = RightsStatus.IN_PROGRESS
        fields.append("status")
    request.save(update_fields=fields)
    timeline(request, actor, "job", f"Work attached: {kind} {job}.")
    audit(request, actor, Actions.RIGHTS_REQUEST_JOB_ATTACHED, job_kind=kind, job_id=job)
    return request


def rights_requests_remind(*, clinic_id: int, now: datetime | None = None) -> int:
    """Remind each owner once of their open requests due within a day (or already late).

    Runs inside the clinic's scope and transaction (`for_each_clinic`). The reminder is a line
    on the timeline and the dashboard's "due soon" list, plus the owner's staff alerts when a
    higher app registered one (`compliance.rights.alerts`). Returns how many were reminded.
    """
    now = now or timezone.now()
    due = list(
        RightsRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            status__in=OPEN_STATUSES,
            owner__isnull=False,
            reminded_at__isnull=True,
            due_at__lte=now + rules.REMIND_BEFORE,
        )
        .select_related("owner__user")
        .order_by("due_at", "id")[:500]
    )
    for request in due:
        request.reminded_at = now
        request.save(update_fields=["reminded_at"])
        late = request.due_at <= now
        timeline(request, None, "reminded", "Owner reminded: " + ("late." if late else "due soon."))
        audit(request, None, Actions.RIGHTS_REQUEST_REMINDED, owner_id=request.owner_id)
        owner_alert(request=request, membership=request.owner, late=late)
    return len(due)


def actor_membership(actor: Actor, clinic_id: int) -> Membership:
    """The acting person's membership (clinical corrections need a person)."""
    membership = resolve(actor, clinic_id=clinic_id).membership
    if membership is None:
        raise NotAllowed("A staff member must do this, not a connected system.")
    return membership
