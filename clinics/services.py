"""Writes for clinics, their staff and invitations.

API keys are written by `clinics.api_keys`, and a person's own sign-in (two-factor devices,
sign-in records, password resets) by `clinics.account_security`; their names are importable
from here too, so callers may keep using `clinics.services`. At about 500 lines, the next seam
to move out is invitations.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from clinics.account_security import (
    staff_password_reset,
    staff_signed_in,
    totp_device_confirm,
    totp_device_start,
    two_factor_disable,
)
from clinics.api_keys import API_KEY_PREFIX, api_key_create, api_key_digest, api_key_revoke
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.guards import require_within_limit
from clinics.models import Clinic, DoctorProfile, Invitation, Membership, User
from clinics.registry import clinic_setup
from clinics.roles import Role
from clinics.tenancy import clinic_scope, find_by_public_token

__all__ = [
    "API_KEY_PREFIX",
    "CLINIC_EDITABLE_FIELDS",
    "api_key_create",
    "api_key_digest",
    "api_key_revoke",
    "audit_trail_viewed",
    "clinic_create",
    "clinic_update",
    "doctor_profile_update",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_revoke",
    "membership_add",
    "membership_change_role",
    "membership_deactivate",
    "membership_reactivate",
    "staff_password_reset",
    "staff_signed_in",
    "totp_device_confirm",
    "totp_device_start",
    "two_factor_disable",
]

CLINIC_EDITABLE_FIELDS = (
    "name",
    "address",
    "city",
    "pincode",
    "state_code",
    "phone",
    "email",
    "timezone",
    "gstin",
    "letterhead_tagline",
    "timings",
    "registration_details",
    "booking_horizon_days",
    "require_two_factor",
    "privacy_contact_name",
    "privacy_contact_email",
    "privacy_contact_phone",
    "rights_target_days",
)


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from exc


def _check_field(model: type, field: str, value) -> None:
    """Runs the model field's own validators (length, hidden characters) on one value."""
    try:
        model._meta.get_field(field).run_validators(value)
    except ValidationError as exc:
        raise ValidationFailed({field: exc.messages}) from exc


def _check_gstin_state(clinic: Clinic) -> None:
    if clinic.gstin and clinic.gstin[:2] != clinic.state_code:
        raise ValidationFailed(
            {
                "gstin": [
                    "This GSTIN belongs to another state than the clinic's (its first two "
                    "digits are the state code)."
                ]
            }
        )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "clinic"
    slug, n = base, 1
    while Clinic.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def clinic_create(*, name: str, state_code: str, owner: User, slug: str = "", **fields) -> Clinic:
    """Create a clinic with `owner` as its first owner."""
    if slug and Clinic.objects.filter(slug=slug).exists():
        raise DomainError("Another clinic already uses this short name.", field="slug")
    unknown = set(fields) - set(CLINIC_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown clinic fields: {', '.join(sorted(unknown))}")
    clinic = Clinic(name=name, state_code=state_code, slug=slug or _unique_slug(name), **fields)
    clinic.gstin = (clinic.gstin or "").upper().replace(" ", "")
    _full_clean(clinic)
    _check_gstin_state(clinic)
    clinic.save()
    with clinic_scope(clinic):
        membership = Membership.objects.create(clinic=clinic, user=owner, role=Role.OWNER)
        audit_record(clinic=clinic, actor=owner, action=Actions.CLINIC_CREATED, target=clinic)
        audit_record(
            clinic=clinic,
            actor=owner,
            action=Actions.MEMBERSHIP_CREATED,
            target=membership,
            data={"role": Role.OWNER, "user_id": owner.pk},
        )
        for setup in clinic_setup:
            setup.run(clinic=clinic)
    return clinic


@transaction.atomic
def clinic_update(
    *, clinic: Clinic, actor: User, logo=None, remove_logo: bool = False, **changes
) -> Clinic:
    """Change a clinic's settings. Records which fields changed (not their values).

    `logo` is a new letterhead image (checked by the form); `remove_logo` takes it off. The
    previous logo file stays in storage: documents already issued were rendered with it.
    """
    unknown = set(changes) - set(CLINIC_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown clinic fields: {', '.join(sorted(unknown))}")
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    changed = []
    for field, value in changes.items():
        if field == "gstin":
            value = (value or "").upper().replace(" ", "")
        if getattr(clinic, field) != value:
            setattr(clinic, field, value)
            changed.append(field)
    if logo is not None:
        # A new file is held to the plan's storage (nothing is written when it is refused).
        require_within_limit(
            clinic.pk, "storage_mb", adding=getattr(logo, "size", 0) or 0, field="logo"
        )
        clinic.logo = logo
        changed.append("logo")
    elif remove_logo and clinic.logo:
        clinic.logo = ""
        changed.append("logo")
    if not changed:
        return clinic
    _full_clean(clinic)
    _check_gstin_state(clinic)
    clinic.save(update_fields=changed)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.CLINIC_UPDATED,
        target=clinic,
        data={"fields": sorted(changed)},
    )
    return clinic


def _ensure_an_owner_remains(membership: Membership, *, new_role: str | None, active: bool) -> None:
    if membership.role != Role.OWNER or (active and new_role == Role.OWNER):
        return
    other_owners = (
        Membership.objects.filter(role=Role.OWNER, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not other_owners:
        raise Conflict("A clinic needs at least one active owner. Make someone else owner first.")


def _check_doctor_limit(clinic_id: int, role: str) -> None:
    """A new active doctor must fit the clinic's plan (billing's subscriptions, if any)."""
    if role == Role.DOCTOR:
        with clinic_scope(clinic_id):
            require_within_limit(clinic_id, "doctors")


@transaction.atomic
def membership_change_role(*, membership: Membership, actor: User, role: str) -> Membership:
    """Give a staff member another role."""
    if role not in Role.values:
        raise DomainError("Choose one of the listed roles.", field="role")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    _ensure_an_owner_remains(membership, new_role=role, active=True)
    if membership.is_active:
        _check_doctor_limit(membership.clinic_id, role)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        clinic=membership.clinic_id,
        actor=actor,
        action=Actions.MEMBERSHIP_ROLE_CHANGED,
        target=membership,
        data={"from": old, "to": role, "user_id": membership.user_id},
    )
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership, actor: User) -> Membership:
    """Remove a staff member's access to the clinic; their history stays."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        return membership
    _ensure_an_owner_remains(membership, new_role=None, active=False)
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        clinic=membership.clinic_id,
        actor=actor,
        action=Actions.MEMBERSHIP_DEACTIVATED,
        target=membership,
        data={"user_id": membership.user_id},
    )
    return membership


@transaction.atomic
def membership_reactivate(*, membership: Membership, actor: User) -> Membership:
    """Give a deactivated staff member their access back, with the role they had."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.is_active:
        return membership
    _check_doctor_limit(membership.clinic_id, membership.role)
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        clinic=membership.clinic_id,
        actor=actor,
        action=Actions.MEMBERSHIP_REACTIVATED,
        target=membership,
        data={"user_id": membership.user_id},
    )
    return membership


@transaction.atomic
def doctor_profile_update(
    *,
    membership: Membership,
    actor: User,
    qualifications: str,
    medical_council: str,
    registration_number: str,
    specialisation: str = "",
    signature=None,
) -> DoctorProfile:
    """Create or update the registration details a doctor's documents carry."""
    if membership.role not in (Role.DOCTOR, Role.OWNER):
        raise DomainError("Only doctors (or owners who practise) have a doctor profile.")
    profile = DoctorProfile.objects.filter(membership=membership).first() or DoctorProfile(
        clinic_id=membership.clinic_id, membership=membership
    )
    profile.qualifications = qualifications.strip()
    profile.medical_council = medical_council.strip()
    profile.registration_number = registration_number.strip()
    profile.specialisation = specialisation.strip()
    if signature is not None:
        require_within_limit(
            membership.clinic_id,
            "storage_mb",
            adding=getattr(signature, "size", 0) or 0,
            field="signature",
        )
        profile.signature = signature
    _full_clean(profile, exclude=["membership", "clinic"])
    profile.save()
    audit_record(
        clinic=membership.clinic_id,
        actor=actor,
        action=Actions.DOCTOR_PROFILE_UPDATED,
        target=profile,
        data={"user_id": membership.user_id, "signature_changed": signature is not None},
    )
    return profile


# ---------------------------------------------------------------------------------------------
# Invitations


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(*, clinic: Clinic, actor: User, email: str, role: str) -> Invitation:
    """Invite someone by email to join the clinic with a role. Sends the link after commit."""
    email = (email or "").strip().lower()
    if role not in Role.values:
        raise DomainError("Choose one of the listed roles.", field="role")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("Enter a valid email address.", field="email") from exc
    if Membership.objects.filter(user__email=email, is_active=True).exists():
        raise Conflict("This person already works at this clinic.", field="email")
    _check_doctor_limit(clinic.pk, role)
    now = timezone.now()
    Invitation.objects.filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        clinic=clinic,
        email=email,
        role=role,
        token_digest=_digest(token),
        invited_by=actor,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.INVITATION_CREATED,
        target=invitation,
        data={"role": role},
    )
    link = settings.SITE_URL + reverse("invitation-accept", args=[token])
    role_label = Role(role).label
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {clinic.name} on Vaidya",
            message=(
                f"{actor.full_name} has invited you to join {clinic.name} on Vaidya as "
                f"{role_label}.\n\nAccept the invitation here (valid for "
                f"{settings.INVITATION_VALID_DAYS} days):\n{link}\n\n"
                "If you did not expect this, ignore this email."
            ),
            from_email=None,
            recipient_list=[email],
        )
    )
    invitation.token = token  # only on the returned object, for the caller to show once
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """Find an open invitation by its link token (before any clinic scope exists)."""
    found = find_by_public_token(Invitation, token_digest=_digest(token))
    if found is None:
        return None
    invitation_id, clinic_id = found
    with clinic_scope(clinic_id):
        invitation = Invitation.objects.select_related("clinic", "invited_by").get(pk=invitation_id)
    return invitation if invitation.is_open else None


@transaction.atomic
def invitation_accept(
    *, token: str, user: User | None = None, full_name: str = "", password: str = ""
) -> Membership:
    """Accept an invitation: as the signed-in user, or by creating an account for its email."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise DomainError("This invitation link has expired, was revoked or was already used.")
    if user is None:
        if User.objects.filter(email=invitation.email).exists():  # users belong to no clinic
            raise DomainError("An account with this email exists: sign in to accept.")
        if not full_name.strip():
            raise DomainError("Enter your full name.", field="full_name")
        _check_field(User, "full_name", full_name.strip())
        candidate = User(email=invitation.email, full_name=full_name.strip())
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise ValidationFailed({"password": exc.messages}) from exc
        user = User.objects.create_user(invitation.email, password, full_name=full_name.strip())
    elif user.email.lower() != invitation.email:
        raise NotAllowed(
            f"This invitation is for {invitation.email}. Sign in with that address to accept it."
        )
    with clinic_scope(invitation.clinic):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise DomainError("This invitation was already used.")
        _check_doctor_limit(invitation.clinic_id, invitation.role)
        membership = Membership.objects.filter(user=user).first()
        if membership:
            membership.role, membership.is_active, membership.deactivated_at = (
                invitation.role,
                True,
                None,
            )
            membership.save(update_fields=["role", "is_active", "deactivated_at"])
        else:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        clinic=invitation.clinic, user=user, role=invitation.role
                    )
            except IntegrityError as exc:
                raise Conflict("You already work at this clinic.") from exc
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            clinic=invitation.clinic,
            actor=user,
            action=Actions.INVITATION_ACCEPTED,
            target=membership,
            data={"role": invitation.role, "invitation_id": invitation.pk},
        )
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw an invitation that has not been used."""
    if invitation.accepted_at:
        raise DomainError("This invitation was already accepted.")
    if invitation.revoked_at:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        clinic=invitation.clinic_id,
        actor=actor,
        action=Actions.INVITATION_REVOKED,
        target=invitation,
    )
    return invitation


# ---------------------------------------------------------------------------------------------
# Audit trail


@transaction.atomic
def audit_trail_viewed(*, clinic: Clinic, actor: User, filters: dict) -> None:
    """Record that someone read the audit trail, and with which filters (ids and dates only)."""
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.AUDIT_VIEWED,
        patient_id=filters.get("patient_id"),
        data={"filters": filters},
    )


@transaction.atomic
def membership_add(*, clinic: Clinic, actor: User | None, user: User, role: str) -> Membership:
    """Add an existing account to a clinic's staff with a role.

    For ops commands and the demo clinic; people joining through the web accept an invitation.
    """
    if role not in Role.values:
        raise DomainError("Choose one of the listed roles.", field="role")
    with clinic_scope(clinic):
        if Membership.objects.filter(user=user).exists():
            raise Conflict("This person already works at this clinic.", field="email")
        _check_doctor_limit(clinic.pk, role)
        membership = Membership.objects.create(clinic=clinic, user=user, role=role)
        audit_record(
            clinic=clinic,
            actor=actor,
            action=Actions.MEMBERSHIP_CREATED,
            target=membership,
            data={"role": role, "user_id": user.pk},
        )
    return membership
