"""The patients' demo data for `manage.py seed_demo`, as two demo-data steps.

- `households`: the register, 300 (or `--patients`) people of a Bengaluru family practice in
  households, with guardians, shared family phones and a few archived (step order 20);
- `clinic_day`: the clinic's day built on that register, the doctors' hours, the drug list,
  bookings, today's queue and recent signed visits (step order 30).

`patients.apps` registers both steps with `clinics.registry.demo_steps`; every name is importable
from here.
"""

from patients.demo.clinic_day import (
    CLINIC_DAY,
    DEMO_DIAGNOSES,
    DEMO_DRUGS,
    seed_clinic_day,
)
from patients.demo.households import (
    ADULT_AGES,
    ADULT_CONDITIONS,
    ALLERGIES,
    CHILD_AGES,
    CHILD_CONDITIONS,
    ELDER_AGES,
    LOCALITIES,
    PARENT_AGES,
    PATIENTS,
    YOUNG_WOMEN_CONDITIONS,
    seed_patients,
)

__all__ = [
    "ADULT_AGES",
    "ADULT_CONDITIONS",
    "ALLERGIES",
    "CHILD_AGES",
    "CHILD_CONDITIONS",
    "CLINIC_DAY",
    "DEMO_DIAGNOSES",
    "DEMO_DRUGS",
    "ELDER_AGES",
    "LOCALITIES",
    "PARENT_AGES",
    "PATIENTS",
    "YOUNG_WOMEN_CONDITIONS",
    "seed_clinic_day",
    "seed_patients",
]
