"""Erasing a patient's data: the dry run, the owner's one confirmation, the scan of every table
and the object store afterwards, the audit chain, and the retention purge's full erasure."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinics.audit import audit_seal, audit_verify
from clinics.errors import Conflict, DomainError, NotAllowed
from clinics.roles import Role
from compliance.erasure.expired import patient_record_erase_expired
from compliance.erasure.models import Erasure, ErasureStatus
from compliance.erasure.services import erasure_confirm, erasure_plan
from compliance.exports.services import export_request
from compliance.models import ConsentAction, ConsentEvent
from compliance.personal_data import CLINICAL, RETENTION_CLASSES
from messaging.models import Message, Reminder, ReminderStatus
from patients.models import Patient, Visit
from tests.compliance.history import PLANTED
from tests.compliance.scan import database_hits, storage_hits

pytestmark = pytest.mark.django_db


def _plan(clinic, owner, patient):
    return erasure_plan(clinic=clinic, patient=patient, actor=owner.user, actor_membership=owner)


def _confirm(erasure, owner):
    return erasure_confirm(erasure=erasure, actor=owner.user, actor_membership=owner)


def _kept_rows(erasure) -> set[tuple[str, int]]:
    from compliance.personal_data import personal_data

    models = {k.name: k.model.lower() for k in personal_data.entries()}
    return {
        (models[kind], pk) for kind, pks in erasure.result.get("kept", {}).items() for pk in pks
    }


def test_the_dry_run_lists_what_goes_and_what_is_kept_with_basis_and_date(
    scoped, owner, recent_patient
):
    erasure = _plan(scoped, owner, recent_patient)
    plan = {e["kind"]: e for e in erasure.plan}
    assert plan["messaging.message"] == {
        "kind": "messaging.message",
        "description": "messaging.message",
        "count": 6,
        "action": "delete",
        "retention": "WhatsApp message texts",
        "basis": "",
        "erasable_on": None,
    }
    visits = plan["patients.visit"]
    assert visits["action"] == "keep" and visits["count"] == 4
    assert visits["basis"] == RETENTION_CLASSES[CLINICAL].basis
    last = timezone.localdate(
        Visit.objects.filter(patient=recent_patient).latest("created_at").created_at
    )
    assert visits["erasable_on"] == (last + timezone.timedelta(days=3650)).isoformat()
    # Nothing was erased by the dry run.
    assert Message.objects.filter(patient=recent_patient).count() == 6
    assert erasure.status == ErasureStatus.PLANNED


def test_a_minor_s_clinical_record_is_kept_until_21(scoped, owner, doctor, rights_registry):
    from datetime import date

    from tests.compliance.history import make_history, make_patient

    child = make_patient(scoped, number=903, dob=date.today().replace(year=date.today().year - 5))
    make_history(scoped, child, doctor, visits=1, messages=1, documents=0)
    plan = {e["kind"]: e for e in _plan(scoped, owner, child).plan}
    assert (
        plan["patients.visit"]["erasable_on"]
        == child.date_of_birth.replace(year=child.date_of_birth.year + 21).isoformat()
    )


def test_after_the_erasure_no_planted_value_is_left_anywhere(
    scoped, owner, doctor, history_patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # an earlier export ZIP is stored too
        export_request(
            clinic=scoped, actor=doctor.user, actor_membership=doctor, patient=history_patient
        )
    assert storage_hits([PLANTED.name])  # the documents and the export hold the name
    # The scan finds every planted value before the erasure (so its silence after means it).
    assert {hit[3] for hit in database_hits(PLANTED.values())} == set(PLANTED.values())
    erasure = _plan(scoped, owner, history_patient)
    assert not [e for e in erasure.plan if e["action"] == "keep"]  # last visit 11 years ago
    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(erasure, owner)
    assert done.status == ErasureStatus.DONE and done.result["kept"] == {}
    assert done.result["steps"] == {"messaging.whatsapp_stop": 1}
    assert database_hits(PLANTED.values()) == []
    assert storage_hits(PLANTED.values()) == []
    assert done.patient_id is None and done.patient_number == 901
    assert done.certificate.storage.exists(done.certificate.name)
    audit_seal(clinic_id=scoped.pk)
    assert audit_verify(clinic_id=scoped.pk).ok


def test_kept_records_are_the_only_place_left_with_personal_data(
    scoped, owner, recent_patient, django_capture_on_commit_callbacks
):
    erasure = _plan(scoped, owner, recent_patient)
    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(erasure, owner)
    kept = _kept_rows(done)
    assert ("patients.visit", Visit.objects.filter(patient=recent_patient).first().pk) in kept
    assert database_hits(PLANTED.values(), except_rows=kept) == []
    assert database_hits([PLANTED.message]) == []  # messages are never kept
    # The conversation stays with the kept record, anonymised rather than kept whole.
    assert not [k for k in done.result["kept"] if k == "messaging.conversation"]
    assert not Reminder.objects.filter(status=ReminderStatus.PLANNED).exists()
    # WhatsApp consent withdrawn (the ledger is kept with the clinical record).
    latest = ConsentEvent.objects.filter(patient=recent_patient).order_by("-occurred_at", "-id")
    assert latest.first().action == ConsentAction.WITHDRAWN
    audit_seal(clinic_id=scoped.pk)
    assert audit_verify(clinic_id=scoped.pk).ok


def test_a_second_confirmation_is_refused_and_changes_nothing(
    scoped, owner, recent_patient, django_capture_on_commit_callbacks
):
    erasure = _plan(scoped, owner, recent_patient)
    with django_capture_on_commit_callbacks(execute=True):
        _confirm(erasure, owner)
    before = Erasure.objects.get(pk=erasure.pk)
    with pytest.raises(Conflict, match="already carried out"):
        _confirm(erasure, owner)
    after = Erasure.objects.get(pk=erasure.pk)
    assert after.certificate.name == before.certificate.name
    assert after.confirmed_at == before.confirmed_at


def test_only_the_owner_erases_and_never_another_clinic_s_patient(
    scoped, owner, doctor, recent_patient, other_clinic, member_factory
):
    with pytest.raises(NotAllowed):
        _plan(scoped, doctor, recent_patient)
    erasure = _plan(scoped, owner, recent_patient)
    with pytest.raises(NotAllowed):
        _confirm(erasure, doctor)
    other_owner = member_factory(other_clinic, Role.OWNER)
    with pytest.raises(NotAllowed):
        erasure_plan(
            clinic=other_clinic,
            patient=recent_patient,
            actor=other_owner.user,
            actor_membership=other_owner,
        )
    assert Erasure.objects.get(pk=erasure.pk).status == ErasureStatus.PLANNED
    assert Message.objects.filter(patient=recent_patient).count() == 6


def test_a_failure_midway_leaves_nothing_half_done(scoped, owner, recent_patient, monkeypatch):
    erasure = _plan(scoped, owner, recent_patient)
    import compliance.erasure.services as services

    def broken(_erasure):
        raise RuntimeError("storage is down")

    monkeypatch.setattr(services, "_store_certificate", broken)
    with pytest.raises(RuntimeError):
        _confirm(erasure, owner)
    assert Erasure.objects.get(pk=erasure.pk).status == ErasureStatus.PLANNED
    assert Message.objects.filter(patient=recent_patient).count() == 6
    assert Reminder.objects.filter(patient=recent_patient, status=ReminderStatus.PLANNED).exists()


def test_the_retention_purge_erases_everything_including_kept_records(
    scoped, recent_patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        erased = patient_record_erase_expired(patient_id=recent_patient.pk, reason="retention")
    assert erased["patients.visit"] == 4
    assert not Patient.objects.filter(pk=recent_patient.pk).exists()
    assert database_hits(PLANTED.values()) == []
    assert storage_hits(PLANTED.values()) == []
    assert patient_record_erase_expired(patient_id=recent_patient.pk, reason="again") == {}


@pytest.fixture
def registered_patient(scoped, doctor):
    """A patient with 10 years of history (last visit 11 years ago) under the real registry."""
    from datetime import timedelta

    from tests.compliance.history import make_history, make_patient

    patient = make_patient(scoped, number=911)
    make_history(
        scoped,
        patient,
        doctor,
        visits=6,
        messages=12,
        documents=2,
        start=timezone.now() - timedelta(days=11 * 365),
    )
    return patient


def test_with_every_registered_kind_nothing_planted_is_left_outside_what_is_kept(
    scoped, owner, doctor, registered_patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export_request(
            clinic=scoped, actor=doctor.user, actor_membership=doctor, patient=registered_patient
        )
    assert {hit[3] for hit in database_hits(PLANTED.values())} == set(PLANTED.values())
    erasure = _plan(scoped, owner, registered_patient)
    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(erasure, owner)
    assert done.result["kept"] == {}  # the last visit was 11 years ago: nothing must stay
    assert not Patient.objects.filter(pk=registered_patient.pk).exists()
    assert database_hits(PLANTED.values()) == []
    assert storage_hits(PLANTED.values()) == []
    audit_seal(clinic_id=scoped.pk)
    assert audit_verify(clinic_id=scoped.pk).ok


def test_with_every_registered_kind_a_recent_record_keeps_only_what_the_plan_keeps(
    scoped, owner, doctor, django_capture_on_commit_callbacks
):
    from tests.compliance.history import make_history, make_patient

    patient = make_patient(scoped, number=912)
    make_history(scoped, patient, doctor, visits=3, messages=5, documents=1)
    erasure = _plan(scoped, owner, patient)
    keep = {e["kind"] for e in erasure.plan if e["action"] == "keep"}
    assert {"patients.visit", "patients.patient"} <= keep
    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(erasure, owner)
    assert database_hits([PLANTED.message]) == []  # message texts never stay
    assert database_hits(PLANTED.values(), except_rows=_kept_rows(done)) == []
    assert not Reminder.objects.filter(patient=patient, status=ReminderStatus.PLANNED).exists()


def test_the_dry_run_uses_the_clinic_s_longer_period(scoped, owner, recent_patient):
    from compliance.models import RetentionPolicy

    RetentionPolicy.objects.create(clinic=scoped, record_class=CLINICAL, days=15 * 365)
    plan = {e["kind"]: e for e in _plan(scoped, owner, recent_patient).plan}
    last = Visit.objects.filter(patient=recent_patient).latest("created_at").created_at
    expected = timezone.localdate(last) + timezone.timedelta(days=15 * 365)
    assert plan["patients.visit"]["erasable_on"] == expected.isoformat()


def test_a_legal_hold_stops_the_erasure_and_nothing_is_erased(scoped, owner, recent_patient):
    from compliance.models import LegalHold

    erasure = _plan(scoped, owner, recent_patient)
    LegalHold.objects.create(clinic=scoped, patient=recent_patient, reason="Court case")
    with pytest.raises(DomainError, match="legal hold"):
        _confirm(erasure, owner)
    assert Erasure.objects.get(pk=erasure.pk).status == ErasureStatus.PLANNED
    assert Message.objects.filter(patient=recent_patient).count() == 6
