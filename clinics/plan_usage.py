"""The owner's dashboard warning when the clinic is at or near a limit of its plan (WhatsApp
messages this month, storage), read through `clinics.guards` (the subscription guard and the
`usage_counters` registry), so `clinics` never imports billing, messaging or patients.

Queries: one per resource without a subscription; with one whose plan limits the resource,
that plus the counting (`clinics.guards.usage`): constant whatever the clinic's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from clinics.guards import LimitStatus, limit_status
from clinics.models import Clinic, Membership
from clinics.registry import DashboardPanel
from clinics.roles import Perm

NEAR_SHARE = 0.8  # warn from 80% of a limit
WATCHED = ("whatsapp_messages", "storage_mb")


@dataclass(frozen=True)
class LimitWarning:
    status: LimitStatus
    reached: bool

    @property
    def text(self) -> str:
        used, limit = self.status.used, self.status.limit
        if self.status.resource == "storage_mb":
            amounts = _("%(used)s MB of %(limit)s MB stored") % {
                "used": f"{used / (1024 * 1024):,.1f}",
                "limit": f"{limit // (1024 * 1024):,}",
            }
            if self.reached:
                return _("Storage is full: %(amounts)s. New uploads are refused.") % {
                    "amounts": amounts
                }
            return _("Storage is nearly full: %(amounts)s.") % {"amounts": amounts}
        amounts = _("%(used)s of %(limit)s WhatsApp messages sent this month") % {
            "used": f"{used:,}",
            "limit": f"{limit:,}",
        }
        if self.reached:
            return _(
                "WhatsApp message limit reached: %(amounts)s. Messages to patients and "
                "reminders are not sent until next month (alerts to staff still go)."
            ) % {"amounts": amounts}
        return _("Near the WhatsApp message limit: %(amounts)s.") % {"amounts": amounts}


def plan_warnings(*, clinic: Clinic, membership: Membership, today: date) -> dict[str, Any]:
    """The limits the clinic is at or near (at least `NEAR_SHARE` used)."""
    warnings = []
    for resource in WATCHED:
        status = limit_status(clinic.pk, resource)
        if status is not None and status.share >= NEAR_SHARE:
            warnings.append(LimitWarning(status, reached=status.used >= status.limit))
    return {"warnings": warnings}


PLAN_PANEL = DashboardPanel(
    name="clinics.plan_limits",
    order=5,
    perm=Perm.SETTINGS_EDIT,
    load=plan_warnings,
    section_template="clinics/partials/_dashboard_plan_limits.html",
)
