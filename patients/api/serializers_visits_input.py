"""Visits and prescriptions in the API: the input serializers (output: `serializers_visits`).

Input serializers are strict and only parse: every clinical rule (ranges of vitals, ICD-10
codes, frequencies, durations) is the services' and comes back as a field error under its path,
such as `items.1.frequency`.
"""

from __future__ import annotations

from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from clinics.api.pagination import PagedQuerySerializer
from patients.api.serializers_schedule import id_field
from patients.models import DrugForm, FoodTiming, Route, VisitMode

MAX_NOTE_LENGTH = 10_000
MAX_DIAGNOSES = 20
MAX_PROCEDURES = 20
MAX_ITEMS = 40


def _text(max_length: int, help_text: str = "", **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, help_text=help_text, **kwargs
    )


def _number(help_text: str) -> serializers.DecimalField:
    # No digit limits here: the vitals service checks ranges and rounds, with its own messages.
    return serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        required=False,
        allow_null=True,
        coerce_to_string=False,
        help_text=help_text,
    )


def _whole(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, help_text=help_text)


class VisitNotesInputSerializer(StrictInputSerializer):
    """The doctor's notes. Needs a doctor."""

    chief_complaints = _text(MAX_NOTE_LENGTH, "For example Fever and sore throat for 3 days.")
    history = _text(MAX_NOTE_LENGTH)
    examination = _text(MAX_NOTE_LENGTH, "Examination findings.")
    investigations_advised = _text(MAX_NOTE_LENGTH)
    advice = _text(MAX_NOTE_LENGTH)
    follow_up_date = serializers.DateField(
        required=False, allow_null=True, help_text="Not before the visit, within two years."
    )


class VitalsInputSerializer(StrictInputSerializer):
    """Vitals; an assistant may record them. Implausible values are refused one by one."""

    bp_systolic = _whole("mmHg, 50 to 300.")
    bp_diastolic = _whole("mmHg, 20 to 200; lower than the systolic.")
    pulse = _whole("Beats a minute, 20 to 250.")
    temperature_c = _number("°C, 30 to 45. Or give temperature_f.")
    temperature_f = _number("°F, 86 to 113: stored in °C.")
    spo2 = _whole("%, 50 to 100.")
    respiratory_rate = _whole("Breaths a minute, 4 to 80.")
    weight_kg = _number("kg, 0.3 to 350.")
    height_cm = _number("cm, 20 to 250.")


class DiagnosisInputSerializer(StrictInputSerializer):
    """Give the text, an ICD-10 code, or both. With a code the diagnosis takes the code's WHO
    title, and text that is more than a search for it is kept as the qualifier. Needs a doctor."""

    text = _text(300, "The diagnosis in the doctor's words.", default="")
    icd10_code = _text(10, "WHO ICD-10, for example J06.9 or j069.", default="")
    qualifier = _text(200, "Words beside a coded diagnosis, for example recurrent.", default="")
    is_provisional = serializers.BooleanField(required=False, default=False)


class ProcedureInputSerializer(StrictInputSerializer):
    """A procedure performed at the visit. Needs a doctor."""

    name = serializers.CharField(max_length=200, help_text="For example Wound dressing.")
    notes = _text(2000)


class PrescriptionItemInputSerializer(StrictInputSerializer):
    """A medicine. With `drug_id`, name, strength, form and route come from the clinic's drug
    list, and its defaults fill what is not given. Needs the visit's doctor."""

    drug_id = id_field(
        "A drug on the clinic's list.", refers_to="drug", required=False, allow_null=True
    )
    generic_name = _text(200, "Without drug_id: PARACETAMOL.")
    strength = _text(60, "500 mg")
    form = serializers.ChoiceField(
        choices=DrugForm.choices, required=False, help_text="Without drug_id: required."
    )
    route = serializers.ChoiceField(choices=Route.choices, required=False, help_text="oral")
    dose_amount = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        required=False,
        allow_null=True,
        help_text="An exact number as text or a number: 1, 0.5 (default 1).",
    )
    dose_unit = _text(20, "tablet, ml, drops, puff")
    frequency = _text(
        40, "As doctors write it: 1-0-1, 1/2-0-1/2, OD, BD, TDS, QID, HS, SOS, STAT, Q8H."
    )
    duration_days = _whole("1 to 365; not needed for SOS and STAT.")
    timing = serializers.ChoiceField(
        choices=FoodTiming.choices, required=False, allow_null=True, allow_blank=True
    )
    instructions = _text(300)
    starts_on = serializers.DateField(
        required=False, allow_null=True, help_text="Default: the day of the visit."
    )
    brand_name = _text(60, "With drug_id: one of the drug's brand names, printed in brackets.")
    override_reason = _text(
        300,
        "Why the doctor prescribes it although the safety checks stopped it (an allergy, "
        "duplicate therapy, a dose above the maximum). Without it such an item is refused "
        "with code prescribing_check; the reason is kept on the prescription.",
    )


class VisitCreateInputSerializer(StrictInputSerializer):
    """A new draft visit, with any of its notes, vitals, diagnoses, procedures and medicines."""

    patient_id = id_field("The patient seen.", refers_to="patient")
    doctor_id = id_field(
        "The doctor of the visit (GET /api/v1/doctors/). Default: the signed-in doctor; an "
        "assistant must give it.",
        refers_to="doctor",
        required=False,
    )
    appointment_id = id_field(
        "The patient's appointment with this doctor, if they came for one.",
        refers_to="appointment",
        required=False,
        allow_null=True,
    )
    mode = serializers.ChoiceField(
        choices=VisitMode.choices,
        required=False,
        default=VisitMode.IN_PERSON,
        help_text="A minor is seen by teleconsultation only with a guardian on record.",
    )
    notes = VisitNotesInputSerializer(required=False)
    vitals = VitalsInputSerializer(required=False)
    diagnoses = DiagnosisInputSerializer(many=True, required=False, max_length=MAX_DIAGNOSES)
    procedures = ProcedureInputSerializer(many=True, required=False, max_length=MAX_PROCEDURES)
    items = PrescriptionItemInputSerializer(
        many=True,
        required=False,
        max_length=MAX_ITEMS,
        help_text="The medicines of the visit's prescription, in order.",
    )


class PatientQuerySerializer(PagedQuerySerializer):
    """`?patient=` with the pagination parameters."""

    patient = id_field("The patient.")
