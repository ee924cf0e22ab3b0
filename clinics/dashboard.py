"""Reads for the clinic's dashboard, and the patient numbers on the audit trail.

The dashboard is made of panels (`clinics.registry.DashboardPanel`): clinics adds the staff and
audit panels below, and higher apps add theirs (patients: the search box, today's figures and the
newest patients) from their `AppConfig.ready()`, so this module never imports them. The same goes
for the patient numbers the audit trail shows (`clinics.registry.patient_directory`). Call these
inside the clinic's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

from clinics.forms import action_label
from clinics.models import Clinic, Membership
from clinics.registry import DashboardPanel, dashboard_panels, patient_directory
from clinics.roles import Perm
from clinics.selectors import audit_events, open_invitations

RECENT_AUDIT_EVENTS = 10


@dataclass
class ShownPanel:
    panel: DashboardPanel
    data: dict[str, Any]


@dataclass
class DashboardSummary:
    today: date
    panels: list[ShownPanel] = field(default_factory=list)


def dashboard_summary(clinic: Clinic, membership: Membership) -> DashboardSummary:
    """Today at a glance: the panels the member's role may see, with their data.

    Each panel makes a fixed number of queries whatever the clinic's size (today: patients two,
    staff two, audit one).
    """
    today = timezone.now().astimezone(clinic.tzinfo).date()
    return DashboardSummary(
        today=today,
        panels=[
            ShownPanel(panel, panel.load(clinic=clinic, membership=membership, today=today))
            for panel in dashboard_panels
            if membership.has_perm(panel.perm)
        ],
    )


def staff_figures(*, clinic: Clinic, membership: Membership, today: date) -> dict[str, Any]:
    return {
        "staff_count": Membership.objects.filter(is_active=True).count(),
        "open_invitations": open_invitations().count(),
    }


def recent_activity(*, clinic: Clinic, membership: Membership, today: date) -> dict[str, Any]:
    # [{'event': AuditEvent, 'action': 'Patient viewed'}]
    return {
        "recent_events": [
            {"event": event, "action": action_label(event.action)}
            for event in audit_events(clinic=clinic)[:RECENT_AUDIT_EVENTS]
        ]
    }


STAFF_PANEL = DashboardPanel(
    name="clinics.staff",
    order=20,
    perm=Perm.STAFF_MANAGE,
    load=staff_figures,
    figures_template="clinics/partials/_dashboard_staff.html",
)
AUDIT_PANEL = DashboardPanel(
    name="clinics.audit",
    order=90,
    perm=Perm.AUDIT_VIEW,
    load=recent_activity,
    section_template="clinics/partials/_dashboard_audit.html",
)


def patient_id_for_number(number: int) -> int | None:
    """The id of the patient with this clinic patient number (archived ones too), or None."""
    directory = patient_directory.first()
    return directory.id_for_number(number) if directory else None


def patient_numbers(patient_ids) -> dict[int, str]:
    """{patient id: 'P-000123'} for the given ids, in one query. Unknown ids are left out."""
    ids = {pid for pid in patient_ids if pid}
    directory = patient_directory.first()
    if not ids or directory is None:
        return {}
    return directory.numbers_for_ids(ids)
