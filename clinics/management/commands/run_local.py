"""Run Vaidya on this machine: the django-q2 workers, the development web server and the local
development services (`clinics.registry.local_services`: the WhatsApp simulator, when the
development tools are installed) together.

The web server writes to the terminal; the workers and the services write to log files in the
data folder (`logs/`), so the first screen keeps the address, the demo sign-ins and the
services' pages in view.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinics.demo import DEMO_PASSWORD, DEMO_SLUG, demo_logins
from clinics.models import Clinic
from clinics.registry import LocalService, LocalSite, local_services

POLL_SECONDS = 0.2
STOP_TIMEOUT_SECONDS = 10
WORKERS = "qcluster"
WEB_SERVER = "runserver"


class Command(BaseCommand):
    help = (
        "Start `manage.py qcluster` (background tasks), `runserver` and the local development "
        "services, such as the WhatsApp simulator (the app sends WhatsApp messages to it), "
        "together. Ctrl-C stops them all; if one stops, the others are stopped too."
    )

    # Set by handle(); a simulator port of 0 runs without the local services.
    host, port, sim_port = "127.0.0.1", 8000, 0

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--simulator-port",
            type=int,
            default=8025,
            help="Port of the local WhatsApp simulator; other local services take the next "
            "ones (0: start none of them).",
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
        self.host, self.port, self.sim_port = host, port, sim_port
        self.print_welcome(host, port, sim_port)
        commands = self.processes(host, port)
        started = {name for name, _ in commands}
        services = [s for s in self.services(sim_port) if s.name in started]
        with _stop_signals_interrupt(), ExitStack() as logs:
            failure = supervise(
                commands,
                self.stdout,
                env=self.child_env(sim_port),
                on_started=self.services_started(services, host, port) if services else None,
                outputs={
                    name: logs.enter_context(_log_file(path))
                    for name, path in self.log_files().items()
                    if name in started
                },
            )
        if failure:
            raise CommandError(failure, returncode=1)

    @staticmethod
    def services(sim_port: int) -> list[LocalService]:
        """The registered local services, or none when run without them (port 0)."""
        return list(local_services) if sim_port else []

    @staticmethod
    def site(host: str, port: int, sim_port: int, service: LocalService) -> LocalSite:
        return LocalSite(host=host, port=port, service_port=sim_port + service.port_offset)

    def processes(self, host: str, port: int) -> list[tuple[str, list[str]]]:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        commands = []
        for service in self.services(self.sim_port):
            argv = service.argv(self.site(host, port, self.sim_port, service))
            commands.append((service.name, [sys.executable, manage, *argv]))
        commands += [
            (WORKERS, [sys.executable, manage, "qcluster"]),
            (WEB_SERVER, [sys.executable, manage, "runserver", "--noreload", address]),
        ]
        return commands

    def child_env(self, sim_port: int) -> dict[str, str]:
        """The app's processes know the address they serve on (links and the documents'
        verification QR use it unless SITE_URL is set) and use the local services (send
        WhatsApp messages to the simulator)."""
        env = dict(os.environ)
        env["LOCAL_SITE_URL"] = local_site_url(self.host, self.port)
        for service in self.services(sim_port):
            env.update(service.app_env(self.site(self.host, self.port, sim_port, service)))
        return env

    def services_started(
        self, services: list[LocalService], host: str, port: int
    ) -> Callable[[], None]:
        """What runs once every process was started: each service's `on_started`."""

        def prepare() -> None:
            for service in services:
                if service.on_started is None:
                    continue
                try:
                    service.on_started(self.site(host, port, self.sim_port, service))
                except Exception as exc:  # the app still runs without what it prepares
                    self.stdout.write(f"Could not prepare the {service.title}: {exc}")

        return prepare

    def log_files(self) -> dict[str, Path]:
        """Where the workers and each service write (the web server keeps the terminal)."""
        folder = Path(settings.DATA_DIR) / "logs"
        return {WORKERS: folder / "worker.log"} | {
            service.name: folder / f"{service.name}.log" for service in local_services
        }

    def print_welcome(self, host: str, port: int, sim_port: int = 0) -> None:
        self.stdout.write(self.style.SUCCESS(f"Vaidya: open {local_site_url(host, port)}/"))
        for service in self.services(sim_port):
            for line in service.welcome(self.site(host, port, sim_port, service)):
                self.stdout.write(line)
        if Clinic.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write(f"Demo clinic logins (password for all: {DEMO_PASSWORD}):")
            for role, email in demo_logins():
                self.stdout.write(f"  {role:<18} {email}")
        logs = self.log_files()
        self.stdout.write(f"Background workers' log: {_shown_path(logs[WORKERS])}")
        for service in self.services(sim_port):
            self.stdout.write(f"{service.title}'s log: {_shown_path(logs[service.name])}")
        self.stdout.write("Press Ctrl-C to stop.")


def local_site_url(host: str, port: int) -> str:
    """The address a browser on this machine opens: a wildcard bind is reached on loopback."""
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 (a bind address, not one we bind to)
        host = "127.0.0.1"
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _shown_path(path: Path) -> str:
    """The path relative to the current folder when it is inside it (`data/logs/worker.log`)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@contextmanager
def _log_file(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(f"--- run_local started {datetime.now().isoformat(timespec='seconds')} ---\n")
        log.flush()
        yield log


def supervise(
    commands: list[tuple[str, list[str]]],
    out,
    *,
    env: dict[str, str] | None = None,
    on_started: Callable[[], None] | None = None,
    outputs: dict[str, IO[str]] | None = None,
) -> str:
    """Run the commands until Ctrl-C or until one of them exits; then stop the others.

    `env` is the children's environment; `on_started` runs once they have all been started;
    `outputs` gives a file for a command's output and errors (the others write to the terminal).
    Returns "" after Ctrl-C, or a message naming the process that stopped on its own.
    """
    outputs = outputs or {}
    running: list[tuple[str, subprocess.Popen]] = []
    failure = ""
    try:
        for name, argv in commands:
            output = outputs.get(name)
            process = subprocess.Popen(  # noqa: S603 (our commands)
                argv, env=env, stdout=output, stderr=subprocess.STDOUT if output else None
            )
            running.append((name, process))
        if on_started is not None:
            # In the background: the others must be watched while the simulator starts.
            threading.Thread(target=on_started, daemon=True).start()
        while not failure:
            for name, process in running:
                code = process.poll()
                if code is not None:
                    failure = f"{name} stopped (exit status {code}); stopping the others."
                    if name in outputs:
                        failure += f" Its log: {_shown_path(Path(outputs[name].name))}"
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
        # Stopping has begun: a second Ctrl-C, or the SIGTERM a whole process group receives,
        # must not interrupt the children's shutdown with another traceback.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
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
