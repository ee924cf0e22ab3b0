import pytest
from django.core import mail

from clinics.audit import Actions
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import ApiKey, AuditEvent, Clinic, Membership
from clinics.roles import Role
from clinics.services import (
    api_key_create,
    api_key_revoke,
    clinic_create,
    clinic_update,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    membership_change_role,
    membership_deactivate,
    membership_reactivate,
)
from clinics.tenancy import clinic_scope
from tests.factories import UserFactory

VALID_KA_GSTIN = "29AAPFU0939F1ZR"  # state 29, valid check character
VALID_MH_GSTIN = "27AAPFU0939F1ZV"


def test_clinic_create_makes_the_owner(db):
    user = UserFactory()
    clinic = clinic_create(name="Shanti Clinic", state_code="29", owner=user, gstin="")
    assert clinic.slug == "shanti-clinic"
    with clinic_scope(clinic):
        assert Membership.objects.get().role == Role.OWNER
        assert set(AuditEvent.objects.values_list("action", flat=True)) == {
            Actions.CLINIC_CREATED,
            Actions.MEMBERSHIP_CREATED,
        }
    again = clinic_create(name="Shanti Clinic", state_code="29", owner=user)
    assert again.slug == "shanti-clinic-2"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"gstin": "29ABCDE1234F1Z0"}, "gstin"),  # bad check character
        ({"gstin": VALID_MH_GSTIN}, "gstin"),  # another state's GSTIN
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"state_code": "99"}, "state_code"),
        ({"pincode": "ABCDEF"}, "pincode"),
        ({"pincode": "012345"}, "pincode"),  # no PIN code starts with 0
    ],
)
def test_clinic_validation(db, fields, error_field):
    user = UserFactory()
    with pytest.raises(ValidationFailed) as exc:
        clinic_create(name="Bad Clinic", owner=user, **{"state_code": "29", **fields})
    assert error_field in exc.value.errors
    assert not Clinic.objects.filter(name="Bad Clinic").exists()


def test_clinic_update_accepts_spaced_lowercase_gstin_and_audits_fields(clinic, owner):
    with clinic_scope(clinic):
        clinic_update(clinic=clinic, actor=owner.user, gstin="29aapfu0939f1zr ", city="Mysuru")
        clinic.refresh_from_db()
        assert clinic.gstin == VALID_KA_GSTIN
        event = AuditEvent.objects.get(action=Actions.CLINIC_UPDATED)
        assert event.data == {"fields": ["city", "gstin"]}


def test_clinic_update_refuses_a_pincode_that_is_not_six_digits(clinic, owner):
    with clinic_scope(clinic), pytest.raises(ValidationFailed) as exc:
        clinic_update(clinic=clinic, actor=owner.user, pincode="ABCDEF")
    assert exc.value.errors["pincode"] == [
        "A PIN code has 6 digits and does not start with 0, for example 560041."
    ]
    clinic.refresh_from_db()
    assert clinic.pincode != "ABCDEF"


def test_last_owner_cannot_be_demoted_or_deactivated(clinic, owner):
    with clinic_scope(clinic):
        with pytest.raises(Conflict):
            membership_change_role(membership=owner, actor=owner.user, role=Role.DOCTOR)
        with pytest.raises(Conflict):
            membership_deactivate(membership=owner, actor=owner.user)
        owner.refresh_from_db()
        assert owner.role == Role.OWNER and owner.is_active


def test_role_change_deactivate_reactivate(clinic, owner, member_factory):
    staff = member_factory(clinic, Role.FRONT_DESK)
    with clinic_scope(clinic):
        membership_change_role(membership=staff, actor=owner.user, role=Role.BILLING)
        membership_deactivate(membership=staff, actor=owner.user)
        staff.refresh_from_db()
        assert staff.role == Role.BILLING and not staff.is_active and staff.perms == frozenset()
        membership_reactivate(membership=staff, actor=owner.user)
        staff.refresh_from_db()
        assert staff.is_active
        event = AuditEvent.objects.get(action=Actions.MEMBERSHIP_ROLE_CHANGED)
        assert event.data["from"] == Role.FRONT_DESK and event.data["to"] == Role.BILLING
        with pytest.raises(DomainError):
            membership_change_role(membership=staff, actor=owner.user, role="janitor")


def test_invitation_flow(clinic, owner, django_capture_on_commit_callbacks):
    with clinic_scope(clinic), django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(
            clinic=clinic, actor=owner.user, email=" New.Doc@Example.in ", role=Role.DOCTOR
        )
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body
    assert mail.outbox[0].to == ["new.doc@example.in"]
    assert invitation.token not in str(invitation.token_digest)
    membership = invitation_accept(
        token=invitation.token, full_name="Dr Kavya Rao", password="a-long-safe-passphrase"
    )
    assert membership.role == Role.DOCTOR and membership.user.email == "new.doc@example.in"
    assert invitation_for_token(invitation.token) is None  # used up
    with pytest.raises(DomainError):
        invitation_accept(token=invitation.token, full_name="X", password="a-long-safe-passphrase")


def test_invitation_refusals(clinic, owner, member_factory):
    existing = member_factory(clinic, Role.DOCTOR)
    with clinic_scope(clinic):
        with pytest.raises(Conflict):
            invitation_create(
                clinic=clinic, actor=owner.user, email=existing.user.email, role=Role.DOCTOR
            )
        with pytest.raises(DomainError):
            invitation_create(clinic=clinic, actor=owner.user, email="nope", role=Role.DOCTOR)
        invitation = invitation_create(
            clinic=clinic, actor=owner.user, email="a@example.in", role=Role.BILLING
        )
    with pytest.raises(ValidationFailed) as exc:
        invitation_accept(token=invitation.token, full_name="A", password="123")
    assert "password" in exc.value.errors
    with pytest.raises(NotAllowed):
        invitation_accept(token=invitation.token, user=existing.user)
    with pytest.raises(DomainError):
        invitation_accept(token="forged-token", full_name="A", password="a-long-safe-passphrase")


def test_api_key_token_shown_once_and_stored_as_digest(clinic, owner):
    with clinic_scope(clinic):
        key, token = api_key_create(
            clinic=clinic, actor=owner.user, name="Lab system", role=Role.FRONT_DESK, read_only=True
        )
        assert token.startswith("vdy_") and len(token) > 40
        stored = ApiKey.objects.get()
        assert token not in (stored.digest, stored.prefix) and stored.prefix == token[:12]
        assert stored.has_perm("patients.view") and not stored.has_perm("patients.edit")
        api_key_revoke(key=key, actor=owner.user)
        stored.refresh_from_db()
        assert not stored.is_active and stored.perms == frozenset()
        with pytest.raises(DomainError):
            api_key_create(
                clinic=clinic, actor=owner.user, name=" ", role=Role.OWNER, read_only=False
            )
