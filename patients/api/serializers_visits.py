"""Visits and prescriptions in the API: the output serializers (input: `serializers_visits_input`).

Output serializers declare their fields for the OpenAPI schema and build the JSON with a plain
`to_representation` (times in the clinic's time zone, from `context["tz"]`; exact decimals as
strings, like "37.5"). Input serializers are strict and only parse: every clinical rule (ranges
of vitals, ICD-10 codes, frequencies, durations) is the services' and comes back as a field
error under its path, such as `items.1.frequency`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from patients.api.serializers import patient_number
from patients.api.serializers_schedule import (
    DoctorRefSerializer,
    PatientRefSerializer,
    iso,
)
from patients.dosing import Frequency, FrequencyError, from_json, parse_frequency
from patients.models import (
    Diagnosis,
    DrugForm,
    FoodTiming,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    ProcedureDone,
    Route,
    Visit,
    VisitMode,
    VisitStatus,
    Vitals,
)


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal_field(help_text: str = "", **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, help_text=help_text, **kwargs
    )


def _doctor(visit_or_prescription) -> dict[str, Any]:
    doctor = visit_or_prescription.doctor
    return {"id": doctor.pk, "full_name": doctor.user.full_name}


# ---------------------------------------------------------------------------------------------
# Output: parts of a visit


class DiagnosisSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField(
        help_text="With a code, the code's WHO title; without one, the doctor's words."
    )
    icd10_code = serializers.CharField(help_text="WHO ICD-10 code, for example J06.9; or empty.")
    qualifier = serializers.CharField(
        help_text="The doctor's words beside a coded diagnosis (for example 'recurrent'); or empty."
    )
    is_provisional = serializers.BooleanField()

    def to_representation(self, diagnosis: Diagnosis) -> dict[str, Any]:
        return {
            "id": diagnosis.pk,
            "text": diagnosis.text,
            "icd10_code": diagnosis.icd10_code,
            "qualifier": diagnosis.qualifier,
            "is_provisional": diagnosis.is_provisional,
        }


class ProcedureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    notes = serializers.CharField()

    def to_representation(self, procedure: ProcedureDone) -> dict[str, Any]:
        return {"id": procedure.pk, "name": procedure.name, "notes": procedure.notes}


class VisitNotesSerializer(serializers.Serializer):
    chief_complaints = serializers.CharField()
    history = serializers.CharField()
    examination = serializers.CharField(help_text="Examination findings.")
    investigations_advised = serializers.CharField()
    advice = serializers.CharField()
    follow_up_date = serializers.DateField(allow_null=True)

    def to_representation(self, visit: Visit) -> dict[str, Any]:
        return {
            "chief_complaints": visit.chief_complaints,
            "history": visit.history,
            "examination": visit.examination,
            "investigations_advised": visit.investigations_advised,
            "advice": visit.advice,
            "follow_up_date": visit.follow_up_date.isoformat() if visit.follow_up_date else None,
        }


class VitalsSerializer(serializers.Serializer):
    bp_systolic = serializers.IntegerField(allow_null=True, help_text="mmHg")
    bp_diastolic = serializers.IntegerField(allow_null=True, help_text="mmHg")
    blood_pressure = serializers.CharField(help_text="120/80, or empty without both values.")
    pulse = serializers.IntegerField(allow_null=True, help_text="Beats a minute.")
    temperature_c = _decimal_field("°C, one decimal place.")
    spo2 = serializers.IntegerField(allow_null=True, help_text="%")
    respiratory_rate = serializers.IntegerField(allow_null=True, help_text="Breaths a minute.")
    weight_kg = _decimal_field()
    height_cm = _decimal_field()
    bmi = _decimal_field("Body mass index (kg/m²), one decimal place, from weight and height.")
    recorded_at = serializers.DateTimeField()

    def to_representation(self, vitals: Vitals) -> dict[str, Any]:
        return {
            "bp_systolic": vitals.bp_systolic,
            "bp_diastolic": vitals.bp_diastolic,
            "blood_pressure": vitals.blood_pressure,
            "pulse": vitals.pulse,
            "temperature_c": _decimal(vitals.temperature_c),
            "spo2": vitals.spo2,
            "respiratory_rate": vitals.respiratory_rate,
            "weight_kg": _decimal(vitals.weight_kg),
            "height_cm": _decimal(vitals.height_cm),
            "bmi": _decimal(vitals.bmi),
            "recorded_at": iso(vitals.recorded_at, self.context["tz"]),
        }


# ---------------------------------------------------------------------------------------------
# Output: prescriptions


class ScheduledDoseSerializer(serializers.Serializer):
    slot = serializers.CharField(
        help_text="morning, afternoon, evening, night, bedtime; or a clock time (HH:MM) for "
        "every-N-hours frequencies."
    )
    time = serializers.CharField(help_text="The usual clock time of the dose, HH:MM.")
    amount = serializers.CharField(
        help_text="Units per dose when the frequency states them (1/2-0-1/2 gives 0.5); "
        "else 1, a multiplier of dose_amount."
    )


class FrequencyScheduleSerializer(serializers.Serializer):
    """The structured schedule read from the frequency as written (patients.dosing)."""

    code = serializers.CharField(help_text="1-0-1, BD, TDS, SOS, Q8H, ...")
    label = serializers.CharField(help_text="In plain English: Morning and night.")
    doses = ScheduledDoseSerializer(many=True, help_text="The doses of a dosing day; none for SOS.")
    every_n_days = serializers.IntegerField(
        help_text="The repeating period in days: 1 daily, 2 alternate days, 7 weekly."
    )
    days_in_period = serializers.ListField(
        child=serializers.IntegerField(), help_text="Which days of the period have doses (0 first)."
    )
    as_needed = serializers.BooleanField(help_text="SOS: only when needed, no fixed times.")
    once = serializers.BooleanField(help_text="STAT: a single dose now.")


def _frequency_of(item: PrescriptionItem) -> Frequency | None:
    """The stored schedule, else the frequency as written parsed again; None if neither reads."""
    try:
        return from_json(item.schedule)
    except (FrequencyError, TypeError, AttributeError):
        try:
            return parse_frequency(item.frequency)
        except FrequencyError:
            return None


def _schedule(frequency: Frequency | None) -> dict[str, Any] | None:
    if frequency is None:
        return None
    return {
        "code": frequency.code,
        "label": frequency.label,
        "doses": [
            {
                "slot": d.slot,
                "time": d.time.strftime("%H:%M"),
                "amount": format(d.amount.normalize(), "f"),
            }
            for d in frequency.doses
        ],
        "every_n_days": frequency.every_n_days,
        "days_in_period": list(frequency.days_in_period),
        "as_needed": frequency.as_needed,
        "once": frequency.once,
    }


class PrescriptionItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    drug_id = serializers.IntegerField(
        allow_null=True, help_text="The drug on the clinic's list, when it is one."
    )
    generic_name = serializers.CharField(help_text="In capitals: PARACETAMOL.")
    strength = serializers.CharField(help_text="500 mg; may be empty.")
    form = serializers.ChoiceField(choices=DrugForm.choices)
    route = serializers.ChoiceField(choices=Route.choices)
    dose_amount = serializers.DecimalField(max_digits=6, decimal_places=2)
    dose_unit = serializers.CharField(help_text="tablet, ml, drops, puff; may be empty.")
    frequency = serializers.CharField(help_text="The frequency code: 1-0-1, BD, SOS, ...")
    frequency_label = serializers.CharField(help_text="In plain English: Morning and night.")
    schedule = FrequencyScheduleSerializer(
        allow_null=True, help_text="Null only for an old item whose frequency cannot be read."
    )
    duration_days = serializers.IntegerField(allow_null=True, help_text="Null for SOS and STAT.")
    timing = serializers.ChoiceField(
        choices=FoodTiming.choices, help_text="Before food, after food, ...; empty: any time."
    )
    instructions = serializers.CharField()
    quantity = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        allow_null=True,
        help_text="How much to dispense; null when it cannot be counted (SOS, syrups by ml).",
    )
    starts_on = serializers.DateField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True, help_text="Set once it is stopped.")

    def to_representation(self, item: PrescriptionItem) -> dict[str, Any]:
        frequency = _frequency_of(item)
        return {
            "id": item.pk,
            "drug_id": item.drug_id,
            "generic_name": item.generic_name,
            "strength": item.strength,
            "form": item.form,
            "route": item.route,
            "dose_amount": _decimal(item.dose_amount),
            "dose_unit": item.dose_unit,
            "frequency": item.frequency,
            "frequency_label": frequency.label if frequency else "",
            "schedule": _schedule(frequency),
            "duration_days": item.duration_days,
            "timing": item.timing,
            "instructions": item.instructions,
            "quantity": _decimal(item.quantity),
            "starts_on": item.starts_on.isoformat() if item.starts_on else None,
            "stopped_at": iso(item.stopped_at, self.context["tz"]),
        }


class PrescriptionSerializer(serializers.Serializer):
    """A prescription with its items (prefetched as `items`); needs `doctor.user` and `visit`
    loaded, and `context["tz"]`."""

    id = serializers.IntegerField()
    visit_id = serializers.IntegerField()
    visit_version = serializers.IntegerField(help_text="The version of the visit it belongs to.")
    is_current = serializers.BooleanField(
        help_text="False once the visit was corrected: the correction's prescription replaces "
        "this one."
    )
    patient_id = serializers.IntegerField()
    doctor = DoctorRefSerializer()
    status = serializers.ChoiceField(
        choices=PrescriptionStatus.choices, help_text="Signed with its visit."
    )
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    signed_at = serializers.DateTimeField(allow_null=True)
    items = PrescriptionItemSerializer(many=True)

    def to_representation(self, prescription: Prescription) -> dict[str, Any]:
        tz = self.context["tz"]
        item_out = PrescriptionItemSerializer(context=self.context)
        return {
            "id": prescription.pk,
            "visit_id": prescription.visit_id,
            "visit_version": prescription.visit.version,
            "is_current": prescription.visit.superseded_at is None,
            "patient_id": prescription.patient_id,
            "doctor": _doctor(prescription),
            "status": prescription.status,
            "notes": prescription.notes,
            "created_at": iso(prescription.created_at, tz),
            "signed_at": iso(prescription.signed_at, tz),
            "items": [item_out.to_representation(i) for i in prescription.items.all()],
        }


# ---------------------------------------------------------------------------------------------
# Output: visits


class VisitSummarySerializer(serializers.Serializer):
    """One row of a patient's visits: needs `doctor.user` and prefetched `diagnoses`."""

    id = serializers.IntegerField()
    patient_id = serializers.IntegerField()
    doctor = DoctorRefSerializer()
    date = serializers.DateField(help_text="The day this version was opened (clinic time zone).")
    mode = serializers.ChoiceField(choices=VisitMode.choices)
    status = serializers.ChoiceField(
        choices=VisitStatus.choices, help_text="A signed visit is frozen."
    )
    version = serializers.IntegerField(help_text="1, or more for a corrected visit.")
    amends = serializers.IntegerField(
        allow_null=True, help_text="The id of the version this one corrects."
    )
    is_current = serializers.BooleanField(
        help_text="False once a later version that corrects it is signed."
    )
    signed_at = serializers.DateTimeField(allow_null=True)
    diagnoses = DiagnosisSerializer(many=True)

    def to_representation(self, visit: Visit) -> dict[str, Any]:
        tz = self.context["tz"]
        diagnosis_out = DiagnosisSerializer()
        return {
            "id": visit.pk,
            "patient_id": visit.patient_id,
            "doctor": _doctor(visit),
            "date": visit.created_at.astimezone(tz).date().isoformat(),
            "mode": visit.mode,
            "status": visit.status,
            "version": visit.version,
            "amends": visit.amends_id,
            "is_current": visit.superseded_at is None,
            "signed_at": iso(visit.signed_at, tz),
            "diagnoses": [diagnosis_out.to_representation(d) for d in visit.diagnoses.all()],
        }


class VisitSerializer(serializers.Serializer):
    """A visit's whole record (see patients.selectors.visits.visit_record)."""

    id = serializers.IntegerField()
    patient = PatientRefSerializer()
    doctor = DoctorRefSerializer()
    appointment_id = serializers.IntegerField(allow_null=True)
    date = serializers.DateField(help_text="The day this version was opened (clinic time zone).")
    mode = serializers.ChoiceField(choices=VisitMode.choices)
    status = serializers.ChoiceField(choices=VisitStatus.choices)
    version = serializers.IntegerField()
    amends = serializers.IntegerField(allow_null=True)
    amendment_reason = serializers.CharField(help_text="What a correction changes, and why.")
    is_current = serializers.BooleanField()
    signed_at = serializers.DateTimeField(allow_null=True)
    signed_by = serializers.CharField(allow_null=True, help_text="The signing doctor's name.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    notes = VisitNotesSerializer()
    vitals = VitalsSerializer(allow_null=True, help_text="Null until vitals are recorded.")
    diagnoses = DiagnosisSerializer(many=True)
    procedures = ProcedureSerializer(many=True)
    prescription = PrescriptionSerializer(allow_null=True, help_text="Null without medicines.")

    def to_representation(self, visit: Visit) -> dict[str, Any]:
        tz = self.context["tz"]
        patient = visit.patient
        try:
            vitals = visit.vitals
        except Vitals.DoesNotExist:
            vitals = None
        try:
            prescription = visit.prescription
        except Prescription.DoesNotExist:
            prescription = None
        if prescription is not None:
            prescription.visit = visit  # the same row: no need to read it again
        diagnosis_out, procedure_out = DiagnosisSerializer(), ProcedureSerializer()
        return {
            "id": visit.pk,
            "patient": {
                "id": patient.pk,
                "number": patient_number(patient.number),
                "full_name": patient.full_name,
            },
            "doctor": _doctor(visit),
            "appointment_id": visit.appointment_id,
            "date": visit.created_at.astimezone(tz).date().isoformat(),
            "mode": visit.mode,
            "status": visit.status,
            "version": visit.version,
            "amends": visit.amends_id,
            "amendment_reason": visit.amendment_reason,
            "is_current": visit.superseded_at is None,
            "signed_at": iso(visit.signed_at, tz),
            "signed_by": visit.signed_by.full_name if visit.signed_by_id else None,
            "created_at": iso(visit.created_at, tz),
            "updated_at": iso(visit.updated_at, tz),
            "notes": VisitNotesSerializer().to_representation(visit),
            "vitals": VitalsSerializer(context=self.context).to_representation(vitals)
            if vitals is not None
            else None,
            "diagnoses": [diagnosis_out.to_representation(d) for d in visit.diagnoses.all()],
            "procedures": [procedure_out.to_representation(p) for p in visit.procedures.all()],
            "prescription": PrescriptionSerializer(context=self.context).to_representation(
                prescription
            )
            if prescription is not None
            else None,
        }
