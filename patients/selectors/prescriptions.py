"""Reads for prescriptions: the drug search behind the form, doctors' templates, and the
print-ready prescription (`prescription_document`).

Callers run inside the clinic's scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    When,
)
from django.utils import timezone
from django.utils.translation import ngettext

from clinics.errors import DomainError
from clinics.formatting import format_date, format_datetime
from clinics.languages import ENGLISH, for_patient, in_english, patient_language
from clinics.models import Clinic, DoctorProfile, Membership
from clinics.states import state_name
from patients.dosing import (
    Frequency,
    FrequencyError,
    frequency_words,
    from_json,
    parse_frequency,
)
from patients.dosing.lines import ParsedLine
from patients.models import (
    Diagnosis,
    Drug,
    DrugBrand,
    DrugForm,
    FoodTiming,
    Patient,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    PrescriptionTemplate,
    Route,
    Visit,
    VisitStatus,
    Vitals,
    age_on,
)
from patients.prescribing.formulary import brand_key

MAX_SEARCH_RESULTS = 50
DRAFT_MARK = "DRAFT"
NO_REGISTRATION_MESSAGE = (
    "{name} has no medical registration number in their doctor profile. It must be on every "
    "prescription: add it in the staff settings before printing."
)
# Forms counted in whole units, named after the form when the doctor gave no unit.
_COUNTED_UNITS = {
    DrugForm.TABLET: "tablet",
    DrugForm.CAPSULE: "capsule",
    DrugForm.SACHET: "sachet",
    DrugForm.SUPPOSITORY: "suppository",
    DrugForm.INHALER: "puff",
}
_GLYPHS = {Decimal("0.5"): "½", Decimal("0.25"): "¼", Decimal("0.75"): "¾"}


def _key_range(key: str) -> dict[str, str]:
    """A prefix as a range of brand keys (capitals and digits only), which a B-tree index
    serves on every database: "DOLO6" <= key < "DOLO7"."""
    return {"key__gte": key, "key__lt": key[:-1] + chr(ord(key[-1]) + 1)}


def drug_search(query: str, limit: int = 10) -> list[Drug]:
    """Active drugs whose generic name or one of whose brand names starts with `query` (any
    case; a brand ignores spaces and punctuation, so "dolo 650" finds Dolo 650): what the
    prescription form completes from. Generic matches come first, favourites first, then by
    name; a drug found by its brand has `matched_brand` set. One query, and a second only to
    name the brands when some drugs were found by brand."""
    limit = max(1, min(int(limit), MAX_SEARCH_RESULTS))
    prefix = " ".join((query or "").split()).upper()
    key = brand_key(prefix)
    drugs = Drug.objects.filter(is_active=True)
    order: tuple[str, ...] = ("-is_favourite", "generic_name", "strength", "form", "id")
    if prefix:
        by_generic = Q(generic_name__startswith=prefix)
        if key:
            by_brand = DrugBrand.objects.filter(**_key_range(key)).values("drug_id")
            drugs = drugs.filter(by_generic | Q(pk__in=by_brand))
        else:
            drugs = drugs.filter(by_generic)
        drugs = drugs.annotate(
            generic_hit=Case(When(by_generic, then=1), default=0, output_field=IntegerField())
        )
        order = ("-generic_hit", *order)
    found = list(drugs.order_by(*order)[:limit])
    by_brand_ids = [d.pk for d in found if not getattr(d, "generic_hit", 1)]
    brands: dict[int, str] = {}
    if by_brand_ids:
        named = DrugBrand.objects.filter(drug_id__in=by_brand_ids, **_key_range(key))
        for drug_id, name in named.order_by("-key", "-id").values_list("drug_id", "name"):
            brands[drug_id] = name  # the first brand in key order wins
    for drug in found:
        drug.matched_brand = brands.get(drug.pk, "")
    return found


def last_prescription(visit: Visit) -> Prescription | None:
    """The patient's most recent signed prescription from another visit (its current version)."""
    return (
        Prescription.objects.filter(
            patient_id=visit.patient_id,
            status=PrescriptionStatus.SIGNED,
            visit__superseded_at__isnull=True,
        )
        .exclude(visit_id=visit.pk)
        .order_by("-signed_at", "-id")
        .first()
    )


def doctor_templates(doctor: Membership) -> QuerySet[PrescriptionTemplate]:
    """The doctor's prescription templates, by name."""
    return PrescriptionTemplate.objects.filter(doctor=doctor).order_by("name", "id")


# ---------------------------------------------------------------------------------------------
# The printed prescription


def _doctor_name(full_name: str) -> str:
    name = " ".join((full_name or "").split())
    return name if name.lower().startswith(("dr ", "dr.")) else f"Dr {name}"


def _age_text(dob: dt.date, on: dt.date) -> str:
    years = age_on(dob, on)
    if years >= 1:
        return f"{years} year{'s' if years != 1 else ''}"
    months = (on.year - dob.year) * 12 + on.month - dob.month - (on.day < dob.day)
    if months >= 1:
        return f"{months} month{'s' if months != 1 else ''}"
    days = (on - dob).days
    return f"{days} day{'s' if days != 1 else ''}"


def _phone_text(phone: Any) -> str:
    if not phone:
        return ""
    return getattr(phone, "as_international", None) or str(phone)


def _joined(*parts: str) -> str:
    return ", ".join(" ".join(str(p).split()) for p in parts if p and str(p).strip())


def _amount_text(amount: Decimal) -> str:
    whole = int(amount)
    rest = amount - whole
    if not rest:
        return str(whole)
    if rest in _GLYPHS:
        return f"{whole or ''}{_GLYPHS[rest]}"
    return format(amount.normalize(), "f")


def _frequency_of(item: PrescriptionItem) -> Frequency | None:
    try:
        return from_json(item.schedule)
    except (FrequencyError, TypeError, AttributeError):
        try:
            return parse_frequency(item.frequency)
        except FrequencyError:
            return None


def _dose_text(item: PrescriptionItem, frequency: Frequency | None) -> str:
    amount = Decimal(item.dose_amount)
    unit = item.dose_unit or _COUNTED_UNITS.get(item.form, "")
    if frequency is not None and frequency.amounts_in_code:
        return unit  # "1/2-0-1/2": the frequency states the amounts
    if unit and amount != 1 and unit in _COUNTED_UNITS.values():
        unit += "s"
    return f"{_amount_text(amount)} {unit}".strip()


def _how_to_take(item: PrescriptionItem, frequency: Frequency | None) -> dict[str, str]:
    """When and how long to take the medicine, in the active language."""
    days = item.duration_days
    return {
        "frequency_label": frequency_words(frequency) if frequency is not None else "",
        "timing": str(FoodTiming(item.timing).label)
        if item.timing and item.timing in FoodTiming.values
        else "",
        "duration": ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
        if days
        else "",
    }


def _item_row(
    number: int, item: PrescriptionItem, tz: Any, language: str = ENGLISH
) -> dict[str, Any]:
    frequency = _frequency_of(item)
    days = item.duration_days
    with in_english():
        english = _how_to_take(item, frequency)
    local = None
    if language != ENGLISH:
        with for_patient(language):
            local = _how_to_take(item, frequency)
    return {
        "number": number,
        "generic_name": item.generic_name.upper(),
        "brand_name": item.brand_name,
        "strength": item.strength,
        "form": DrugForm(item.form).label if item.form in DrugForm.values else item.form,
        "route": Route(item.route).label if item.route in Route.values else item.route,
        "dose": _dose_text(item, frequency),
        "dose_amount": format(Decimal(item.dose_amount).normalize(), "f"),
        "dose_unit": item.dose_unit,
        "frequency": item.frequency,
        **english,
        # The same in the patient's language, printed under the English (absent for English).
        **({"local": local} if local else {}),
        "duration_days": days,
        "quantity": format(Decimal(item.quantity).normalize(), "f")
        if item.quantity is not None
        else "",
        "instructions": item.instructions,
        "starts_on": item.starts_on,
        "stopped": item.stopped_at is not None,
        "stopped_on": timezone.localtime(item.stopped_at, tz).date() if item.stopped_at else None,
    }


def _vitals_text(vitals: Vitals | None) -> str:
    if vitals is None:
        return ""
    parts = []
    if vitals.blood_pressure:
        parts.append(f"BP {vitals.blood_pressure} mmHg")
    for label, value, unit in (
        ("Pulse", vitals.pulse, "/min"),
        ("Temp", vitals.temperature_c, " °C"),
        ("SpO2", vitals.spo2, "%"),
        ("RR", vitals.respiratory_rate, "/min"),
        ("Weight", vitals.weight_kg, " kg"),
        ("Height", vitals.height_cm, " cm"),
        ("BMI", vitals.bmi, ""),
    ):
        if value is not None and value != "":
            shown = format(value.normalize(), "f") if isinstance(value, Decimal) else value
            parts.append(f"{label} {shown}{unit}")
    return ", ".join(parts)


def _diagnosis_row(diagnosis: Diagnosis) -> dict[str, Any]:
    display = diagnosis.text
    if diagnosis.icd10_code:
        display += f" ({diagnosis.icd10_code})"
    if diagnosis.qualifier:
        display += f" — {diagnosis.qualifier}"
    if diagnosis.is_provisional:
        display += " (provisional)"
    return {
        "text": diagnosis.text,
        "icd10_code": diagnosis.icd10_code,
        "qualifier": diagnosis.qualifier,
        "is_provisional": diagnosis.is_provisional,
        "display": display,
    }


def _patient_block(patient: Patient, on: dt.date) -> dict[str, Any]:
    return {
        "name": patient.full_name,
        "patient_number": patient.patient_number,
        "age": _age_text(patient.date_of_birth, on),
        "age_years": age_on(patient.date_of_birth, on),
        "sex": patient.get_sex_display(),
        "address": _joined(
            patient.address, patient.city, patient.pincode, state_name(patient.state_code)
        ),
        "phone": _phone_text(patient.phone),
        "abha_number": patient.abha_number_display if patient.abha_number else "",
    }


def clinic_letterhead(clinic: Clinic) -> dict[str, str]:
    """The clinic's letterhead as printed at the top of every document."""
    return {
        "name": clinic.name,
        "tagline": clinic.letterhead_tagline,
        "address": _joined(clinic.address, clinic.city, clinic.pincode, clinic.state_name),
        "phone": _phone_text(clinic.phone),
        "email": clinic.email,
        "timings": clinic.timings,
        "registration_details": clinic.registration_details,
    }


def prescription_document(*, visit: Visit) -> dict[str, Any]:
    """Everything a printed prescription must carry (IMC regulations 1.4.2 and 1.5), as plain
    strings and dates, ready for the HTML and PDF templates.

    Raises DomainError when the doctor has no registration number: it must be on every
    prescription. An unsigned visit is marked "DRAFT". Three queries (two without a
    prescription), whatever the number of medicines.
    """
    items_qs = PrescriptionItem.objects.order_by("position", "id")
    visit = (
        Visit.objects.select_related(
            "clinic",
            "patient",
            "doctor__user",
            "doctor__doctor_profile",
            "signed_by",
            "vitals",
            "prescription",
        )
        .prefetch_related(Prefetch("diagnoses", queryset=Diagnosis.objects.order_by("position")))
        .get(pk=visit.pk)
    )
    clinic, patient, doctor = visit.clinic, visit.patient, visit.doctor
    doctor_name = _doctor_name(doctor.user.full_name)
    try:
        profile: DoctorProfile | None = doctor.doctor_profile
    except DoctorProfile.DoesNotExist:
        profile = None
    if profile is None or not profile.registration_number.strip():
        raise DomainError(
            NO_REGISTRATION_MESSAGE.format(name=doctor_name), code="no_registration_number"
        )
    try:
        prescription = visit.prescription
    except Prescription.DoesNotExist:
        prescription = None
    items = list(items_qs.filter(prescription=prescription)) if prescription else []
    tz = clinic.tzinfo
    visit_date = timezone.localtime(visit.created_at, tz).date()
    try:
        vitals = visit.vitals
    except Vitals.DoesNotExist:
        vitals = None
    signed = visit.status == VisitStatus.SIGNED
    signed_by = visit.signed_by.full_name if signed and visit.signed_by_id else ""
    # The patient's language for the instructions (English when Vaidya has no catalogue for it).
    language = patient_language(patient.preferred_language)
    return {
        "status": "signed" if signed else "draft",
        "is_draft": not signed,
        "draft_mark": "" if signed else DRAFT_MARK,
        "version": visit.version,
        "is_amendment": visit.amends_id is not None,
        "mode": visit.get_mode_display(),
        "date": visit_date,
        "date_display": format_date(visit_date),
        "clinic": clinic_letterhead(clinic),
        "doctor": {
            "name": doctor_name,
            "qualifications": profile.qualifications,
            "specialisation": profile.specialisation,
            "registration_number": profile.registration_number,
            "medical_council": profile.medical_council,
            "signature_file": profile.signature.name if profile.signature else "",
        },
        "patient": _patient_block(patient, visit_date),
        "complaints": visit.chief_complaints,
        "history": visit.history,
        "findings": visit.examination,
        "vitals": _vitals_text(vitals),
        "diagnoses": [_diagnosis_row(d) for d in visit.diagnoses.all()],
        "language": language,
        "items": [_item_row(n, item, tz, language) for n, item in enumerate(items, 1)],
        "notes": prescription.notes if prescription else "",
        "investigations": visit.investigations_advised,
        "advice": visit.advice,
        "follow_up_date": visit.follow_up_date,
        "follow_up_display": format_date(visit.follow_up_date),
        "signed_at": timezone.localtime(visit.signed_at, tz)
        if signed and visit.signed_at
        else None,
        "signed_at_display": format_datetime(visit.signed_at, tz)
        if signed and visit.signed_at
        else "",
        "signed_by": _doctor_name(signed_by) if signed_by else "",
        "signature_line": (
            f"Signed by {_doctor_name(signed_by)}, {format_datetime(visit.signed_at, tz)}"
            if signed and visit.signed_at and signed_by
            else DRAFT_MARK
        ),
    }


@dataclass
class LineDrug:
    """The clinic's drug a prescription line names: one `drug` (with the brand the doctor
    wrote, if any), or the `choices` when the line fits several or none."""

    drug: Drug | None = None
    brand: str = ""
    choices: list[Drug] = field(default_factory=list)


def _strength_key(text: str) -> str:
    return "".join((text or "").lower().split())


def _fits(drug: Drug, parsed: ParsedLine) -> bool:
    if parsed.form and drug.form != parsed.form:
        return False
    if not parsed.strength:
        return True
    wanted = _strength_key(parsed.strength)
    have = _strength_key(drug.strength)
    return have == wanted or have.startswith(wanted)


def line_drug(parsed: ParsedLine) -> LineDrug:
    """Find the drug a line names ("Dolo 650", "Tab Paracetamol 650") on the clinic's list.

    The drug words are searched as written (a brand such as "Dolo 650" carries its strength),
    then without numbers and units (a generic such as "Paracetamol"); the form and strength the
    line gives narrow the hits. One fit is the drug; several or none are choices to pick from.
    """
    if not parsed.drug_query:
        return LineDrug()
    found = drug_search(parsed.drug_query, limit=MAX_SEARCH_RESULTS)
    words = " ".join(w for w in parsed.drug_query.split() if not any(c.isdigit() for c in w))
    words = " ".join(w for w in words.split() if w.lower() not in ("mg", "mcg", "ml", "g", "iu"))
    if not found and words and words != parsed.drug_query:
        found = drug_search(words, limit=MAX_SEARCH_RESULTS)
    fitting = [d for d in found if _fits(d, parsed)]
    by_brand = [d for d in fitting if d.matched_brand]
    if len(by_brand) == 1:
        return LineDrug(drug=by_brand[0], brand=by_brand[0].matched_brand)
    # Narrow several fits the way a pharmacist reads the line: the very strength written, the
    # single drug named (not a combination containing it), a tablet when no form is written.
    narrowers = (
        lambda d: _strength_key(d.strength) == _strength_key(parsed.strength),
        lambda d: d.generic_name == words.upper(),
        lambda d: parsed.form or d.form == DrugForm.TABLET,
    )
    for narrower in narrowers:
        if len(fitting) > 1:
            narrowed = [d for d in fitting if narrower(d)]
            fitting = narrowed or fitting
    if len(fitting) == 1:
        drug = fitting[0]
        return LineDrug(drug=drug, brand=drug.matched_brand)
    return LineDrug(choices=(fitting or found)[:SEARCH_CHOICES])


SEARCH_CHOICES = 8
