"""One actor type and one permission check: who acts, at which clinic, with which role."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinics.actors import (
    SYSTEM_LABEL,
    access_for_key,
    access_for_member,
    audit_fields,
    require,
    resolve,
)
from clinics.audit import Actions, audit_record
from clinics.context import actor_context, get_context
from clinics.errors import NotAllowed
from clinics.models import AuditEvent
from clinics.roles import Perm, Role
from tests.factories import make_api_key


@pytest.fixture
def doctor(clinic, member_factory):
    return member_factory(clinic, Role.DOCTOR)


def test_a_member_acts_with_their_roles_permissions(scoped, doctor):
    access = require(doctor.user, Perm.PRESCRIPTIONS_EDIT, clinic_id=scoped.pk)
    assert access.kind == "user"
    assert access.membership == doctor
    assert access.role == Role.DOCTOR
    assert access.user == doctor.user


def test_a_role_without_the_permission_is_refused_with_a_message_to_show(scoped, member_factory):
    desk = member_factory(scoped, Role.FRONT_DESK)
    with pytest.raises(NotAllowed) as refused:
        require(desk.user, Perm.CLINICAL_EDIT, clinic_id=scoped.pk, message="Only doctors.")
    assert refused.value.message == "Only doctors."
    assert refused.value.code == "permission_denied"


def test_an_inactive_membership_or_another_clinic_gives_no_permission(
    scoped, doctor, other_clinic, member_factory
):
    with pytest.raises(NotAllowed):
        require(doctor.user, Perm.PATIENTS_VIEW, clinic_id=other_clinic.pk)
    doctor.is_active = False
    doctor.deactivated_at = timezone.now()
    doctor.save()
    with pytest.raises(NotAllowed):
        require(doctor.user, Perm.PATIENTS_VIEW, clinic_id=scoped.pk)


def test_a_membership_given_by_the_caller_must_be_the_actors_own(scoped, doctor, member_factory):
    colleague = member_factory(scoped, Role.DOCTOR)
    access = require(doctor.user, Perm.CLINICAL_EDIT, clinic_id=scoped.pk, membership=doctor)
    assert access.membership is doctor
    with pytest.raises(NotAllowed):
        require(doctor.user, Perm.CLINICAL_EDIT, clinic_id=scoped.pk, membership=colleague)


def test_only_the_person_of_a_membership_acts_through_it(scoped, doctor):
    key, _ = make_api_key(scoped, role=Role.OWNER)
    for actor in (key, None):
        with pytest.raises(NotAllowed):
            require(actor, Perm.PATIENTS_VIEW, clinic_id=scoped.pk, membership=doctor)


def test_an_api_key_acts_for_its_own_clinic_and_a_read_only_key_only_reads(scoped, other_clinic):
    key, _ = make_api_key(scoped, role=Role.FRONT_DESK, read_only=True)
    access = require(key, Perm.PATIENTS_VIEW, clinic_id=scoped.pk)
    assert (access.kind, access.membership, access.read_only) == ("api_key", None, True)
    with pytest.raises(NotAllowed):
        require(key, Perm.PATIENTS_EDIT, clinic_id=scoped.pk)
    with pytest.raises(NotAllowed):
        require(key, Perm.PATIENTS_VIEW, clinic_id=other_clinic.pk)


def test_a_revoked_key_has_no_permission(scoped):
    key, _ = make_api_key(scoped, role=Role.OWNER)
    key.revoked_at = timezone.now()
    with pytest.raises(NotAllowed):
        require(key, Perm.PATIENTS_VIEW, clinic_id=scoped.pk)


def test_the_system_holds_no_role(scoped):
    access = resolve(None, clinic_id=scoped.pk)
    assert (access.kind, access.perms) == ("system", frozenset())
    with pytest.raises(NotAllowed):
        require(None, Perm.PATIENTS_VIEW, clinic_id=scoped.pk)


def test_a_requests_resolved_access_is_used_without_reading_the_membership_again(
    scoped, doctor, django_assert_num_queries
):
    resolved = access_for_member(doctor, doctor.user)
    with actor_context(via="web", access=resolved), django_assert_num_queries(0):
        access = require(doctor.user, Perm.CLINICAL_EDIT, clinic_id=scoped.pk)
    assert access.membership is doctor
    with django_assert_num_queries(1):
        require(doctor.user, Perm.CLINICAL_EDIT, clinic_id=scoped.pk)


def test_the_request_context_keeps_the_tasks_way_of_calling_it():
    with actor_context(via="task"):
        assert get_context().via == "task"
        assert get_context().access is None
    assert get_context().via == "web"


def test_the_audit_trail_names_a_person_a_key_or_the_system(scoped, doctor):
    key, _ = make_api_key(scoped)
    assert audit_fields(doctor.user)["actor"] == doctor.user
    assert audit_fields(key) == {"actor": None, "api_key": key, "actor_label": "API key Test key"}
    assert audit_fields(None) == {"actor": None, "api_key": None, "actor_label": SYSTEM_LABEL}
    assert access_for_key(key).audit_fields() == audit_fields(key)
    event = audit_record(clinic=scoped, actor=key, action=Actions.PATIENT_VIEWED)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.api_key_id, stored.actor_id, stored.actor_label) == (
        key.pk,
        None,
        "API key Test key",
    )


def test_another_persons_request_access_is_not_taken_for_theirs(scoped, doctor, member_factory):
    desk = member_factory(scoped, Role.FRONT_DESK)
    with actor_context(via="web", access=access_for_member(doctor, doctor.user)):
        with pytest.raises(NotAllowed):
            require(desk.user, Perm.CLINICAL_EDIT, clinic_id=scoped.pk)
        assert require(desk.user, Perm.PATIENTS_EDIT, clinic_id=scoped.pk).membership == desk


def test_a_record_that_names_its_author_needs_a_person_not_a_key(scoped, doctor):
    key, _token = make_api_key(scoped, role=Role.DOCTOR, read_only=False)
    assert require(key, Perm.CLINICAL_DRAFT, clinic_id=scoped.pk).kind == "api_key"
    with pytest.raises(NotAllowed):
        require(key, Perm.CLINICAL_DRAFT, clinic_id=scoped.pk, person=True)
    access = require(doctor.user, Perm.CLINICAL_DRAFT, clinic_id=scoped.pk, person=True)
    assert access.membership == doctor
