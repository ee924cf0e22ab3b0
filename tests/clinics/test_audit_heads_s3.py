"""Chain heads published to S3-compatible storage (R2 in production), against a real server."""

from __future__ import annotations

import json

from django.db import connection

from clinics.audit import Actions, audit_record, audit_verify
from clinics.models import AuditEvent
from clinics.tasks import audit_publish_heads, audit_seal_pending
from clinics.tenancy import clinic_scope
from tests.clinics import test_storage_s3

s3_server = test_storage_s3.s3_server
bucket = test_storage_s3.bucket


def test_heads_are_published_to_the_bucket_and_catch_a_chain_cut_short(bucket, clinic, owner):
    with clinic_scope(clinic):
        for _ in range(4):
            audit_record(clinic=clinic, actor=owner.user, action=Actions.PATIENT_VIEWED)
    audit_seal_pending()
    assert audit_publish_heads() == {clinic.pk: 4}
    assert audit_publish_heads() == {}
    [key] = bucket.keys(f"audit-heads/{clinic.pk}/")
    record = json.loads(bucket.get(key)["Body"])
    assert (record["clinic"], record["seq"]) == (clinic.pk, 4)
    assert audit_verify(clinic_id=clinic.pk).ok

    with clinic_scope(clinic):
        kept = AuditEvent.objects.get(seq=2)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM clinics_auditevent WHERE clinic_id = %s AND seq > 2", [clinic.pk]
        )
        cursor.execute(
            "UPDATE clinics_auditchainhead SET last_seq = 2, last_hash = %s WHERE clinic_id = %s",
            [kept.hash, clinic.pk],
        )
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert "the chain ends at #2 but #4 was published" in report.problem
