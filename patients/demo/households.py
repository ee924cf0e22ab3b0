"""Demo patients for `manage.py seed_demo`: a Bengaluru family practice's register.

Households, not isolated people: couples and families share one mobile number (as many Indian
families do), elderly parents often know only their age, children are registered with a parent
as guardian, and a few children come with a relative who is not a patient. Every patient is
registered through `patient_create`, so numbers, guardians and the audit trail are real.
Deterministic for a given seed: the same command gives the same people.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import phonenumbers
from django.utils import timezone
from faker import Faker

from clinics.demo import DemoContext
from clinics.models import User
from clinics.registry import DemoStep
from clinics.tenancy import clinic_scope
from patients.models import BloodGroup, Patient, Relation, Sex
from patients.services import GuardianInput, estimated_dob, patient_archive, patient_create

LOCALITIES = (
    ("Jayanagar", "560041"),
    ("Basavanagudi", "560004"),
    ("JP Nagar", "560078"),
    ("Banashankari", "560070"),
    ("BTM Layout", "560076"),
    ("Koramangala", "560034"),
    ("HSR Layout", "560102"),
    ("Wilson Garden", "560027"),
    ("Girinagar", "560085"),
    ("Kumaraswamy Layout", "560078"),
    ("Padmanabhanagar", "560070"),
    ("Jakkasandra", "560034"),
)
ALLERGIES = (
    "Penicillin",
    "Sulfa drugs",
    "Aspirin",
    "Ibuprofen and other NSAIDs",
    "Peanuts",
    "Dust mites",
    "Latex",
    "Shellfish",
    "Eggs",
    "Cotrimoxazole",
)
ADULT_CONDITIONS = (
    "Type 2 diabetes",
    "Hypertension",
    "Hypothyroidism",
    "Dyslipidaemia",
    "Osteoarthritis of both knees",
    "Bronchial asthma",
    "Acid reflux (GERD)",
    "Migraine",
)
CHILD_CONDITIONS = ("Bronchial asthma", "Allergic rhinitis", "Atopic eczema")
YOUNG_WOMEN_CONDITIONS = ("PCOS", "Iron-deficiency anaemia")

ADULT_AGES = (19, 70)
PARENT_AGES = (26, 45)
ELDER_AGES = (62, 88)
CHILD_AGES = (0, 16)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class _PatientSeeder:
    def __init__(self, demo: DemoContext):
        assert demo.clinic is not None, "the clinic seeder runs first"
        self.demo = demo
        self.clinic = demo.clinic
        self.rng = random.Random(demo.seed)
        self.fake = Faker("en_IN")
        self.fake.seed_instance(demo.seed)
        self.today = timezone.localdate()
        self.remaining = demo.patients
        self.used_phones: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.singles: list[Patient] = []
        staff = demo.staff
        self.registrars: list[User] = [
            staff["front_desk"].user,
            staff["front_desk"].user,
            staff["front_desk"].user,
            staff["assistant"].user,
            staff["owner"].user,
        ]

    # -- building blocks -----------------------------------------------------------------------

    def phone(self) -> str:
        """A fresh, valid Indian mobile number (10 digits starting 6-9) in E.164."""
        while True:
            digits = self.rng.choice("6789") + "".join(self.rng.choices("0123456789", k=9))
            e164 = f"+91{digits}"
            if e164 in self.used_phones:
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
                self.used_phones.add(e164)
                return e164

    def first_name(self, sex: str) -> str:
        return self.fake.first_name_female() if sex == Sex.FEMALE else self.fake.first_name_male()

    def surname(self) -> str:
        return self.fake.last_name()

    def dob_for_age(self, age: int) -> date:
        """A date of birth of someone who is `age` years old today."""
        latest = estimated_dob(age, self.today)
        earliest = estimated_dob(age + 1, self.today) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def address(self) -> dict[str, str]:
        if self.rng.random() < 0.12:
            return {}
        locality, pincode = self.rng.choice(LOCALITIES)
        house = self.rng.randint(1, 480)
        cross, main = self.rng.randint(1, 14), self.rng.randint(1, 12)
        return {
            "address": f"No. {house}, {_ordinal(cross)} Cross, {_ordinal(main)} Main, {locality}",
            "city": "Bengaluru",
            "pincode": pincode,
            "state_code": "29",
        }

    def clinical(self, sex: str, age: int) -> dict[str, str]:
        rng, values = self.rng, {}
        if rng.random() < 0.35:
            values["blood_group"] = rng.choice(BloodGroup.values)
        if rng.random() < 0.12:
            values["allergies"] = ", ".join(rng.sample(ALLERGIES, k=rng.choice((1, 1, 2))))
        conditions: list[str] = []
        if age < 18 and rng.random() < 0.08:
            conditions.append(rng.choice(CHILD_CONDITIONS))
        elif age >= 40 and rng.random() < 0.4:
            conditions += rng.sample(ADULT_CONDITIONS, k=rng.choice((1, 1, 2)))
        elif 18 <= age < 40 and rng.random() < 0.08:
            pool = YOUNG_WOMEN_CONDITIONS if sex == Sex.FEMALE else ("Bronchial asthma",)
            conditions.append(rng.choice(pool))
        if conditions:
            values["chronic_conditions"] = "; ".join(conditions)
        return values

    def contact(self, first: str, surname: str) -> dict[str, str]:
        if self.rng.random() < 0.15:
            tag = self.rng.randint(1, 99)
            return {"email": f"{first}.{surname}{tag}@example.com".lower().replace(" ", "")}
        return {}

    def register(
        self,
        *,
        full_name: str,
        sex: str,
        phone: str,
        age: int,
        age_only: bool = False,
        household: dict[str, str] | None = None,
        guardian: GuardianInput | None = None,
        shared_phone: bool = False,
        **extra: Any,
    ) -> Patient | None:
        if self.remaining <= 0:
            return None
        dob_or_age: dict[str, Any] = (
            {"age_years": age} if age_only else {"date_of_birth": self.dob_for_age(age)}
        )
        registrar = self.rng.choice(self.registrars)
        clinical = self.clinical(sex, age)
        if clinical and registrar == self.demo.staff["front_desk"].user:
            # Front desk may not record allergies or conditions: the nurse does at triage.
            registrar = self.demo.staff["assistant"].user
        patient = patient_create(
            clinic=self.clinic,
            actor=registrar,
            guardian=guardian,
            confirm_duplicate=shared_phone,
            full_name=full_name,
            sex=sex,
            phone=phone,
            **dob_or_age,
            **(household or {}),
            **clinical,
            **extra,
        )
        self.remaining -= 1
        self.stats["patients"] += 1
        self.stats["minors"] += age < 18
        self.stats["age_only"] += age_only
        self.stats["shared_phone"] += shared_phone
        return patient

    def adult(self, sex: str, surname: str, ages: tuple[int, int], **kwargs: Any) -> Patient | None:
        first = self.first_name(sex)
        age = self.rng.randint(*ages)
        if "age_only" not in kwargs:
            kwargs["age_only"] = self.rng.random() < 0.1
        return self.register(
            full_name=f"{first} {surname}",
            sex=sex,
            age=age,
            **self.contact(first, surname),
            **kwargs,
        )

    # -- households ------------------------------------------------------------------------------

    def single(self) -> None:
        sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        extra: dict[str, Any] = {}
        if self.rng.random() < 0.05:
            extra["whatsapp_phone"] = self.phone()
        if self.rng.random() < 0.2:
            extra.update(
                emergency_contact_name=f"{self.first_name(Sex.FEMALE)} {self.surname()}",
                emergency_contact_relation=self.rng.choice(
                    (Relation.SPOUSE, Relation.SIBLING, Relation.RELATIVE)
                ),
                emergency_contact_phone=self.phone(),
            )
        patient = self.adult(
            sex,
            self.surname(),
            ADULT_AGES,
            phone=self.phone(),
            household=self.address(),
            **extra,
        )
        if patient is not None:
            self.singles.append(patient)

    def couple(self) -> None:
        surname, phone, home = self.surname(), self.phone(), self.address()
        for sex in (Sex.MALE, Sex.FEMALE):
            self.adult(sex, surname, (28, 68), phone=phone, household=home, shared_phone=True)

    def family(self) -> None:
        """A mother (and often a father) with one or two children; a parent is the guardian."""
        surname, phone, home = self.surname(), self.phone(), self.address()
        parents: list[tuple[Patient, str]] = []
        mother = self.adult(
            Sex.FEMALE, surname, PARENT_AGES, phone=phone, household=home, shared_phone=True
        )
        if mother is not None:
            parents.append((mother, Relation.MOTHER))
        if self.rng.random() < 0.5:
            father = self.adult(
                Sex.MALE, surname, PARENT_AGES, phone=phone, household=home, shared_phone=True
            )
            if father is not None:
                parents.append((father, Relation.FATHER))
        if not parents:
            return
        for _ in range(self.rng.choice((1, 1, 2))):
            parent, relation = self.rng.choice(parents)
            sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
            child = self.register(
                full_name=f"{self.first_name(sex)} {surname}",
                sex=sex,
                phone=phone,
                age=self.rng.randint(*CHILD_AGES),
                household=home,
                shared_phone=True,
                guardian=GuardianInput(relation=relation, guardian_patient_id=parent.pk),
            )
            self.stats["guardian_patient"] += child is not None

    def elder_with_child(self) -> None:
        """An elderly parent who knows only their age, registered on their son's or
        daughter's phone, with that child as the emergency contact."""
        surname, phone, home = self.surname(), self.phone(), self.address()
        child_sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        child_first = self.first_name(child_sex)
        elder_sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        self.adult(
            elder_sex,
            surname,
            ELDER_AGES,
            phone=phone,
            household=home,
            shared_phone=True,
            age_only=True,
            emergency_contact_name=f"{child_first} {surname}",
            emergency_contact_relation=Relation.CHILD,
        )
        self.register(
            full_name=f"{child_first} {surname}",
            sex=child_sex,
            phone=phone,
            age=self.rng.randint(32, 55),
            household=home,
            shared_phone=True,
        )

    def minor_with_contact(self) -> None:
        """A child brought by a relative who is not a patient here."""
        surname, phone = self.surname(), self.phone()
        relation = self.rng.choice(
            (Relation.MOTHER, Relation.FATHER, Relation.GRANDPARENT, Relation.LEGAL_GUARDIAN)
        )
        guardian_sex = Sex.MALE if relation == Relation.FATHER else Sex.FEMALE
        sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        child = self.register(
            full_name=f"{self.first_name(sex)} {surname}",
            sex=sex,
            phone=phone,
            age=self.rng.randint(*CHILD_AGES),
            household=self.address(),
            guardian=GuardianInput(
                relation=relation,
                name=f"{self.first_name(guardian_sex)} {surname}",
                phone=phone,
            ),
        )
        self.stats["guardian_contact"] += child is not None

    # -- the whole register ----------------------------------------------------------------------

    def run(self) -> None:
        kinds = (
            (0.60, self.single),
            (0.75, self.couple),
            (0.82, self.family),
            (0.96, self.elder_with_child),
            (1.00, self.minor_with_contact),
        )
        while self.remaining > 0:
            roll = self.rng.random()
            next(make for limit, make in kinds if roll < limit)()
        # A few people moved away: archived, not deleted.
        archive_count = min(len(self.singles), max(1, self.demo.patients // 50))
        for patient in self.rng.sample(self.singles, k=archive_count):
            patient_archive(patient=patient, actor=self.demo.member("owner").user)
            self.stats["archived"] += 1


def seed_patients(*, demo: DemoContext, **_: Any) -> None:
    """`demo.patients` patients in households (see the module docstring)."""
    if demo.patients <= 0 or demo.clinic is None:
        return
    seeder = _PatientSeeder(demo)
    with clinic_scope(demo.clinic):
        seeder.run()
    s = seeder.stats
    demo.summary.append(
        f"{s['patients']} patients: {s['minors']} children with a guardian "
        f"({s['guardian_patient']} a parent registered here, {s['guardian_contact']} a relative), "
        f"{s['shared_phone']} sharing a family phone, {s['age_only']} with only the age known, "
        f"{s['archived']} archived"
    )


PATIENTS = DemoStep(name="patients.patients", order=20, run=seed_patients)
