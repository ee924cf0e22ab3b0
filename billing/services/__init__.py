"""Billing's writes: the catalogue and GST profile, bills, payments. Import from here."""

from billing.services.bills import (  # noqa: F401
    LineDraft,
    bill_cancel,
    bill_draft_create,
    bill_draft_delete,
    bill_draft_update,
    bill_for_visit,
    bill_issue,
    bill_line_drafts,
)
from billing.services.credit_notes import CreditDraft, credit_note_issue  # noqa: F401
from billing.services.documents import bill_document_send  # noqa: F401
from billing.services.payments import (  # noqa: F401
    advance_balance,
    advance_record,
    bill_payment_record,
    day_close,
    refund_record,
)
