"""The catalogue and the GST profile's warnings."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import BillingProfile, CatalogueItem, GstTreatment


def catalogue_list(
    *, active_only: bool = False, kind: str | None = None
) -> QuerySet[CatalogueItem]:
    rows = CatalogueItem.objects.select_related("doctor__user").order_by("kind", "name", "id")
    if active_only:
        rows = rows.filter(is_active=True)
    if kind:
        rows = rows.filter(kind=kind)
    return rows


def gst_profile_warning(*, clinic_id: int) -> str:
    """Why the clinic's bills may be wrong for GST, or "": it sells taxable items (and may need
    to be registered) but has no GST registration on its profile."""
    profile = BillingProfile.objects.filter(clinic_id=clinic_id).first()
    if profile is not None and profile.gst_registered:
        return ""
    if CatalogueItem.objects.filter(is_active=True, gst_treatment=GstTreatment.TAXABLE).exists():
        return (
            "The catalogue has taxable items but the clinic has no GST registration on its "
            "billing profile: bills carry no GST. Once turnover passes Rs 20 lakh (Rs 10 lakh in "
            "special-category states) the clinic must register: add its GSTIN."
        )
    return ""
