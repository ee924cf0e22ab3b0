"""Each clinic's audit chain head published outside the database, and what it catches."""

from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from clinics.audit import audit_verify
from clinics.audit_heads import HEADS_PREFIX, published_heads
from clinics.models import AuditChainHead, AuditEvent
from clinics.schedules import declared_schedules
from clinics.storage import storage
from clinics.tasks import audit_publish_heads, audit_seal_pending
from clinics.tenancy import clinic_scope
from tests.ops.test_audit_ops import _events, _raw


def _objects(clinic) -> list[str]:
    _, names = storage().listdir(f"{HEADS_PREFIX}/{clinic.pk}")
    return sorted(names)


def _cut_short(clinic, keep: int) -> None:
    """Delete the newest sealed events and roll the head back to event #keep, consistently."""
    with clinic_scope(clinic):
        kept = AuditEvent.objects.get(seq=keep)
    _raw("DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq > %s", [clinic.pk, keep])
    _raw(
        "UPDATE clinics_auditchainhead SET last_seq = %s, last_hash = %s WHERE clinic_id = %s",
        [keep, kept.hash, clinic.pk],
    )


def test_publishing_writes_a_new_object_and_a_log_line_per_changed_head(
    clinic, other_clinic, owner, caplog
):
    _events(clinic, owner.user, 3)
    audit_seal_pending()
    with caplog.at_level(logging.INFO, logger="clinics.audit_heads"):
        assert audit_publish_heads() == {clinic.pk: 3}
    assert audit_publish_heads() == {}  # unchanged: nothing published again
    [name] = _objects(clinic)
    with clinic_scope(clinic):
        head = AuditChainHead.objects.get()
    assert name.startswith(f"{head.published_at:%Y%m%dT%H%M%S}Z-3-{head.last_hash}-")
    with storage().open(f"{HEADS_PREFIX}/{clinic.pk}/{name}") as fh:
        record = json.loads(fh.read())
    assert (record["clinic"], record["seq"], record["hash"]) == (clinic.pk, 3, head.last_hash)
    [line] = [r.getMessage() for r in caplog.records if "audit_head_published" in r.getMessage()]
    assert json.loads(line.split(" ", 1)[1]) == record
    # Nothing personal in the name: ids, a count, a hash.
    assert owner.user.email not in name and owner.user.full_name not in name

    _events(clinic, owner.user, 2)
    audit_seal_pending()
    assert audit_publish_heads() == {clinic.pk: 5}
    assert len(_objects(clinic)) == 2  # a new object; the first one is left as it was
    report = audit_verify(clinic_id=clinic.pk)
    assert report.ok, report.problem
    assert report.published == 2


def test_deleting_the_newest_events_and_rolling_the_head_back_is_reported(clinic, owner, caplog):
    _events(clinic, owner.user, 5)
    audit_seal_pending()
    audit_publish_heads()
    _cut_short(clinic, keep=3)
    with caplog.at_level(logging.ERROR, logger="clinics.audit_heads"):
        assert audit_publish_heads() == {clinic.pk: 3}
    assert f"head of clinic {clinic.pk} went back from #5 to #3" in caplog.text
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert "the chain ends at #3 but #5 was published" in report.problem
    out = StringIO()
    with pytest.raises(CommandError, match=r"asha: the chain ends at #3 but #5 was published") as e:
        call_command("verify_audit_chain", "--clinic", "asha", stdout=out, stderr=StringIO())
    assert e.value.returncode == 1
    assert "BROKEN  asha: the chain ends at #3" in out.getvalue()


def test_cutting_short_then_sealing_new_events_is_still_reported(clinic, owner):
    _events(clinic, owner.user, 5)
    audit_seal_pending()
    audit_publish_heads()
    _cut_short(clinic, keep=3)
    _events(clinic, owner.user, 2)  # the chain grows back to 5 events, different ones
    audit_seal_pending()
    audit_publish_heads()
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok and report.broken_seq == 5
    assert "event #5 is not the one published" in report.problem


def test_a_chain_rewritten_by_someone_holding_the_key_differs_from_the_published_head(
    clinic, owner
):
    _events(clinic, owner.user, 4)
    audit_seal_pending()
    audit_publish_heads()
    # Whoever rewrites with the key still cannot change what was published.
    _cut_short(clinic, keep=1)
    _events(clinic, owner.user, 3)
    audit_seal_pending()
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok and report.broken_seq == 4
    assert "is not the one published" in report.problem


def test_an_object_that_is_not_a_publication_is_reported(clinic, owner):
    _events(clinic, owner.user, 1)
    audit_seal_pending()
    audit_publish_heads()
    storage().save(f"{HEADS_PREFIX}/{clinic.pk}/notes.txt", ContentFile(b"x"))
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert "unexpected objects among the published heads: notes.txt" in report.problem


def test_publications_are_per_clinic(clinic, other_clinic, owner):
    _events(clinic, owner.user, 2)
    _events(other_clinic, None, 1)
    audit_seal_pending()
    assert audit_publish_heads() == {clinic.pk: 2, other_clinic.pk: 1}
    assert [h.seq for h in published_heads(clinic_id=clinic.pk)[0]] == [2]
    assert [h.seq for h in published_heads(clinic_id=other_clinic.pk)[0]] == [1]


def test_the_publishing_schedule_is_declared(settings):
    settings.AUDIT_PUBLISH_INTERVAL_MINUTES = 30
    specs = {s["name"]: s for s in declared_schedules()}
    assert specs["vaidya.audit_publish_heads"]["func"] == "clinics.tasks.audit_publish_heads"
    assert specs["vaidya.audit_publish_heads"]["minutes"] == 30


class _UnreachableStore(FileSystemStorage):
    def listdir(self, path):
        raise ConnectionError("the bucket does not answer")


def test_a_store_that_cannot_be_read_is_reported_not_passed(clinic, owner, settings):
    _events(clinic, owner.user, 2)
    audit_seal_pending()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}._UnreachableStore"},
    }
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert "published heads cannot be read (ConnectionError)" in report.problem


def test_verify_refuses_an_unusable_audit_key_with_a_clear_message(clinic, settings):
    settings.AUDIT_KEYS = ["too-short"]
    with pytest.raises(CommandError, match="shorter than 32 characters") as exc:
        call_command("verify_audit_chain", stdout=StringIO(), stderr=StringIO())
    assert exc.value.returncode == 2
