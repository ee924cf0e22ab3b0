"""The "WhatsApp stopped" banner on every staff page while Meta refuses the clinic's token."""

from __future__ import annotations

from functools import cache

from clinics.tenancy import clinic_scope
from messaging.models import AccountStatus, WhatsAppAccount


def whatsapp_alert(request) -> dict:
    """`whatsapp_alert`: the problem text when the clinic's WhatsApp token was rejected, else
    empty. Read lazily (templates call it), so pages that never show the banner pay nothing."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or getattr(request, "membership", None) is None:
        return {"whatsapp_alert": ""}

    @cache
    def problem() -> str:
        with clinic_scope(clinic):
            row = (
                WhatsAppAccount.objects.filter(clinic_id=clinic.pk)
                .values_list("status", "problem")
                .first()
            )
        if row is None or row[0] != AccountStatus.TOKEN_INVALID:
            return ""
        return row[1] or "Meta refused the clinic's access token."

    return {"whatsapp_alert": problem}
