"""Errors raised by services. Their messages are written for the person using Vaidya."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action. `message` is safe to show to the user.

    `field` names the input the message is about, when there is one, so forms and the API can
    attach it to the right field. `code` is a stable machine-readable name.
    """

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input that breaks a rule: several field messages at once."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Please correct the errors."):
        super().__init__(message, code="invalid")
        self.errors = errors


class NotAllowed(DomainError):
    code = "permission_denied"


class Conflict(DomainError):
    code = "conflict"
