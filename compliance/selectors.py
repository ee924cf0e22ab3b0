"""Reads of the consent ledger."""

from __future__ import annotations

from django.db.models import QuerySet

from compliance.models import ConsentAction, ConsentEvent, ConsentPurpose


def consent_granted(*, patient_id: int, purpose: str) -> bool:
    """Whether the patient's latest word on `purpose` is "agreed" (one indexed query)."""
    latest = (
        ConsentEvent.objects.filter(patient_id=patient_id, purpose=purpose)
        .order_by("-occurred_at", "-id")
        .values_list("action", flat=True)
        .first()
    )
    return latest == ConsentAction.GRANTED


def consent_states(*, patient_id: int) -> dict[str, ConsentEvent | None]:
    """The latest event of each purpose (None when the patient was never asked)."""
    states: dict[str, ConsentEvent | None] = dict.fromkeys(ConsentPurpose.values)
    for event in (
        ConsentEvent.objects.filter(patient_id=patient_id)
        .select_related("recorded_by")
        .order_by("-occurred_at", "-id")
    ):
        if states[event.purpose] is None:
            states[event.purpose] = event
    return states


def consent_history(*, patient_id: int) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(patient_id=patient_id)
        .select_related("recorded_by")
        .order_by("-occurred_at", "-id")
    )


def consent_granted_for(*, patient_ids: list[int], purpose: str) -> set[int]:
    """Which of these patients' latest word on `purpose` is "agreed" (one query for a batch:
    the reminder dispatcher checks a whole batch at once)."""
    latest: dict[int, str] = {}
    for patient_id, action in (
        ConsentEvent.objects.filter(patient_id__in=patient_ids, purpose=purpose)
        .order_by("patient_id", "-occurred_at", "-id")
        .values_list("patient_id", "action")
    ):
        latest.setdefault(patient_id, action)
    return {pid for pid, action in latest.items() if action == ConsentAction.GRANTED}
