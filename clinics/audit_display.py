"""How the audit trail page says what happened to whom.

An audit event keeps ids, action names and field names, never personal values (so erasing a
patient leaves the chain intact). This page turns them back into words for the owner reading
it: "Staff member Meera Rao", "role: Doctor -> Owner", "changed: phone, address". Names are
looked up when the page is shown, one query per kind of target on the page, so a page of 25
entries costs the same however long the trail is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.apps import apps

from clinics.models import ApiKey, AuditEvent, Invitation, Membership, User
from clinics.roles import Role

ROLE_NAMES = dict(Role.choices)


def _memberships(ids: list[str]) -> dict[str, str]:
    rows = Membership.objects.filter(pk__in=ids).select_related("user")
    return {str(m.pk): f"Staff member {m.user.full_name or m.user.email}" for m in rows}


def _api_keys(ids: list[str]) -> dict[str, str]:
    return {str(k.pk): f"API key {k.name}" for k in ApiKey.objects.filter(pk__in=ids)}


def _invitations(ids: list[str]) -> dict[str, str]:
    rows = Invitation.objects.filter(pk__in=ids)
    return {str(i.pk): f"Invitation for {i.email}" for i in rows}


# The targets whose name says more than their kind and number.
NAMED_TARGETS: dict[str, Callable[[list[str]], dict[str, str]]] = {
    "clinics.membership": _memberships,
    "clinics.apikey": _api_keys,
    "clinics.invitation": _invitations,
}


def _kind(target_type: str) -> str:
    """'patients.appointment' -> 'Appointment' (the model's own name for itself)."""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return target_type
    return str(model._meta.verbose_name).capitalize()


def target_labels(events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    """(target_type, target_id) -> what the page shows for it."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.target_type:
            wanted[event.target_type].add(event.target_id)
    labels: dict[tuple[str, str], str] = {}
    for target_type, ids in wanted.items():
        kind = _kind(target_type)
        named = NAMED_TARGETS.get(target_type)
        found = named(sorted(ids)) if named else {}
        for target_id in ids:
            labels[target_type, target_id] = found.get(target_id) or f"{kind} #{target_id}"
    if "clinics.clinic" in wanted:
        for target_id in wanted["clinics.clinic"]:
            labels["clinics.clinic", target_id] = "The clinic's settings"
    return labels


def _people(events: Iterable[AuditEvent]) -> dict[int, str]:
    ids = {e.data.get("user_id") for e in events if isinstance(e.data, dict)}
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    return {u.pk: u.full_name or u.email for u in User.objects.filter(pk__in=ids)}


def _role(value: object) -> str:
    return ROLE_NAMES.get(str(value), str(value))


def _summary(data: object, people: dict[int, str]) -> str:
    if not isinstance(data, dict):
        return ""
    parts = []
    if "from" in data and "to" in data:
        parts.append(f"role: {_role(data['from'])} → {_role(data['to'])}")
    elif "role" in data:
        parts.append(f"role: {_role(data['role'])}")
    fields = data.get("fields")
    if isinstance(fields, list) and fields:
        parts.append("changed: " + ", ".join(str(f).replace("_", " ") for f in fields))
    user_id = data.get("user_id")
    if isinstance(user_id, int) and user_id in people:
        parts.append(f"for {people[user_id]}")
    return "; ".join(parts)


def change_summaries(events: list[AuditEvent]) -> dict[int, str]:
    """event id -> a short account of what changed ("role: Doctor → Owner; for Meera Rao")."""
    people = _people(events)
    return {event.pk: _summary(event.data, people) for event in events}
