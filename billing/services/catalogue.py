"""The clinic's catalogue and its GST profile, and the catalogue every new clinic starts with."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from stdnum.exceptions import ValidationError as GstinInvalid
from stdnum.in_ import gstin as gstin_number

from billing.models import BillingProfile, CatalogueItem, GstTreatment, ItemKind
from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import ValidationFailed
from clinics.models import Clinic, Membership
from clinics.roles import Perm, Role

DOCTOR_ROLES = (Role.DOCTOR, Role.OWNER)

CANNOT_EDIT = "Your role at this clinic cannot change the catalogue or the GST profile."
ITEM_FIELDS = (
    "kind",
    "name",
    "code",
    "gst_treatment",
    "gst_rate_bp",
    "price_paise",
    "unit",
    "follow_up_price_paise",
    "free_follow_up_days",
    "is_active",
)

# What a new clinic starts with: health care is exempt (SAC 9993); counter sales of medicines
# are taxable goods at their HSN rate (most 5%). Prices in paise; the clinic edits them.
STARTER = (
    (ItemKind.PROCEDURE, "Dressing", "999311", GstTreatment.EXEMPT, 0, 20000, "each"),
    (
        ItemKind.PROCEDURE,
        "Injection (administration)",
        "999311",
        GstTreatment.EXEMPT,
        0,
        10000,
        "each",
    ),
    (ItemKind.PROCEDURE, "Nebulisation", "999311", GstTreatment.EXEMPT, 0, 15000, "each"),
    (ItemKind.PROCEDURE, "ECG", "999316", GstTreatment.EXEMPT, 0, 30000, "each"),
    (
        ItemKind.LAB_TEST,
        "Complete blood count (sent out)",
        "999316",
        GstTreatment.EXEMPT,
        0,
        35000,
        "test",
    ),
    (
        ItemKind.LAB_TEST,
        "Fasting blood sugar (sent out)",
        "999316",
        GstTreatment.EXEMPT,
        0,
        10000,
        "test",
    ),
    (ItemKind.PACKAGE, "Diabetes review package", "999311", GstTreatment.EXEMPT, 0, 150000, "each"),
    (
        ItemKind.PHARMACY,
        "Paracetamol 500 mg (strip of 10)",
        "3004",
        GstTreatment.TAXABLE,
        500,
        2000,
        "strip",
    ),
    (ItemKind.PHARMACY, "ORS sachet", "3004", GstTreatment.TAXABLE, 500, 2200, "sachet"),
    (
        ItemKind.OTHER,
        "Cosmetic skin treatment",
        "999722",
        GstTreatment.TAXABLE,
        1800,
        200000,
        "session",
    ),
)
STARTER_CONSULTATION = {
    "price_paise": 50000,
    "follow_up_price_paise": 30000,
    "free_follow_up_days": 7,
}


def catalogue_starter_load(*, clinic: Clinic, **_: Any) -> None:
    """The starter catalogue of a new clinic (the `clinic_setup` registry): a few exempt
    procedures and tests, two taxable pharmacy items and one taxable cosmetic service."""
    CatalogueItem.objects.bulk_create(
        CatalogueItem(
            clinic=clinic,
            kind=kind,
            name=name,
            code=code,
            gst_treatment=treatment,
            gst_rate_bp=rate,
            price_paise=price,
            unit=unit,
        )
        for kind, name, code, treatment, rate, price, unit in STARTER
    )


def _validated(item: CatalogueItem) -> None:
    errors: dict[str, list[str]] = {}
    try:
        item.full_clean(exclude=["clinic", "doctor"])
    except ValidationError as exc:
        errors.update({k: list(v) for k, v in exc.message_dict.items()})
    if item.gst_treatment == GstTreatment.EXEMPT and item.gst_rate_bp:
        errors.setdefault("gst_rate_bp", []).append("An exempt item has no GST rate.")
    if item.kind == ItemKind.CONSULTATION:
        if item.doctor_id is None:
            errors.setdefault("doctor_id", []).append("A consultation fee belongs to a doctor.")
    elif item.follow_up_price_paise is not None or item.free_follow_up_days:
        errors.setdefault("follow_up_price_paise", []).append(
            "Only a consultation has a follow-up price and a free follow-up window."
        )
    if item.is_goods and item.gst_treatment == GstTreatment.TAXABLE and not item.code:
        errors.setdefault("code", []).append("Give the item's HSN code.")
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def catalogue_item_save(
    *,
    clinic: Clinic,
    values: dict[str, Any],
    actor: Actor,
    item: CatalogueItem | None = None,
    doctor: Membership | None = None,
) -> CatalogueItem:
    """Add an item to the catalogue or change one. Bills already issued keep what they said."""
    require(actor, Perm.BILLING_CATALOGUE, clinic_id=clinic.pk, message=CANNOT_EDIT)
    creating = item is None
    item = item or CatalogueItem(clinic=clinic)
    for name in ITEM_FIELDS:
        if name in values:
            setattr(item, name, values[name])
    if doctor is not None or creating:
        if doctor is not None and (
            doctor.clinic_id != clinic.pk or doctor.role not in DOCTOR_ROLES
        ):
            raise ValidationFailed({"doctor_id": ["Choose one of this clinic's doctors."]})
        item.doctor = doctor
    for name in ("price_paise", "follow_up_price_paise", "gst_rate_bp", "free_follow_up_days"):
        value = getattr(item, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValidationFailed({name: ["Give a whole number (amounts are in paise)."]})
    _validated(item)
    item.save()
    audit_record(
        clinic=clinic.pk,
        actor=actor,
        action=Actions.CATALOGUE_ITEM_SAVED,
        target=item,
        data={"created": creating, "fields": sorted(set(values) & set(ITEM_FIELDS))},
    )
    return item


def gstin_problem(gstin: str, state_code: str) -> str | None:
    """Why a GSTIN cannot be used (its checksum, or its state), or None."""
    try:
        gstin_number.validate(gstin)
    except GstinInvalid:
        return "This GSTIN is not valid: check it against the registration certificate."
    if state_code and gstin[:2] != state_code:
        return "A GSTIN starts with its state's code: this one is not for the state chosen."
    return None


@transaction.atomic
def billing_profile_save(
    *,
    clinic: Clinic,
    actor: Actor,
    gst_registered: bool,
    gstin: str = "",
    legal_name: str = "",
    state_code: str = "",
    upi_vpa: str = "",
    upi_payee_name: str = "",
) -> BillingProfile:
    """Save the clinic's GST standing and its UPI ID. A registered clinic needs a valid GSTIN
    whose first two digits are its state's code, and its legal name."""
    require(actor, Perm.BILLING_CATALOGUE, clinic_id=clinic.pk, message=CANNOT_EDIT)
    gstin = (gstin or "").strip().upper()
    errors: dict[str, list[str]] = {}
    state_code = state_code or (gstin[:2] if gstin else clinic.state_code)
    if gst_registered:
        problem = gstin_problem(gstin, state_code) if gstin else "Give the clinic's GSTIN."
        if problem:
            errors["gstin"] = [problem]
        if not legal_name.strip():
            errors["legal_name"] = ["Give the legal name on the GST registration."]
    elif gstin:
        errors["gstin"] = ["A clinic that is not registered has no GSTIN: leave it empty."]
    profile = BillingProfile.objects.filter(clinic=clinic).first() or BillingProfile(clinic=clinic)
    profile.gst_registered = gst_registered
    profile.gstin = gstin
    profile.legal_name = " ".join(legal_name.split())
    profile.state_code = state_code
    profile.upi_vpa = (upi_vpa or "").strip()
    profile.upi_payee_name = " ".join((upi_payee_name or "").split())
    profile.updated_at = timezone.now()
    try:
        profile.full_clean(exclude=["clinic"])
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    profile.save()
    audit_record(
        clinic=clinic.pk,
        actor=actor,
        action=Actions.BILLING_PROFILE_SAVED,
        target=profile,
        data={"gst_registered": gst_registered},
    )
    return profile
