from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_q.models import Schedule

from clinics.audit import Actions, audit_record, audit_verify
from clinics.models import AuditChainHead, AuditEvent
from clinics.schedules import declared_schedules
from clinics.tasks import audit_seal_pending
from clinics.tenancy import clinic_scope, scopes_disabled


def _events(clinic, actor, n):
    with clinic_scope(clinic):
        for i in range(n):
            audit_record(clinic=clinic, actor=actor, action=Actions.PATIENT_VIEWED, patient_id=i)


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify(*args) -> str:
    out = StringIO()
    call_command("verify_audit_chain", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- the sealing task -------------------------------------------------------------------------


def test_audit_seal_pending_seals_every_clinic_and_is_idempotent(clinic, other_clinic, owner):
    _events(clinic, owner.user, 3)
    _events(other_clinic, None, 2)
    assert audit_seal_pending() == {clinic.pk: 3, other_clinic.pk: 2}
    assert audit_seal_pending() == {}
    assert audit_verify(clinic_id=clinic.pk).checked == 3
    assert audit_verify(clinic_id=other_clinic.pk).checked == 2
    _events(other_clinic, None, 1)
    assert audit_seal_pending() == {other_clinic.pk: 1}


# --- verify_audit_chain -----------------------------------------------------------------------


def _rows() -> tuple[list, list]:
    with scopes_disabled():
        return (
            list(AuditEvent.objects.order_by("id").values()),
            list(AuditChainHead.objects.order_by("id").values()),
        )


def test_verify_reports_ok_per_clinic(clinic, other_clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal_pending()
    out = _verify()
    assert "OK      asha: 4 events checked, 0 published heads compared" in out
    assert "OK      other: 0 events checked" in out
    assert "All 2 audit chain(s) verified." in out


def test_verify_only_reads_and_reports_pending_events_separately(clinic, other_clinic, owner):
    _events(clinic, owner.user, 3)
    audit_seal_pending()
    _events(clinic, owner.user, 2)
    before = _rows()
    out = _verify()
    assert _rows() == before  # nothing sealed, nothing changed
    assert (
        "OK      asha: 3 events checked, 0 published heads compared, "
        "2 not sealed yet, so not verified (oldest 0 min old)"
    ) in out
    out = _verify("--clinic", "other")
    assert "other: 0 events checked" in out and "asha" not in out


def test_verify_reports_an_edited_event_and_exits_1(clinic, other_clinic, owner):
    _events(clinic, owner.user, 4)
    _events(other_clinic, None, 1)
    audit_seal_pending()
    assert "OK      asha: 4 events checked" in _verify()
    _raw(
        "UPDATE clinics_auditevent SET data = '{\"tampered\": true}' "
        "WHERE clinic_id = %s AND seq = 3",
        [clinic.pk],
    )
    out = StringIO()
    with pytest.raises(CommandError, match=r"asha: event #3 .* was changed") as exc:
        call_command("verify_audit_chain", stdout=out, stderr=StringIO())
    assert exc.value.returncode == 1
    assert "BROKEN  asha: event #3 (patients.patient.viewed) was changed" in out.getvalue()
    assert "OK      other: 1 events checked" in out.getvalue()


def test_verify_reports_a_deleted_event_and_exits_1(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal_pending()
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq = 2", [clinic.pk])
    with pytest.raises(CommandError, match=r"event #2 is missing") as exc:
        _verify("--clinic", "asha")
    assert exc.value.returncode == 1


def test_verify_refuses_an_unknown_clinic(db):
    with pytest.raises(CommandError, match="No clinic has the short name 'nope'"):
        _verify("--clinic", "nope")


# --- schedules --------------------------------------------------------------------------------


def _sync() -> str:
    out = StringIO()
    call_command("sync_schedules", stdout=out)
    return out.getvalue()


def test_sync_schedules_creates_then_is_idempotent(db, settings):
    settings.AUDIT_SEAL_INTERVAL_SECONDS = 60
    first = _sync()
    assert "created   vaidya.audit_seal_pending: clinics.tasks.audit_seal_pending every minute" in (
        first
    )
    schedule = Schedule.objects.get(name="vaidya.audit_seal_pending")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "clinics.tasks.audit_seal_pending",
        Schedule.MINUTES,
        1,
        -1,
    )
    second = _sync()
    assert "unchanged vaidya.audit_seal_pending" in second
    assert "0 created, 0 updated" in second
    assert Schedule.objects.count() == len(declared_schedules())


def test_sync_schedules_follows_settings_and_removes_stale_vaidya_schedules(db, settings):
    _sync()
    Schedule.objects.create(name="vaidya.retired_job", func="clinics.tasks.gone", minutes=5)
    Schedule.objects.create(name="someone-elses", func="other.task", minutes=5)
    settings.AUDIT_SEAL_INTERVAL_SECONDS = 121  # rounds up to 3 minutes
    out = _sync()
    assert "updated   vaidya.audit_seal_pending" in out and "every 3 minutes" in out
    assert "deleted   vaidya.retired_job" in out
    assert Schedule.objects.get(name="vaidya.audit_seal_pending").minutes == 3
    names = set(Schedule.objects.values_list("name", flat=True))
    assert "vaidya.retired_job" not in names
    assert {"vaidya.audit_seal_pending", "someone-elses"} <= names


@pytest.mark.parametrize(("seconds", "minutes"), [(1, 1), (59, 1), (60, 1), (61, 2), (600, 10)])
def test_seal_interval_is_rounded_up_to_whole_minutes(settings, seconds, minutes):
    settings.AUDIT_SEAL_INTERVAL_SECONDS = seconds
    specs = {s["name"]: s for s in declared_schedules()}
    assert specs["vaidya.audit_seal_pending"]["minutes"] == minutes
