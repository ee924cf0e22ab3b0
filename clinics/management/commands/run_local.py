"""Run Vaidya on this machine: the django-q2 workers and the development web server together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinics.demo import DEMO_PASSWORD, DEMO_SLUG, demo_logins
from clinics.models import Clinic

POLL_SECONDS = 0.2
STOP_TIMEOUT_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Start `manage.py qcluster` (background tasks) and `runserver` together. Ctrl-C stops "
        "both; if one stops, the other is stopped too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options):
        host, port = options["host"].strip(), options["port"]
        if not host:
            raise CommandError("Give a host name or address with --host.")
        if not 1 <= port <= 65535:
            raise CommandError(f"Port {port} is out of range: use a number from 1 to 65535.")
        self.print_welcome(host, port)
        with _stop_signals_interrupt():
            failure = supervise(self.processes(host, port), self.stdout)
        if failure:
            raise CommandError(failure, returncode=1)

    def processes(self, host: str, port: int) -> list[tuple[str, list[str]]]:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return [
            ("qcluster", [sys.executable, manage, "qcluster"]),
            ("runserver", [sys.executable, manage, "runserver", "--noreload", address]),
        ]

    def print_welcome(self, host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"Vaidya: open http://{shown}:{port}/"))
        if Clinic.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write(f"Demo clinic logins (password for all: {DEMO_PASSWORD}):")
            for role, email in demo_logins():
                self.stdout.write(f"  {role:<18} {email}")
        self.stdout.write("Press Ctrl-C to stop.")


def supervise(commands: list[tuple[str, list[str]]], out) -> str:
    """Run the commands until Ctrl-C or until one of them exits; then stop the others.

    Returns "" after Ctrl-C, or a message naming the process that stopped on its own.
    """
    running: list[tuple[str, subprocess.Popen]] = []
    failure = ""
    try:
        for name, argv in commands:
            running.append((name, subprocess.Popen(argv)))  # noqa: S603 (our own commands)
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
