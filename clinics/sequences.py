"""Per-clinic gap-free counters (patient numbers; later invoices and certificates)."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from clinics.models import ClinicCounter


def counter_next(*, clinic_id: int, name: str) -> int:
    """Take the next number of a clinic's counter.

    Call inside the transaction that uses the number: the row stays locked until it commits, so
    numbers are unique and, if the transaction rolls back, the number is not lost (no gaps).
    """
    table = ClinicCounter._meta.db_table
    sql = f"UPDATE {table} SET value = value + 1 WHERE clinic_id = %s AND name = %s RETURNING value"  # noqa: S608
    with transaction.atomic(savepoint=False):
        for _ in range(2):
            with connection.cursor() as cursor:
                cursor.execute(sql, [clinic_id, name])
                row = cursor.fetchone()
            if row:
                return int(row[0])
            try:
                with transaction.atomic():
                    ClinicCounter.objects.create(clinic_id=clinic_id, name=name, value=1)
                return 1
            except IntegrityError:
                continue  # someone created it at the same moment: take the next value instead
    raise RuntimeError(f"Could not take the next value of counter {name}")
