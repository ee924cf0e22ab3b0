"""A departed staff member's personal data goes 30 days after their membership closed, once;
their account stays while they still work at another clinic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.models import Membership, User
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.erasure.models import StaffErasure
from compliance.erasure.services import staff_data_erase_departed
from compliance.tasks import staff_data_erase_all

pytestmark = pytest.mark.django_db


def _close(membership, days_ago):
    Membership.objects.filter(pk=membership.pk).update(
        is_active=False, deactivated_at=timezone.now() - timedelta(days=days_ago)
    )


def test_departed_staff_data_is_erased_after_30_days_once(scoped, member_factory):
    gone = member_factory(scoped, Role.ASSISTANT)
    recent = member_factory(scoped, Role.FRONT_DESK)
    email = gone.user.email
    _close(gone, 31)
    _close(recent, 10)
    assert staff_data_erase_departed(scoped.pk) == 1
    user = User.objects.get(pk=gone.user_id)
    assert user.email != email and not user.is_active
    assert user.full_name == gone.user.full_name  # stays as the author's name on records
    assert User.objects.get(pk=recent.user_id).email == recent.user.email
    assert StaffErasure.objects.get().membership_id == gone.pk
    assert staff_data_erase_departed(scoped.pk) == 0


def test_the_account_stays_while_they_work_at_another_clinic(clinic, other_clinic, member_factory):
    here = member_factory(clinic, Role.DOCTOR)
    member_factory(other_clinic, Role.DOCTOR, user=here.user)
    with clinic_scope(clinic):
        _close(here, 40)
    assert staff_data_erase_all() == 1
    assert User.objects.get(pk=here.user_id).email == here.user.email
    with clinic_scope(clinic):
        assert StaffErasure.objects.filter(membership=here).exists()
