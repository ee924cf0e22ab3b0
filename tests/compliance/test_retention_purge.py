"""The retention purge keeps what holds and rules keep, erases the rest, and does nothing more
when it runs again; the clinical record goes only 48 hours after the patient was told."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from clinics.audit import Actions, audit_verify
from clinics.models import AuditEvent
from clinics.roles import Role
from compliance.models import ErasureNotice, LegalHold, PurgeRun, VerificationCode
from compliance.purge import ErasureNoticeSender, erasure_notice_senders, purge_clinic, purge_run
from compliance.retention import legal_hold_lift, legal_hold_set, retention_policy_set
from messaging.models import Message, WebhookDelivery
from patients.models import Patient, Visit
from tests.factories import PatientFactory
from tests.messaging.test_inbox import inbound, make_account, make_conversation

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _message(conversation, *, days_old, body="my sugar is 300", **fields):
    message = inbound(conversation, body=body, **fields)
    Message.objects.filter(pk=message.pk).update(created_at=NOW - timedelta(days=days_old))
    return message


@pytest.fixture
def world(scoped, member_factory):
    doctor = member_factory(scoped, Role.DOCTOR)
    account = make_account(scoped)
    patient = PatientFactory(clinic=scoped, full_name="Meera Iyer")
    conversation = make_conversation(account, patient=patient, wa_id="919800011111")
    return {"clinic": scoped, "doctor": doctor, "account": account, "patient": patient,
            "conversation": conversation}  # fmt: skip


def _body(message_id):
    return Message.objects.values_list("body", flat=True).get(pk=message_id)


def test_old_message_texts_go_and_recent_ones_stay_and_a_second_run_changes_nothing(world):
    old = _message(world["conversation"], days_old=91)
    recent = _message(world["conversation"], days_old=89)
    counts = purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert counts["kinds"]["messaging.message"] == 1
    assert counts["classes"]["message_body"] >= 1
    assert _body(old.pk) == "" and _body(recent.pk) == "my sugar is 300"
    old_row = Message.objects.get(pk=old.pk)
    assert (old_row.direction, old_row.status, old_row.conversation_id) == (
        "in", "received", world["conversation"].pk,
    )  # fmt: skip
    again = purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert sum(again["classes"].values()) == 0


def test_a_legal_hold_on_the_conversation_or_the_patient_stops_the_purge(world, owner):
    old = _message(world["conversation"], days_old=200)
    hold = legal_hold_set(
        clinic_id=world["clinic"].pk,
        actor=owner.user,
        reason="Consumer court case 12/2026",
        conversation_id=world["conversation"].pk,
    )
    purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert _body(old.pk) == "my sugar is 300"
    legal_hold_lift(hold_id=hold.pk, actor=owner.user, reason="Case closed")
    patient_hold = legal_hold_set(
        clinic_id=world["clinic"].pk, actor=owner.user, reason="MLC", patient_id=world["patient"].pk
    )
    purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert _body(old.pk) == "my sugar is 300"
    legal_hold_lift(hold_id=patient_hold.pk, actor=owner.user, reason="Case closed")
    purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert _body(old.pk) == ""
    actions = list(
        AuditEvent.objects.filter(action__startswith="compliance.legal_hold").values_list(
            "action", flat=True
        )
    )
    assert actions.count(Actions.LEGAL_HOLD_LIFTED) == 2


def test_a_longer_period_set_by_the_owner_keeps_texts_longer(world, owner):
    old = _message(world["conversation"], days_old=120)
    retention_policy_set(
        clinic_id=world["clinic"].pk, record_class="message_body", days=180, actor=owner.user
    )
    purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert _body(old.pk) == "my sugar is 300"


def test_media_files_raw_deliveries_and_codes_go_on_their_own_periods(world, settings):
    message = _message(world["conversation"], days_old=31, body="")
    message.media_file.save("whatsapp_media/voice.ogg", ContentFile(b"voice"), save=True)
    Message.objects.filter(pk=message.pk).update(created_at=NOW - timedelta(days=31))
    storage, name = message.media_file.storage, message.media_file.name
    delivery = WebhookDelivery.objects.create(
        clinic=world["clinic"],
        account=world["account"],
        body=json.dumps({"from": "919800011111"}).encode(),
        received_at=NOW - timedelta(days=31),
    )
    fresh = WebhookDelivery.objects.create(
        clinic=world["clinic"], account=world["account"], body=b"{}", received_at=NOW
    )
    VerificationCode.objects.create(
        clinic=world["clinic"], patient=world["patient"], subject="document:1", digest="x",
        created_at=NOW - timedelta(days=2), expires_at=NOW - timedelta(days=2),
    )  # fmt: skip
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert not storage.exists(name)
    assert Message.objects.get(pk=message.pk).media_file.name == ""
    assert list(WebhookDelivery.objects.all()) == [fresh]
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert not VerificationCode.objects.exists()


def _visit(world, patient, *, days_ago):
    visit = Visit.objects.create(
        clinic=world["clinic"], patient=patient, doctor=world["doctor"], chief_complaints="cough"
    )
    Visit.objects.filter(pk=visit.pk).update(created_at=NOW - timedelta(days=days_ago))
    return visit


def _register(patient, *, days_ago):
    Patient.objects.filter(pk=patient.pk).update(created_at=NOW - timedelta(days=days_ago))


def test_a_record_past_its_period_is_noticed_then_erased_after_48_hours(world):
    sent = []
    erasure_notice_senders.register(
        ErasureNoticeSender("t.notice", 1, lambda *, patient: sent.append(patient.pk) or "t")
    )
    try:
        gone = PatientFactory(clinic=world["clinic"], full_name="Old Patient")
        _register(gone, days_ago=4000)
        _visit(world, gone, days_ago=3700)
        recent = PatientFactory(clinic=world["clinic"])
        _register(recent, days_ago=4000)
        _visit(world, recent, days_ago=100)
        minor = PatientFactory(
            clinic=world["clinic"], date_of_birth=date.today() - timedelta(days=365 * 15)
        )
        _register(minor, days_ago=4000)
        held = PatientFactory(clinic=world["clinic"])
        _register(held, days_ago=4000)
        legal_hold_set(clinic_id=world["clinic"].pk, actor=None, reason="MLC", patient_id=held.pk)
        _register(world["patient"], days_ago=10)

        first = purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
        assert first["records"]["noticed"] == 1 and sent == [gone.pk]
        assert ErasureNotice.objects.get().channel == "t"
        assert Patient.objects.filter(pk=gone.pk).exists()

        soon = purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=47))
        assert soon["records"]["erased"] == 0 and sent == [gone.pk]

        later = purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=49))
        assert later["records"]["erased"] == 1
        assert not Patient.objects.filter(pk=gone.pk).exists()
        assert not Visit.objects.filter(patient_id=gone.pk).exists()
        assert set(Patient.objects.values_list("pk", flat=True)) == {
            recent.pk, minor.pk, held.pk, world["patient"].pk,
        }  # fmt: skip
        assert AuditEvent.objects.filter(
            action=Actions.PATIENT_RECORD_ERASED_EXPIRED, patient_id=gone.pk
        ).exists()
        again = purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=50))
        assert again["records"]["erased"] == 0 and again["records"]["noticed"] == 0
        assert audit_verify(clinic_id=world["clinic"].pk).ok
    finally:
        erasure_notice_senders.unregister("t.notice")


def test_a_patient_who_comes_back_after_the_notice_is_kept(world):
    patient = PatientFactory(clinic=world["clinic"])
    _register(patient, days_ago=4000)
    _register(world["patient"], days_ago=10)
    purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert ErasureNotice.objects.filter(patient=patient).exists()
    _visit(world, patient, days_ago=0)
    purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=49))
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert not ErasureNotice.objects.filter(patient=patient).exists()


def test_a_logged_run_records_its_counts_and_is_not_run_twice(world):
    _message(world["conversation"], days_old=100)
    run = PurgeRun.objects.create(clinic=world["clinic"])
    purge_run(run=run, now=NOW)
    run.refresh_from_db()
    assert run.finished_at and run.counts["kinds"]["messaging.message"] == 1
    finished_at = run.finished_at
    purge_run(run=run, now=NOW)
    run.refresh_from_db()
    assert run.finished_at == finished_at
    assert AuditEvent.objects.filter(action=Actions.RETENTION_PURGED).count() == 1


def test_the_report_says_what_would_go_and_changes_nothing(world, capsys):
    old = _message(world["conversation"], days_old=91)
    call_command("retention_report")
    out = capsys.readouterr().out
    assert "asha:" in out and "WhatsApp message texts" in out
    assert "messaging.message " in out
    assert _body(old.pk) == "my sugar is 300"
    assert not PurgeRun.objects.exists()


def test_the_daily_schedule_logs_a_run_per_clinic_and_queues_it(world, settings):
    from django.test import TestCase

    from compliance.tasks import retention_purge_all

    _message(world["conversation"], days_old=91)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    with TestCase.captureOnCommitCallbacks(execute=True):
        retention_purge_all()
    run = PurgeRun.objects.get(clinic=world["clinic"])
    assert run.finished_at is not None
    assert run.counts["kinds"]["messaging.message"] == 1


def test_a_hold_needs_a_reason_and_one_thing_to_hold(world):
    from clinics.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        legal_hold_set(clinic_id=world["clinic"].pk, actor=None, reason=" ", patient_id=1)
    with pytest.raises(ValidationFailed):
        legal_hold_set(clinic_id=world["clinic"].pk, actor=None, reason="x")
    assert not LegalHold.objects.exists()


def test_batches_shrink_when_a_transaction_runs_long_and_still_erase_everything(world, monkeypatch):
    from compliance import purge
    from compliance.personal_data import personal_data

    monkeypatch.setattr(purge, "BATCH_SECONDS", 0.0)  # every batch counts as slow
    monkeypatch.setattr(purge, "MIN_BATCH", 1)
    for _ in range(5):
        _message(world["conversation"], days_old=100)
    kind = next(k for k in personal_data.entries() if k.name == "messaging.message")
    rows = purge.expired_rows(kind, days=90, now=NOW, held_patients=set(), held_conversations=set())
    assert purge.erase_in_batches(kind, rows, batch_size=4) == 5
    assert not Message.objects.exclude(body="").exists()


def _biller(world):
    from tests.factories import MembershipFactory

    if "biller" not in world:
        world["biller"] = MembershipFactory(clinic=world["clinic"], role=Role.BILLING)
    return world["biller"]


def _bill(world, patient, *, days_ago):
    from billing.models import CatalogueItem, GstTreatment, ItemKind
    from billing.services import LineDraft, bill_draft_create, bill_issue

    biller = _biller(world)
    item = CatalogueItem.objects.create(
        clinic=world["clinic"], kind=ItemKind.PROCEDURE, name="Dressing", price_paise=20000,
        gst_treatment=GstTreatment.EXEMPT, code="999311",
    )  # fmt: skip
    bill = bill_draft_create(patient=patient, actor=biller.user, lines=[LineDraft(item_id=item.pk)])
    bill = bill_issue(bill=bill, actor=biller.user)
    _bill_dated(bill, days_ago=days_ago)
    return bill


def _bill_dated(bill, *, days_ago):
    """Move an issued bill back in time (its own queryset refuses any change once issued)."""
    from django.db.models import QuerySet

    QuerySet.update(
        type(bill).objects.filter(pk=bill.pk), created_at=NOW - timedelta(days=days_ago)
    )


def _credit_note(world, bill, *, days_ago):
    from billing.services import CreditDraft, credit_note_issue

    line = bill.lines.get()
    note = credit_note_issue(
        bill=bill, lines=[CreditDraft(line_id=line.pk, amount_paise=5000)], reason="overcharged",
        actor=_biller(world).user,
    )  # fmt: skip
    _bill_dated(note, days_ago=days_ago)
    return note


def _paid(payment, *, days_ago):
    type(payment).objects.filter(pk=payment.pk).update(received_at=NOW - timedelta(days=days_ago))
    return payment


def test_a_record_a_recent_bill_still_keeps_waits_until_the_bill_may_go(world):
    # The clinical record ran out (last visit over 10 years ago), but a bill from 100 days ago
    # is kept 8 years under tax law: the whole record stays until then, no notice either.
    patient = PatientFactory(clinic=world["clinic"], full_name="Ramesh Kulkarni")
    _register(patient, days_ago=4000)
    _visit(world, patient, days_ago=3700)
    bill = _bill(world, patient, days_ago=100)
    _register(world["patient"], days_ago=10)

    first = purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert first["records"] == {"noticed": 0, "erased": 0, "blocked": 0, "kept": 1, "due": 0}
    assert not ErasureNotice.objects.exists()
    later = purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=49))
    assert later["records"]["erased"] == 0
    assert type(bill).objects.filter(pk=bill.pk).exists()

    _bill_dated(bill, days_ago=9 * 366)
    assert purge_clinic(clinic_id=world["clinic"].pk, now=NOW)["records"]["noticed"] == 1
    gone = purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=49))
    assert gone["records"]["erased"] == 1
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert not type(bill).objects.filter(pk=bill.pk).exists()


def test_a_guardian_whose_record_runs_out_stays_in_the_child_s_record_as_a_contact(world):
    from patients.models import Guardian

    mother = PatientFactory(clinic=world["clinic"], full_name="Sunita Deshpande")
    _register(mother, days_ago=4000)
    _visit(world, mother, days_ago=3700)
    child = PatientFactory(
        clinic=world["clinic"], date_of_birth=date.today() - timedelta(days=365 * 6)
    )
    link = Guardian.objects.create(
        clinic=world["clinic"], patient=child, guardian_patient=mother, relation="mother"
    )
    _register(world["patient"], days_ago=10)

    purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    erased = purge_clinic(clinic_id=world["clinic"].pk, now=NOW + timedelta(hours=49))
    assert erased["records"] == {"noticed": 0, "erased": 1, "blocked": 0, "kept": 0, "due": 1}
    assert not Patient.objects.filter(pk=mother.pk).exists()
    link.refresh_from_db()
    assert link.guardian_patient_id is None
    assert (link.name, link.phone, link.relation) == ("Sunita Deshpande", mother.phone, "mother")
    assert link.display_name == "Sunita Deshpande" and link.contact_phone == mother.phone
    event = AuditEvent.objects.get(action=Actions.PATIENT_RECORD_ERASED_EXPIRED)
    assert event.data["guardian_of"] == [child.pk]
    assert audit_verify(clinic_id=world["clinic"].pk).ok


def test_bills_past_their_period_go_with_their_lines_credit_notes_and_payments(world):
    from billing.models import Bill, BillLine, Payment
    from billing.services import advance_record, bill_payment_record

    patient = world["patient"]
    _visit(world, patient, days_ago=30)  # the clinical record is current
    old = _bill(world, patient, days_ago=9 * 366)
    _paid(bill_payment_record(bill=old, amount_paise=10000, mode="cash",
                              actor=_biller(world).user), days_ago=9 * 366)  # fmt: skip
    old_note = _credit_note(world, old, days_ago=9 * 366)
    credited = _bill(world, patient, days_ago=9 * 366)
    recent_note = _credit_note(world, credited, days_ago=2 * 365)  # keeps the bill it credits
    recent = _bill(world, patient, days_ago=100)
    advance = _paid(
        advance_record(patient=patient, amount_paise=50000, mode="upi", actor=_biller(world).user),
        days_ago=9 * 366,
    )

    run = purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert run["kinds"]["billing.bill"] == 2  # the old bill and its credit note
    assert set(Bill.objects.values_list("pk", flat=True)) == {
        credited.pk,
        recent_note.pk,
        recent.pk,
    }
    assert not BillLine.objects.filter(bill_id__in=[old.pk, old_note.pk]).exists()
    assert not Payment.objects.filter(pk=advance.pk).exists()
    assert not Payment.objects.filter(bill_id=old.pk).exists()
    assert BillLine.objects.filter(bill=credited).exists()

    again = purge_clinic(clinic_id=world["clinic"].pk, now=NOW)
    assert again["kinds"]["billing.bill"] == 0 and again["kinds"]["billing.payment"] == 0
    assert Bill.objects.count() == 3
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert audit_verify(clinic_id=world["clinic"].pk).ok
