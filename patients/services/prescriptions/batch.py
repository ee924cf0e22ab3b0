"""Several medicines added at once (a doctor's template, the patient's last prescription
repeated), each line reviewed against today's allergies and checks before any is added."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from clinics.errors import DomainError, ValidationFailed
from patients.models import Drug, Prescription, PrescriptionItem, Visit
from patients.services.prescriptions._common import _item_key, generic_name_normalised
from patients.services.prescriptions.items import _next_position, _prepared_item, _taken_keys
from patients.services.prescriptions.safety import (
    PrescribingCheckFailed,
    ReviewLine,
    ReviewNeeded,
    Safety,
)


@dataclass(frozen=True)
class Line:
    """One medicine to add: its fields as prescription_item_add takes them, and its drug on
    the list (None when typed in, or `missing` when the drug is no longer on the list)."""

    raw: dict[str, Any]
    drug: Drug | None = None
    missing: bool = False
    brand_name: str = ""


def line_label(number: int, raw: dict[str, Any]) -> str:
    name = generic_name_normalised(raw.get("generic_name"))
    return f"Line {number} ({name})" if name else f"Line {number}"


def flatten(prefix: str, exc: DomainError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [f"{prefix}: {m}" for messages in exc.errors.values() for m in messages]
    return [f"{prefix}: {exc.message}"]


def add_reviewed_lines(
    *,
    visit: Visit,
    prescription: Prescription,
    lines: list[Line],
    overrides: Mapping[int, str] | None = None,
    leave_out: Collection[int] = (),
    message: str,
) -> list[PrescriptionItem]:
    """Check every line (numbered from 1) and add them all, or none.

    A line the safety checks stop needs a reason in `overrides[number]`, or its number in
    `leave_out`; otherwise ReviewNeeded lists every such line. Any other refusal (a drug off the
    list, a duplicate) raises ValidationFailed with `message` and each line's problem.
    """
    overrides = overrides or {}
    taken = _taken_keys(prescription)
    safety = Safety.for_visit(visit, prescription)
    errors: list[str] = []
    review: list[ReviewLine] = []
    prepared: list[tuple[dict[str, Any], Drug | None]] = []
    for number, line in enumerate(lines, 1):
        if number in leave_out:
            continue
        raw = dict(line.raw)
        try:
            if line.missing:
                raise DomainError("This drug is no longer on the clinic's list.")
            values, linked = _prepared_item(
                visit,
                raw,
                line.drug,
                taken,
                safety=safety,
                override_reason=overrides.get(number, ""),
                brand_name=line.brand_name,
            )
        except PrescribingCheckFailed as exc:
            name = generic_name_normalised(raw.get("generic_name"))
            review.append(ReviewLine(number, name, exc.findings))
            continue
        except DomainError as exc:
            errors.extend(flatten(line_label(number, raw), exc))
            continue
        taken.add(_item_key(values))
        prepared.append((values, linked))
    if errors:
        raise ValidationFailed({"items": errors}, message=message)
    if review:
        raise ReviewNeeded(review)
    position = _next_position(prescription)
    return PrescriptionItem.objects.bulk_create(
        PrescriptionItem(
            clinic_id=visit.clinic_id,
            prescription=prescription,
            drug=linked,
            position=position + offset,
            **values,
        )
        for offset, (values, linked) in enumerate(prepared)
    )
