"""Reads of the rights desk: the desk's lists, a request with its timeline, a patient's open
requests and the dashboard's overdue list (each a fixed number of queries)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from clinics.models import Clinic, Membership
from clinics.roles import Perm
from compliance.rights.models import OPEN_STATUSES, Nomination, RightsRequest

FILTERS = ("open", "overdue", "mine", "closed", "all")
OVERDUE_ON_DASHBOARD = 10


def rights_requests(*, show: str = "open", membership: Membership | None = None) -> QuerySet:
    """The desk's list: open (default), overdue, mine (open, owned by `membership`), closed
    or all; soonest due first."""
    rows = RightsRequest.objects.select_related("patient", "owner__user")
    if show == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif show == "overdue":
        rows = rows.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    elif show == "mine":
        rows = rows.filter(status__in=OPEN_STATUSES, owner=membership)
    elif show == "closed":
        rows = rows.exclude(status__in=OPEN_STATUSES)
    return rows.order_by("due_at", "id")


def rights_request_or_404(request_id: int) -> RightsRequest:
    """This clinic's request or 404 (another clinic's answers 404 too)."""
    request = (
        RightsRequest.objects.select_related(
            "patient", "owner__user", "guardian", "nomination", "verified_by__user"
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise Http404("No such request")
    return request


def rights_request_timeline(request: RightsRequest) -> QuerySet:
    return request.events.select_related("actor").order_by("at", "id")


def patient_open_requests(patient_id: int) -> list[RightsRequest]:
    return list(
        RightsRequest.objects.filter(patient_id=patient_id, status__in=OPEN_STATUSES).order_by(
            "due_at", "id"
        )
    )


def patient_requests(patient_id: int) -> list[RightsRequest]:
    """All the patient's requests, open first (soonest due), then the latest closed."""
    rows = RightsRequest.objects.filter(patient_id=patient_id).select_related("owner__user")
    open_rows = [r for r in rows.order_by("due_at", "id") if r.is_open]
    closed = [r for r in rows.exclude(status__in=OPEN_STATUSES).order_by("-received_at")[:20]]
    return open_rows + closed


def patient_nomination(patient_id: int) -> Nomination | None:
    return Nomination.objects.filter(patient_id=patient_id, revoked_at__isnull=True).first()


def overdue_panel(*, clinic: Clinic, membership: Membership, today: date) -> dict[str, Any]:
    """The dashboard's overdue data-rights requests, and the member's own requests they were
    reminded of (the reminder's dashboard entry): three queries."""
    rows = rights_requests(show="overdue")
    reminded = rights_requests(show="mine", membership=membership).filter(reminded_at__isnull=False)
    return {
        "overdue": list(rows[:OVERDUE_ON_DASHBOARD]),
        "overdue_count": rows.count(),
        "reminded": list(reminded[:OVERDUE_ON_DASHBOARD]),
        "perm": Perm.RIGHTS_VIEW,
    }
