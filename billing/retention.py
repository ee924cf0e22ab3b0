"""Deleting bills and payments whose retention period has run out (the personal-data registry's
`delete` hooks for billing's kinds, used by the retention purge and by a whole record's erasure).

An issued bill refuses every change and delete through its own model and querysets (it is a tax
record); only its retention period's end lets it go, here. Rows that belong together go together:
a bill with its lines, its credit notes and the payments and refunds against them. A bill whose
credit note or payment is still inside the period (or outside `rows`) waits for it, so no row
that tax law still keeps is deleted and no reference is left dangling.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from billing.models import Bill, BillLine, Payment


def _plain_delete(rows: Any) -> int:
    """Delete without the frozen-bill guard of billing's querysets (the caller decided)."""
    return models.QuerySet.delete(rows)[0]


def bills_delete(rows: Any) -> int:
    """Delete the bills in `rows` whose credit notes are in `rows` too, with their lines and the
    payments and refunds against them. Returns the bills deleted (credit notes included)."""
    ids = set(rows.values_list("pk", flat=True))
    # A credit note outside `rows` (still kept) keeps the bill it credits.
    kept = set(
        Bill.objects.filter(credit_for__in=ids)
        .exclude(pk__in=ids)
        .values_list("credit_for_id", flat=True)
    )
    ids -= kept
    if not ids:
        return 0
    payments = set(Payment.objects.filter(bill_id__in=ids).values_list("pk", flat=True))
    # A refund of one of those payments goes with it, wherever it was recorded.
    refunds = set(Payment.objects.filter(refund_of__in=payments).values_list("pk", flat=True))
    _plain_delete(Payment.objects.filter(pk__in=refunds - payments))
    _plain_delete(Payment.objects.filter(pk__in=payments, refund_of__isnull=False))
    _plain_delete(Payment.objects.filter(pk__in=payments))
    notes = Bill.objects.filter(pk__in=ids, credit_for__isnull=False)
    _plain_delete(BillLine.objects.filter(bill__in=notes))
    _plain_delete(BillLine.objects.filter(bill_id__in=ids))
    deleted = _plain_delete(Bill.objects.filter(pk__in=notes.values("pk")))
    return deleted + _plain_delete(Bill.objects.filter(pk__in=ids))


def bill_lines_delete(rows: Any) -> int:
    """Lines go only with their bill (`bills_delete`): none on their own."""
    return 0


def payments_delete(rows: Any) -> int:
    """Delete the payments in `rows` that belong to no bill (advances, and refunds of them);
    a payment against a bill goes with its bill. A payment a kept refund points at stays."""
    loose = rows.filter(bill__isnull=True)
    ids = set(loose.values_list("pk", flat=True))
    kept = set(
        Payment.objects.filter(refund_of__in=ids)
        .exclude(pk__in=ids)
        .values_list("refund_of_id", flat=True)
    )
    ids -= kept
    refunds = _plain_delete(Payment.objects.filter(pk__in=ids, refund_of__isnull=False))
    return refunds + _plain_delete(Payment.objects.filter(pk__in=ids))
