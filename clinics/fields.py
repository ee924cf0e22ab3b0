"""Model fields shared by every app.

`EncryptedTextField` keeps a secret (a WhatsApp access token, an app secret, a payment key,
a two-factor seed) encrypted at rest with `clinics.crypto`. The database holds only the Fernet
token; Python sees the plain value. Values are never part of `repr`, admin lists or error
messages: forms show secrets as write-only inputs. `manage.py rotate_encryption_keys`
re-encrypts every such column with the current key (`rotate_encrypted_fields`, registered
below).
"""

from __future__ import annotations

from django.apps import apps
from django.db import connections, models, router, transaction

from clinics import crypto

__all__ = ["EncryptedTextField", "encrypted_fields", "rotate_encrypted_fields"]


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; empty stays empty (so "not set" is visible)."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt_str(str(value))

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt_str(value)

    def to_python(self, value):
        return value

    def get_lookup(self, lookup_name):
        # Encryption is randomised: no equality or pattern lookup can work on the column.
        if lookup_name not in ("isnull",):
            return None
        return super().get_lookup(lookup_name)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted columns, and the columns."""
    found = []
    for model in apps.get_models():
        fields = model._meta.concrete_fields
        names = [f.attname for f in fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


@crypto.register_rotation("encrypted database fields")
def rotate_encrypted_fields() -> tuple[int, int]:
    """Re-encrypt every encrypted column with the current key: (re-encrypted, already current).

    Reads the raw tokens (not the decrypted values) so a value is only rewritten when it was
    made with an older key; each row is updated in its own small transaction.
    """
    rotated = current = 0
    for model, names in encrypted_fields():
        # The ORM would hand back decrypted values; read and write the stored tokens instead.
        table = model._meta.db_table
        pk_column = model._meta.pk.column
        columns = [model._meta.get_field(n).column for n in names]
        connection = connections[router.db_for_write(model)]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk_column)}, {', '.join(quote(c) for c in columns)} "  # noqa: S608
                f"FROM {quote(table)}"
            )
            rows = cursor.fetchall()
        for pk, *tokens in rows:
            updates = {}
            for column, token in zip(columns, tokens, strict=True):
                if not token:
                    continue
                raw = token.encode("ascii")
                if crypto.is_current(raw):
                    current += 1
                    continue
                updates[column] = crypto.rotate(raw).decode("ascii")
            if updates:
                with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                    assignments = ", ".join(f"{quote(c)} = %s" for c in updates)
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {assignments} "  # noqa: S608
                        f"WHERE {quote(pk_column)} = %s",
                        [*updates.values(), pk],
                    )
                rotated += len(updates)
    return rotated, current
