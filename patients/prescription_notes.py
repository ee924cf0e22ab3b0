"""Notes that apps higher up add to each medicine on the visit page and the sign page.

A source is `fn(clinic_id, items) -> {item id: [note, ...]}`; messaging registers one that
tells the doctor which doses its WhatsApp reminders cannot cover (quiet hours), so they see
the plan before signing. Register from the app's `AppConfig.ready()`; a source reads what it
needs itself, once for all the items of a page, and says nothing about items it does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from patients.models import PrescriptionItem

NotesSource = Callable[[int, Sequence[PrescriptionItem]], dict[int, list[str]]]
_sources: dict[str, NotesSource] = {}


def register_prescription_notes(name: str, source: NotesSource) -> None:
    """Add (or replace, by name) a source of notes for prescription items."""
    _sources[name] = source


def prescription_notes(clinic_id: int, items: Sequence[PrescriptionItem]) -> dict[int, list[str]]:
    """{item id: notes} from every registered source, in registration order."""
    notes: dict[int, list[str]] = {}
    if not items:
        return notes
    for source in _sources.values():
        for item_id, found in source(clinic_id, items).items():
            notes.setdefault(item_id, []).extend(found)
    return notes
