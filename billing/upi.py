"""The UPI payment link and QR code every bill carries (NPCI's `upi://pay` deep link)."""

from __future__ import annotations

from urllib.parse import quote

from billing.gst import rupees
from billing.models import Bill, BillingProfile
from clinics.pdf import qr_data_uri


def upi_link(*, profile: BillingProfile | None, bill: Bill, amount_paise: int) -> str:
    """`upi://pay?pa=<VPA>&pn=<name>&am=<rupees.paise>&tn=<bill no>&cu=INR`, or "" when the
    clinic has no UPI ID or nothing is due."""
    if profile is None or not profile.upi_vpa or amount_paise <= 0:
        return ""
    name = profile.upi_payee_name or profile.legal_name or bill.clinic.name
    parts = {
        "pa": profile.upi_vpa,
        "pn": name[:60],
        "am": rupees(amount_paise),
        "tn": bill.number or f"Bill {bill.pk}",
        "cu": "INR",
    }
    return "upi://pay?" + "&".join(f"{k}={quote(v, safe='@.-/')}" for k, v in parts.items())


def upi_qr(link: str) -> str:
    return qr_data_uri(link) if link else ""
