"""What other apps record in the same step as a new patient's registration.

`patients` registers a patient; an app above it (compliance: the patient's WhatsApp consent)
may need to record something at the same desk, in the same step, and in the same transaction:
if that fails, the patient is not registered either, so nothing is half-written. `patients`
never imports those apps; they add a `RegistrationStep` to `registration_steps` from their
`AppConfig.ready()`.

Checklist for a new step:
- `name`: the form prefix on the registration page and the key of its object in the API's
  `POST /api/v1/patients/` body.
- `form_class(data, prefix=name, clinic=...)`: the fields the desk fills in; `template` renders
  it (context: `step_form`, and the page's context). Its `cleaned_data` is what `record` gets,
  or None when `form.is_used()` is False.
- `serializer_class`: the API's object under `name` (optional; its `validated_data` is what
  `record` gets). It is declared in the API schema.
- `record(patient=, data=, actor=)` runs inside `patient_create`'s transaction after the patient
  is saved; a `DomainError` from it cancels the registration and is shown to the desk or the
  API caller under `name`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinics.registry import Registry


@dataclass(frozen=True)
class RegistrationStep:
    name: str
    form_class: type
    template: str
    record: Callable[..., Any]
    serializer_class: type | None = None
    order: int = 100


registration_steps: Registry[RegistrationStep] = Registry("registration steps")
