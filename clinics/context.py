"""Who is acting and from where, for the audit trail.

The web middleware and the API set this per request; tasks and management commands set it for
their run. Services read it when they write an audit event, so they do not need the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class ActorContext:
    ip: str | None = None
    user_agent: str = ""
    via: str = "web"  # web, api, task, command, admin


_DEFAULT = ActorContext()
_current: ContextVar[ActorContext | None] = ContextVar("vaidya_actor_context", default=None)


def get_context() -> ActorContext:
    return _current.get() or _DEFAULT


@contextmanager
def actor_context(**kwargs) -> Iterator[ActorContext]:
    ctx = ActorContext(**kwargs)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
