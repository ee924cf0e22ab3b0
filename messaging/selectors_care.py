"""Reads for the doctor's follow-up board: adherence per prescription, with a daily series.

`adherence_for_patient(patient, days=30)` returns one `PrescriptionAdherence` per prescription
of the patient that had medicine reminders sent in the last `days` days (newest prescription
first). Each holds counts of doses taken, skipped, unanswered and pending, and `series`: one
`AdherenceDay` per local calendar day (clinic time zone, oldest first) from the first reminded
dose to today, for a small chart. Call it inside the clinic's scope. Three queries whatever the
number of doses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from messaging.models import DoseOutcome, DoseRecord
from messaging.services.reminders import source_id
from patients.models import Patient, Prescription


@dataclass
class AdherenceDay:
    date: dt.date
    taken: int = 0
    skipped: int = 0
    unanswered: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.taken + self.skipped + self.unanswered + self.pending


@dataclass
class PrescriptionAdherence:
    prescription: Prescription
    taken: int = 0
    skipped: int = 0
    unanswered: int = 0
    pending: int = 0
    series: list[AdherenceDay] = field(default_factory=list)

    @property
    def answered_total(self) -> int:
        return self.taken + self.skipped + self.unanswered

    @property
    def rate(self) -> int | None:
        """Doses taken, in per cent of the doses that are no longer pending (None if none)."""
        if not self.answered_total:
            return None
        return round(100 * self.taken / self.answered_total)


def adherence_for_patient(
    patient: Patient, *, days: int = 30, now: dt.datetime | None = None
) -> list[PrescriptionAdherence]:
    """Adherence per prescription (see the module docstring)."""
    now = now or timezone.now()
    tz = patient.clinic.tzinfo
    doses = list(
        DoseRecord.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            due_at__gte=now - dt.timedelta(days=days),
            reminder__source__startswith="prescription:",
        )
        .order_by("due_at", "id")
        .values_list("due_at", "outcome", "reminder__source")
    )
    by_prescription: dict[int, list[tuple[dt.datetime, str]]] = {}
    for due_at, outcome, source in doses:
        prescription_id = source_id(source)
        if prescription_id is not None:
            by_prescription.setdefault(prescription_id, []).append((due_at, outcome))
    prescriptions = Prescription.objects.filter(pk__in=list(by_prescription)).select_related(
        "doctor__user", "visit"
    )
    today = timezone.localtime(now, tz).date()
    results = []
    for prescription in prescriptions:
        entry = PrescriptionAdherence(prescription=prescription)
        days_map: dict[dt.date, AdherenceDay] = {}
        for due_at, outcome in by_prescription[prescription.pk]:
            day = timezone.localtime(due_at, tz).date()
            bucket = days_map.setdefault(day, AdherenceDay(day))
            name = {
                DoseOutcome.TAKEN: "taken",
                DoseOutcome.SKIPPED: "skipped",
                DoseOutcome.UNANSWERED: "unanswered",
            }.get(outcome, "pending")
            setattr(bucket, name, getattr(bucket, name) + 1)
            setattr(entry, name, getattr(entry, name) + 1)
        first = min(days_map)
        last = max(today, max(days_map))
        entry.series = [
            days_map.get(first + dt.timedelta(days=n), AdherenceDay(first + dt.timedelta(days=n)))
            for n in range((last - first).days + 1)
        ]
        results.append(entry)
    results.sort(key=lambda e: e.prescription.signed_at or e.prescription.created_at, reverse=True)
    return results
