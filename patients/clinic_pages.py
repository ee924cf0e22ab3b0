"""What patients adds to the clinic-level pages that `clinics` draws without importing this app:
the dashboard's patient panel and the patient numbers on the audit trail. `PatientsConfig.ready()`
registers them with `clinics.registry`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, Q

from clinics.models import Clinic, Membership
from clinics.registry import DashboardPanel, PatientDirectory
from clinics.roles import Perm
from patients.models import Patient
from patients.selectors import patient_list

RECENT_PATIENTS = 8


def patients_at_a_glance(*, clinic: Clinic, membership: Membership, today: date) -> dict[str, Any]:
    """Patients registered today, active patients (one aggregate) and the newest few (one
    query)."""
    start_of_today = datetime.combine(today, time.min, tzinfo=clinic.tzinfo)
    counts = Patient.objects.aggregate(
        today=Count("pk", filter=Q(created_at__gte=start_of_today)),
        active=Count("pk", filter=Q(archived_at__isnull=True)),
    )
    return {
        "patients_today": counts["today"],
        "active_patients": counts["active"],
        "recent_patients": list(patient_list()[:RECENT_PATIENTS]),
    }


def patient_id_for_number(number: int) -> int | None:
    """The id of the patient with this clinic patient number (archived ones too), or None."""
    return Patient.objects.filter(number=number).values_list("pk", flat=True).first()


def patient_numbers(patient_ids: Iterable[int]) -> dict[int, str]:
    """{patient id: 'P-000123'} for the given ids, in one query. Unknown ids are left out."""
    return {
        p.pk: p.patient_number for p in Patient.objects.filter(pk__in=patient_ids).only("number")
    }


PATIENTS_PANEL = DashboardPanel(
    name="patients.patients",
    order=10,
    perm=Perm.PATIENTS_VIEW,
    load=patients_at_a_glance,
    search_template="patients/partials/_dashboard_search.html",
    figures_template="patients/partials/_dashboard_figures.html",
    section_template="patients/partials/_dashboard_recent.html",
)
PATIENT_DIRECTORY = PatientDirectory(
    name="patients.patients",
    order=10,
    id_for_number=patient_id_for_number,
    numbers_for_ids=patient_numbers,
)
