"""Care events that apps higher up react to (messaging plans and moves reminders from them).

`patients` never imports `messaging`: services here call `care_event(...)` inside their
transaction, and listeners registered with `register_care_listener` run right there, so what a
listener writes (a planned reminder, a cancelled one) commits or rolls back with the change
that caused it. A listener must not do network I/O; it enqueues work on commit instead.

Events and their keyword arguments:
- appointment.booked / appointment.rescheduled / appointment.cancelled /
  appointment.no_show / appointment.completed: appointment
- visit.signed: visit (the prescription, if any, is signed with it)
- prescription_item.stopped: item
- document.ready: document
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[..., None]
_listeners: list[Listener] = []

APPOINTMENT_BOOKED = "appointment.booked"
APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
APPOINTMENT_CANCELLED = "appointment.cancelled"
APPOINTMENT_NO_SHOW = "appointment.no_show"
APPOINTMENT_COMPLETED = "appointment.completed"
VISIT_SIGNED = "visit.signed"
PRESCRIPTION_ITEM_STOPPED = "prescription_item.stopped"
DOCUMENT_READY = "document.ready"


def register_care_listener(listener: Listener) -> Listener:
    """Call `listener(event, **kwargs)` for every care event (idempotent registration)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def care_event(event: str, **kwargs: Any) -> None:
    """Tell every listener that `event` happened (inside the caller's transaction)."""
    for listener in list(_listeners):
        listener(event, **kwargs)
