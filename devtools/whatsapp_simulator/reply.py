"""How the request handler answers: raise a `Reply`, or `Hangup` to close without one."""

from __future__ import annotations

from typing import Any


class Reply(Exception):
    """Answer the current request with this status, body and content type."""

    def __init__(self, status: int, body: Any, content_type: str = "application/json"):
        self.status, self.body, self.content_type = status, body, content_type


class Hangup(Exception):
    """Close the connection without answering (the simulator is stopping mid-timeout)."""
