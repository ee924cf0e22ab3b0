"""`make run` and `make test` on a newcomer's machine: the system check before them, and a first
screen that shows what they need."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clinics.management.commands import run_local

HARFBUZZ_WARNING = (
    "HarfBuzz-Subset will be required by future versions of WeasyPrint. "
    "Please install this library with your package manager."
)


@pytest.fixture
def weasyprint_without_the_subsetter(tmp_path, monkeypatch):
    """WeasyPrint as it loads on a machine without HarfBuzz's subsetter: with a warning."""
    package = tmp_path / "weasyprint"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"import warnings\nwarnings.warn({HARFBUZZ_WARNING!r}, DeprecationWarning)\n"
        "__version__ = '70.0'\n"
    )
    real = {name: module for name, module in sys.modules.items() if name.startswith("weasyprint")}
    for name in real:
        del sys.modules[name]
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    # The stand-in must not outlive the test: later tests import the real WeasyPrint.
    for name in [n for n in sys.modules if n.startswith("weasyprint")]:
        del sys.modules[name]
    sys.modules.update(real)


def test_the_check_before_the_tests_stops_on_a_weasyprint_warning_with_the_packages_to_install(
    db, weasyprint_without_the_subsetter
):
    err = StringIO()
    with pytest.raises(CommandError, match="1 check"):
        call_command("check_system", "--warnings-are-errors", stdout=StringIO(), stderr=err)
    assert "HarfBuzz-Subset will be required" in err.getvalue()
    assert "apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0" in (
        err.getvalue()
    )


def test_the_check_before_make_run_only_warns_and_says_what_to_install(
    db, weasyprint_without_the_subsetter
):
    out = StringIO()
    call_command("check_system", "--verbosity", "0", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("WARN  WeasyPrint: HarfBuzz-Subset will be required")
    assert "apt-get install -y" in out.getvalue()
    assert "OK " not in out.getvalue()


def test_a_quiet_check_on_a_ready_machine_prints_nothing_but_font_warnings(db):
    out = StringIO()
    call_command("check_system", "--verbosity", "0", stdout=out, stderr=StringIO())
    assert all(line.startswith("WARN") for line in out.getvalue().splitlines())


def test_run_local_writes_the_workers_output_to_a_log_and_names_it(
    db, settings, tmp_path, monkeypatch, capfd
):
    settings.DATA_DIR = tmp_path
    chatty_worker = [
        sys.executable,
        "-c",
        "import sys; print('Enqueued [vaidya] 1', flush=True); sys.exit(3)",
    ]
    lingers = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(
        run_local.Command,
        "processes",
        lambda self, host, port: [("qcluster", chatty_worker), ("runserver", lingers)],
    )
    out = StringIO()
    with pytest.raises(CommandError, match="qcluster stopped") as stopped:
        call_command("run_local", "--port", "8123", "--simulator-port", "0", stdout=out)
    log = tmp_path / "logs" / "worker.log"
    assert "Enqueued [vaidya] 1" in log.read_text()
    assert "Enqueued" not in capfd.readouterr().out
    assert f"Background workers' log: {log}" in out.getvalue()
    assert str(log) in str(stopped.value)


def test_run_local_names_the_simulators_page_and_log_on_its_first_screen(db):
    out = StringIO()
    command = run_local.Command(stdout=out)
    command.print_welcome("127.0.0.1", 8124, 8125)
    shown = out.getvalue()
    assert "Vaidya: open http://127.0.0.1:8124/" in shown
    assert "Patient's phone (WhatsApp simulator): http://127.0.0.1:8125/phone" in shown
    assert "WhatsApp simulator's log: " in shown and "whatsapp_simulator.log" in shown


def test_make_runs_seed_demo_quietly_the_sign_ins_come_from_run_local(db):
    out = StringIO()
    call_command("seed_demo", "--patients", "6", "--if-missing", "--verbosity", "0", stdout=out)
    assert out.getvalue() == "Creating the demo clinic with 6 patients...\n"
    again = StringIO()
    call_command("seed_demo", "--if-missing", "--verbosity", "0", stdout=again)
    assert again.getvalue() == ""


def test_a_second_stop_signal_while_stopping_does_not_interrupt_the_shutdown():
    with run_local._stop_signals_interrupt():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
        # The children are being stopped now: a second Ctrl-C (or the process group's SIGTERM)
        # is ignored instead of raising a second KeyboardInterrupt in the middle of it.
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_links_and_the_verification_qr_point_at_the_port_vaidya_serves_on(tmp_path):
    """`make run PORT=9000` (or `run_local --port 9000`) prints documents whose QR opens."""
    command = run_local.Command()
    command.host, command.port = "127.0.0.1", 9000
    assert command.child_env(0)["LOCAL_SITE_URL"] == "http://127.0.0.1:9000"
    command.host = "0.0.0.0"  # noqa: S104
    assert command.child_env(0)["LOCAL_SITE_URL"] == "http://127.0.0.1:9000"

    shown = subprocess.run(
        ["make", "-s", "-f", "Makefile", "-f", "-", "show-site", "PORT=9000"],  # noqa: S607
        input="show-site:\n\t@echo $$LOCAL_SITE_URL\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "http://127.0.0.1:9000"

    def site_url(**env: str) -> str:
        clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "LOCAL_SITE_URL")}
        shown = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from django.conf import settings; print(settings.SITE_URL)",
            ],
            env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return shown.stdout.strip().splitlines()[-1]

    assert site_url(LOCAL_SITE_URL="http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    # The operator's own SITE_URL always wins.
    assert (
        site_url(LOCAL_SITE_URL="http://127.0.0.1:9000", SITE_URL="https://clinic.example.in")
        == "https://clinic.example.in"
    )
