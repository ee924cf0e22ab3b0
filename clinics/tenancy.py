"""Tenancy core: the clinic scope, the two shapes background work takes, and the few lookups
that must find a clinic before there is one.

Every clinic-owned model is scoped by django-scopes on `clinic` (`clinics.scoping`): a query
outside `clinic_scope(...)` raises `ScopeError`. Code that runs without a request enters a
scope in one of two ways, never by hand:

- `@clinic_task(Model)`: a task about one clinic-owned row (it takes the row's id). The row's
  clinic is looked up, the task runs in that clinic's scope (and as a task in the audit trail),
  and it returns "gone" when the row no longer exists.
- `for_each_clinic(fn, name=...)`: a schedule that visits every (active) clinic, each in its own
  scope and transaction; one clinic's failure is logged and does not stop the others.

`scopes_disabled()` appears only here, in the superuser admin and in the lookups that must find
a tenant before there is one (API key, webhook key); each use says why.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django_scopes import scopes_disabled

from clinics.context import actor_context
from clinics.models import Clinic, Membership, User
from clinics.roles import Role
from clinics.scoping import ClinicScopedManager, clinic_scope, current_clinic_id

__all__ = [
    "GONE",
    "ClinicScopedManager",
    "ClinicsFailed",
    "clinic_id_of",
    "clinic_ids_with",
    "clinic_scope",
    "clinic_task",
    "current_clinic_id",
    "find_by_public_token",
    "for_each_clinic",
    "in_clinic",
    "membership_by_slug",
    "memberships_of",
    "owner_emails",
    "rows_by_clinic",
    "scopes_disabled",
]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# What a row task returns when its row (and so its clinic) no longer exists.
GONE = "gone"


# --- lookups across clinics -------------------------------------------------------------------
def clinic_id_of(model: type[models.Model], pk: Any) -> int | None:
    """The clinic that owns row `pk` of a clinic-owned `model`, or None when it is gone."""
    # The one cross-clinic read a row task needs: its clinic is what it does not know yet.
    with scopes_disabled():
        rows = model.objects.filter(Exists(Clinic.objects.filter(pk=OuterRef("clinic_id"))))
        return rows.filter(pk=pk).values_list("clinic_id", flat=True).first()


def find_by_public_token(model: type[models.Model], **lookup: Any) -> tuple[int, int] | None:
    """(pk, clinic id) of the one row matching a public key (a link token, an invitation
    digest), or None. For pages a stranger opens: the key is the only clue to the clinic."""
    # Before any scope: the public key is what names the clinic.
    with scopes_disabled():
        return model.objects.filter(**lookup).values_list("pk", "clinic_id").first()


def clinic_ids_with(model: type[models.Model], **filters: Any) -> list[int]:
    """Ids of the clinics (active or not) owning at least one `model` row matching `filters`,
    in id order: what a per-clinic schedule visits when only some clinics have work."""
    # Finding which clinics to visit is the cross-clinic part; each is then visited in its
    # own scope. EXISTS uses the (clinic, ...) indexes once per clinic.
    with scopes_disabled():
        rows = model.objects.filter(clinic=OuterRef("pk"), **filters)
        return list(Clinic.objects.filter(Exists(rows)).order_by("pk").values_list("pk", flat=True))


def rows_by_clinic(
    model: type[models.Model],
    where: Q,
    *,
    order_by: Sequence[str],
    limit: int,
    skip_locked: bool = False,
) -> dict[int, list[int]]:
    """Ids of up to `limit` rows of a clinic-owned `model` matching `where`, in `order_by`
    order, grouped by clinic: how a worker finds its next batch of work (due reminders, stale
    claims). Only ids leave here; the rows are read and written inside each clinic's scope.

    With `skip_locked` (PostgreSQL, inside the caller's transaction) the rows are locked with
    `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint batches without waiting.
    """
    # A worker does not know which clinics have work until it looks: the one cross-clinic read
    # of a queue, and it returns nothing but ids.
    with scopes_disabled():
        rows = model.objects.filter(where).order_by(*order_by)
        if skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        grouped: dict[int, list[int]] = {}
        for pk, clinic_id in rows.values_list("pk", "clinic_id")[:limit]:
            grouped.setdefault(clinic_id, []).append(pk)
        return grouped


def owner_emails() -> list[str]:
    """The e-mail addresses of every active clinic's active owners: who hears about the
    installation itself (a missed backup) when no operator address is set."""
    # An installation-wide alert belongs to no clinic; only addresses leave here.
    with scopes_disabled():
        emails = (
            Membership.objects.filter(
                role=Role.OWNER, is_active=True, user__is_active=True, clinic__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
            .distinct()
        )
        return sorted(emails)


def memberships_of(user: User) -> list[Membership]:
    """A user's active memberships at active clinics, by clinic name."""
    # Before any scope: the user's memberships are how a clinic gets chosen.
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user, is_active=True, clinic__is_active=True)
            .select_related("clinic")
            .order_by("clinic__name")
        )


def membership_by_slug(user: User, clinic_slug: str) -> Membership | None:
    """The user's active membership at the active clinic with this slug, or None."""
    # Before any scope: the membership is what allows entering the clinic's scope.
    with scopes_disabled():
        return (
            Membership.objects.select_related("clinic", "user")
            .filter(user=user, clinic__slug=clinic_slug, is_active=True, clinic__is_active=True)
            .first()
        )


# --- the two shapes of background work -------------------------------------------------------
def clinic_task(
    model: type[models.Model], *, via: str = "task"
) -> Callable[[Callable[Concatenate[int, P], T]], Callable[Concatenate[int, P], T | str]]:
    """Decorate a task whose first argument is the id of a `model` row.

    The task runs inside the row's clinic scope and `actor_context(via=via)`, both left however
    the task ends; it returns `GONE` ("gone") without running when the row no longer exists
    (deleted, or its clinic deleted with it).
    """

    def decorate(fn: Callable[Concatenate[int, P], T]) -> Callable[Concatenate[int, P], T | str]:
        @functools.wraps(fn)
        def task(row_id: int, /, *args: P.args, **kwargs: P.kwargs) -> T | str:
            clinic_id = clinic_id_of(model, row_id)
            if clinic_id is None:
                return GONE
            with in_clinic(clinic_id, via=via):
                return fn(row_id, *args, **kwargs)

        task.clinic_model = model  # type: ignore[attr-defined]
        return task

    return decorate


@contextmanager
def in_clinic(clinic_id: int, *, via: str = "task") -> Iterator[None]:
    """Enter one clinic's scope and an actor context (`via`: task, command, ...) together."""
    with actor_context(via=via), clinic_scope(clinic_id):
        yield


class ClinicsFailed(RuntimeError):
    """Raised by `for_each_clinic` after visiting every clinic when some failed."""

    def __init__(self, name: str, failed: list[int], results: dict[int, Any]) -> None:
        self.failed = failed
        self.results = results
        super().__init__(f"{name} failed for clinics {failed}; the others completed.")


def for_each_clinic(
    fn: Callable[[int], T],
    *,
    name: str,
    clinic_ids: Iterable[int] | None = None,
    via: str = "task",
) -> dict[int, T]:
    """Run `fn(clinic_id)` for every active clinic (or the given ids), each inside its own
    clinic scope, `actor_context(via=via)` and transaction; returns {clinic id: result}.

    A clinic whose run raises is rolled back (no half a write), logged by its id only, and
    skipped; the others still run. Afterwards `ClinicsFailed` is raised if any failed, so the
    task runner records the failure.
    """
    if clinic_ids is None:
        clinic_ids = (
            Clinic.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
        )
    results: dict[int, T] = {}
    failed: list[int] = []
    for clinic_id in list(clinic_ids):
        try:
            with in_clinic(clinic_id, via=via), transaction.atomic():
                results[clinic_id] = fn(clinic_id)
        except Exception:
            logger.exception("%s failed for clinic %s", name, clinic_id)
            failed.append(clinic_id)
    if failed:
        raise ClinicsFailed(name, failed, results)
    return results
