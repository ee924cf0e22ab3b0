"""The access and portability export: a ZIP with a PDF summary, JSON of every registered kind
and a FHIR R4 Bundle, built by an idempotent task and handed out by a short-lived link."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from clinics.errors import NotAllowed
from clinics.roles import Role
from compliance.exports.models import DataExport, ExportStatus
from compliance.exports.services import (
    ExportLinkExpired,
    ExportLinkInvalid,
    export_build,
    export_for_link,
    export_link,
    export_request,
    exports_expire,
)
from compliance.personal_data import PATIENT, kind_rows, kinds_about
from tests.compliance.history import PLANTED

pytestmark = pytest.mark.django_db


def _request(clinic, membership, patient):
    return export_request(
        clinic=clinic, actor=membership.user, actor_membership=membership, patient=patient
    )


def _zip(export) -> zipfile.ZipFile:
    with export.file.storage.open(export.file.name, "rb") as fh:
        return zipfile.ZipFile(io.BytesIO(fh.read()))


@pytest.fixture
def ready_export(scoped, doctor, recent_patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = _request(scoped, doctor, recent_patient)
    export.refresh_from_db()
    return export


def test_the_export_holds_a_summary_json_of_every_kind_and_a_valid_fhir_bundle(
    ready_export, recent_patient
):
    assert ready_export.status == ExportStatus.READY
    zf = _zip(ready_export)
    names = zf.namelist()
    assert names[:3] == ["summary.pdf", "data.json", "fhir-bundle.json"]
    assert zf.read("summary.pdf").startswith(b"%PDF")
    assert [n for n in names if n.startswith("documents/")] == [
        f"documents/{d}.pdf" for d in recent_patient.documents.values_list("pk", flat=True)
    ]
    # JSON: every registered kind the patient has, and counts that round-trip.
    data = json.loads(zf.read("data.json"))
    for kind in kinds_about(PATIENT):
        expected = kind_rows(kind, recent_patient.pk).count()
        part = data["kinds"][kind.name]
        assert part["count"] == len(part["rows"]) == expected, kind.name
        assert ready_export.counts[kind.name] == expected
    assert data["kinds"]["messaging.message"]["count"] == 6
    assert data["kinds"]["patients.patient"]["rows"][0]["full_name"] == PLANTED.name
    # FHIR: validated by fhir.resources (R4B is R4-compatible), Patient first.
    bundle = Bundle.model_validate(json.loads(zf.read("fhir-bundle.json")))
    types = [e.resource.get_resource_type() for e in bundle.entry]
    assert types[0] == "Patient"
    for wanted in (
        "RelatedPerson",
        "Encounter",
        "Condition",
        "Observation",
        "Procedure",
        "MedicationRequest",
        "DocumentReference",
        "Consent",
        "Communication",
    ):
        assert wanted in types, wanted
    assert types.count("Encounter") == 4
    assert types.count("Communication") == 6
    condition = next(
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "Condition"
    )
    assert condition.code.coding[0].system == "http://hl7.org/fhir/sid/icd-10"
    assert condition.code.coding[0].code == "B34.9"
    loinc = {
        c.code
        for e in bundle.entry
        if e.resource.get_resource_type() == "Observation"
        for c in e.resource.code.coding
    }
    assert {"8480-6", "8462-4", "8867-4", "8310-5", "29463-7"} <= loinc
    med = next(
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "MedicationRequest"
    )
    assert "1-0-1" in med.dosageInstruction[0].text
    references = {e.fullUrl for e in bundle.entry}
    assert condition.encounter.reference in references
    assert condition.subject.reference == bundle.entry[0].fullUrl


def test_the_storage_key_carries_no_personal_data(ready_export):
    key = ready_export.file.name
    assert key.startswith(f"clinics/{ready_export.clinic_id}/exports/") and key.endswith(".zip")
    assert PLANTED.name.split()[0].lower() not in key.lower()


def test_building_twice_builds_once(ready_export):
    first = ready_export.file.name
    again = export_build(export_id=ready_export.pk)
    assert again.file.name == first and again.attempts == 1


def test_a_claimed_export_is_not_built_by_a_second_worker(scoped, doctor, recent_patient):
    export = _request(scoped, doctor, recent_patient)  # its task not run (no commit callbacks)
    DataExport.objects.filter(pk=export.pk).update(claimed_at=timezone.now())
    assert export_build(export_id=export.pk).status == ExportStatus.PREPARING
    assert not DataExport.objects.get(pk=export.pk).file


def test_a_lost_export_is_enqueued_again_by_the_sweep_once(
    scoped, doctor, recent_patient, django_capture_on_commit_callbacks
):
    from clinics.recovery import waiting_work_requeue

    kinds = ["compliance.exports"]
    lost = _request(scoped, doctor, recent_patient)
    fresh = _request(scoped, doctor, recent_patient)
    DataExport.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=False) as first:
        assert waiting_work_requeue(kinds=kinds)["compliance.exports"] == 1
        assert waiting_work_requeue(kinds=kinds)["compliance.exports"] == 0
    assert len(first) == 1
    fresh.refresh_from_db()
    assert fresh.status == ExportStatus.PREPARING
    # The task run twice builds the lost export once.
    export_build(export_id=lost.pk)
    built = export_build(export_id=lost.pk)
    assert built.status == ExportStatus.READY and built.attempts == 1


def test_front_desk_cannot_export_and_a_staff_member_only_gets_their_own(
    scoped, member_factory, recent_patient, doctor
):
    desk = member_factory(scoped, Role.FRONT_DESK)
    with pytest.raises(NotAllowed):
        _request(scoped, desk, recent_patient)
    own = export_request(clinic=scoped, actor=desk.user, actor_membership=desk)
    assert own.subject == "staff" and own.user_id == desk.user_id
    DataExport.objects.filter(pk=own.pk).update(status=ExportStatus.READY, file="x.zip")
    own.refresh_from_db()
    with pytest.raises(NotAllowed):
        export_link(export=own, actor=doctor.user, actor_membership=doctor)


def test_the_link_works_for_its_clinic_and_fails_clearly_after_expiry_or_elsewhere(
    ready_export, doctor, other_clinic, settings
):
    token, until = export_link(export=ready_export, actor=doctor.user, actor_membership=doctor)
    assert until - timezone.now() <= timedelta(minutes=15)
    assert export_for_link(token=token, clinic_id=ready_export.clinic_id) == ready_export
    with pytest.raises(ExportLinkInvalid):
        export_for_link(token=token, clinic_id=other_clinic.pk)
    with pytest.raises(ExportLinkInvalid):
        export_for_link(token=token + "x", clinic_id=ready_export.clinic_id)
    old = signing.TimestampSigner(salt="vaidya.compliance.export-link")
    real_time = signing.time.time
    signing.time.time = lambda: real_time() - 16 * 60
    try:
        stale = signing.dumps(
            {"e": ready_export.pk, "c": ready_export.clinic_id},
            salt="vaidya.compliance.export-link",
            compress=True,
        )
    finally:
        signing.time.time = real_time
    del old
    with pytest.raises(ExportLinkExpired, match="expired"):
        export_for_link(token=stale, clinic_id=ready_export.clinic_id)


def test_exports_are_removed_after_seven_days_and_the_link_then_says_so(
    ready_export, doctor, django_capture_on_commit_callbacks
):
    token, _ = export_link(export=ready_export, actor=doctor.user, actor_membership=doctor)
    storage = ready_export.file.storage
    name = ready_export.file.name
    assert exports_expire(ready_export.clinic_id) == 0
    with django_capture_on_commit_callbacks(execute=True):
        removed = exports_expire(ready_export.clinic_id, now=timezone.now() + timedelta(days=8))
    assert removed == 1
    assert not storage.exists(name)
    ready_export.refresh_from_db()
    assert ready_export.status == ExportStatus.EXPIRED and not ready_export.file
    with pytest.raises(ExportLinkExpired, match="7 days"):
        export_for_link(token=token, clinic_id=ready_export.clinic_id)
    assert exports_expire(ready_export.clinic_id, now=timezone.now() + timedelta(days=9)) == 0
