"""Reads for clinic pages that show patients next to clinic data: the dashboard and the audit
trail.

This module is a read-only view composition: it is the one place in `clinics` that reads from
`patients` (dependencies otherwise point from `patients` to `clinics`). It never writes and
nothing in `clinics` except the views imports it. Call it inside the clinic's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, Q
from django.utils import timezone

from clinics.forms import action_label
from clinics.models import Clinic, Membership
from clinics.roles import Perm
from clinics.selectors import audit_events, open_invitations
from patients.models import Patient
from patients.selectors import patient_list

RECENT_PATIENTS = 8
RECENT_AUDIT_EVENTS = 10


@dataclass
class DashboardSummary:
    today: date
    patients_today: int | None = None
    active_patients: int | None = None
    recent_patients: list[Patient] = field(default_factory=list)
    open_invitations: int | None = None
    staff_count: int | None = None
    # [{'event': AuditEvent, 'action': 'Patient viewed'}]
    recent_events: list[dict] = field(default_factory=list)

    @property
    def shows_patients(self) -> bool:
        return self.active_patients is not None

    @property
    def shows_staff(self) -> bool:
        return self.staff_count is not None


def dashboard_summary(clinic: Clinic, membership: Membership) -> DashboardSummary:
    """Today at a glance, limited to what the member's role may see.

    At most five queries whatever the clinic's size: patient counts (one aggregate), recent
    patients, staff counts (one aggregate), open invitations, recent audit events.
    """
    today = timezone.now().astimezone(clinic.tzinfo).date()
    summary = DashboardSummary(today=today)
    if membership.has_perm(Perm.PATIENTS_VIEW):
        start_of_today = datetime.combine(today, time.min, tzinfo=clinic.tzinfo)
        counts = Patient.objects.aggregate(
            today=Count("pk", filter=Q(created_at__gte=start_of_today)),
            active=Count("pk", filter=Q(archived_at__isnull=True)),
        )
        summary.patients_today = counts["today"]
        summary.active_patients = counts["active"]
        summary.recent_patients = list(patient_list()[:RECENT_PATIENTS])
    if membership.has_perm(Perm.STAFF_MANAGE):
        summary.staff_count = Membership.objects.filter(is_active=True).count()
        summary.open_invitations = open_invitations().count()
    if membership.has_perm(Perm.AUDIT_VIEW):
        summary.recent_events = [
            {"event": event, "action": action_label(event.action)}
            for event in audit_events(clinic=clinic)[:RECENT_AUDIT_EVENTS]
        ]
    return summary


def patient_id_for_number(number: int) -> int | None:
    """The id of the patient with this clinic patient number (archived ones too), or None."""
    return Patient.objects.filter(number=number).values_list("pk", flat=True).first()


def patient_numbers(patient_ids) -> dict[int, str]:
    """{patient id: 'P-000123'} for the given ids, in one query. Unknown ids are left out."""
    ids = {pid for pid in patient_ids if pid}
    if not ids:
        return {}
    return {p.pk: p.patient_number for p in Patient.objects.filter(pk__in=ids).only("number")}
