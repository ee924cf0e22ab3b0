"""Reads on every API request's path, with their SQL built once per process.

Django builds a query's SQL anew each time it runs: for the API key lookup and a patient's
record that was about half of the read's CPU (0.3-0.5 ms a query), on every request. A
`PreparedRead` takes a function that makes the queryset from its arguments, builds it once with
stand-in values, and afterwards runs the same SQL with the real values, through Django's cursor
(so query counting and logging see it) and Django's converters (so values come back as the ORM
would give them: dates, phone numbers, booleans on SQLite).

Tenancy stays enforced: a read of a clinic-owned model is built inside a stand-in clinic scope,
so its SQL carries the scope's clinic filter as a parameter; each run fills in the clinic of
the scope it runs in and refuses to run outside one, like the scoped manager itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django_scopes import ScopeError, get_scope, scope

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1
# Stand-in values, distinct from each other, that every integer column accepts (Django refuses
# to build a lookup beyond a column's range). A read takes no other values, so a stand-in can
# never be mistaken for one.
_STAND_IN_CLINIC = 31_001
_STAND_INS: tuple[Any, ...] = (31_011, 31_012, 31_013)


class PreparedRead:
    """`make(*args)` -> a `.values_list(...)` queryset; `rows(*args)` runs it with `args`.

    The queryset must take its arguments only as filter values (no slicing or ordering by them),
    and each argument must be an int or a str. `scoped` reads need an active clinic scope.
    """

    def __init__(self, make: Callable[..., QuerySet], *, arg_types: tuple[type, ...], scoped: bool):
        self._make = make
        self._arg_types = arg_types
        self._scoped = scoped
        # Per connection object (each thread has its own): converters are given the connection.
        self._built: WeakKeyDictionary[Any, tuple[Any, str, list[int | None], Any]] = (
            WeakKeyDictionary()
        )

    def _stand_ins(self) -> tuple[Any, ...]:
        return tuple(
            value if kind is int else f"stand-in-{value}-{n}"
            for n, (kind, value) in enumerate(zip(self._arg_types, _STAND_INS, strict=False))
        )

    def _build(self, using: str) -> tuple[Any, str, list[int | None], Any]:
        stand_ins = self._stand_ins()
        if self._scoped:
            with scope(clinic=_STAND_IN_CLINIC):
                queryset = self._make(*stand_ins)
        else:
            queryset = self._make(*stand_ins)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        known = {**{v: n for n, v in enumerate(stand_ins)}, _STAND_IN_CLINIC: None}
        slots: list[int | None] = []
        for param in params:
            if param not in known:
                raise ValueError(f"A prepared read may only take its arguments, not {param!r}")
            slots.append(known[param])
        if self._scoped and None not in slots:
            raise ValueError("A scoped prepared read must be of a clinic-scoped model")
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        return compiler, sql, slots, converters

    def rows(self, *args: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        """The rows, with the ORM's conversions, for these argument values."""
        if any(type(a) is int and not _BIGINT_MIN <= a <= _BIGINT_MAX for a in args):
            return []  # as the ORM answers a lookup beyond the column's range: nothing
        clinic_id = _scope_clinic_id() if self._scoped else None
        connection = connections[using]
        built = self._built.get(connection)
        if built is None:
            built = self._built[connection] = self._build(using)
        compiler, sql, slots, converters = built
        params = [clinic_id if slot is None else args[slot] for slot in slots]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in fetched]
        return [tuple(row) for row in compiler.apply_converters(fetched, converters)]


def _scope_clinic_id() -> int:
    current = get_scope()
    value = current.get("clinic")
    if current.get("_enabled", True) is False or not isinstance(value, int):
        raise ScopeError("A prepared read of clinic data needs the clinic's scope.")
    return value
