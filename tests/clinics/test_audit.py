import hashlib
import importlib
import json
from datetime import UTC
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from clinics import audit_keys
from clinics.audit import Actions, audit_record, audit_seal, audit_verify
from clinics.audit import _material as audit_material
from clinics.context import actor_context
from clinics.models import AuditChainHead, AuditEvent, AuditImmutableError
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


# --- the keyed chain --------------------------------------------------------------------------

OTHER_KEY = "an-attackers-own-key-that-is-long-enough-0123456789"


def _plain_sha256(row: dict, prev_hash: str) -> str:
    """A link computed the way an unkeyed SHA-256 chain computes it (no secret needed)."""
    material = {
        "seq": row["seq"],
        "prev": prev_hash,
        "clinic": row["clinic_id"],
        "created_at": row["created_at"].astimezone(UTC).isoformat(),
        "actor": row["actor_id"],
        "api_key": row["api_key_id"],
        "actor_label": row["actor_label"],
        "via": row["via"],
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "patient_id": row["patient_id"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "data": row["data"],
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _rewrite_chain(clinic, link, *, extra: dict | None = None) -> None:
    """What someone who can write the database does: change event #2, then recompute every
    link after it with `link(row, prev_hash)` and move the head to match."""
    _raw(
        "UPDATE clinics_auditevent SET patient_id = 999 WHERE clinic_id = %s AND seq = 2",
        [clinic.pk],
    )
    with clinic_scope(clinic):
        rows = list(AuditEvent.objects.order_by("seq").values())
    prev = ""
    for row in rows:
        row = {**row, **(extra or {})}
        digest = link(row, prev)
        _raw(
            "UPDATE clinics_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, digest, row["id"]],
        )
        if extra:  # only the key id is ever overwritten
            _raw(
                "UPDATE clinics_auditevent SET key_id = %s WHERE id = %s",
                [row["key_id"], row["id"]],
            )
        prev = digest
    _raw("UPDATE clinics_auditchainhead SET last_hash = %s WHERE clinic_id = %s", [prev, clinic.pk])


def _rewrite_as_unkeyed(clinic) -> None:
    """Re-hash every event as unkeyed SHA-256 (no key needed), and stretch the head's anchored
    unkeyed length to cover them all."""
    _rewrite_chain(clinic, _plain_sha256, extra={"key_id": ""})
    _raw(
        "UPDATE clinics_auditchainhead SET legacy_seq = last_seq WHERE clinic_id = %s",
        [clinic.pk],
    )


def test_a_chain_rehashed_with_plain_sha256_fails_verification(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal(clinic_id=clinic.pk)
    _rewrite_chain(clinic, _plain_sha256)
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert report.broken_seq == 1, report.problem


def test_a_chain_rehashed_as_unkeyed_events_fails_verification(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal(clinic_id=clinic.pk)
    _rewrite_as_unkeyed(clinic)
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert "do not match the anchor" in report.problem


def test_a_chain_rehashed_with_another_key_fails_verification(clinic, owner):
    _events(clinic, owner.user, 4)
    audit_seal(clinic_id=clinic.pk)
    with clinic_scope(clinic):
        key_id = AuditEvent.objects.values_list("key_id", flat=True).first()
    # Another key, labelled with the configured key's id: the links do not match.
    _rewrite_chain(
        clinic,
        lambda row, prev: audit_keys.mac(
            OTHER_KEY.encode(),
            {**_material_of(row, prev), "key": key_id},
        ),
    )
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok and report.broken_seq == 1
    assert "was changed after it was sealed" in report.problem


def _material_of(row: dict, prev: str) -> dict:
    with clinic_scope(row["clinic_id"]):
        event = AuditEvent.objects.get(pk=row["id"])
    event.seq = row["seq"]
    return audit_material(event, prev)


def test_events_sealed_with_a_key_that_is_not_configured_are_reported(clinic, owner, settings):
    settings.AUDIT_KEYS = [OTHER_KEY]
    _events(clinic, owner.user, 2)
    audit_seal(clinic_id=clinic.pk)
    settings.AUDIT_KEYS = ["the-installations-real-key-0123456789abcdef"]
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok and report.broken_seq == 1
    assert "not in AUDIT_KEYS" in report.problem
    assert OTHER_KEY not in report.problem


def test_key_rotation_keeps_older_events_verifiable(clinic, owner, settings):
    old, new = "old-key-" + "a" * 40, "new-key-" + "b" * 40
    settings.AUDIT_KEYS = [old]
    _events(clinic, owner.user, 2)
    audit_seal(clinic_id=clinic.pk)
    settings.AUDIT_KEYS = [new, old]
    _events(clinic, owner.user, 2)
    audit_seal(clinic_id=clinic.pk)
    with clinic_scope(clinic):
        key_ids = list(AuditEvent.objects.order_by("seq").values_list("key_id", flat=True))
    assert key_ids[0] == key_ids[1] != key_ids[2] == key_ids[3]
    assert audit_verify(clinic_id=clinic.pk).ok
    settings.AUDIT_KEYS = [new]  # dropping a key that sealed events leaves them unverifiable
    assert audit_verify(clinic_id=clinic.pk).broken_seq == 1


def test_a_too_short_audit_key_is_refused(settings):
    settings.AUDIT_KEYS = ["short"]
    with pytest.raises(ImproperlyConfigured, match="generate_audit_key"):
        audit_keys.current_key()


# --- events sealed with plain SHA-256 before keyed sealing ------------------------------------


def _seal_unkeyed(clinic) -> None:
    """Seal pending events the way Vaidya did before keyed sealing (plain SHA-256)."""
    with clinic_scope(clinic):
        rows = list(AuditEvent.objects.filter(hash="").order_by("created_at", "id").values())
    prev = ""
    for seq, row in enumerate(rows, start=1):
        digest = _plain_sha256({**row, "seq": seq}, prev)
        _raw(
            "UPDATE clinics_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [seq, prev, digest, row["id"]],
        )
        prev = digest
    _raw(
        "INSERT INTO clinics_auditchainhead (clinic_id, last_seq, last_hash, legacy_seq, "
        "legacy_key_id, legacy_mac, published_seq) VALUES (%s, %s, %s, 0, '', '', 0)",
        [clinic.pk, len(rows), prev],
    )


def _anchor_migration():
    module = importlib.import_module("clinics.migrations.0008_audit_keyed_chain")
    state = MigrationLoader(connection).project_state(("clinics", "0008_audit_keyed_chain"))
    module.anchor_unkeyed_chains(state.apps, None)


def test_unkeyed_events_from_before_keyed_sealing_still_verify(clinic, owner):
    _events(clinic, owner.user, 3)
    _seal_unkeyed(clinic)
    assert not audit_verify(clinic_id=clinic.pk).ok  # not anchored yet
    _anchor_migration()
    _events(clinic, owner.user, 2)
    audit_seal(clinic_id=clinic.pk)
    report = audit_verify(clinic_id=clinic.pk)
    assert report.ok, report.problem
    assert (report.checked, report.unkeyed) == (5, 3)


def test_the_unkeyed_prefix_cannot_be_edited_or_extended(clinic, owner):
    _events(clinic, owner.user, 3)
    _seal_unkeyed(clinic)
    _anchor_migration()
    _events(clinic, owner.user, 2)
    audit_seal(clinic_id=clinic.pk)
    _rewrite_as_unkeyed(clinic)
    report = audit_verify(clinic_id=clinic.pk)
    assert not report.ok
    assert "do not match the anchor" in report.problem


# --- verification only reads ------------------------------------------------------------------


def _snapshot(clinic) -> tuple[list, list]:
    with clinic_scope(clinic):
        events = list(AuditEvent.objects.order_by("id").values())
        heads = list(AuditChainHead.objects.values())
    return events, heads


def test_an_event_edited_before_sealing_is_reported_unsealed_not_verified(clinic, owner):
    _events(clinic, owner.user, 3)
    audit_seal(clinic_id=clinic.pk)
    _events(clinic, owner.user, 1)
    _raw(
        "UPDATE clinics_auditevent SET patient_id = 999 WHERE clinic_id = %s AND hash = ''",
        [clinic.pk],
    )
    before = _snapshot(clinic)
    report = audit_verify(clinic_id=clinic.pk)
    assert report.ok
    assert (report.checked, report.unsealed) == (3, 1)
    assert report.oldest_unsealed_at is not None
    assert _snapshot(clinic) == before  # nothing sealed, nothing changed


def test_generate_audit_key_prints_a_key_that_seals(settings):
    out = StringIO()
    call_command("generate_audit_key", stdout=out)
    settings.AUDIT_KEYS = [out.getvalue().strip()]
    key_id, key = audit_keys.current_key()
    assert len(key) >= audit_keys.MIN_KEY_LENGTH and len(key_id) == audit_keys.KEY_ID_LENGTH


@pytest.mark.parametrize(
    ("action", "label"),
    [
        ("patients.patient.viewed", "Patient viewed"),
        ("billing.bill.pdf_stored", "Bill PDF stored"),
        ("messaging.whatsapp_account.connected", "WhatsApp account connected"),
        ("billing.upi.received", "UPI received"),
    ],
)
def test_the_trail_names_actions_the_way_people_write_them(action, label):
    from clinics.forms import action_label

    assert action_label(action) == label
