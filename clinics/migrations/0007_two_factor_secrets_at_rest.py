"""Two-factor devices whose secrets are not readable from a database backup.

Creates Vaidya's authenticator app (TOTP seed encrypted with ENCRYPTION_KEYS) and backup codes
(kept as keyed hashes), moves every django-otp `TOTPDevice` and `StaticDevice` into them (same
seed, same unused codes, so nobody has to set up two-factor again) and deletes the plain-text
rows. Going back restores the authenticator apps; backup codes cannot be un-hashed, so they are
gone after going back and people make new ones by setting up the app again.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import clinics.fields
import clinics.two_factor
from clinics.two_factor import backup_code_digest

DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
)
TOTP_FIELDS = ("step", "t0", "digits", "tolerance", "drift", "last_t")


def _copy(old, new_model, db, **extra):
    """A new row with `old`'s device fields; `created_at` kept (auto_now_add would reset it)."""
    new = new_model.objects.using(db).create(**{f: getattr(old, f) for f in DEVICE_FIELDS}, **extra)
    new_model.objects.using(db).filter(pk=new.pk).update(created_at=old.created_at)
    return new


def move_to_protected_devices(apps, schema_editor):
    db = schema_editor.connection.alias
    totp_devices = apps.get_model("otp_totp", "TOTPDevice").objects.using(db)
    static_devices = apps.get_model("otp_static", "StaticDevice").objects.using(db)
    static_tokens = apps.get_model("otp_static", "StaticToken").objects.using(db)
    authenticator_app = apps.get_model("clinics", "AuthenticatorApp")
    backup_codes = apps.get_model("clinics", "BackupCodes")
    backup_code = apps.get_model("clinics", "BackupCode")

    for old in totp_devices.order_by("pk"):
        # The seed goes through the encrypted field: only its Fernet token is written.
        _copy(
            old, authenticator_app, db, secret=old.key, **{f: getattr(old, f) for f in TOTP_FIELDS}
        )
    totp_devices.all().delete()

    for old in static_devices.order_by("pk"):
        new = _copy(old, backup_codes, db)
        tokens = static_tokens.filter(device_id=old.pk).values_list("token", flat=True)
        digests = {backup_code_digest(token) for token in tokens}
        backup_code.objects.using(db).bulk_create(
            backup_code(device=new, digest=digest) for digest in sorted(digests)
        )
    static_tokens.all().delete()
    static_devices.all().delete()


def restore_authenticator_apps(apps, schema_editor):
    db = schema_editor.connection.alias
    totp_device = apps.get_model("otp_totp", "TOTPDevice")
    for new in apps.get_model("clinics", "AuthenticatorApp").objects.using(db).order_by("pk"):
        _copy(new, totp_device, db, key=new.secret, **{f: getattr(new, f) for f in TOTP_FIELDS})


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0006_clinic_booking_horizon"),
        ("otp_static", "0003_add_timestamps"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuthenticatorApp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                (
                    "secret",
                    clinics.fields.EncryptedTextField(
                        default=clinics.two_factor.new_seed,
                        help_text="Hex-encoded seed, encrypted.",
                    ),
                ),
                ("step", models.PositiveSmallIntegerField(default=30)),
                ("t0", models.BigIntegerField(default=0)),
                ("digits", models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)),
                ("tolerance", models.PositiveSmallIntegerField(default=1)),
                ("drift", models.SmallIntegerField(default=0)),
                ("last_t", models.BigIntegerField(default=-1)),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "authenticator app",
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BackupCodes",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "backup codes",
                "verbose_name_plural": "backup codes",
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="BackupCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64)),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="codes",
                        to="clinics.backupcodes",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("device", "digest"), name="backup_code_once_per_set"
                    )
                ],
            },
        ),
        migrations.RunPython(move_to_protected_devices, restore_authenticator_apps),
    ]
