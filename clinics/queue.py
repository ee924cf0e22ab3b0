"""Enqueueing background tasks (django-q2) with one broker per process.

`django_q.tasks.async_task` makes a new broker for every call unless it is given one; with
Redis that is a new connection each time (and redis-py's handshake reads package metadata
from disk): about 5 ms of a webhook's request. `enqueue` reuses this process's broker (a
fresh one after a fork: connections must not be shared between processes).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django_q.brokers import get_broker
from django_q.tasks import async_task

_lock = threading.Lock()
_broker: Any = None
_broker_pid: int | None = None


def broker() -> Any:
    """This process's django-q2 broker."""
    global _broker, _broker_pid
    with _lock:
        if _broker is None or _broker_pid != os.getpid():
            _broker, _broker_pid = get_broker(), os.getpid()
        return _broker


def enqueue(func: str, *args: Any) -> str:
    """Queue `func(*args)` for a worker (or run it now when the cluster is synchronous)."""
    return async_task(func, *args, broker=broker())
