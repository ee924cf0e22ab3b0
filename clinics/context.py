"""Who is acting and from where, for the audit trail.

The web middleware and the API set this per request; tasks and management commands set it for
their run. Services read it when they write an audit event, so they do not need the request.
Within a request it also holds the caller's resolved `Access` (see `clinics/actors.py`), so a
service's permission check does not read the membership again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    ip: str | None = None
    user_agent: str = ""
    via: str = "web"  # web, api, task, command, admin
    # The request's caller resolved at its clinic: a `clinics.actors.Access`, which is built on
    # this module (naming its type here would make the two modules import each other).
    access: Any = None


_DEFAULT = ActorContext()
_current: ContextVar[ActorContext | None] = ContextVar("vaidya_actor_context", default=None)


def get_context() -> ActorContext:
    return _current.get() or _DEFAULT


@contextmanager
def actor_context(**kwargs) -> Iterator[ActorContext]:
    """Act with these fields (ip, user_agent, via, access) until the block ends."""
    ctx = ActorContext(**kwargs)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def enter_context(**changes) -> object:
    """Replace fields of the current context until `leave_context(token)`; for request
    plumbing whose start and end are in different methods (DRF's initial / finalize)."""
    return _current.set(replace(get_context(), **changes))


def leave_context(token: object) -> None:
    _current.reset(token)
