"""The patient page's timeline. Apps higher up register a source of entries for a patient.

A source is `fn(patient, membership) -> list[TimelineEntry]`; it must itself check the
membership's permissions (for example, only roles that read clinical notes see visits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from clinics.models import Membership
from patients.models import Patient


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # registered, visit, appointment, message, document, bill, ...
    title: str
    detail: str = ""
    url: str = ""


TimelineSource = Callable[[Patient, Membership], list[TimelineEntry]]
_sources: dict[str, TimelineSource] = {}


def register_timeline_source(name: str) -> Callable[[TimelineSource], TimelineSource]:
    def decorator(fn: TimelineSource) -> TimelineSource:
        _sources[name] = fn
        return fn

    return decorator


def patient_timeline(
    patient: Patient, membership: Membership, limit: int = 100
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in _sources.values():
        entries.extend(source(patient, membership))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


@register_timeline_source("registration")
def _registration(patient: Patient, membership: Membership) -> list[TimelineEntry]:
    by = f" by {patient.created_by.full_name}" if patient.created_by_id else ""
    return [
        TimelineEntry(
            when=patient.created_at,
            kind="registered",
            title="Registered",
            detail=f"Patient number {patient.patient_number}{by}",
        )
    ]
