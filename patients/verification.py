"""The public verification page's hook for documents other apps issue (bills in billing).

`patients/views/documents.py` `document_verify` looks a token up among the patients app's
documents first, then asks each registered verifier in turn. A verifier takes the token and
returns the facts the page may show (no patient data: clinic, city, kind, issued_on,
person_label, person, validity "valid" / "superseded" / "revoked" / "cancelled", language) or
None. Register one from the app's `AppConfig.ready()` with `verifiers.append(fn)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Verifier = Callable[[str], dict[str, Any] | None]
verifiers: list[Verifier] = []


def verify_elsewhere(token: str) -> dict[str, Any] | None:
    """The facts of the first verifier that knows the token, or None."""
    for verifier in verifiers:
        facts = verifier(token)
        if facts is not None:
            return facts
    return None
