"""The permission matrix: what each role may do, as the docs promise."""

import pytest

from clinics.roles import MATRIX, Perm, Role, matrix_markdown, perms_for, role_has

CLINICAL = {Perm.CLINICAL_VIEW, Perm.CLINICAL_DRAFT, Perm.CLINICAL_EDIT}


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_front_desk_and_billing_never_read_clinical_notes(role):
    assert not (MATRIX[role] & CLINICAL)
    assert not role_has(role, Perm.PRESCRIPTIONS_VIEW)


def test_owner_may_do_everything():
    assert MATRIX[Role.OWNER] == frozenset(Perm)


def test_only_owners_manage_staff_settings_audit_and_keys():
    for perm in (
        Perm.STAFF_MANAGE,
        Perm.SETTINGS_EDIT,
        Perm.AUDIT_VIEW,
        Perm.API_KEYS_MANAGE,
        Perm.EXPORTS_RUN,
    ):
        assert [r for r in Role if role_has(r, perm)] == [Role.OWNER]


def test_only_doctors_and_owners_sign_clinical_work():
    for perm in (Perm.CLINICAL_EDIT, Perm.PRESCRIPTIONS_EDIT):
        assert {r for r in Role if role_has(r, perm)} == {Role.OWNER, Role.DOCTOR}


def test_assistant_drafts_vitals_but_does_not_sign():
    assert role_has(Role.ASSISTANT, Perm.CLINICAL_DRAFT)
    assert not role_has(Role.ASSISTANT, Perm.CLINICAL_EDIT)


def test_read_only_keys_keep_only_view_permissions():
    assert perms_for(Role.OWNER, read_only=True) == {p for p in Perm if p.endswith(".view")}


def test_docs_table_lists_every_permission_and_role():
    table = matrix_markdown()
    for perm in Perm:
        assert f"`{perm.value}`" in table
    for role in Role:
        assert role.label in table
