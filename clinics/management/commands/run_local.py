"""Run Vaidya on this machine: the django-q2 workers, the development web server and the local
WhatsApp simulator together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from clinics.demo import DEMO_PASSWORD, DEMO_SLUG, demo_logins
from clinics.models import Clinic

POLL_SECONDS = 0.2
STOP_TIMEOUT_SECONDS = 10
SIMULATOR_START_SECONDS = 60


class Command(BaseCommand):
    help = (
        "Start `manage.py qcluster` (background tasks), `runserver` and the local WhatsApp "
        "simulator together (the app sends WhatsApp messages to the simulator). Ctrl-C stops "
        "them all; if one stops, the others are stopped too."
    )

    sim_port = 0  # set by handle(); 0 runs without the simulator

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--simulator-port",
            type=int,
            default=8025,
            help="Port of the local WhatsApp simulator (0: do not start it).",
        )

    def handle(self, *args, **options):
        host, port = options["host"].strip(), options["port"]
        sim_port = options["simulator_port"]
        if not host:
            raise CommandError("Give a host name or address with --host.")
        if not 1 <= port <= 65535:
            raise CommandError(f"Port {port} is out of range: use a number from 1 to 65535.")
        if not 0 <= sim_port <= 65535 or sim_port == port:
            raise CommandError(
                f"Simulator port {sim_port} is not usable: use a free port from 1 to 65535 "
                "other than the web server's, or 0 to run without the simulator."
            )
        self.sim_port = sim_port
        self.print_welcome(host, port, sim_port)
        commands = self.processes(host, port)
        on_started = None
        if any(name == "whatsapp_simulator" for name, _ in commands):
            on_started = lambda: self.prepare_simulator(sim_port)  # noqa: E731
        with _stop_signals_interrupt():
            failure = supervise(
                commands, self.stdout, env=self.child_env(sim_port), on_started=on_started
            )
        if failure:
            raise CommandError(failure, returncode=1)

    def processes(self, host: str, port: int) -> list[tuple[str, list[str]]]:
        sim_port = self.sim_port
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        commands = []
        if sim_port:
            commands.append(
                ("whatsapp_simulator", self.simulator_command(manage, host, port, sim_port))
            )
        commands += [
            ("qcluster", [sys.executable, manage, "qcluster"]),
            ("runserver", [sys.executable, manage, "runserver", "--noreload", address]),
        ]
        return commands

    def simulator_command(self, manage: str, host: str, port: int, sim_port: int) -> list[str]:
        from messaging import demo

        shown = f"[{host}]" if ":" in host else host
        webhook_path = _demo_webhook_path()
        argv = [
            sys.executable,
            manage,
            "whatsapp_simulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(sim_port),
            "--phone-number-id",
            demo.DEMO_PHONE_NUMBER_ID,
            "--token",
            demo.DEMO_ACCESS_TOKEN,
            "--app-secret",
            demo.DEMO_APP_SECRET,
            "--waba-id",
            demo.DEMO_WABA_ID,
            "--display-phone-number",
            demo.DEMO_SIM_DISPLAY_NUMBER,
            "--auto-approve-templates",
        ]
        if webhook_path:
            argv += ["--webhook-url", f"http://{shown}:{port}{webhook_path}"]
        return argv

    def child_env(self, sim_port: int) -> dict[str, str] | None:
        """The app's processes send WhatsApp messages to the simulator."""
        if not sim_port:
            return None
        return {**os.environ, "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{sim_port}"}

    def prepare_simulator(self, sim_port: int) -> None:
        """Once the simulator listens, give it the demo clinic's approved templates."""
        if not _wait_for_port(sim_port, SIMULATOR_START_SECONDS):
            self.stdout.write("The WhatsApp simulator did not start listening in time.")
            return
        from messaging.demo import demo_simulator_setup

        try:
            demo_simulator_setup(base_url=f"http://127.0.0.1:{sim_port}")
        except Exception as exc:  # the demo still runs without its templates
            self.stdout.write(f"Could not give the simulator the demo templates: {exc}")
        finally:
            connection.close()  # this ran in its own thread

    def print_welcome(self, host: str, port: int, sim_port: int = 0) -> None:
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"Vaidya: open http://{shown}:{port}/"))
        if sim_port:
            self.stdout.write(
                f"Patient's phone (WhatsApp simulator): http://127.0.0.1:{sim_port}/phone"
            )
            if not _demo_webhook_path():
                self.stdout.write(
                    "  No demo WhatsApp number yet: run `manage.py seed_demo` to connect one."
                )
        if Clinic.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write(f"Demo clinic logins (password for all: {DEMO_PASSWORD}):")
            for role, email in demo_logins():
                self.stdout.write(f"  {role:<18} {email}")
        self.stdout.write("Press Ctrl-C to stop.")


def _demo_webhook_path() -> str:
    """The demo clinic's webhook path when its number is the simulator's, else ""."""
    from clinics.tenancy import clinic_scope
    from messaging import demo
    from messaging.models import WhatsAppAccount

    clinic = Clinic.objects.filter(slug=DEMO_SLUG).first()
    if clinic is None:
        return ""
    with clinic_scope(clinic):
        account = WhatsAppAccount.objects.filter(
            clinic=clinic, phone_number_id=demo.DEMO_PHONE_NUMBER_ID
        ).first()
    return f"/webhooks/whatsapp/{account.webhook_key}/" if account else ""


def _wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(POLL_SECONDS)
    return False


def supervise(
    commands: list[tuple[str, list[str]]],
    out,
    *,
    env: dict[str, str] | None = None,
    on_started=None,
) -> str:
    """Run the commands until Ctrl-C or until one of them exits; then stop the others.

    `env` is the children's environment; `on_started` runs once they have all been started.
    Returns "" after Ctrl-C, or a message naming the process that stopped on its own.
    """
    running: list[tuple[str, subprocess.Popen]] = []
    failure = ""
    try:
        for name, argv in commands:
            running.append((name, subprocess.Popen(argv, env=env)))  # noqa: S603 (our commands)
        if on_started is not None:
            # In the background: the others must be watched while the simulator starts.
            threading.Thread(target=on_started, daemon=True).start()
        while not failure:
            for name, process in running:
                code = process.poll()
                if code is not None:
                    failure = f"{name} stopped (exit status {code}); stopping the others."
                    break
            else:
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        out.write("Stopping...")
    finally:
        _stop_all(running)
    return failure


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Ctrl-C and `kill` both stop the pair, even where SIGINT was ignored on start-up (a
    shell's background job)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(running: list[tuple[str, subprocess.Popen]]) -> None:
    # SIGTERM rather than SIGINT: a child may have inherited an ignored SIGINT. Both the
    # cluster and the web server shut down cleanly on SIGTERM.
    for _, process in running:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for _, process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
