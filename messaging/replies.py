"""Routing of patients' quick-reply presses and short answers to what they answer.

Reminders carry quick-reply buttons whose payload is "<action>:<reminder id>" (for example
"appt_confirm:41", "dose_taken:97", "rate_5:12"). When a patient presses one, webhook
processing calls `dispatch_reply(message)`; the handler registered for the action's prefix
records the answer (confirms the appointment, records the dose, stores the rating) and returns
the text to send back, or None. Handlers are registered by the modules that plan the reminders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messaging.models import Message

ReplyHandler = Callable[["Message", str, int], "str | None"]
_handlers: dict[str, ReplyHandler] = {}


def button_payload(action: str, reminder_id: int) -> str:
    """The payload of a quick-reply button that answers reminder `reminder_id`."""
    if ":" in action or not action:
        raise ValueError("A reply action is a non-empty word without ':'.")
    return f"{action}:{reminder_id}"


def parse_payload(payload: str) -> tuple[str, int] | None:
    """("appt_confirm", 41) from "appt_confirm:41"; None for anything else."""
    action, sep, reminder = (payload or "").partition(":")
    if not sep or not action or not reminder.isdigit():
        return None
    return action, int(reminder)


def register_reply_handler(*actions: str) -> Callable[[ReplyHandler], ReplyHandler]:
    """Register `handler(message, action, reminder_id) -> reply text | None` for actions."""

    def decorator(handler: ReplyHandler) -> ReplyHandler:
        for action in actions:
            _handlers[action] = handler
        return handler

    return decorator


def handles(payload: str) -> bool:
    """Whether a handler answers this payload (a quick reply Vaidya answers by itself)."""
    parsed = parse_payload(payload)
    return parsed is not None and parsed[0] in _handlers


def dispatch_reply(message: Message) -> tuple[bool, str | None]:
    """Hand a button press to its handler: (handled, reply text)."""
    parsed = parse_payload(message.payload)
    if parsed is None:
        return False, None
    action, reminder_id = parsed
    handler = _handlers.get(action)
    if handler is None:
        return False, None
    return True, handler(message, action, reminder_id)
