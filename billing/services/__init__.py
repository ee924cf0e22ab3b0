"""Billing's writes: the catalogue and GST profile, bills, payments. Import from here."""

from billing.services.bills import (  # noqa: F401
    CreditDraft,
    LineDraft,
    bill_cancel,
    bill_draft_create,
    bill_draft_delete,
    bill_draft_update,
    bill_for_visit,
    bill_issue,
    credit_note_issue,
)
from billing.services.payments import (  # noqa: F401
    advance_balance,
    advance_record,
    bill_payment_record,
    day_close,
    refund_record,
)
