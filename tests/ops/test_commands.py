from __future__ import annotations

import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clinics.audit import Actions
from clinics.management.commands import run_local
from clinics.management.commands.permission_matrix import DOC_PATH, permissions_document
from clinics.models import ApiKey, AuditEvent, Clinic, Membership, User
from clinics.roles import Perm, Role, matrix_markdown, role_has
from clinics.services import api_key_digest
from clinics.tenancy import clinic_scope


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


# --- create_clinic ----------------------------------------------------------------------------


def test_create_clinic_creates_owner_and_clinic_with_command_audit_events(db):
    out = run(
        "create_clinic",
        "--name",
        "Asha Family Clinic",
        "--state-code",
        "29",
        "--owner-email",
        "Dr.Asha@Example.in",
        "--owner-name",
        "Asha Nair",
        "--password",
        "a long enough passphrase",
    )
    assert "Created clinic 'Asha Family Clinic' (short name asha-family-clinic" in out
    assert "new account" in out
    clinic = Clinic.objects.get(slug="asha-family-clinic")
    owner = User.objects.get(email="dr.asha@example.in")
    assert owner.check_password("a long enough passphrase")
    with clinic_scope(clinic):
        membership = Membership.objects.get()
        events = list(AuditEvent.objects.order_by("id"))
    assert (membership.user, membership.role) == (owner, Role.OWNER)
    assert [e.action for e in events] == [Actions.CLINIC_CREATED, Actions.MEMBERSHIP_CREATED]
    assert {e.via for e in events} == {"command"}


def test_create_clinic_reuses_an_existing_account(db, clinic, owner):
    out = run(
        "create_clinic",
        "--name",
        "Second Branch",
        "--state-code",
        "29",
        "--owner-email",
        owner.user.email.upper(),
        "--slug",
        "branch-two",
    )
    assert "existing account" in out
    branch = Clinic.objects.get(slug="branch-two")
    with clinic_scope(branch):
        assert Membership.objects.get().user == owner.user


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--state-code", "99"], "Unknown state code '99'"),
        (["--owner-email", "not-an-email"], "is not a valid email address"),
        (["--owner-email", "new.person@example.in"], "give --owner-name"),
        (["--owner-name", "A Person", "--password", "short"], "Password refused"),
        (["--slug", "asha"], "Another clinic already uses this short name"),
        (["--slug", "has space"], "only letters, digits, hyphens"),
        (["--owner-name", "Some\u202eOne"], "The full name contains an invisible character"),
        (["--name", "Bad Clinic\u202e"], "The clinic name contains an invisible character"),
    ],
)
def test_create_clinic_refuses_bad_input(db, clinic, args, message):
    base = {
        "--name": "Bad Clinic",
        "--state-code": "29",
        "--owner-email": "someone@example.in",
        "--password": "a long enough passphrase",
    }
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    if base["--owner-email"] == "someone@example.in" and "--owner-name" not in base:
        base["--owner-name"] = "Some One"
    argv = [item for pair in base.items() for item in pair]
    with pytest.raises(CommandError, match=message) as exc:
        run("create_clinic", *argv)
    assert exc.value.returncode != 0
    assert not Clinic.objects.filter(name="Bad Clinic").exists()
    # Nothing half-written: no account is left behind when the clinic is refused.
    assert not User.objects.filter(email="someone@example.in").exists()


def test_create_clinic_without_password_and_terminal_is_refused(db, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    with pytest.raises(CommandError, match="Give --password"):
        run(
            "create_clinic",
            "--name",
            "X",
            "--state-code",
            "29",
            "--owner-email",
            "x@example.in",
            "--owner-name",
            "X Y",
        )


# --- create_api_key ---------------------------------------------------------------------------


def test_create_api_key_prints_a_working_token_once(clinic):
    out = run("create_api_key", "--clinic", "asha", "--name", "Lab system", "--role", "doctor")
    token = out.strip().splitlines()[-1]
    assert token.startswith("vdy_")
    assert "read-only" in out and "shown only now" in out
    with clinic_scope(clinic):
        key = ApiKey.objects.get()
        event = AuditEvent.objects.get(action=Actions.API_KEY_CREATED)
    assert key.digest == api_key_digest(token) and token not in key.digest
    assert (key.role, key.read_only) == (Role.DOCTOR, True)
    assert event.via == "command" and event.actor_label == "system"


def test_create_api_key_read_write(clinic):
    out = run(
        "create_api_key",
        "--clinic",
        "asha",
        "--name",
        "Booking site",
        "--role",
        "front-desk",
        "--read-write",
    )
    assert "read and write" in out
    with clinic_scope(clinic):
        assert ApiKey.objects.get().read_only is False


@pytest.mark.parametrize(
    ("clinic_slug", "role", "name", "message"),
    [
        ("nowhere", "doctor", "Lab", "No clinic has the short name 'nowhere'"),
        ("asha", "surgeon", "Lab", "Unknown role 'surgeon'"),
        ("asha", "doctor", "   ", "Give the key a name"),
    ],
)
def test_create_api_key_refuses_bad_input(clinic, clinic_slug, role, name, message):
    with pytest.raises(CommandError, match=message):
        run("create_api_key", "--clinic", clinic_slug, "--name", name, "--role", role)
    with clinic_scope(clinic):
        assert not ApiKey.objects.exists()


# --- check_system -----------------------------------------------------------------------------


def test_check_system_passes_here(db):
    out = run("check_system")
    assert "OK    Python 3." in out
    assert "is writable" in out
    assert "WeasyPrint" in out and "System ready." in out
    assert "Translations compiled" in out


def test_check_system_reports_missing_pango_and_unwritable_data_folder(
    db, settings, tmp_path, monkeypatch
):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    settings.DATA_DIR = not_a_folder
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as without Pango
    err = StringIO()
    with pytest.raises(CommandError, match="2 check"):
        call_command("check_system", stdout=StringIO(), stderr=err)
    assert "apt-get install -y libpango-1.0-0 libpangoft2-1.0-0" in err.getvalue()
    assert "is not writable" in err.getvalue()


def test_check_system_reports_translations_not_compiled(db, settings, tmp_path):
    catalogue = tmp_path / "hi" / "LC_MESSAGES"
    catalogue.mkdir(parents=True)
    (catalogue / "django.po").write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    settings.LOCALE_PATHS = [tmp_path]
    err = StringIO()
    with pytest.raises(CommandError, match="1 check"):
        call_command("check_system", stdout=StringIO(), stderr=err)
    assert "The translations (hi) are not compiled" in err.getvalue()
    assert "apt-get install gettext" in err.getvalue()


# --- permission_matrix ------------------------------------------------------------------------


def test_permission_matrix_prints_the_matrix_and_the_docs_are_current(db):
    out = run("permission_matrix")
    assert matrix_markdown() in out
    assert out == permissions_document()
    assert DOC_PATH.read_text(encoding="utf-8") == out, (
        "docs/permissions.md is stale: run `manage.py permission_matrix --write`"
    )


def test_the_documented_promise_about_clinical_notes_holds():
    for role in (Role.FRONT_DESK, Role.BILLING):
        for perm in (Perm.CLINICAL_VIEW, Perm.CLINICAL_EDIT, Perm.PRESCRIPTIONS_VIEW):
            assert not role_has(role, perm)


# --- run_local --------------------------------------------------------------------------------


def test_run_local_starts_the_workers_and_the_web_server():
    command = run_local.Command()
    names = command.processes("127.0.0.1", 8001)
    assert [name for name, _ in names] == ["qcluster", "runserver"]
    assert names[0][1][-1] == "qcluster"
    assert names[1][1][-3:] == ["runserver", "--noreload", "127.0.0.1:8001"]


def test_run_local_stops_the_other_process_when_one_dies(db, monkeypatch):
    dies = [sys.executable, "-c", "import sys; sys.exit(3)"]
    lingers = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(
        run_local.Command,
        "processes",
        lambda self, host, port: [("qcluster", dies), ("runserver", lingers)],
    )
    started = time.monotonic()
    out = StringIO()
    with pytest.raises(CommandError, match=r"qcluster stopped \(exit status 3\)"):
        call_command("run_local", "--port", "8123", stdout=out)
    # The lingering server was stopped, not waited for.
    assert time.monotonic() - started < 15
    assert "http://127.0.0.1:8123/" in out.getvalue()


def test_run_local_refuses_a_bad_port(db):
    with pytest.raises(CommandError, match="out of range"):
        run("run_local", "--port", "70000")
