"""Steps an erasure runs besides erasing registered rows, filled by the apps above compliance.

Messaging plugs in cancelling the patient's planned WhatsApp reminders and withdrawing their
WhatsApp consent; compliance never imports messaging.

Checklist for a new step:
- An `ErasureStep(name="<app>.<what>", order=..., run=...)` whose `run(patient_id=..., actor=...)`
  runs inside the erasure's transaction and the clinic's scope, before the registered rows
  are erased, and returns a count for the erasure's record (no personal values).
- Safe to run for a patient with nothing to do (returns 0).
- Register it in the app's `AppConfig.ready()`: `erasure_steps.register(STEP)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinics.registry import Registry


@dataclass(frozen=True)
class ErasureStep:
    name: str
    order: int
    run: Callable[..., int]
    description: str = ""


erasure_steps: Registry[ErasureStep] = Registry("erasure steps")


def run_erasure_steps(*, patient_id: int, actor: Any) -> dict[str, int]:
    """Run every registered step for the patient; {step name: its count}."""
    return {s.name: s.run(patient_id=patient_id, actor=actor) for s in erasure_steps}
