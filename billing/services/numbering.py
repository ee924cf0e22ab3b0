"""Document and receipt numbers: per clinic, series and financial year, gap-free."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from billing.gst import document_number, financial_year
from billing.models import NumberSeries


def number_take(*, clinic_id: int, series: str, day: date) -> str:
    """The next number of `series` in the financial year of `day`, such as `INV/2627/000042`.

    Call it inside the transaction that issues the document: the series' row stays locked
    (SELECT ... FOR UPDATE) until that transaction ends, so concurrent issuers take turns and
    get consecutive numbers, and a rolled-back issue leaves no gap.
    """
    fy = financial_year(day)
    lookup = {"clinic_id": clinic_id, "series": series, "fy_start": fy}
    for _ in range(2):
        row = NumberSeries.objects.select_for_update().filter(**lookup).first()
        if row is None:
            try:
                with transaction.atomic():
                    NumberSeries.objects.create(**lookup, last_number=0)
            except IntegrityError:
                pass  # another issuer created it at the same moment: lock theirs
            continue
        row.last_number += 1
        row.save(update_fields=["last_number"])
        return document_number(series, fy, row.last_number)
    raise RuntimeError(f"Could not take the next number of series {series}")
