"""The tenancy core: the row-task decorator, the per-clinic schedule helper, and the guard that
keeps `scopes_disabled()` inside the few files allowed to use it."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from django.db import transaction
from django_scopes import get_scope

from clinics.context import get_context
from clinics.models import Clinic, Membership
from clinics.tenancy import (
    GONE,
    ClinicsFailed,
    clinic_id_of,
    clinic_scope,
    clinic_task,
    current_clinic_id,
    for_each_clinic,
)
from tests.factories import ClinicFactory, MembershipFactory

ROOT = Path(__file__).resolve().parents[2]

# Where `scopes_disabled` may appear, each use with a comment saying why: the tenancy core, the
# superuser admin, and the lookups that must find a tenant before there is one.
ALLOWED = {
    "clinics/tenancy.py",
    "clinics/api/authentication.py",  # the API key lookup
    "messaging/webhooks.py",  # the webhook key lookup
}
ALLOWED_PACKAGES = ("clinics/admin/",)  # the superuser admin
SKIPPED_DIRS = {"tests", "migrations", "node_modules", "static", "data", "__pycache__"}


def scopes_disabled_uses(root: Path) -> list[str]:
    """`path:line` of every use of `scopes_disabled` (an import or a name, not prose in a
    docstring or comment) in Python files under `root`, outside the allowed files."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if relative.as_posix() in ALLOWED or relative.as_posix().startswith(ALLOWED_PACKAGES):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Name | ast.Attribute):
                names = [node.id if isinstance(node, ast.Name) else node.attr]
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [alias.name.rsplit(".", 1)[-1] for alias in node.names]
            if "scopes_disabled" in names:
                found.append(f"{relative.as_posix()}:{node.lineno}")
    return found


def uncommented_scope_escapes(root: Path) -> list[str]:
    """`path:line` of every `scopes_disabled()` call in the allowed files outside the tenancy
    core whose line carries no comment saying why."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        allowed = relative in ALLOWED or relative.startswith(ALLOWED_PACKAGES)
        if not allowed or relative == "clinics/tenancy.py":
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source, filename=str(path))):
            func = getattr(node, "func", None)
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            is_escape = isinstance(node, ast.Call) and name == "scopes_disabled"
            if is_escape and "#" not in lines[node.lineno - 1]:
                found.append(f"{relative}:{node.lineno}")
    return found


def test_scopes_disabled_appears_only_where_allowed():
    assert scopes_disabled_uses(ROOT) == []


def test_every_allowed_escape_says_why_on_its_line():
    assert uncommented_scope_escapes(ROOT) == []


def test_the_comment_guard_catches_an_escape_without_a_reason(tmp_path):
    (tmp_path / "clinics" / "admin").mkdir(parents=True)
    (tmp_path / "clinics" / "admin" / "base.py").write_text(
        "from clinics.tenancy import scopes_disabled\n\n\n"
        "def quiet():\n"
        "    with scopes_disabled():\n"
        "        return 1\n\n\n"
        "def explained():\n"
        "    with scopes_disabled():  # superusers see every clinic\n"
        "        return 2\n"
    )
    (tmp_path / "clinics" / "tenancy.py").write_text(
        "from django_scopes import scopes_disabled\n\n\ndef f():\n"
        "    with scopes_disabled():\n        return 1\n"
    )
    assert uncommented_scope_escapes(tmp_path) == ["clinics/admin/base.py:5"]


def test_the_guard_catches_a_planted_use(tmp_path):
    (tmp_path / "patients").mkdir()
    (tmp_path / "patients" / "views.py").write_text(
        '"""Mentions scopes_disabled in prose only."""\n'
        "from clinics.tenancy import scopes_disabled\n\n\n"
        "def peek():\n"
        "    with scopes_disabled():  # a new back door\n"
        "        return 1\n"
    )
    (tmp_path / "clinics").mkdir()
    (tmp_path / "clinics" / "tenancy.py").write_text("from django_scopes import scopes_disabled\n")
    (tmp_path / "clinics" / "admin").mkdir()
    (tmp_path / "clinics" / "admin" / "base.py").write_text(
        "from clinics.tenancy import scopes_disabled\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("from clinics.tenancy import scopes_disabled\n")
    (tmp_path / "clinics" / "migrations").mkdir()
    (tmp_path / "clinics" / "migrations" / "0001_x.py").write_text(
        "import django_scopes\nx = django_scopes.scopes_disabled\n"
    )
    assert scopes_disabled_uses(tmp_path) == ["patients/views.py:2", "patients/views.py:6"]


# --- the row task ----------------------------------------------------------------------------
@clinic_task(Membership)
def where_am_i(membership_id: int) -> tuple[int | None, str, int]:
    member = Membership.objects.get(pk=membership_id)  # only found inside its clinic's scope
    return current_clinic_id(), get_context().via, member.clinic_id


@clinic_task(Membership)
def breaks(membership_id: int) -> None:
    raise RuntimeError("the service failed")


@pytest.fixture
def two_members(db) -> tuple[Membership, Membership]:
    first, second = ClinicFactory(), ClinicFactory()
    with clinic_scope(first):
        a = MembershipFactory(clinic=first)
    with clinic_scope(second):
        b = MembershipFactory(clinic=second)
    return a, b


def test_a_row_task_runs_in_its_rows_clinic_as_a_task(two_members):
    a, b = two_members
    assert where_am_i(a.pk) == (a.clinic_id, "task", a.clinic_id)
    assert where_am_i(b.pk) == (b.clinic_id, "task", b.clinic_id)
    # Called from inside another clinic's scope, it still runs in the row's own clinic.
    with clinic_scope(a.clinic_id):
        assert where_am_i(b.pk)[0] == b.clinic_id
        assert current_clinic_id() == a.clinic_id


def test_a_row_task_answers_gone_when_the_row_is_gone(two_members):
    a, _ = two_members
    with clinic_scope(a.clinic_id):
        Membership.objects.filter(pk=a.pk).delete()
    assert where_am_i(a.pk) == GONE == "gone"
    assert where_am_i(10**9) == "gone"


def test_a_row_task_answers_gone_when_the_clinic_is_gone(two_members):
    a, _ = two_members
    assert clinic_id_of(Membership, a.pk) == a.clinic_id
    with transaction.atomic():
        # The clinic's row is deleted ahead of its members (their delete is still on its way);
        # the rollback afterwards keeps the database consistent for the test's teardown.
        Clinic.objects.filter(pk=a.clinic_id)._raw_delete(Clinic.objects.db)
        assert clinic_id_of(Membership, a.pk) is None
        assert where_am_i(a.pk) == "gone"
        transaction.set_rollback(True)


def test_a_row_task_always_leaves_its_scope_and_actor_context(two_members):
    a, _ = two_members
    before = get_context()
    with pytest.raises(RuntimeError, match="the service failed"):
        breaks(a.pk)
    assert current_clinic_id() is None
    assert get_scope().get("clinic") is None
    assert get_context() is before
    where_am_i(a.pk)
    assert current_clinic_id() is None and get_context() is before


# --- the per-clinic schedule -----------------------------------------------------------------
def test_one_clinic_failing_neither_stops_the_others_nor_keeps_half_a_write(db, caplog):
    first, failing, last = ClinicFactory(), ClinicFactory(), ClinicFactory()
    ClinicFactory(is_active=False)  # not visited
    visited: list[tuple[int, int | None, str]] = []

    def rename(clinic_id: int) -> str:
        visited.append((clinic_id, current_clinic_id(), get_context().via))
        Clinic.objects.filter(pk=clinic_id).update(name=f"Renamed {clinic_id}")
        if clinic_id == failing.pk:
            raise ValueError("broken halfway")
        return "renamed"

    with (
        caplog.at_level(logging.ERROR, logger="clinics.tenancy"),
        pytest.raises(ClinicsFailed) as failed,
    ):
        for_each_clinic(rename, name="Renaming clinics")

    assert visited == [(c.pk, c.pk, "task") for c in (first, failing, last)]
    assert failed.value.failed == [failing.pk]
    assert failed.value.results == {first.pk: "renamed", last.pk: "renamed"}
    assert str(failing.pk) in str(failed.value)
    names = dict(Clinic.objects.values_list("pk", "name"))
    assert names[first.pk] == f"Renamed {first.pk}" and names[last.pk] == f"Renamed {last.pk}"
    assert names[failing.pk] == failing.name  # its partial write was rolled back
    [record] = [r for r in caplog.records if r.name == "clinics.tenancy"]
    assert record.getMessage() == f"Renaming clinics failed for clinic {failing.pk}"
    assert record.exc_info is not None
    assert current_clinic_id() is None


def test_the_per_clinic_helper_returns_each_clinics_result(db):
    first, second = ClinicFactory(), ClinicFactory()
    assert for_each_clinic(lambda clinic_id: clinic_id * 2, name="Doubling") == {
        first.pk: first.pk * 2,
        second.pk: second.pk * 2,
    }
    assert for_each_clinic(
        lambda clinic_id: current_clinic_id(),
        name="Only one",
        clinic_ids=[second.pk],
        via="command",
    ) == {second.pk: second.pk}
