"""What a visit's bill starts with: the consultation (first visit, follow-up, or free within the
doctor's window), the procedures done and the medicines the clinic's pharmacy supplies."""

from __future__ import annotations

from django.db.models import Q

from billing.models import CatalogueItem, ItemKind
from billing.services.bills import LineDraft
from patients.models import PrescriptionItem, Visit


def _consultation(visit: Visit) -> LineDraft | None:
    fee = (
        CatalogueItem.objects.filter(
            kind=ItemKind.CONSULTATION, doctor_id=visit.doctor_id, is_active=True
        )
        .order_by("id")
        .first()
    )
    if fee is None:
        return None
    earlier = (
        Visit.objects.filter(
            patient_id=visit.patient_id,
            doctor_id=visit.doctor_id,
            created_at__lt=visit.created_at,
            amends__isnull=True,
        )
        .exclude(pk=visit.amends_id or 0)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if earlier is None:
        return LineDraft(item_id=fee.pk, description=f"{fee.name} (first visit)")
    tz = visit.clinic.tzinfo
    days = (visit.created_at.astimezone(tz).date() - earlier.astimezone(tz).date()).days
    if fee.free_follow_up_days and days <= fee.free_follow_up_days:
        return LineDraft(
            item_id=fee.pk,
            description=f"{fee.name} (follow-up within {fee.free_follow_up_days} days: free)",
            unit_price_paise=0,
        )
    price = fee.follow_up_price_paise if fee.follow_up_price_paise is not None else fee.price_paise
    return LineDraft(item_id=fee.pk, description=f"{fee.name} (follow-up)", unit_price_paise=price)


def visit_bill_lines(*, visit: Visit) -> list[LineDraft]:
    """The lines a bill for `visit` starts with. Procedures match catalogue items by name
    (one left unpriced when the catalogue has none, for staff to price); medicines match the
    pharmacy's items whose name starts with the generic name, one unit each for staff to adjust."""
    lines: list[LineDraft] = []
    consultation = _consultation(visit)
    if consultation is not None:
        lines.append(consultation)
    items = list(
        CatalogueItem.objects.filter(is_active=True)
        .filter(Q(kind__in=[ItemKind.PROCEDURE, ItemKind.PACKAGE, ItemKind.PHARMACY]))
        .order_by("id")
    )
    by_name = {i.name.casefold(): i for i in items if i.kind != ItemKind.PHARMACY}
    for procedure in visit.procedures.all().order_by("position", "id"):
        item = by_name.get(procedure.name.casefold())
        if item is not None:
            lines.append(LineDraft(item_id=item.pk))
        else:
            lines.append(LineDraft(description=procedure.name[:200], unit_price_paise=0))
    pharmacy = [i for i in items if i.kind == ItemKind.PHARMACY]
    medicines = PrescriptionItem.objects.filter(prescription__visit=visit).order_by("position")
    for medicine in medicines:
        name = medicine.generic_name.casefold()
        item = next((i for i in pharmacy if i.name.casefold().startswith(name)), None)
        if item is not None:
            lines.append(LineDraft(item_id=item.pk))
    return lines
