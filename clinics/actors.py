"""Who acts, at which clinic, with which role, and how the audit trail names them.

`Actor` is what every service takes as its `actor` argument: the signed-in `User`, a clinic's
`ApiKey`, or `None` for Vaidya itself (tasks, webhooks, schedules). `Access` is an actor
resolved at one clinic: its role and permissions from the matrix in `clinics/roles.py`, the
membership a user acts through, and the audit trail's actor fields.

Services ask for a permission with one call, which raises `NotAllowed` (a `DomainError` whose
message is safe to show):

    access = require(actor, Perm.PRESCRIPTIONS_EDIT, clinic_id=visit.clinic_id)
    access.membership  # the user's active membership at the clinic (None for an API key)

The API resolves the caller's `Access` once per request (`ClinicPermission`), and the web once
per page (`ClinicScopeMiddleware`); both keep it in the request's actor context, where
`require()` finds it without asking the database again. Outside a request (tasks, commands,
the shell) a user's membership is read once per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinics.context import get_context
from clinics.errors import NotAllowed
from clinics.models import ApiKey, Membership, User
from clinics.roles import perms_for

Actor = User | ApiKey | None
"""Who acts: a signed-in person, a clinic's API key, or None for Vaidya itself."""

NOT_ALLOWED = "Your role at this clinic does not allow this."
SYSTEM_LABEL = "system"
# What a user's access needs from their membership: nothing else is read on a request's path.
MEMBERSHIP_COLUMNS = ("id", "clinic_id", "user_id", "role", "is_active")


@dataclass(frozen=True, slots=True, eq=False)
class Access:
    """An actor at one clinic: its role, its permissions and, for a person, their membership.

    An API key's permissions are its role's, reduced to the "view" half when it is read-only;
    a revoked key, an inactive membership or another clinic's actor has none. The system
    (actor None) has no role: services it calls check their own rules, not the matrix.
    """

    actor: Actor
    clinic_id: int | None
    role: str = ""
    perms: frozenset[str] = frozenset()
    membership: Membership | None = None

    @property
    def kind(self) -> str:
        """ "user", "api_key" or "system"."""
        return actor_kind(self.actor)

    @property
    def user(self) -> User | None:
        return actor_user(self.actor)

    @property
    def api_key(self) -> ApiKey | None:
        return self.actor if isinstance(self.actor, ApiKey) else None

    @property
    def read_only(self) -> bool:
        return isinstance(self.actor, ApiKey) and self.actor.read_only

    def has(self, perm: str) -> bool:
        return perm in self.perms

    def audit_fields(self) -> dict[str, Any]:
        return audit_fields(self.actor)


def actor_kind(actor: Actor) -> str:
    if isinstance(actor, ApiKey):
        return "api_key"
    return "user" if actor_user(actor) is not None else "system"


def actor_user(actor: Actor) -> User | None:
    """The person acting, or None for an API key or the system (for `created_by` columns)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def actor_label(actor: Actor) -> str:
    """How the audit trail names the actor."""
    if isinstance(actor, ApiKey):
        return f"API key {actor.name}"
    user = actor_user(actor)
    if user is not None:
        return user.full_name or user.email
    return SYSTEM_LABEL


def audit_fields(actor: Actor) -> dict[str, Any]:
    """The actor columns of an audit event: the user or the API key, and a readable label."""
    user = actor_user(actor)
    return {
        "actor": user,
        "api_key": actor if isinstance(actor, ApiKey) else None,
        "actor_label": actor_label(actor),
    }


# ---------------------------------------------------------------------------------------------
# Resolving an actor at a clinic


def access_for_key(key: ApiKey) -> Access:
    """An API key's access at its own clinic (no query: the key carries its role)."""
    return Access(actor=key, clinic_id=key.clinic_id, role=key.role, perms=key.perms)


def access_for_member(membership: Membership, user: User | None = None) -> Access:
    """A person's access through their membership (no query)."""
    actor = user if user is not None else membership.user
    return Access(
        actor=actor,
        clinic_id=membership.clinic_id,
        role=membership.role,
        perms=perms_for(membership.role) if membership.is_active else frozenset(),
        membership=membership,
    )


def system_access(clinic_id: int | None = None) -> Access:
    return Access(actor=None, clinic_id=clinic_id)


def _request_access(user: User, clinic_id: int) -> Access | None:
    """The access the current request resolved, if it is this person's at this clinic."""
    access = get_context().access
    if access is None or access.clinic_id != clinic_id or access.user is None:
        return None
    return access if access.user.pk == user.pk else None


def resolve(actor: Actor, *, clinic_id: int, membership: Membership | None = None) -> Access:
    """The actor's access at `clinic_id`.

    `membership`, when the caller has it (web views pass `request.membership`), says that a
    person acts through it: it must be the actor's own at this clinic (an API key or the system
    acting "through" a membership has no access), and it is used as it is. Without it, a
    user's active membership is taken from the current request, or read with the few columns
    the check needs.
    """
    if membership is not None:
        user = actor_user(actor)
        if user is None or membership.user_id != user.pk or membership.clinic_id != clinic_id:
            return Access(actor=actor, clinic_id=clinic_id)
        return access_for_member(membership, actor)
    if isinstance(actor, ApiKey):
        if actor.clinic_id != clinic_id:
            return Access(actor=actor, clinic_id=clinic_id)
        return access_for_key(actor)
    if actor_user(actor) is None:
        return system_access(clinic_id)
    found = _request_access(actor, clinic_id)
    if found is not None:
        return found
    membership = (
        Membership.objects.filter(clinic_id=clinic_id, user=actor, is_active=True)
        .only(*MEMBERSHIP_COLUMNS)
        .order_by()
        .first()
    )
    if membership is None:
        return Access(actor=actor, clinic_id=clinic_id)
    return access_for_member(membership, actor)


def require(
    actor: Actor,
    perm: str,
    *,
    clinic_id: int,
    membership: Membership | None = None,
    message: str = NOT_ALLOWED,
    person: bool = False,
) -> Access:
    """The actor's access at the clinic, which must include `perm`; else `NotAllowed(message)`.

    The system (actor None) holds no role, so it never passes: a service the system calls
    either needs no permission or says so in its own rules. With `person=True` the actor must
    also be a person acting through their membership (clinical records say who wrote them, and
    an API key is not a person).
    """
    access = resolve(actor, clinic_id=clinic_id, membership=membership)
    if not access.has(perm) or (person and access.membership is None):
        raise NotAllowed(message)
    return access
