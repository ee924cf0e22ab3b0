"""Patients API: input serializers (strict, parse only) and output serializers.

The output serializers declare their fields for the OpenAPI schema, and build the JSON with a
plain `to_representation`: the patient list is the API's busiest endpoint, and walking DRF
fields costs several times more than building the dict. tests/api checks that each output has
exactly the declared fields.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from clinics.api.fields import (
    ABHA_ADDRESS_PATTERN,
    ABHA_NUMBER_PATTERN,
    E164_OR_EMPTY_PATTERN,
    PHONE_INPUT_PATTERN,
    PHONE_REQUIRED_PATTERN,
    PHONE_RULE,
    PINCODE_PATTERN,
    VISIBLE_RULE,
    declared,
    visible_text_pattern,
)
from clinics.states import STATE_CHOICES, state_name
from clinics.validators import VisibleText
from patients.models import ADULT_AGE, BloodGroup, Guardian, Patient, Relation, Sex, age_on
from patients.models.patients import DiscreetMessages, Language
from patients.registration import registration_steps
from patients.services import MAX_AGE_YEARS

_AGE_ERROR = f"Enter an age in whole years from 0 to {MAX_AGE_YEARS}."
_MINOR_RULE = "A patient under 18 needs a guardian (`guardian` when registering)."
_HEALTH_RULE = "Only callers who may read clinical information (clinical.view) may send it."
_datetime_field = serializers.DateTimeField()

# The columns the list reads. Phones are read as stored text (E.164), which skips parsing
# every number into a PhoneNumber object only to print it again.
LIST_COLUMNS = (
    "id",
    "number",
    "full_name",
    "sex",
    "date_of_birth",
    "dob_estimated",
    "city",
    "archived_at",
)
LIST_TEXT_COLUMNS = {"phone_text": "phone", "whatsapp_phone_text": "whatsapp_phone"}


def _e164(help_text: str) -> serializers.CharField:
    """A phone number going out: E.164, or empty when there is none."""
    return declared(serializers.CharField(help_text=help_text), pattern=E164_OR_EMPTY_PATTERN)


def patient_number(number: int) -> str:
    return f"P-{number:06d}"


def _phone(value) -> str:
    return str(value) if value else ""


def _datetime(value) -> str | None:
    return _datetime_field.to_representation(value) if value else None


# ---------------------------------------------------------------------------------------------
# Output


class GuardianSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    relation = serializers.ChoiceField(choices=Relation.choices)
    guardian_patient_id = serializers.IntegerField(
        allow_null=True, help_text="Set when the guardian is a patient of the clinic."
    )
    guardian_patient_number = serializers.CharField(allow_null=True, help_text="P-000123")
    name = serializers.CharField(help_text="The guardian's name (the patient's, if linked).")
    phone = _e164(help_text="E.164; the linked patient's phone, if linked.")

    def to_representation(self, guardian: Guardian) -> dict[str, Any]:
        other = guardian.guardian_patient if guardian.guardian_patient_id else None
        return {
            "id": guardian.pk,
            "relation": guardian.relation,
            "guardian_patient_id": guardian.guardian_patient_id,
            "guardian_patient_number": patient_number(other.number) if other else None,
            "name": other.full_name if other else guardian.name,
            "phone": _phone(other.phone if other else guardian.phone),
        }


class PatientListItemSerializer(serializers.Serializer):
    """One row of the patient list. Built from `.values()` rows (see LIST_COLUMNS)."""

    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The clinic's patient number, P-000123.")
    full_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    date_of_birth = serializers.DateField()
    dob_estimated = serializers.BooleanField(
        help_text="True when only the age was given and the date of birth is estimated."
    )
    age = serializers.IntegerField(help_text="Age in whole years today.")
    is_minor = serializers.BooleanField(help_text="Under 18 today.")
    phone = _e164(help_text="E.164, for example +919845012345.")
    whatsapp_phone = _e164(help_text="E.164; empty when the same as the phone.")
    city = serializers.CharField()
    archived = serializers.BooleanField()

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:
        dob: date = row["date_of_birth"]
        age = age_on(dob, self._today())
        return {
            "id": row["id"],
            "number": patient_number(row["number"]),
            "full_name": row["full_name"],
            "sex": row["sex"],
            "date_of_birth": dob.isoformat(),
            "dob_estimated": row["dob_estimated"],
            "age": age,
            "is_minor": age < ADULT_AGE,
            "phone": row["phone_text"] or "",
            "whatsapp_phone": row["whatsapp_phone_text"] or "",
            "city": row["city"],
            "archived": row["archived_at"] is not None,
        }

    def _today(self) -> date:
        # Once per page, not once per row.
        today = getattr(self, "_today_cache", None)
        if today is None:
            today = self._today_cache = timezone.localdate()
        return today


class AllergyEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    substance = serializers.CharField(help_text="A generic name, a food, latex ...; or empty.")
    drug_class = serializers.CharField(help_text="A drug class key such as nsaids; or empty.")
    drug_class_label = serializers.CharField()
    reaction = serializers.CharField()
    severity = serializers.CharField(help_text="mild, moderate, severe, anaphylaxis or empty.")
    note = serializers.CharField()
    recorded_at = serializers.DateTimeField()

    def to_representation(self, entry) -> dict[str, Any]:
        return {
            "id": entry.pk,
            "substance": entry.substance,
            "drug_class": entry.drug_class,
            "drug_class_label": entry.get_drug_class_display() if entry.drug_class else "",
            "reaction": entry.reaction,
            "severity": entry.severity,
            "note": entry.note,
            "recorded_at": _datetime(entry.recorded_at),
        }


_LANGUAGE_HELP = (
    "What the patient reads (WhatsApp messages, consent notices, the prescription's "
    "instructions beside the English) comes in it where Vaidya has it (en, hi); else English."
)
_DISCREET_HELP = (
    "Whether WhatsApp medicine reminders name the medicines: auto (the clinic's choice: "
    "discreet when a medicine of a sensitive class is included), always (never named) or "
    "never (always named)."
)


class PatientSerializer(serializers.Serializer):
    """A patient's full record with guardians.

    Guardians come from `context["guardians"]` when the caller has them, else from the
    patient's (prefetched) `guardians`. Allergies and long-term conditions are clinical
    information: they are in the answer only when `context["clinical"]` is true (the caller
    holds `clinical.view`); everyone gets `has_allergy_alert`.
    """

    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The clinic's patient number, P-000123.")
    full_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    date_of_birth = serializers.DateField()
    dob_estimated = serializers.BooleanField(
        help_text="True when only the age was given and the date of birth is estimated."
    )
    age = serializers.IntegerField(help_text="Age in whole years today.")
    is_minor = serializers.BooleanField(help_text="Under 18 today.")
    phone = _e164(help_text="E.164, for example +919845012345.")
    whatsapp_phone = _e164(help_text="E.164; empty when the same as the phone.")
    preferred_language = serializers.ChoiceField(choices=Language.choices, help_text=_LANGUAGE_HELP)
    discreet_messages = serializers.ChoiceField(
        choices=DiscreetMessages.choices, help_text=_DISCREET_HELP
    )
    email = serializers.CharField()
    address = serializers.CharField()
    city = serializers.CharField()
    pincode = serializers.CharField()
    state_code = serializers.CharField(help_text="GST state code, for example 29; may be empty.")
    state_name = serializers.CharField()
    blood_group = serializers.CharField(help_text="A+, A-, B+, B-, AB+, AB-, O+, O- or empty.")
    has_allergy_alert = serializers.BooleanField(
        help_text=(
            "True when the patient has allergies on record. For every caller, so that staff "
            "who may not read them know to ask a doctor."
        )
    )
    allergies = serializers.CharField(
        required=False,
        help_text=(
            "Only for callers with the clinical.view permission (owner, doctor, assistant); "
            "absent for front desk and billing."
        ),
    )
    allergy_entries = AllergyEntrySerializer(
        many=True,
        required=False,
        help_text=(
            "The allergies as structured entries, which every prescribed medicine is checked "
            "against. Only for callers with the clinical.view permission."
        ),
    )
    chronic_conditions = serializers.CharField(
        required=False,
        help_text=(
            "Long-term conditions. Only for callers with the clinical.view permission; "
            "absent for front desk and billing."
        ),
    )
    abha_number = serializers.CharField(help_text="14 digits, or empty.")
    abha_address = serializers.CharField(help_text="name@abdm, or empty.")
    emergency_contact_name = serializers.CharField()
    emergency_contact_relation = serializers.CharField(help_text="A relation, or empty.")
    emergency_contact_phone = _e164(help_text="E.164, or empty.")
    archived = serializers.BooleanField()
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    guardians = GuardianSerializer(many=True)

    def to_representation(self, patient: Patient) -> dict[str, Any]:
        age = age_on(patient.date_of_birth, timezone.localdate())
        guardians = self.context.get("guardians")
        if guardians is None:
            guardians = patient.guardians.all()
        guardian_out = GuardianSerializer()
        body = {
            "id": patient.pk,
            "number": patient_number(patient.number),
            "full_name": patient.full_name,
            "sex": patient.sex,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "dob_estimated": patient.dob_estimated,
            "age": age,
            "is_minor": age < ADULT_AGE,
            "phone": _phone(patient.phone),
            "whatsapp_phone": _phone(patient.whatsapp_phone),
            "preferred_language": patient.preferred_language,
            "discreet_messages": patient.discreet_messages,
            "email": patient.email,
            "address": patient.address,
            "city": patient.city,
            "pincode": patient.pincode,
            "state_code": patient.state_code,
            "state_name": state_name(patient.state_code),
            "blood_group": patient.blood_group,
            "has_allergy_alert": bool(patient.allergies.strip())
            or bool(getattr(patient, "has_allergy_entries", False)),
            "abha_number": patient.abha_number,
            "abha_address": patient.abha_address,
            "emergency_contact_name": patient.emergency_contact_name,
            "emergency_contact_relation": patient.emergency_contact_relation,
            "emergency_contact_phone": _phone(patient.emergency_contact_phone),
            "archived": patient.archived_at is not None,
            "archived_at": _datetime(patient.archived_at),
            "created_at": _datetime(patient.created_at),
            "updated_at": _datetime(patient.updated_at),
            "guardians": [guardian_out.to_representation(g) for g in guardians],
        }
        if self.context.get("clinical"):
            body["allergies"] = patient.allergies
            entries = self.context.get("allergy_entries") or []
            body["allergy_entries"] = [
                AllergyEntrySerializer().to_representation(e) for e in entries
            ]
            body["chronic_conditions"] = patient.chronic_conditions
        return body


# ---------------------------------------------------------------------------------------------
# Input


def _text(max_length: int, *, pattern="", rule: str = "", **kwargs) -> serializers.CharField:
    field = serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, allow_null=True, **kwargs
    )
    return declared(field, pattern=pattern, rule=rule)


def _visible(*, multiline: bool = False, required: bool = False):
    """The pattern of text without invisible characters (built when the schema is)."""
    return lambda: visible_text_pattern(multiline=multiline, required=required)


def _visible_text(max_length: int, *, multiline: bool = False, **kwargs) -> serializers.CharField:
    return _text(max_length, pattern=_visible(multiline=multiline), rule=VISIBLE_RULE, **kwargs)


def _phone_text(help_text: str) -> serializers.CharField:
    return _text(30, pattern=PHONE_INPUT_PATTERN, rule=PHONE_RULE, help_text=help_text)


def _choice(choices, **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=choices, required=False, allow_blank=True, allow_null=True, **kwargs
    )


class GuardianInputSerializer(StrictInputSerializer):
    """An existing adult patient (`guardian_patient_id`), or a contact (`name` and `phone`)."""

    guardian_patient_id = declared(
        serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            help_text="An adult patient of the clinic.",
        ),
        rule="Must be the id of an adult patient of the caller's clinic, not the patient's own.",
    )
    name = _text(
        150,
        pattern=_visible(),
        rule=f"Required (not blank) when guardian_patient_id is not given. {VISIBLE_RULE}",
        help_text="The guardian's name, when not a patient of the clinic.",
    )
    relation = serializers.ChoiceField(choices=Relation.choices)
    phone = _text(
        30,
        pattern=PHONE_INPUT_PATTERN,
        rule=f"Required when guardian_patient_id is not given. {PHONE_RULE}",
        help_text="The guardian's phone, when not a patient of the clinic.",
    )

    # The patterns hold whenever a name or phone is sent, even beside guardian_patient_id (where
    # the linked patient's own are used): a schema-invalid value is never taken silently.
    def validate_name(self, value: str | None) -> str | None:
        if value:
            VisibleText("guardian's name")(value)
        return value

    def validate_phone(self, value: str | None) -> str | None:
        if value and not re.fullmatch(PHONE_INPUT_PATTERN, value):
            raise serializers.ValidationError("Enter a phone number: digits, +, spaces, ( ) . -")
        return value


class PatientUpdateInputSerializer(StrictInputSerializer):
    """Changes to a patient: send only the fields that change."""

    full_name = declared(
        serializers.CharField(max_length=200), pattern=_visible(required=True), rule=VISIBLE_RULE
    )
    sex = serializers.ChoiceField(choices=Sex.choices)
    date_of_birth = declared(
        serializers.DateField(
            required=False, allow_null=True, help_text="YYYY-MM-DD. Or give `age_years`."
        ),
        rule=f"Not in the future, nor more than {MAX_AGE_YEARS} years ago. A new patient needs "
        f"date_of_birth or age_years. {_MINOR_RULE}",
    )
    age_years = declared(
        serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=0,
            max_value=MAX_AGE_YEARS,
            error_messages={"min_value": _AGE_ERROR, "max_value": _AGE_ERROR},
            help_text="When the date of birth is not known: it is estimated from the age.",
        ),
        rule=_MINOR_RULE,
    )
    phone = declared(
        serializers.CharField(
            max_length=30,
            help_text="Any common format: 98450 12345, +91 98450 12345, 09845012345.",
        ),
        pattern=PHONE_REQUIRED_PATTERN,
        rule=PHONE_RULE,
    )
    whatsapp_phone = _phone_text("Only if different from the phone number.")
    preferred_language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        help_text=_LANGUAGE_HELP,
    )
    discreet_messages = serializers.ChoiceField(
        choices=DiscreetMessages.choices, required=False, help_text=_DISCREET_HELP
    )
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    address = _visible_text(1000, multiline=True)
    city = _visible_text(100)
    pincode = _text(6, pattern=PINCODE_PATTERN, help_text="6 digits, not starting with 0.")
    state_code = _choice(STATE_CHOICES, help_text="GST state code, for example 29.")
    blood_group = _choice(BloodGroup.choices)
    allergies = _text(
        2000,
        rule=_HEALTH_RULE,
        help_text="Only callers with clinical.view may send it; others get a 400.",
    )
    chronic_conditions = _text(
        2000,
        rule=_HEALTH_RULE,
        help_text="Only callers with clinical.view may send it; others get a 400.",
    )
    abha_number = _text(
        20, pattern=ABHA_NUMBER_PATTERN, help_text="14 digits; dashes and spaces are ignored."
    )
    abha_address = _text(120, pattern=ABHA_ADDRESS_PATTERN, help_text="For example asha.rao@abdm.")
    emergency_contact_name = _visible_text(150)
    emergency_contact_relation = _choice(Relation.choices)
    emergency_contact_phone = _phone_text("The emergency contact's phone, or empty.")


class PatientCreateInputSerializer(PatientUpdateInputSerializer):
    """A new patient. Give `date_of_birth` or `age_years`; a minor needs a `guardian`."""

    guardian = declared(
        GuardianInputSerializer(
            required=False, allow_null=True, help_text="Required for a patient under 18."
        ),
        rule="Required for a patient under 18.",
    )
    confirm_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Register even though a patient with this phone and a similar name exists "
        "(after a 409 possible_duplicate answer).",
    )

    def get_fields(self):
        # What other apps record in the same step (patients.registration): for example
        # `whatsapp_consent`, the patient's WhatsApp consent.
        fields = super().get_fields()
        for step in registration_steps:
            if step.serializer_class is not None:
                fields[step.name] = step.serializer_class(required=False, allow_null=True)
        return fields
