"""The data rights pages: a patient's exports and erasure (owner), a staff member's own data,
and the signed download link's clear answers."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from clinics.roles import Role
from compliance.erasure.models import Erasure, ErasureStatus
from compliance.exports.models import DataExport, ExportStatus

pytestmark = pytest.mark.django_db


def test_a_doctor_prepares_and_downloads_a_patient_s_copy(
    scoped, doctor, client_for, recent_patient, django_capture_on_commit_callbacks
):
    client = client_for(doctor)
    base = f"/c/{scoped.slug}/compliance/patients/{recent_patient.pk}/data/"
    assert client.get(base).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(base + "export/")
    export = DataExport.objects.get(patient=recent_patient)
    assert export.status == ExportStatus.READY
    page = client.get(base)
    assert b"Download" in page.content
    link = client.post(f"/c/{scoped.slug}/compliance/exports/{export.pk}/link/")
    assert link.status_code == 302 and "/compliance/exports/download/" in link["Location"]
    download = client.get(link["Location"])
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(download.content)).namelist()[0] == "summary.pdf"
    # Another clinic's member following the same link sees a clear 404 page.
    from tests.factories import ClinicFactory, MembershipFactory

    elsewhere = MembershipFactory(clinic=ClinicFactory(slug="elsewhere"), role=Role.OWNER)
    other = client_for(elsewhere)
    token_path = link["Location"].replace(f"/c/{scoped.slug}/", "/c/elsewhere/")
    refused = other.get(token_path)
    assert refused.status_code == 404 and b"not valid" in refused.content


def test_the_front_desk_cannot_open_a_patient_s_data_page(
    scoped, member_factory, client_for, recent_patient
):
    desk = client_for(member_factory(scoped, Role.FRONT_DESK))
    url = f"/c/{scoped.slug}/compliance/patients/{recent_patient.pk}/data/"
    assert desk.get(url).status_code == 403


def test_the_owner_sees_the_dry_run_confirms_once_and_gets_the_certificate(
    scoped, owner, client_for, recent_patient, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    start = client.post(f"/c/{scoped.slug}/compliance/patients/{recent_patient.pk}/erasure/")
    erasure = Erasure.objects.get()
    assert start["Location"].endswith(f"/compliance/erasures/{erasure.pk}/")
    page = client.get(start["Location"])
    assert b"Must be kept" in page.content and b"Erase now" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/c/{scoped.slug}/compliance/erasures/{erasure.pk}/confirm/")
    assert Erasure.objects.get().status == ErasureStatus.DONE
    again = client.post(f"/c/{scoped.slug}/compliance/erasures/{erasure.pk}/confirm/", follow=True)
    assert b"already carried out" in again.content
    certificate = client.get(f"/c/{scoped.slug}/compliance/erasures/{erasure.pk}/certificate/")
    assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")


def test_a_staff_member_downloads_their_own_data_from_their_account(
    scoped, member_factory, client_for, django_capture_on_commit_callbacks, rights_registry
):
    from compliance.personal_data import STAFF, PersonalData

    rights_registry.register(
        PersonalData(
            name="clinics.user",
            order=1,
            model="clinics.User",
            subject=STAFF,
            description="Your account",
            fields=("email", "full_name"),
            staff_path="id",
        )
    )
    member = member_factory(scoped, Role.FRONT_DESK)
    client = client_for(member)
    account = client.get("/account/security/")
    assert f"/c/{scoped.slug}/compliance/my-data/".encode() in account.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/c/{scoped.slug}/compliance/my-data/export/")
    export = DataExport.objects.get(user=member.user)
    link = client.post(f"/c/{scoped.slug}/compliance/my-data/{export.pk}/link/")
    data = zipfile.ZipFile(io.BytesIO(client.get(link["Location"]).content))
    body = json.loads(data.read("data.json"))
    assert body["kinds"]["clinics.user"]["rows"][0]["email"] == member.user.email
    assert "sign_ins" in body
    # A colleague cannot use it.
    colleague = client_for(member_factory(scoped, Role.OWNER))
    refused = colleague.post(f"/c/{scoped.slug}/compliance/my-data/{export.pk}/link/")
    assert refused.status_code == 404
    as_patient_export = colleague.post(f"/c/{scoped.slug}/compliance/exports/{export.pk}/link/")
    assert as_patient_export.status_code == 404
