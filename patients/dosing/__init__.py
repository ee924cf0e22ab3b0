"""Prescription frequency shorthand -> a structured medication schedule.

Doctors in India write how often to take a drug as slot shorthand ("1-0-1" = one in the morning,
none in the afternoon, one at night), as Latin abbreviations ("BD", "TDS", "SOS") or in English
("once a week"). `parse_frequency` turns that text into a `Frequency`; `schedule_for` lays it out
over a course; `quantity_to_dispense` counts the units to hand over; `to_json` / `from_json`
store it in a JSONField.

Pure Python apart from Django's gettext: `frequency_words` says the frequency in the active
language for the patient (the stored `label` stays English). Amounts are always `Decimal`. The
parser never guesses: anything it does not recognise raises `FrequencyError` with a message
that can be shown to the doctor.

Modules: `values` (the frequency and its doses, and their stored JSON), `parsing` (the
shorthand parser) and `quantities` (the schedule of a course and the quantity to dispense).
"""

from patients.dosing.parsing import EXAMPLES, frequency_words, parse_frequency
from patients.dosing.quantities import quantity_to_dispense, schedule_for
from patients.dosing.values import (
    DEFAULT_SLOT_TIMES,
    JSON_VERSION,
    ONE,
    SLOTS,
    Dose,
    Frequency,
    FrequencyError,
    ScheduledDose,
    from_json,
    to_json,
)

__all__ = [
    "DEFAULT_SLOT_TIMES",
    "EXAMPLES",
    "JSON_VERSION",
    "ONE",
    "SLOTS",
    "Dose",
    "Frequency",
    "FrequencyError",
    "ScheduledDose",
    "frequency_words",
    "from_json",
    "parse_frequency",
    "quantity_to_dispense",
    "schedule_for",
    "to_json",
]
