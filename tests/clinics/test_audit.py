import pytest
from django.db import connection

from clinics.audit import Actions, audit_record, audit_seal, audit_verify
from clinics.context import actor_context
from clinics.models import AuditEvent, AuditImmutableError
from clinics.tenancy import clinic_scope


def _events(clinic, actor, n):
    with clinic_scope(clinic):
        for i in range(n):
            audit_record(
                clinic=clinic, actor=actor, action=Actions.PATIENT_VIEWED, patient_id=i + 1
            )


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_record_who_and_from_where(clinic, owner):
    with actor_context(ip="10.1.2.3", user_agent="Firefox", via="web"), clinic_scope(clinic):
        event = audit_record(
            clinic=clinic,
            actor=owner.user,
            action=Actions.CLINIC_UPDATED,
            target=clinic,
            data={"fields": ["name"]},
        )
    assert (event.ip, event.user_agent, event.via) == ("10.1.2.3", "Firefox", "web")
    assert event.actor_label == owner.user.full_name
    assert event.target_type == "clinics.clinic" and event.target_id == str(clinic.pk)
    assert event.hash == "" and event.seq is None  # sealed later, off the request path


def test_sealing_chains_events_and_verification_passes(clinic, owner):
    _events(clinic, owner.user, 5)
    assert audit_seal(clinic_id=clinic.pk) == 5
    assert audit_seal(clinic_id=clinic.pk) == 0  # idempotent
    _events(clinic, owner.user, 2)
    assert audit_seal(clinic_id=clinic.pk, batch_size=1) == 2
    report = audit_verify(clinic_id=clinic.pk)
    assert report.ok, report.problem
    assert (report.checked, report.unsealed) == (7, 0)
    with clinic_scope(clinic):
        seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5, 6, 7]


def test_chains_are_per_clinic(clinic, other_clinic, owner):
    _events(clinic, owner.user, 3)
    _events(other_clinic, None, 2)
    audit_seal(clinic_id=clinic.pk)
    audit_seal(clinic_id=other_clinic.pk)
    assert audit_verify(clinic_id=clinic.pk).checked == 3
    assert audit_verify(clinic_id=other_clinic.pk).checked == 2


def test_edited_event_is_detected(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal(clinic_id=clinic.pk)
    _raw(
        "UPDATE clinics_auditevent SET patient_id = 999 WHERE clinic_id = %s AND seq = 3",
        [clinic.pk],
    )
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert report.broken_seq == 3
    assert "changed" in report.problem


def test_deleted_event_is_detected(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal(clinic_id=clinic.pk)
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq = 2", [clinic.pk])
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok and report.broken_seq == 2
    assert "missing" in report.problem


def test_deleting_the_newest_events_is_detected(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal(clinic_id=clinic.pk)
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq = 4", [clinic.pk])
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok and report.broken_seq == 4


def test_orm_cannot_change_or_delete_events(clinic, owner):
    _events(clinic, owner.user, 1)
    with clinic_scope(clinic):
        event = AuditEvent.objects.get()
        event.action = "something.else"
        with pytest.raises(AuditImmutableError):
            event.save()
        with pytest.raises(AuditImmutableError):
            event.delete()
        with pytest.raises(AuditImmutableError):
            AuditEvent.objects.all().delete()
        with pytest.raises(AuditImmutableError):
            AuditEvent.objects.update(action="x")
        audit_seal(clinic_id=clinic.pk)
        # Sealed rows cannot even be re-sealed through the ORM.
        assert AuditEvent.objects.update(hash="0" * 64) == 0


def test_action_names_are_dotted_and_unique():
    names = Actions.all()
    assert len(names) == len(set(names))
    assert all(n.count(".") == 2 for n in names)
