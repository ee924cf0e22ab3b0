"""How an owner hears that a data-rights request is due: the hook a higher app fills.

`compliance` records every reminder on the request's timeline and the dashboard; an app above it
(messaging: the staff WhatsApp alerts) may also deliver it. This module imports no models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from clinics.registry import Registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RightsAlert:
    """A way to tell a request's owner it is due (messaging's staff WhatsApp alerts, later).

    Checklist: `send(request=RightsRequest, membership=Membership, late=bool)` runs inside the
    clinic's scope and the reminder's transaction; it queues its message (deliver after commit),
    says nothing personal beyond the reference (no patient name), and returns quietly when the
    member has no such alerts. A failure is logged and does not stop the reminder. Register it
    from the app's `AppConfig.ready()`: `rights_alerts.register(ALERT)`; every entry is used.
    """

    name: str
    order: int
    send: Callable[..., Any]


rights_alerts: Registry[RightsAlert] = Registry("rights request alerts")


def owner_alert(*, request: Any, membership: Any, late: bool) -> None:
    """Pass a reminder to every registered alert; one that fails is logged by name and ids."""
    for alert in rights_alerts:
        try:
            with transaction.atomic():  # a failed alert leaves the reminder's writes intact
                alert.send(request=request, membership=membership, late=late)
        except Exception:
            logger.exception(
                "rights alert %s failed for request %s", alert.name, getattr(request, "pk", None)
            )
