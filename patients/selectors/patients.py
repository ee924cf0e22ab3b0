"""Reads for patients: lists, search, duplicates and the patient page."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date

from django.db import DEFAULT_DB_ALIAS
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from clinics.prepared import PreparedRead
from patients.models import Guardian, Patient, PatientAllergy, normalise_name
from patients.names import latin_key
from patients.phones import digits_only, to_e164

_NUMBER_RE = re.compile(r"^\s*p\s*-?\s*0*(\d{1,9})\s*$", re.IGNORECASE)
_PHONE_LIKE_RE = re.compile(r"^[\d\s()+\-.]*\d[\d\s()+\-.]*$")


def patient_list(*, query: str = "", include_archived: bool = False) -> QuerySet[Patient]:
    """Patients newest first, optionally searched by name, phone or patient number.

    - `P-000123`, `p123`: the patient number.
    - Ten or more digits in any format (`98765 43210`, `+91 98765-43210`): that phone number,
      on either the phone or the WhatsApp number.
    - Fewer digits: patient number, or a part of a phone number.
    - Anything else: a part of the name, any case.
    """
    qs = Patient.objects.all()
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    query = (query or "").strip()
    if not query:
        return qs
    number = _NUMBER_RE.match(query)
    if number:
        return qs.filter(number=int(number.group(1)))
    if _PHONE_LIKE_RE.match(query):
        digits = digits_only(query)
        if len(digits) >= 10:
            e164 = to_e164(query)
            if e164:
                return qs.filter(Q(phone=e164) | Q(whatsapp_phone=e164))
        condition = Q(phone__contains=digits) | Q(whatsapp_phone__contains=digits)
        if len(digits) <= 9:
            condition |= Q(number=int(digits))
        return qs.filter(condition)
    return qs.filter(search_name__contains=normalise_name(query))


def patient_detail(*, patient_id: int, include_archived: bool = True) -> Patient:
    """One patient with their guardians and wards (raises Patient.DoesNotExist)."""
    qs = Patient.objects.prefetch_related(
        Prefetch("guardians", queryset=Guardian.objects.select_related("guardian_patient")),
        Prefetch("wards", queryset=Guardian.objects.select_related("patient")),
    )
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs.get(pk=patient_id)


def possible_duplicates(
    *,
    full_name: str,
    phones: list[str],
    date_of_birth: date | None = None,
    exclude_id: int | None = None,
) -> list[Patient]:
    """Patients who are probably the same person: a similar name (in either script) and the
    same phone number, or the same name and date of birth (a typed one, not one estimated from
    an age)."""
    phones = [p for p in phones if p]
    if not full_name or not (phones or date_of_birth):
        return []
    condition = Q(pk__in=[])
    if phones:
        condition |= Q(phone__in=phones) | Q(whatsapp_phone__in=phones)
    if date_of_birth:
        condition |= Q(date_of_birth=date_of_birth, dob_estimated=False)
    qs = Patient.objects.filter(condition)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    wanted = {str(p) for p in phones}

    def likely(p: Patient) -> bool:
        if {str(p.phone), str(p.whatsapp_phone or "")} & wanted:
            return names_similar(full_name, p.full_name)
        # Without a shared phone only the same name counts: "Worker 0 Patient 1" and
        # "... Patient 2" born the same day are two people.
        return same_name(full_name, p.full_name)

    return [p for p in qs.order_by("number")[:50] if likely(p)]


def same_name(a: str, b: str) -> bool:
    """One name, however it is cased, spaced or scripted ('Ramesh Kumar' / 'रमेश कुमार')."""
    a, b = normalise_name(a), normalise_name(b)
    return bool(a) and (a == b or latin_key(a) == latin_key(b))


def names_similar(a: str, b: str) -> bool:
    """Same person's name written slightly differently ('Ramesh Kumar' / 'Ramesh K'), or in
    another script ('Sunita Devi' / 'सुनीता देवी')."""
    a, b = normalise_name(a), normalise_name(b)
    if not a or not b:
        return False
    if a == b or a in b or b in a:
        return True
    if difflib.SequenceMatcher(None, a, b).ratio() >= 0.8:
        return True
    a, b = latin_key(a), latin_key(b)
    if not a or not b:
        return False
    return a == b or a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


GUARDIAN_COLUMNS = (
    "id",
    "patient_id",
    "relation",
    "name",
    "phone",
    "guardian_patient_id",
    "guardian_patient__number",
    "guardian_patient__full_name",
    "guardian_patient__phone",
)


# Whether a patient has guardians, as one EXISTS on the guardian index. Written as SQL because
# the ORM's Exists(subquery) cost half a millisecond to build on every record read; the
# guardian's clinic is the patient's, so the patient's scope covers it.
_HAS_GUARDIANS = RawSQL(  # noqa: S611 (table names from the models; no input in the SQL)
    f'EXISTS (SELECT 1 FROM "{Guardian._meta.db_table}" g '  # noqa: S608 (no input, as above)
    f'WHERE g."patient_id" = "{Patient._meta.db_table}"."id")',
    (),
    output_field=BooleanField(),
)
# Whether the patient has current structured allergies (the alert every role sees), the same way.
_HAS_ALLERGY_ENTRIES = RawSQL(  # noqa: S611 (table names from the models; no input in the SQL)
    f'EXISTS (SELECT 1 FROM "{PatientAllergy._meta.db_table}" a '  # noqa: S608 (as above)
    f'WHERE a."patient_id" = "{Patient._meta.db_table}"."id" AND a."removed_at" IS NULL)',
    (),
    output_field=BooleanField(),
)


_PATIENT_FIELDS = tuple(f.attname for f in Patient._meta.concrete_fields)
_RECORD_READ = PreparedRead(
    lambda patient_id: (
        Patient.objects.annotate(
            has_guardians=_HAS_GUARDIANS, has_allergy_entries=_HAS_ALLERGY_ENTRIES
        )
        .filter(pk=patient_id)
        .order_by()
        .values_list(*_PATIENT_FIELDS, "has_guardians", "has_allergy_entries")
    ),
    arg_types=(int,),
    scoped=True,
)


class PatientNotFound(Http404):
    """No such patient at the current clinic (another clinic's patient is not found either)."""

    detail = "No such patient at this clinic."


def patient_or_404(patient_id: int, *, read: Callable[..., Patient] | None = None) -> Patient:
    """The current clinic's patient `patient_id` (archived too), else `PatientNotFound` (404,
    on the web and in the API alike). `read(patient_id=...)` reads it with what the caller
    needs, for example `patient_with_guardians`; by default the patient row alone."""
    try:
        if read is None:
            return Patient.objects.order_by().get(pk=patient_id)
        return read(patient_id=patient_id)
    except Patient.DoesNotExist:
        raise PatientNotFound(PatientNotFound.detail) from None


def patient_with_guardians(*, patient_id: int) -> Patient:
    """One patient (archived too) with their guardians only, for the API's record (raises
    Patient.DoesNotExist). One query for a patient without guardians (most adults), two with.

    This read runs on every API record view: its SQL is built once per process
    (`clinics.prepared`), whether there are guardians comes with the patient, and only then are
    they read, with only the columns the record shows, and put where `prefetch_related` would
    have put them.
    """
    rows = _RECORD_READ.rows(patient_id)
    if not rows:
        raise Patient.DoesNotExist("No such patient at this clinic.")
    *values, has_guardians, has_allergy_entries = rows[0]
    patient = Patient.from_db(DEFAULT_DB_ALIAS, _PATIENT_FIELDS, values)
    patient.has_guardians = has_guardians
    patient.has_allergy_entries = bool(has_allergy_entries)
    guardians = (
        list(
            Guardian.objects.filter(patient_id=patient.pk)
            .select_related("guardian_patient")
            .only(*GUARDIAN_COLUMNS)
            .order_by("created_at", "id")
        )
        if patient.has_guardians
        else []
    )
    patient._prefetched_objects_cache = {"guardians": guardians}
    return patient
