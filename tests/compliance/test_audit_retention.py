"""The daily purge removes audit events past the clinic's audit-log period (at least a year,
three by default), keeps the rest, changes nothing more when run again, and leaves a chain that
`verify_audit_chain` still verifies."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from clinics.audit import Actions, audit_record, audit_seal, audit_verify
from clinics.errors import ValidationFailed
from clinics.models import AuditAnchor, AuditEvent
from compliance.models import PurgeRun, RetentionPolicy
from compliance.purge import purge_clinic, purge_run
from compliance.retention import legal_hold_lift, legal_hold_set, retention_policy_set
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _viewed(clinic, actor, *, days_old: int, patient_id: int | None = None) -> None:
    """One sealed 'record viewed' event from `days_old` days ago."""
    audit_record(clinic=clinic, actor=actor, action=Actions.PATIENT_VIEWED, patient_id=patient_id)
    with connection.cursor() as cursor:  # back-dated before sealing: the time is sealed too
        cursor.execute(
            "UPDATE clinics_auditevent SET created_at = %s WHERE clinic_id = %s AND hash = ''",
            [NOW - timedelta(days=days_old), clinic.pk],
        )
    audit_seal(clinic_id=clinic.pk)


def _ages(clinic) -> list[int]:
    return sorted(
        (NOW - at).days
        for at in AuditEvent.objects.filter(action=Actions.PATIENT_VIEWED).values_list(
            "created_at", flat=True
        )
    )


@pytest.fixture
def trail(scoped, owner):
    for days in (1200, 1100, 900, 400, 30):
        _viewed(scoped, owner.user, days_old=days)
    return scoped


def test_the_purge_keeps_three_years_by_default_and_a_second_run_removes_nothing(trail):
    run = PurgeRun.objects.create(clinic=trail)
    purge_run(run=run, now=NOW)
    assert _ages(trail) == [30, 400, 900]
    assert run.counts["classes"]["audit_log"] == 2
    assert run.counts["kinds"]["clinics.audit_event"] == 2 and run.problem == ""
    report = audit_verify(clinic_id=trail.pk)
    assert report.ok, report.problem
    assert report.pruned_to == 2
    # The run's own event is sealed into the chain and a second run removes nothing more.
    audit_seal(clinic_id=trail.pk)
    again = purge_clinic(clinic_id=trail.pk, now=NOW)
    assert again["classes"]["audit_log"] == 0
    assert _ages(trail) == [30, 400, 900]
    assert audit_verify(clinic_id=trail.pk).ok
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "All 1 audit chain(s) verified." in out.getvalue()


def test_a_period_set_by_the_owner_is_followed(trail, owner):
    retention_policy_set(clinic_id=trail.pk, record_class="audit_log", days=365, actor=owner.user)
    audit_seal(clinic_id=trail.pk)
    purge_clinic(clinic_id=trail.pk, now=NOW)
    assert _ages(trail) == [30]
    assert audit_verify(clinic_id=trail.pk).ok


def test_the_one_year_floor_cannot_be_undercut(trail, owner):
    with pytest.raises(ValidationFailed) as refused:
        retention_policy_set(
            clinic_id=trail.pk, record_class="audit_log", days=364, actor=owner.user
        )
    assert "at least 365 days" in str(refused.value.errors["days"])
    # Even a row written around the service (an old policy, a hand edit) is held to the floor.
    RetentionPolicy.objects.create(clinic=trail, record_class="audit_log", days=1)
    purge_clinic(clinic_id=trail.pk, now=NOW)
    assert _ages(trail) == [30]  # 400 days is past a year; 30 days is kept despite "1 day"
    assert audit_verify(clinic_id=trail.pk).ok


def test_a_legal_hold_on_a_patient_keeps_the_trail_from_their_first_event(scoped, owner):
    patient = PatientFactory(clinic=scoped)
    _viewed(scoped, owner.user, days_old=1300)
    _viewed(scoped, owner.user, days_old=1250, patient_id=patient.pk)
    _viewed(scoped, owner.user, days_old=1200)
    hold = legal_hold_set(
        clinic_id=scoped.pk, actor=owner.user, reason="MLC", patient_id=patient.pk
    )
    audit_seal(clinic_id=scoped.pk)
    purge_clinic(clinic_id=scoped.pk, now=NOW)
    assert _ages(scoped) == [1200, 1250]
    legal_hold_lift(hold_id=hold.pk, actor=owner.user, reason="Case closed")
    audit_seal(clinic_id=scoped.pk)
    purge_clinic(clinic_id=scoped.pk, now=NOW)
    assert _ages(scoped) == []
    assert audit_verify(clinic_id=scoped.pk).ok


def test_a_tampered_trail_is_not_pruned_and_the_run_says_why(trail, owner, client_for):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinics_auditevent SET patient_id = 7 WHERE clinic_id = %s AND seq = 1",
            [trail.pk],
        )
    run = PurgeRun.objects.create(clinic=trail)
    purge_run(run=run, now=NOW)
    assert "audit trail not pruned: event #1" in run.problem
    assert _ages(trail) == [30, 400, 900, 1100, 1200]
    assert not AuditAnchor.objects.exclude(seq=0).exists()
    page = client_for(owner).get(f"/c/{trail.slug}/compliance/retention/").content.decode()
    assert "audit trail not pruned: event #1" in page


def test_the_retention_report_counts_the_audit_trail_and_changes_nothing(trail, capsys):
    call_command("retention_report")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "Audit and access logs" in line)
    assert line.split()[-4] == "2"  # "... 2 rows would go"
    assert "clinics.audit_event" in out
    assert _ages(trail) == [30, 400, 900, 1100, 1200]
