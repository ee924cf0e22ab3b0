"""Files other apps issue to a patient that the patient may open from a secure WhatsApp link
(a bill's PDF, from billing), beside the patients app's own documents.

Messaging's link page (`messaging/views/links.py`, `/d/<token>/`) opens a patients `Document`
itself; for any other kind the token names the kind and an id, and the page asks the entry
registered here under that kind. `patients` knows nothing of bills, and messaging never
imports billing.

Checklist for a new kind (`SharedFileKind`):
- `name`: short and stable ("bill"); it travels inside the signed link token.
- `clinic_of(id)`: the clinic that owns the row, or None (a tenancy lookup before any scope:
  `clinics.tenancy.clinic_id_of(Model, id)`).
- `load(id)`: the `SharedFile` inside that clinic's scope, or None when it is gone.
- Register it in the app's `AppConfig.ready()`: `shared_file_kinds.register(KIND)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clinics.registry import Registry
from patients.models import Patient


@dataclass(frozen=True)
class SharedFile:
    """What the link page needs to hand a file to its patient."""

    patient: Patient
    subject: str  # what a one-time code unlocks ("bill:12"), never personal data
    file_name: str  # the storage key; "" while the file is not ready
    content_type: str
    download_name: str  # no personal data: it lands in the patient's downloads
    withdrawn: bool  # cancelled or replaced: the page says so instead of handing it over
    staff_path: str  # where signed-in staff are sent instead (their own role decides)
    record_open: Callable[[], None]  # audit the patient's opening, before the file goes


@dataclass(frozen=True)
class SharedFileKind:
    name: str
    order: int
    clinic_of: Callable[[int], int | None]
    load: Callable[[int], SharedFile | None]


shared_file_kinds: Registry[SharedFileKind] = Registry("files shared with patients")


def shared_file_kind(name: str) -> SharedFileKind | None:
    for kind in shared_file_kinds:
        if kind.name == name:
            return kind
    return None
