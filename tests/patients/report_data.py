"""A small clinic history whose report figures can be worked out by hand (1-3 March 2026,
Asia/Kolkata), shared by the reports tests.

    day    appointment / visit                         doctor  seen  new  wait
    20 Feb p1 booked, done                             A       (before the period)
    1 Mar  a1 p1 booked, done, in 09:50, called 10:10  A       yes   no   20 min
           a2 p2 booked, done, in 10:00, called 10:30  A       yes   yes  30 min
           a3 p3 booked, did not come                  B
           a4 p4 walk-in, done, in 11:30, called 11:42 B       yes   yes  12 min
    2 Mar  a5 p2 booked, cancelled                     B
           a6 p2 booked, waiting with a visit opened   A       yes   no   (not called in)
    3 Mar  v1 p5 visit without appointment, 00:30      B       yes   yes
           a7 p5 booked, done, in 09:58, called 10:04  B       yes   no   6 min
    4 Mar  a8 p4 booked, done at 00:10 (03 Mar in UTC)  A       (after the period)

Totals: seen 6 (3, 1, 2 a day), new 3, follow-up 3, booked 6, walk-ins 1, no-shows 1,
cancelled 1; waits 6, 12, 20, 30 min: average 17, median 12. Doctor A: seen 3, new 1, waits
20 and 30 (average 25, median 20). Doctor B: seen 3, new 2, no-show 1, cancelled 1, waits 12
and 6 (average 9, median 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinics.models import Clinic, Membership
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Appointment, AppointmentKind, AppointmentStatus, Patient, Visit
from tests.factories import MembershipFactory, PatientFactory, UserFactory

IST = ZoneInfo("Asia/Kolkata")
START, END = date(2026, 3, 1), date(2026, 3, 3)
PERIOD = {"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-03"}
S = AppointmentStatus


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST)


@dataclass
class History:
    clinic: Clinic
    doctor_a: Membership
    doctor_b: Membership
    patients: list[Patient]
    appointments: dict[str, Appointment]


def appointment(clinic, patient, doctor, starts, status, *, kind=AppointmentKind.BOOKED, **times):
    return Appointment.objects.create(
        clinic=clinic,
        patient=patient,
        doctor=doctor,
        kind=kind,
        status=status,
        starts_at=starts,
        ends_at=starts if kind == AppointmentKind.WALK_IN else starts + timedelta(minutes=15),
        **times,
    )


def doctor(clinic: Clinic, name: str) -> Membership:
    return MembershipFactory(clinic=clinic, role=Role.DOCTOR, user=UserFactory(full_name=name))


def seed_history(clinic: Clinic) -> History:
    dr_a, dr_b = doctor(clinic, "Dr Anita Rao"), doctor(clinic, "Dr Bharat Shah")
    p1, p2, p3, p4, p5 = (PatientFactory(clinic=clinic) for _ in range(5))
    with clinic_scope(clinic):
        appointment(clinic, p1, dr_a, at(20, 10, month=2), S.COMPLETED)
        a = {
            "a1": appointment(
                clinic,
                p1,
                dr_a,
                at(1, 10),
                S.COMPLETED,
                checked_in_at=at(1, 9, 50),
                started_at=at(1, 10, 10),
            ),
            "a2": appointment(
                clinic,
                p2,
                dr_a,
                at(1, 10, 15),
                S.COMPLETED,
                checked_in_at=at(1, 10),
                started_at=at(1, 10, 30),
            ),
            "a3": appointment(clinic, p3, dr_b, at(1, 11), S.NO_SHOW),
            "a4": appointment(
                clinic,
                p4,
                dr_b,
                at(1, 11, 30),
                S.COMPLETED,
                kind=AppointmentKind.WALK_IN,
                checked_in_at=at(1, 11, 30),
                started_at=at(1, 11, 42),
            ),
            "a5": appointment(clinic, p2, dr_b, at(2, 10), S.CANCELLED),
            "a6": appointment(
                clinic, p2, dr_a, at(2, 10, 15), S.CHECKED_IN, checked_in_at=at(2, 9, 55)
            ),
            "a7": appointment(
                clinic,
                p5,
                dr_b,
                at(3, 10),
                S.COMPLETED,
                checked_in_at=at(3, 9, 58),
                started_at=at(3, 10, 4),
            ),
            "a8": appointment(clinic, p4, dr_a, at(4, 0, 10), S.COMPLETED),
        }
        Visit.objects.create(
            clinic=clinic, patient=p2, doctor=dr_a, appointment=a["a6"], created_at=at(2, 10, 5)
        )
        Visit.objects.create(clinic=clinic, patient=p5, doctor=dr_b, created_at=at(3, 0, 30))
    return History(clinic, dr_a, dr_b, [p1, p2, p3, p4, p5], a)


def seed_other_clinic(clinic: Clinic) -> None:
    """Another clinic's busy 1 March: none of it may appear in the first clinic's reports."""
    other_doctor = doctor(clinic, "Dr Other")
    with clinic_scope(clinic):
        for i in range(3):
            patient = PatientFactory(clinic=clinic)
            appointment(
                clinic,
                patient,
                other_doctor,
                at(1, 10 + i),
                S.COMPLETED,
                checked_in_at=at(1, 9),
                started_at=at(1, 10 + i),
            )
            Visit.objects.create(
                clinic=clinic, patient=patient, doctor=other_doctor, created_at=at(2, 12)
            )
