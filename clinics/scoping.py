"""The scoping primitives clinic-owned models need: their manager and the clinic scope.

Every clinic-owned model is scoped by django-scopes on `clinic`. Queries on a scoped model
outside `clinic_scope(...)` raise `ScopeError`, so forgetting the tenant fails loudly instead of
leaking another clinic's rows. This module imports no model, so `clinics.models` can use it;
`clinics.tenancy` builds the task shapes and tenant lookups on top of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models
from django_scopes import ScopedManager, get_scope, scope

__all__ = ["ClinicScopedManager", "clinic_scope", "current_clinic_id"]


def ClinicScopedManager(manager_class: type[models.Manager] = models.Manager):
    """A manager that only sees rows of the clinic in the active scope."""
    return ScopedManager(clinic="clinic", _manager_class=manager_class)


@contextmanager
def clinic_scope(clinic: models.Model | int) -> Iterator[None]:
    """Enter one clinic's scope (a Clinic or its id). Refuses None: a None scope would match
    every clinic."""
    clinic_id = clinic if isinstance(clinic, int) else getattr(clinic, "pk", None)
    if not clinic_id:
        raise ValueError("clinic_scope needs a saved clinic")
    with scope(clinic=clinic_id):
        yield


def current_clinic_id() -> int | None:
    value = get_scope().get("clinic")
    return value if isinstance(value, int) else None
