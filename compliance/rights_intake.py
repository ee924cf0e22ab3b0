"""Data-rights requests as they arrive (access, a copy, correction, deletion), and the hook the
staff's rights desk plugs into.

Channels above `compliance` (WhatsApp today: messaging.services.rights_requests) recognise a
request in a patient's words and call `rights_request_hand_over`. The first registered
`RightsDesk` receives it; until one exists, the channel keeps the request in front of staff
itself (the inbox's "Needs reply", labelled with the kinds). This module imports no models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clinics.registry import Registry

ACCESS = "access"
COPY = "copy"
CORRECTION = "correction"
DELETION = "deletion"
KINDS = (ACCESS, COPY, CORRECTION, DELETION)
# The clinic's own target for an answer; the law's outer limit is 90 days (DPDP Rules).
ANSWER_TARGET_DAYS = 7
ANSWER_LIMIT_DAYS = 90


@dataclass(frozen=True)
class RightsRequestSeen:
    """A request recognised in a patient's words (nothing is decided yet; identity unchecked)."""

    clinic_id: int
    patient_id: int | None  # None: the sender is not linked to a patient yet
    kinds: tuple[str, ...]  # some of KINDS, in KINDS order
    words: str  # the patient's message as stored
    channel: str  # "whatsapp"
    reference: str  # the channel's own id for it ("message:123")


@dataclass(frozen=True)
class RightsDesk:
    """Where staff handle data-rights requests (the compliance rights desk, when it exists).

    Checklist: `receive(request)` runs inside the clinic's scope and the channel's
    transaction, records the request (idempotent on `reference`) and returns True when it
    took it; returning False leaves the request with the channel. The first entry by `order`
    is used. Register it from the app's `AppConfig.ready()`: `rights_desks.register(DESK)`.
    """

    name: str
    order: int
    receive: Callable[[RightsRequestSeen], bool]


rights_desks: Registry[RightsDesk] = Registry("rights desks")


def rights_request_hand_over(request: RightsRequestSeen) -> bool:
    """Give the request to the rights desk; False when there is none (the channel keeps it)."""
    desk = rights_desks.first()
    return bool(desk is not None and desk.receive(request))


def kinds_label(kinds: tuple[str, ...]) -> str:
    """ "Data request: copy, deletion" for staff."""
    return "Data request: " + ", ".join(k for k in KINDS if k in kinds)
