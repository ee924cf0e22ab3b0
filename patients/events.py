"""Care events that apps higher up react to (messaging plans and moves reminders from them).

`patients` never imports `messaging`. Every care event is one Django signal, `care_event_sent`,
sent by the services here inside their transaction with `send()` (not `send_robust`): receivers
run right there, before commit, in the order they connected, and an exception in one rolls
the change back. So what a receiver writes (a planned reminder, a cancelled one) commits or
rolls back with the change that caused it. A receiver must not do network I/O; it enqueues
work with `transaction.on_commit` instead.

The signal's `sender` is the model class of the event's subject, `event` its name, and the
subject comes under its own name:
- appointment.booked / appointment.rescheduled / appointment.cancelled /
  appointment.no_show / appointment.completed: appointment (sender Appointment);
  booked, rescheduled and cancelled also carry `by_patient` (the patient did it, on
  WhatsApp: they know already); rescheduled and cancelled carry `patient_note` (the reason
  the clinic chose to tell the patient, maybe "") and rescheduled `previous_starts_at`
- visit.signed: visit, the prescription (if any) signed with it (sender Visit)
- prescription_item.stopped: item (sender PrescriptionItem)
- document.ready: document (sender Document)
- bill.payment_link: staff asked to send a bill's payment link to the patient (sender Patient):
  patient, bill_id, bill_number, amount_paise, short_url and actor (who asked). `patients`
  knows nothing of bills; billing sends it and messaging queues the WhatsApp message. A
  receiver that sends it returns what it queued (something truthy), and one that cannot send
  raises a DomainError with the reason for staff, which rolls the request back.
- bill.document: staff asked to send an issued bill to the patient (sender Patient): patient,
  bill_id, bill_number and actor; messaging sends its document-ready message with a secure
  link to the bill's PDF (found through `patients.shared_files`), returning or raising as for
  bill.payment_link.

Subscribing, from the higher app's `AppConfig.ready()`:
- `care_event_sent.connect(receiver, dispatch_uid="...")`, with
  `receiver(sender, *, event, **kwargs)`; pass `sender=Visit` to hear only visit events; or
- `register_care_listener(listener)`, calling `listener(event, **subject)` for every event
  (what `messaging/apps.py` uses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

from patients.models import Appointment, Document, Patient, PrescriptionItem, Visit

Listener = Callable[..., None]

APPOINTMENT_BOOKED = "appointment.booked"
APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
APPOINTMENT_CANCELLED = "appointment.cancelled"
APPOINTMENT_NO_SHOW = "appointment.no_show"
APPOINTMENT_COMPLETED = "appointment.completed"
VISIT_SIGNED = "visit.signed"
PRESCRIPTION_ITEM_STOPPED = "prescription_item.stopped"
DOCUMENT_READY = "document.ready"
BILL_PAYMENT_LINK = "bill.payment_link"
BILL_DOCUMENT = "bill.document"

# Every event, with the model of its subject (the signal's sender).
EVENT_SENDERS: dict[str, type] = {
    APPOINTMENT_BOOKED: Appointment,
    APPOINTMENT_RESCHEDULED: Appointment,
    APPOINTMENT_CANCELLED: Appointment,
    APPOINTMENT_NO_SHOW: Appointment,
    APPOINTMENT_COMPLETED: Appointment,
    VISIT_SIGNED: Visit,
    PRESCRIPTION_ITEM_STOPPED: PrescriptionItem,
    DOCUMENT_READY: Document,
    BILL_PAYMENT_LINK: Patient,
    BILL_DOCUMENT: Patient,
}

care_event_sent = Signal()


def care_event(event: str, **kwargs: Any) -> list[Any]:
    """Tell every receiver that `event` happened (inside the caller's transaction); returns
    what the receivers returned (most return None)."""
    answers = care_event_sent.send(sender=EVENT_SENDERS[event], event=event, **kwargs)
    return [answer for _receiver, answer in answers]


def register_care_listener(listener: Listener) -> Listener:
    """Call `listener(event, **kwargs)` for every care event (idempotent registration)."""

    def receive(sender: type, *, event: str, signal: Signal, **kwargs: Any) -> Any:
        return listener(event, **kwargs)

    # Held strongly (weak=False) so the adapter lives as long as the app; the listener's id is
    # stable while it is held, so registering the same listener twice connects it once.
    care_event_sent.connect(receive, weak=False, dispatch_uid=f"care-listener:{id(listener)}")
    return listener
