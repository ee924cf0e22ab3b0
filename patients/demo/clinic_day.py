"""The demo clinic's day for `manage.py seed_demo`: what a morning at the clinic starts from.

The doctors' working hours, the favourites on the drug list (the starter formulary comes with
the new clinic) and a prescription template, bookings for the next
three days, today's walk-in queue (the first patient already with the doctor) and a dozen
recent signed visits with vitals, a diagnosis and a prescription. It runs after the patients'
register (`patients.demo.households`) and books those patients; every step goes through the
services, so the demo's audit trail is a real one. Deterministic for a given seed: the random
draws happen in one order, step after step.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clinics.demo import DemoContext
from clinics.models import Membership
from clinics.registry import DemoStep
from clinics.tenancy import clinic_scope
from patients.models import Appointment, Drug, Patient, VisitMode
from patients.selectors.appointments import doctor_free_slots
from patients.services.appointments import (
    SessionInput,
    appointment_book,
    appointment_start,
    appointment_walk_in,
    working_hours_set,
)
from patients.services.prescriptions import drug_add, drug_update, prescription_template_save
from patients.services.prescriptions.items import prescription_item_add
from patients.services.visits import (
    diagnosis_add,
    visit_sign,
    visit_start,
    visit_update_notes,
    vitals_record,
)

DEMO_DRUGS = (
    # generic name, strength, form, route, default frequency, days, timing, favourite, restricted
    ("PARACETAMOL", "500 mg", "tablet", "oral", "1-1-1", 3, "after_food", True, False),
    ("PARACETAMOL", "250 mg/5 ml", "syrup", "oral", "TDS", 3, "after_food", True, False),
    ("CETIRIZINE", "10 mg", "tablet", "oral", "0-0-1", 5, "", True, False),
    ("AMOXICILLIN", "500 mg", "capsule", "oral", "1-1-1", 5, "after_food", True, False),
    ("AZITHROMYCIN", "500 mg", "tablet", "oral", "OD", 3, "before_food", False, False),
    ("PANTOPRAZOLE", "40 mg", "tablet", "oral", "1-0-0", 14, "before_food", True, False),
    ("METFORMIN", "500 mg", "tablet", "oral", "1-0-1", 30, "after_food", True, False),
    ("AMLODIPINE", "5 mg", "tablet", "oral", "1-0-0", 30, "", True, False),
    ("TELMISARTAN", "40 mg", "tablet", "oral", "1-0-0", 30, "", False, False),
    ("ATORVASTATIN", "10 mg", "tablet", "oral", "0-0-1", 30, "after_food", False, False),
    ("LEVOTHYROXINE", "50 mcg", "tablet", "oral", "1-0-0", 30, "empty_stomach", False, False),
    ("IBUPROFEN", "400 mg", "tablet", "oral", "SOS", None, "after_food", False, False),
    ("ORAL REHYDRATION SALTS", "", "sachet", "oral", "TDS", 3, "", False, False),
    ("MONTELUKAST", "10 mg", "tablet", "oral", "0-0-1", 14, "", False, False),
    ("SALBUTAMOL", "100 mcg/puff", "inhaler", "inhaled", "SOS", None, "", False, False),
    (
        "CHOLECALCIFEROL",
        "60000 IU",
        "sachet",
        "oral",
        "once a week",
        56,
        "after_food",
        False,
        False,
    ),
    ("ONDANSETRON", "4 mg", "tablet", "oral", "SOS", None, "", False, False),
    ("CLONAZEPAM", "0.5 mg", "tablet", "oral", "HS", 7, "", False, True),
)
DEMO_DIAGNOSES = (
    ("J06.9", "Viral upper respiratory infection", ("PARACETAMOL", "CETIRIZINE")),
    ("I10", "Essential hypertension, on follow-up", ("AMLODIPINE",)),
    ("E11.9", "Type 2 diabetes mellitus, on follow-up", ("METFORMIN",)),
    ("K21.9", "Gastro-oesophageal reflux", ("PANTOPRAZOLE",)),
    ("A09", "Acute gastroenteritis", ("ORAL REHYDRATION SALTS", "ONDANSETRON")),
)

BOOKING_REASONS = ("Fever", "Follow-up", "Cough", "BP check", "")
FOLLOW_UP_DAYS = (3, 7, 14, 30)
BOOKING_DAYS_AHEAD = (1, 2, 3)
WALK_INS_TODAY = 5
RECENT_VISITS = 12


def _set_working_hours(demo: DemoContext) -> None:
    """The owner mornings, the first doctor mornings and evenings, the second evenings."""
    owner, doctor, doctor2 = (demo.member(k) for k in ("owner", "doctor", "doctor2"))
    morning, evening = (time(10), time(13)), (time(17), time(20))
    hours = {
        owner: [(d, *morning, 15) for d in range(6)],
        doctor: [(d, *s, 15) for d in range(6) for s in (morning, evening)],
        doctor2: [(d, time(17), time(20, 30), 20) for d in range(5)],
    }
    for member, sessions in hours.items():
        working_hours_set(
            doctor=member,
            actor=owner.user,
            sessions=[SessionInput(w, a, b, m) for w, a, b, m in sessions],
        )


def _add_drugs(demo: DemoContext) -> dict[str, Drug]:
    """The clinic's favourites and their defaults, on top of the starter formulary the clinic
    was created with (a drug it lacks is added); returns the first drug of each generic name."""
    assert demo.clinic is not None
    owner = demo.member("owner")
    drugs: dict[str, Drug] = {}
    for name, strength, form, route, freq, days, timing, fav, restricted in DEMO_DRUGS:
        defaults = {
            "is_favourite": fav,
            "is_narcotic": restricted,
            "default_frequency": freq,
            "default_duration_days": days,
            "default_timing": timing,
        }
        listed = Drug.objects.filter(
            generic_name=name, strength__iexact=strength, form=form
        ).first()
        if listed is None:
            drug = drug_add(
                clinic=demo.clinic,
                actor=owner.user,
                generic_name=name,
                strength=strength,
                form=form,
                route=route,
                **defaults,
            )
        else:
            drug = drug_update(drug=listed, actor=owner.user, **defaults)
        drugs.setdefault(name, drug)
    return drugs


def _save_fever_template(demo: DemoContext, drugs: dict[str, Drug]) -> None:
    doctor = demo.member("doctor")
    prescription_template_save(
        doctor=doctor,
        actor=doctor.user,
        name="Viral fever, adult",
        items=[
            {"drug_id": drugs["PARACETAMOL"].pk, "frequency": "1-1-1", "duration_days": 3},
            {"drug_id": drugs["CETIRIZINE"].pk, "frequency": "0-0-1", "duration_days": 5},
        ],
    )


def _book_coming_days(
    demo: DemoContext, rng: random.Random, patients: list[Patient], today: date
) -> int:
    """About half of each doctor's slots in the next three days; returns how many."""
    desk = demo.member("front_desk")
    doctors: list[Membership] = [demo.member(k) for k in ("owner", "doctor", "doctor2")]
    booked = 0
    for offset in BOOKING_DAYS_AHEAD:
        day = today + timedelta(days=offset)
        for member in doctors:
            for slot in doctor_free_slots(member, day):
                if rng.random() < 0.5:
                    appointment_book(
                        patient=rng.choice(patients),
                        doctor=member,
                        actor=desk.user,
                        starts_at=slot.start,
                        reason=rng.choice(BOOKING_REASONS),
                    )
                    booked += 1
    return booked


def _queue_walk_ins(
    demo: DemoContext, rng: random.Random, adults: list[Patient]
) -> list[Appointment]:
    """Today's queue: walk-ins with tokens, the first one already with the doctor.

    Added by the doctor, who may go outside her hours: the demo is seeded at any hour, also
    on a day or at a time the doctor does not see patients."""
    doctor = demo.member("doctor")
    queue = [
        appointment_walk_in(
            patient=p,
            doctor=doctor,
            actor=doctor.user,
            reason=rng.choice(BOOKING_REASONS),
            override_reason="Demo clinic: today's queue",
        )
        for p in rng.sample(adults, min(WALK_INS_TODAY, len(adults)))
    ]
    appointment_start(appointment=queue[0], actor=doctor.user)
    return queue


def _sign_visit(
    demo: DemoContext, rng: random.Random, patient: Patient, drugs: dict[str, Drug], today: date
) -> None:
    """One visit with notes, vitals taken by the assistant, a diagnosis and its medicines."""
    assert demo.clinic is not None
    doctor, assistant = demo.member("doctor"), demo.member("assistant")
    by_doctor: dict[str, Any] = {"actor": doctor.user, "actor_membership": doctor}
    code, text, medicines = rng.choice(DEMO_DIAGNOSES)
    visit = visit_start(
        clinic=demo.clinic, **by_doctor, patient=patient, doctor=doctor, mode=VisitMode.IN_PERSON
    )
    visit_update_notes(
        visit=visit,
        **by_doctor,
        chief_complaints=text,
        examination="General condition fair. Chest clear.",
        advice="Plenty of fluids. Review if not better in 3 days.",
        follow_up_date=today + timedelta(days=rng.choice(FOLLOW_UP_DAYS)),
    )
    vitals_record(
        visit=visit,
        actor=assistant.user,
        actor_membership=assistant,
        bp_systolic=rng.randint(110, 150),
        bp_diastolic=rng.randint(70, 95),
        pulse=rng.randint(64, 96),
        temperature_c=Decimal(rng.choice(("36.8", "37.2", "38.1"))),
        spo2=rng.randint(95, 99),
        weight_kg=Decimal(rng.randint(48, 92)),
        height_cm=Decimal(rng.randint(150, 182)),
    )
    diagnosis_add(visit=visit, **by_doctor, text=text, icd10_code=code)
    for name in medicines:
        prescription_item_add(visit=visit, **by_doctor, drug=drugs[name])
    visit_sign(visit=visit, **by_doctor)


def seed_clinic_day(*, demo: DemoContext, **_: Any) -> None:
    """Doctors' hours, the drug list and templates, bookings for the coming days, today's
    walk-in queue and a few signed visits, all through the services (so audited)."""
    if demo.clinic is None:
        return
    rng = random.Random(demo.seed + 30)
    with clinic_scope(demo.clinic):
        _set_working_hours(demo)
        drugs = _add_drugs(demo)
        _save_fever_template(demo, drugs)
        patients = list(Patient.objects.filter(archived_at__isnull=True).order_by("number"))
        adults = [p for p in patients if not p.is_minor]
        if not adults:
            demo.summary.append("Clinic day: hours and drug list only (no adult patients)")
            return
        today = timezone.localdate()
        booked = _book_coming_days(demo, rng, patients, today)
        queue = _queue_walk_ins(demo, rng, adults)
        recent = rng.sample(adults, min(RECENT_VISITS, len(adults)))
        for patient in recent:
            _sign_visit(demo, rng, patient, drugs, today)
        listed = Drug.objects.count()
    demo.summary.append(
        f"Clinic day: hours for 3 doctors, {listed} drugs, {booked} bookings in the "
        f"next 3 days, {len(queue)} walk-ins in today's queue, {len(recent)} signed visits"
    )


CLINIC_DAY = DemoStep(name="patients.clinic_day", order=30, run=seed_clinic_day)
