"""The tenant root: clinics, the people who work there, API keys and the audit trail.

Kept as one module a little past 500 lines: every other app imports these models from here,
and the seam to split along (the audit trail's four tables) is next when it grows again."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.timezone import now
from phonenumber_field.modelfields import PhoneNumberField

from clinics.dates import (
    DEFAULT_BOOKING_HORIZON_DAYS,
    MAX_BOOKING_HORIZON_DAYS,
    MIN_BOOKING_HORIZON_DAYS,
)
from clinics.roles import Role, perms_for
from clinics.scoping import ClinicScopedManager
from clinics.states import STATE_CHOICES, state_name
from clinics.storage import object_key
from clinics.two_factor import AuthenticatorApp, BackupCode, BackupCodes  # noqa: F401 - registers them
from clinics.validators import VisibleText, validate_gstin_format, validate_pincode

# ---------------------------------------------------------------------------------------------
# People


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Their access to a clinic comes from a Membership."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, validators=[VisibleText("full name")])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        "Django admin access", default=False, help_text="Superusers only; not clinic staff."
    )
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


# ---------------------------------------------------------------------------------------------
# Clinics


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Unknown time zone. Use a name like Asia/Kolkata.")


def _image_key(clinic_id: int, kind: str, filename: str) -> str:
    # No personal data in object keys: clinic id, kind and a random id only.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = {"jpeg": "jpg"}.get(extension, extension)
    return object_key(
        clinic_id=clinic_id,
        kind=kind,
        extension=extension if extension in ("png", "jpg") else "png",
    )


def signature_upload_to(instance: DoctorProfile, filename: str) -> str:
    return _image_key(instance.clinic_id, "signatures", filename)


def clinic_logo_upload_to(instance: Clinic, filename: str) -> str:
    return _image_key(instance.pk, "logos", filename)


class Clinic(models.Model):
    """A clinic: the tenant. Everything a clinic owns points here and is scoped to it."""

    name = models.CharField(max_length=200, validators=[VisibleText("clinic name")])
    slug = models.SlugField(max_length=60, unique=True)
    address = models.TextField(blank=True, validators=[VisibleText("address", multiline=True)])
    city = models.CharField(max_length=100, blank=True, validators=[VisibleText("city")])
    pincode = models.CharField(max_length=6, blank=True, validators=[validate_pincode])
    state_code = models.CharField("state", max_length=2, choices=STATE_CHOICES)
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    timezone = models.CharField(
        max_length=64, default="Asia/Kolkata", validators=[validate_timezone]
    )
    gstin = models.CharField("GSTIN", max_length=15, blank=True, validators=[validate_gstin_format])
    # Letterhead
    letterhead_tagline = models.CharField(
        max_length=200, blank=True, validators=[VisibleText("letterhead tagline")]
    )
    timings = models.CharField(
        max_length=200,
        blank=True,
        help_text="For example: Mon-Sat 10:00-13:00, 17:00-20:00",
        validators=[VisibleText("timings")],
    )
    registration_details = models.CharField(
        max_length=200,
        blank=True,
        help_text="Clinical establishment registration number and authority.",
        validators=[VisibleText("registration details")],
    )
    logo = models.ImageField(upload_to=clinic_logo_upload_to, blank=True)
    require_two_factor = models.BooleanField(
        default=False, help_text="Every staff member must use a two-factor code to sign in."
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        "booking horizon (days)",
        default=DEFAULT_BOOKING_HORIZON_DAYS,
        validators=[
            MinValueValidator(MIN_BOOKING_HORIZON_DAYS),
            MaxValueValidator(MAX_BOOKING_HORIZON_DAYS),
        ],
        help_text="How many days ahead an appointment can be booked.",
    )
    # Data-rights requests (DPDP Rule 9): every reply names this person; and the clinic's own
    # target for answering, never above the law's 90 days.
    privacy_contact_name = models.CharField(
        "privacy contact", max_length=200, blank=True, validators=[VisibleText("contact name")]
    )
    privacy_contact_email = models.EmailField("privacy contact email", blank=True)
    privacy_contact_phone = PhoneNumberField("privacy contact phone", blank=True)
    rights_target_days = models.PositiveSmallIntegerField(
        "answer data requests within (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def state_name(self) -> str:
        return state_name(self.state_code)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(models.Model):
    """A person's role at one clinic. Deactivated memberships keep their history."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "user"], name="uniq_membership_clinic_user")
        ]
        ordering = ["clinic", "user__full_name"]

    def __str__(self) -> str:
        return f"{self.user} at {self.clinic} ({self.get_role_display()})"

    @property
    def perms(self) -> frozenset[str]:
        return perms_for(self.role) if self.is_active else frozenset()

    def has_perm(self, perm: str) -> bool:
        return perm in self.perms


class DoctorProfile(models.Model):
    """What the law asks a doctor's documents to carry (IMC regulations 1.4.2)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="doctor_profiles")
    membership = models.OneToOneField(
        Membership, on_delete=models.PROTECT, related_name="doctor_profile"
    )
    qualifications = models.CharField(
        max_length=200,
        help_text="For example: MBBS, MD (Medicine)",
        validators=[VisibleText("qualifications")],
    )
    medical_council = models.CharField(
        max_length=120,
        help_text="For example: Karnataka Medical Council",
        validators=[VisibleText("medical council")],
    )
    registration_number = models.CharField(
        max_length=40, validators=[VisibleText("registration number")]
    )
    specialisation = models.CharField(
        max_length=120, blank=True, validators=[VisibleText("specialisation")]
    )
    signature = models.ImageField(upload_to=signature_upload_to, blank=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"Dr {self.membership.user} ({self.registration_number})"


class Invitation(models.Model):
    """An owner's invitation to join the clinic with a role. The link's token is stored hashed."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.clinic}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now()


class ApiKey(models.Model):
    """A clinic's key for integrators. Only a SHA-256 digest of the token is kept.

    The token is 256 bits of randomness, so a fast digest is as safe as a slow password hash
    here and costs microseconds instead of tens of milliseconds on every request.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The start of the token, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        default=Role.FRONT_DESK,
        help_text="The key may do what this role may do.",
    )
    read_only = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def perms(self) -> frozenset[str]:
        return perms_for(self.role, read_only=self.read_only) if self.is_active else frozenset()

    def has_perm(self, perm: str) -> bool:
        return perm in self.perms


class ClinicCounter(models.Model):
    """Per-clinic sequences (patient numbers, later invoice and certificate numbers)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=40)
    value = models.BigIntegerField(default=0)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="uniq_counter_clinic_name")
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, replayed for retries."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    principal = models.CharField(max_length=40, help_text="key:<id> or user:<id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "principal", "key"], name="uniq_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


# ---------------------------------------------------------------------------------------------
# Audit trail

SEAL_FIELDS = frozenset({"seq", "prev_hash", "hash", "key_id"})


class AuditImmutableError(Exception):
    """Audit events are append-only."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Only the sealer may write, only the seal columns, and only on unsealed rows.
        if set(kwargs) - SEAL_FIELDS:
            raise AuditImmutableError("Audit events cannot be changed.")
        return models.QuerySet.update(self.filter(hash=""), **kwargs)

    def delete(self):
        raise AuditImmutableError("Audit events cannot be deleted.")

    _raw_delete = delete


class AuditEvent(models.Model):
    """One privileged action. Append-only, and sealed into a per-clinic hash chain.

    New events are written with no hash; `audit_seal` (a django-q2 schedule) gives them their
    place (`seq`) and hash in batches, so a request never waits on a clinic-wide lock. `data`
    holds ids and names of changed fields, not personal values, so erasing a patient does not
    require rewriting the trail.
    """

    # Every index below starts with the clinic, and audit rows are written on every record
    # view: no separate single-column indexes on the foreign keys.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    created_at = models.DateTimeField(default=now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    actor_label = models.CharField(max_length=200, blank=True)
    via = models.CharField(max_length=10, default="web")
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Chain
    seq = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    # Which AUDIT_KEYS key made `hash` (HMAC-SHA256); empty for events sealed with plain
    # SHA-256 before keyed sealing, which the chain head's anchor covers.
    key_id = models.CharField(max_length=16, blank=True)

    objects = ClinicScopedManager(models.Manager.from_queryset(AuditEventQuerySet))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "-created_at"], name="audit_clinic_time"),
            models.Index(fields=["clinic", "patient_id", "-created_at"], name="audit_patient"),
            models.Index(fields=["clinic", "actor", "-created_at"], name="audit_actor"),
            # What the sealer looks for: small, since events are sealed within a minute.
            models.Index(
                fields=["clinic", "created_at", "id"],
                name="audit_unsealed",
                condition=models.Q(hash=""),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "seq"], name="uniq_audit_clinic_seq")
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} by {self.actor_label or 'system'} at {self.created_at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not self._state.adding and not (update_fields and set(update_fields) <= SEAL_FIELDS):
            raise AuditImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The last sealed link of a clinic's chain; also the lock the sealer takes.

    `legacy_*` anchor the events sealed with plain SHA-256 before keyed sealing: events #1 to
    `legacy_seq` may be unkeyed, and `legacy_mac` (an HMAC with key `legacy_key_id`, made once
    by migration 0008) attests their length and last hash. `published_*` remember the last head
    published outside the database, so the publishing schedule skips an unchanged head.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="+")
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    legacy_seq = models.BigIntegerField(default=0)
    legacy_key_id = models.CharField(max_length=16, blank=True)
    legacy_mac = models.CharField(max_length=64, blank=True)
    published_seq = models.BigIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.last_seq}"


class AuditAnchor(models.Model):
    """Where a clinic's audit chain now starts, after the retention purge removed its oldest
    events (clinics.audit_prune.audit_prune).

    `seq` and `hash` are the last removed event's place and link; the first kept event links to
    `hash`, so verification starts there. `mac` (HMAC-SHA256 with audit key `key_id`, like the
    events' links) seals `seq`, `hash` and `pruned_before`: someone without the key cannot move
    the anchor to hide more removed events. One row per clinic, moved forward batch by batch in
    the same transaction that deletes the batch. Holds ids and hashes only: no personal data.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    pruned_before = models.DateTimeField(null=True, blank=True)
    pruned = models.BigIntegerField(default=0)  # events removed so far, all runs together
    updated_at = models.DateTimeField(default=now)
    key_id = models.CharField(max_length=16, blank=True)
    mac = models.CharField(max_length=64, blank=True)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return f"{self.clinic_id}: pruned to #{self.seq}"


# DRF treats whatever authenticated the request as `request.user`; an API key acts for its clinic.
ApiKey.is_authenticated = True
ApiKey.is_anonymous = False


from clinics.backups.models import BackupRun, BackupStatus  # noqa: E402, F401 - registers them
