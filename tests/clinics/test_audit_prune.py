"""Pruning the oldest audit events (the retention purge) leaves a chain that still verifies from
its sealed anchor onward, and tampering with the anchor or with what is left is still caught."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from clinics.audit import Actions, audit_record, audit_seal, audit_verify
from clinics.audit_heads import audit_head_publish
from clinics.audit_prune import AuditPruneRefused, audit_prune
from clinics.models import AuditAnchor, AuditEvent
from clinics.tenancy import clinic_scope
from tests.clinics.test_audit import _anchor_migration, _seal_unkeyed

NOW = timezone.now()
CUT = NOW - timedelta(days=365)


def _events(clinic, actor, n, *, days_old=0, patient_id=None):
    """n events about patient `patient_id` (or 1, 2, ...), made `days_old` days ago, sealed."""
    with clinic_scope(clinic):
        for i in range(n):
            audit_record(
                clinic=clinic,
                actor=actor,
                action=Actions.PATIENT_VIEWED,
                patient_id=patient_id or i + 1,
            )
    # Back-date before sealing (the time is part of each sealed link): the unsealed are these.
    _raw(
        "UPDATE clinics_auditevent SET created_at = %s WHERE clinic_id = %s AND hash = ''",
        [NOW - timedelta(days=days_old), clinic.pk],
    )
    audit_seal(clinic_id=clinic.pk)


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _seqs(clinic) -> list[int]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))


def _anchor(clinic) -> AuditAnchor:
    with clinic_scope(clinic):
        return AuditAnchor.objects.get(clinic=clinic)


@pytest.fixture
def chain(clinic, owner):
    """5 events 400 days old, then 3 events 100 days old: #1-#5 are past a year, #6-#8 not."""
    _events(clinic, owner.user, 5, days_old=400)
    _events(clinic, owner.user, 3, days_old=100)
    return clinic


def test_pruning_removes_old_events_keeps_the_rest_and_the_chain_verifies(chain):
    assert audit_prune(clinic_id=chain.pk, before=CUT, dry_run=True) == 5
    assert _seqs(chain) == [1, 2, 3, 4, 5, 6, 7, 8]  # a dry run changes nothing

    assert audit_prune(clinic_id=chain.pk, before=CUT, batch_size=2) == 5
    assert _seqs(chain) == [6, 7, 8]
    anchor = _anchor(chain)
    assert (anchor.seq, anchor.pruned) == (5, 5) and anchor.mac
    report = audit_verify(clinic_id=chain.pk)
    assert report.ok, report.problem
    assert (report.checked, report.pruned_to) == (3, 5)

    assert audit_prune(clinic_id=chain.pk, before=CUT) == 0  # a second run changes nothing
    assert _seqs(chain) == [6, 7, 8] and _anchor(chain).mac == anchor.mac


def test_new_events_are_sealed_after_a_prune_and_verify(chain, owner):
    audit_prune(clinic_id=chain.pk, before=CUT)
    _events(chain, owner.user, 2)
    report = audit_verify(clinic_id=chain.pk)
    assert report.ok, report.problem
    assert _seqs(chain) == [6, 7, 8, 9, 10]


def test_pruning_everything_still_verifies(chain):
    assert audit_prune(clinic_id=chain.pk, before=NOW + timedelta(days=1)) == 8
    report = audit_verify(clinic_id=chain.pk)
    assert report.ok, report.problem
    assert (report.checked, report.pruned_to) == (0, 8)


@pytest.mark.parametrize(
    ("column", "value"),
    [("seq", 7), ("hash", "0" * 64), ("pruned_before", NOW), ("mac", "f" * 64)],
)
def test_a_tampered_anchor_is_detected(chain, column, value):
    audit_prune(clinic_id=chain.pk, before=CUT)
    _raw(f"UPDATE clinics_auditanchor SET {column} = %s WHERE clinic_id = %s", [value, chain.pk])  # noqa: S608
    report = audit_verify(clinic_id=chain.pk)
    assert not report.ok
    assert "pruning anchor at" in report.problem
    with pytest.raises(AuditPruneRefused):
        audit_prune(clinic_id=chain.pk, before=NOW)


def test_moving_the_anchor_forward_to_hide_deleted_events_is_detected(chain):
    """Someone deletes #6 and #7 and moves the anchor to #7 without the audit key."""
    audit_prune(clinic_id=chain.pk, before=CUT)
    with clinic_scope(chain):
        seven = AuditEvent.objects.get(seq=7)
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq IN (6, 7)", [chain.pk])
    _raw(
        "UPDATE clinics_auditanchor SET seq = 7, hash = %s WHERE clinic_id = %s",
        [seven.hash, chain.pk],
    )
    report = audit_verify(clinic_id=chain.pk)
    assert not report.ok and "pruning anchor at #7 was changed" in report.problem


def test_an_event_deleted_past_the_anchor_is_detected(chain):
    audit_prune(clinic_id=chain.pk, before=CUT)
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq = 7", [chain.pk])
    report = audit_verify(clinic_id=chain.pk)
    assert not report.ok
    assert (report.problem, report.broken_seq) == ("event #7 is missing (next present is #8)", 7)


def test_the_first_event_after_the_anchor_deleted_is_detected(chain):
    audit_prune(clinic_id=chain.pk, before=CUT)
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq = 6", [chain.pk])
    report = audit_verify(clinic_id=chain.pk)
    assert not report.ok and report.broken_seq == 6


def test_deleting_old_events_without_an_anchor_is_detected(chain):
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq <= 5", [chain.pk])
    report = audit_verify(clinic_id=chain.pk)
    assert not report.ok and report.problem == "event #1 is missing (next present is #6)"


def test_deleting_the_anchor_is_detected(chain):
    audit_prune(clinic_id=chain.pk, before=CUT)
    _raw("DELETE FROM clinics_auditanchor WHERE clinic_id = %s", [chain.pk])
    report = audit_verify(clinic_id=chain.pk)
    assert not report.ok and report.problem == "event #1 is missing (next present is #6)"


def test_pruning_refuses_to_remove_a_part_that_does_not_verify(chain):
    """An edited old event is not quietly pruned away: the purge stops and says why."""
    _raw(
        "UPDATE clinics_auditevent SET patient_id = 999 WHERE clinic_id = %s AND seq = 3",
        [chain.pk],
    )
    with pytest.raises(AuditPruneRefused, match="event #3"):
        audit_prune(clinic_id=chain.pk, before=CUT)
    assert _seqs(chain) == [1, 2, 3, 4, 5, 6, 7, 8]  # nothing went, in that batch or after
    assert not audit_verify(clinic_id=chain.pk).ok


def test_a_held_patient_keeps_their_first_event_and_everything_after(clinic, owner):
    _events(clinic, owner.user, 2, days_old=500, patient_id=1)
    _events(clinic, owner.user, 1, days_old=450, patient_id=42)
    _events(clinic, owner.user, 2, days_old=400, patient_id=1)
    assert audit_prune(clinic_id=clinic.pk, before=CUT, held_patients={42}) == 2
    assert _seqs(clinic) == [3, 4, 5]
    assert audit_verify(clinic_id=clinic.pk).ok
    assert audit_prune(clinic_id=clinic.pk, before=CUT) == 3  # the hold was lifted


def test_pruning_checks_against_published_heads(chain, settings, tmp_path):
    with clinic_scope(chain):
        assert audit_head_publish(clinic_id=chain.pk).seq == 8
    audit_prune(clinic_id=chain.pk, before=CUT)
    report = audit_verify(clinic_id=chain.pk)
    assert report.ok, report.problem
    assert report.published == 1
    # Cutting off the newest events is still caught by the published head.
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq = 8", [chain.pk])
    _raw("UPDATE clinics_auditchainhead SET last_seq = 7 WHERE clinic_id = %s", [chain.pk])
    assert not audit_verify(clinic_id=chain.pk).ok


def test_pruning_part_of_the_unkeyed_prefix_keeps_it_verifiable(clinic, owner):
    with clinic_scope(clinic):
        ids = [
            audit_record(clinic=clinic, actor=owner.user, action=Actions.PATIENT_VIEWED).pk
            for _ in range(3)
        ]
    _raw(
        "UPDATE clinics_auditevent SET created_at = %s WHERE id IN (%s, %s)",
        [NOW - timedelta(days=800), ids[0], ids[1]],
    )
    _seal_unkeyed(clinic)
    _anchor_migration()
    _events(clinic, owner.user, 2)
    assert audit_prune(clinic_id=clinic.pk, before=CUT) == 2
    report = audit_verify(clinic_id=clinic.pk)
    assert report.ok, report.problem
    assert (report.checked, report.unkeyed, report.pruned_to) == (3, 1, 2)


def test_verify_audit_chain_says_where_the_chain_starts(chain):
    audit_prune(clinic_id=chain.pk, before=CUT)
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "OK      asha: 3 events checked (from #6: older ones removed" in out.getvalue()
