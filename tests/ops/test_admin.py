from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from clinics.audit import Actions, audit_seal
from clinics.models import (
    ApiKey,
    AuditChainHead,
    AuditEvent,
    Clinic,
    ClinicCounter,
    DoctorProfile,
    IdempotencyRecord,
    Invitation,
    Membership,
    User,
)
from clinics.roles import Role
from clinics.services import api_key_create, doctor_profile_update, invitation_create
from clinics.tenancy import clinic_scope, scopes_disabled
from patients.models import Guardian, Patient
from patients.services import GuardianInput, patient_create

VAIDYA_MODELS = {
    User,
    Clinic,
    Membership,
    DoctorProfile,
    Invitation,
    ApiKey,
    ClinicCounter,
    IdempotencyRecord,
    AuditEvent,
    AuditChainHead,
    Patient,
    Guardian,
}


@pytest.fixture
def world(clinic, owner, member_factory):
    """One object of every Vaidya model, in a clinic, made through the services."""
    doctor = member_factory(clinic, Role.DOCTOR)
    with clinic_scope(clinic):
        doctor_profile_update(
            membership=doctor,
            actor=owner.user,
            qualifications="MBBS",
            medical_council="Karnataka Medical Council",
            registration_number="KMC 12345",
        )
        invitation = invitation_create(
            clinic=clinic, actor=owner.user, email="new.nurse@example.in", role=Role.ASSISTANT
        )
        key, token = api_key_create(
            clinic=clinic, actor=owner.user, name="Lab system", role=Role.DOCTOR, read_only=True
        )
        mother = patient_create(
            clinic=clinic,
            actor=owner.user,
            full_name="Kavitha Murthy",
            sex="F",
            phone="98450 11111",
            date_of_birth="1988-04-02",
        )
        child = patient_create(
            clinic=clinic,
            actor=owner.user,
            full_name="Anika Murthy",
            sex="F",
            phone="98450 11111",
            age_years=6,
            guardian=GuardianInput(relation="mother", guardian_patient_id=mother.pk),
            confirm_duplicate=True,
        )
        record = IdempotencyRecord.objects.create(
            clinic=clinic,
            principal=f"key:{key.pk}",
            key="retry-1",
            method="POST",
            path="/api/v1/patients/",
            request_hash="0" * 64,
            status_code=201,
            response_body={"id": child.pk},
        )
    audit_seal(clinic_id=clinic.pk)
    return {
        "owner": owner,
        "doctor": doctor,
        "invitation": invitation,
        "key": key,
        "token": token,
        "mother": mother,
        "child": child,
        "record": record,
    }


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_vaidya_model_is_registered():
    assert set(admin.site._registry) >= VAIDYA_MODELS


def test_superuser_sees_every_changelist_and_search(world, admin_client_for_superuser):
    client = admin_client_for_superuser
    for model, model_admin in admin.site._registry.items():
        url = _url(model, "changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        if model_admin.search_fields:
            response = client.get(url, {"q": "Murthy"})
            assert response.status_code == 200, f"{url}?q="
            response = client.get(url, {"q": "12"})
            assert response.status_code == 200, f"{url}?q=12"


def test_superuser_opens_the_change_page_of_every_vaidya_object(world, admin_client_for_superuser):
    client = admin_client_for_superuser
    with scopes_disabled():
        objects = [model.objects.order_by("pk").first() for model in admin.site._registry]
    for obj in objects:
        if obj is None or obj._meta.app_label not in {"clinics", "patients"}:
            continue
        url = _url(type(obj), "change", obj.pk)
        assert client.get(url).status_code == 200, url


def test_patient_change_page_shows_the_record_read_only(world, admin_client_for_superuser):
    child = world["child"]
    response = admin_client_for_superuser.get(_url(Patient, "change", child.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anika Murthy" in page and "P-000002" in page
    assert "made in the clinic&#x27;s own pages" in page
    assert 'name="_save"' not in page  # nothing to save: read-only
    post = admin_client_for_superuser.post(
        _url(Patient, "change", child.pk), {"full_name": "Someone Else"}
    )
    assert post.status_code == 403
    with clinic_scope(child.clinic):
        assert Patient.objects.get(pk=child.pk).full_name == "Anika Murthy"


def test_patient_search_by_number_and_phone(world, admin_client_for_superuser):
    url = _url(Patient, "changelist")
    by_number = admin_client_for_superuser.get(url, {"q": "P-000002"}).content.decode()
    assert "Anika Murthy" in by_number and "Kavitha Murthy" not in by_number
    by_phone = admin_client_for_superuser.get(url, {"q": "9845011111"}).content.decode()
    assert "Anika Murthy" in by_phone and "Kavitha Murthy" in by_phone


def test_staff_without_superuser_gets_nothing(world, clinic):
    staff = User.objects.create_user(
        "staff.only@example.in", "correct horse battery", full_name="Staff Only", is_staff=True
    )
    client = Client()
    client.force_login(staff)
    login = reverse("admin:login")
    for url in (
        reverse("admin:index"),
        _url(Patient, "changelist"),
        _url(Patient, "change", world["child"].pk),
        _url(User, "changelist"),
        _url(AuditEvent, "changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url
    request = type("R", (), {"user": staff})()
    for model_admin in admin.site._registry.values():
        assert not model_admin.has_module_permission(request)
        assert not model_admin.has_view_permission(request)


def test_audit_events_cannot_be_added_changed_or_deleted(world, admin_client_for_superuser):
    client = admin_client_for_superuser
    with scopes_disabled():
        event = AuditEvent.objects.order_by("pk").first()
    assert client.get(_url(AuditEvent, "add")).status_code == 403
    assert client.post(_url(AuditEvent, "change", event.pk), {"action": "x"}).status_code == 403
    assert client.get(_url(AuditEvent, "delete", event.pk)).status_code == 403
    assert client.post(_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    changelist = client.get(_url(AuditEvent, "changelist"))
    assert "delete_selected" not in changelist.content.decode()
    response = client.post(
        _url(AuditEvent, "changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    with scopes_disabled():
        assert AuditEvent.objects.filter(pk=event.pk).exists()
    page = client.get(_url(AuditEvent, "change", event.pk)).content.decode()
    assert event.hash in page  # shown, read-only


def test_api_key_digest_is_never_shown_and_keys_are_not_added_here(
    world, admin_client_for_superuser
):
    key = world["key"]
    client = admin_client_for_superuser
    page = client.get(_url(ApiKey, "change", key.pk)).content.decode()
    assert key.prefix in page
    assert key.digest not in page
    assert key.digest not in client.get(_url(ApiKey, "changelist")).content.decode()
    assert client.get(_url(ApiKey, "add")).status_code == 403


def test_revoking_an_api_key_goes_through_the_service(world, admin_client_for_superuser):
    key = world["key"]
    response = admin_client_for_superuser.post(
        _url(ApiKey, "changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert response.status_code == 302
    with clinic_scope(key.clinic):
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
        event = AuditEvent.objects.get(action=Actions.API_KEY_REVOKED)
    assert event.actor.email == "root@example.in" and event.via == "admin"


def test_archiving_a_patient_goes_through_the_service(world, admin_client_for_superuser):
    mother = world["mother"]
    response = admin_client_for_superuser.post(
        _url(Patient, "changelist"), {"action": "archive", "_selected_action": [mother.pk]}
    )
    assert response.status_code == 302
    with clinic_scope(mother.clinic):
        assert Patient.objects.get(pk=mother.pk).is_archived
        event = AuditEvent.objects.get(action=Actions.PATIENT_ARCHIVED)
    assert (event.patient_id, event.via) == (mother.pk, "admin")


def test_deactivating_the_last_owner_is_refused_with_a_message(world, admin_client_for_superuser):
    owner = world["owner"]
    response = admin_client_for_superuser.post(
        _url(Membership, "changelist"),
        {"action": "deactivate", "_selected_action": [owner.pk]},
        follow=True,
    )
    assert "at least one active owner" in response.content.decode()
    with clinic_scope(owner.clinic):
        assert Membership.objects.get(pk=owner.pk).is_active


def _clinic_form(clinic, **changes):
    data = {
        "name": clinic.name,
        "address": clinic.address,
        "city": clinic.city,
        "pincode": clinic.pincode,
        "state_code": clinic.state_code,
        "phone": str(clinic.phone),
        "email": clinic.email,
        "timezone": clinic.timezone,
        "gstin": clinic.gstin,
        "letterhead_tagline": clinic.letterhead_tagline,
        "timings": clinic.timings,
        "registration_details": clinic.registration_details,
    }
    data.update(changes)
    return data


def test_clinic_changes_go_through_the_service_and_are_audited(
    world, clinic, admin_client_for_superuser
):
    url = _url(Clinic, "change", clinic.pk)
    assert admin_client_for_superuser.get(url).status_code == 200
    response = admin_client_for_superuser.post(url, _clinic_form(clinic, city="Mysuru"))
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.city == "Mysuru"
    with clinic_scope(clinic):
        event = AuditEvent.objects.get(action=Actions.CLINIC_UPDATED)
    assert event.data == {"fields": ["city"]} and event.via == "admin"


def test_clinic_service_refusal_shows_on_the_form(world, clinic, admin_client_for_superuser):
    url = _url(Clinic, "change", clinic.pk)
    # A valid Maharashtra GSTIN for a Karnataka clinic: the service refuses it.
    response = admin_client_for_superuser.post(url, _clinic_form(clinic, gstin="27AAPFU0939F1ZV"))
    assert response.status_code == 200
    assert "belongs to another state" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.gstin == ""
    with clinic_scope(clinic):
        assert not AuditEvent.objects.filter(action=Actions.CLINIC_UPDATED).exists()


def test_delete_confirmation_works_across_clinics(world, admin_client_for_superuser):
    client = admin_client_for_superuser
    record = world["record"]
    url = _url(IdempotencyRecord, "delete", record.pk)
    assert client.get(url).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302
    with scopes_disabled():
        assert not IdempotencyRecord.objects.filter(pk=record.pk).exists()
    # A user with clinic history: the confirmation page names the records in the way.
    owner_user = world["owner"].user
    page = client.get(_url(User, "delete", owner_user.pk))
    assert page.status_code == 200
    assert "Cannot delete user" in page.content.decode()
    assert "membership" in page.content.decode()  # found across clinics: it blocks the delete
    assert client.post(_url(User, "delete", owner_user.pk), {"post": "yes"}).status_code != 302
    assert User.objects.filter(pk=owner_user.pk).exists()


def test_superuser_can_add_an_account(admin_client_for_superuser):
    assert admin_client_for_superuser.get(_url(User, "add")).status_code == 200
    response = admin_client_for_superuser.post(
        _url(User, "add"),
        {
            "email": "New.Admin@Example.in",
            "full_name": "New Admin",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.admin@example.in")
    assert user.check_password("a long enough passphrase")
