"""The demo clinic: what the demo-data steps share, and the first step, the clinic with its staff.

`manage.py seed_demo` creates one `DemoContext` and runs every step in `clinics.registry.demo_steps`
in order inside one transaction. This module's step seeds the clinic and its staff (order 10);
apps higher up register their own steps (patients at order 20, and so on) from their
`AppConfig.ready()` without this app importing them. Everything is created through the services,
so the demo clinic's audit trail is a real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stdnum import luhn
from stdnum.in_ import gstin as stdnum_gstin

from clinics.models import Clinic, Membership, User
from clinics.registry import DemoStep, demo_steps
from clinics.roles import Role
from clinics.services import clinic_create, doctor_profile_update, membership_add
from clinics.tenancy import clinic_scope

DEMO_SLUG = "demo"
DEMO_CLINIC_NAME = "Sanjeevani Family Clinic"
# Every demo account shares this password; `seed_demo` and `run_local` print it.
DEMO_PASSWORD = "vaidya-demo-2026"  # noqa: S105 (a published demo password, not a secret)
DEMO_SEED = 2026


@dataclass(frozen=True)
class DemoStaff:
    key: str
    email: str
    full_name: str
    role: str
    qualifications: str = ""
    registration_number: str = ""
    specialisation: str = ""


KARNATAKA_MEDICAL_COUNCIL = "Karnataka Medical Council"
DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff(
        "owner",
        "owner@sanjeevani.example",
        "Meera Rao",
        Role.OWNER,
        "MBBS, MD (Family Medicine)",
        "KMC 58214",
        "Family medicine",
    ),
    DemoStaff(
        "doctor",
        "doctor@sanjeevani.example",
        "Arjun Hegde",
        Role.DOCTOR,
        "MBBS, DCH",
        "KMC 71936",
        "Paediatrics",
    ),
    DemoStaff(
        "doctor2",
        "doctor2@sanjeevani.example",
        "Farah Siddiqui",
        Role.DOCTOR,
        "MBBS, MS (Obstetrics and Gynaecology)",
        "KMC 64507",
        "Obstetrics and gynaecology",
    ),
    DemoStaff("assistant", "nurse@sanjeevani.example", "Lakshmi Gowda", Role.ASSISTANT),
    DemoStaff("front_desk", "frontdesk@sanjeevani.example", "Ravi Naik", Role.FRONT_DESK),
    DemoStaff("billing", "billing@sanjeevani.example", "Sunita Shetty", Role.BILLING),
)

# A firm's PAN (fourth letter F) issued to a name starting with S; the GSTIN's last character
# is its Luhn mod 36 check character, computed rather than typed so it is always valid.
_DEMO_GSTIN_BASE = "29AAKFS4821M1Z"
_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def demo_gstin() -> str:
    """A valid Karnataka (29) GSTIN for the demo clinic."""
    number = _DEMO_GSTIN_BASE + luhn.calc_check_digit(_DEMO_GSTIN_BASE, alphabet=_GSTIN_ALPHABET)
    return stdnum_gstin.validate(number)


DEMO_CLINIC_FIELDS: dict[str, Any] = {
    "address": "No. 42, 11th Main Road, 4th Block, Jayanagar",
    "city": "Bengaluru",
    "pincode": "560011",
    "phone": "+918026634455",
    "email": "hello@sanjeevani.example",
    "letterhead_tagline": "Family medicine, child health and women's health",
    "timings": "Mon-Sat 9:00-13:00, 17:00-20:30; Sun 10:00-12:00",
    "registration_details": "KPME registration BLU/0421/2019, Bengaluru Urban District",
}


def demo_logins() -> list[tuple[str, str]]:
    """(role, email) of every demo account, for printing."""
    labels = {"owner": "Owner (doctor)"}
    return [(labels.get(s.key, Role(s.role).label), s.email) for s in DEMO_STAFF]


@dataclass
class DemoContext:
    """What the demo-data steps share: the options, and what earlier steps made."""

    patients: int = 300
    password: str = DEMO_PASSWORD
    seed: int = DEMO_SEED
    clinic: Clinic | None = None
    staff: dict[str, Membership] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def member(self, key: str) -> Membership:
        return self.staff[key]


def run_demo_steps(demo: DemoContext) -> None:
    """Run every registered demo-data step in order, sharing `demo`."""
    for step in demo_steps:
        step.run(demo=demo)


def demo_clinic() -> Clinic | None:
    return Clinic.objects.filter(slug=DEMO_SLUG).first()


def _demo_user(staff: DemoStaff, password: str) -> User:
    user = User.objects.filter(email__iexact=staff.email).first()
    if user is None:
        return User.objects.create_user(staff.email, password, full_name=staff.full_name)
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user


def demo_reset_passwords(password: str = DEMO_PASSWORD) -> int:
    """Give every existing demo account the shared demo password again. Returns how many."""
    users = list(User.objects.filter(email__in=[s.email for s in DEMO_STAFF]))
    for user in users:
        user.set_password(password)
        user.save(update_fields=["password"])
    return len(users)


def seed_clinic_and_staff(*, demo: DemoContext, **_: Any) -> None:
    """The clinic, its owner (who also practises), two doctors, an assistant, front desk and
    billing. Doctors get their Karnataka Medical Council registration details."""
    users = {s.key: _demo_user(s, demo.password) for s in DEMO_STAFF}
    owner = users["owner"]
    clinic = clinic_create(
        name=DEMO_CLINIC_NAME,
        state_code="29",
        owner=owner,
        slug=DEMO_SLUG,
        gstin=demo_gstin(),
        **DEMO_CLINIC_FIELDS,
    )
    demo.clinic = clinic
    with clinic_scope(clinic):
        demo.staff["owner"] = Membership.objects.get(user=owner)
        for staff in DEMO_STAFF:
            if staff.key != "owner":
                demo.staff[staff.key] = membership_add(
                    clinic=clinic, actor=owner, user=users[staff.key], role=staff.role
                )
        for staff in DEMO_STAFF:
            if staff.registration_number:
                doctor_profile_update(
                    membership=demo.staff[staff.key],
                    actor=owner,
                    qualifications=staff.qualifications,
                    medical_council=KARNATAKA_MEDICAL_COUNCIL,
                    registration_number=staff.registration_number,
                    specialisation=staff.specialisation,
                )
    demo.summary.append(f"Clinic {clinic.name} ({clinic.slug}) with {len(DEMO_STAFF)} staff")


CLINIC_AND_STAFF = DemoStep(name="clinics.staff", order=10, run=seed_clinic_and_staff)
