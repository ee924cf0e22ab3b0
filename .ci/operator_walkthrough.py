"""Follow the README's "Running on PostgreSQL, Redis and S3/R2" section from a fresh clone.

The commands are read from the README's blocks marked `<!-- operator: KIND -->`, so the README
and this check cannot drift: `install` and `setup` run as written, `env` becomes `.env` as
written, `clinic` runs with `--password` added (CI has no terminal to ask on), and each line of
`serve` starts a long-running process. The environment points the README's placeholders at
local services, as an operator's would (the environment wins over `.env`): a fresh PostgreSQL
database, a Redis server of its own (redis-server) and `rclone serve s3` (the tests' S3 server).
Then a doctor issues a certificate and its PDF must land in the bucket, rendered by the worker.
Everything is removed afterwards. Run from the repository root: `.venv/bin/python
.ci/operator_walkthrough.py`.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redis
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, running_s3_server  # noqa: E402

BLOCK = re.compile(r"<!-- operator: (\w+) -->\n```\w*\n(.*?)```", re.S)
PG = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": os.environ.get("PGPORT", "5432")}
HOST = "clinic.example.in"  # the README's host name, which the requests below use
PDF_TIMEOUT = 90

# Run in the clone once the clinic exists: the owner practises, registers a patient and issues a
# sickness certificate. Its PDF is rendered by the worker (the task goes through Redis).
ISSUE = """
from datetime import timedelta
from django.utils import timezone
from clinics.models import Clinic, Membership
from clinics.services import doctor_profile_update
from clinics.tenancy import in_clinic
from patients.services.certificates import certificate_issue
from patients.services.patients import patient_create

clinic = Clinic.objects.get()
with in_clinic(clinic.pk, via="command"):
    owner = Membership.objects.select_related("user").get(clinic=clinic)
    doctor_profile_update(membership=owner, actor=owner.user, qualifications="MBBS",
                          medical_council="Karnataka Medical Council", registration_number="KMC-1")
    patient = patient_create(clinic=clinic, actor=owner.user, full_name="Ravi Kumar", sex="M",
                             age_years=40, phone="+919876543210")
    today = timezone.localdate()
    certificate_issue(patient=patient, kind="sickness", effective_from=today,
                      effective_to=today + timedelta(days=1), condition="Viral fever",
                      identification_mark="Mole on the left cheek", actor=owner.user,
                      actor_membership=owner)
print("certificate issued")
"""


STARTED = time.monotonic()


def step(message: str) -> None:
    print(f"-- [{time.monotonic() - STARTED:5.1f} s] {message}", flush=True)


def readme_blocks() -> dict[str, str]:
    blocks = dict(BLOCK.findall((REPO / "README.md").read_text()))
    missing = {"install", "env", "setup", "clinic", "serve"} - set(blocks)
    if missing:
        raise SystemExit(f"README.md lacks the operator block(s): {', '.join(sorted(missing))}")
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    name = f"vaidya_readme_{os.getpid()}"
    with psycopg.connect(**PG, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@{PG['host']}:{PG['port']}/{name}"
    finally:
        with psycopg.connect(**PG, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clone(into: Path) -> Path:
    """A fresh clone of this checkout's commit, sharing its venv: the venv was installed from
    the same lock file, so the README's `make install` finds it up to date."""
    target = into / "vaidya"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)  # noqa: S603, S607
    lock = "requirements/lock.txt"
    if not filecmp.cmp(REPO / lock, target / lock, shallow=False):
        raise SystemExit("The checkout's lock file has uncommitted changes: commit them first.")
    (target / ".venv").symlink_to((REPO / ".venv").resolve())
    marker = REPO / ".venv" / "bin" / ".installed"
    if not marker.exists():
        raise SystemExit(f"{marker} is missing: run `make install` in {REPO} first.")
    stamp = marker.stat().st_mtime
    os.utime(target / lock, (stamp - 1, stamp - 1))
    return target


# Each command of a block is printed as the README writes it (not expanded: no key in the log),
# with the seconds since the block began.
TRACE = """trap 'echo "+ [${SECONDS} s] ${BASH_COMMAND}" >&2' DEBUG\n"""


def run_block(script: str, cwd: Path, env: dict[str, str]) -> None:
    """Run a README block as written, in bash with -euo pipefail."""
    subprocess.run(  # noqa: S603
        ["bash", "-euo", "pipefail", "-c", TRACE + script],  # noqa: S607
        cwd=cwd,
        env=env,
        check=True,
    )


def wait_for_web(url: str, processes: list[subprocess.Popen]) -> requests.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("A process of the serve block stopped; see its log above.")
        with contextlib.suppress(requests.ConnectionError):
            return requests.get(
                url,
                headers={"Host": HOST, "X-Forwarded-Proto": "https"},
                allow_redirects=False,
                timeout=10,
            )
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer at {url} within 60 s")


def wait_for_pdf(server, bucket: str, processes: list[subprocess.Popen]) -> str:
    deadline = time.monotonic() + PDF_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("A process of the serve block stopped; see its log above.")
        pdfs = [key for key in server.keys(bucket) if key.endswith(".pdf")]
        if pdfs:
            body = server.get(bucket, pdfs[0])["Body"]
            if not body.startswith(b"%PDF-"):
                raise SystemExit(f"{pdfs[0]} in the bucket is not a PDF")
            return pdfs[0]
        time.sleep(0.5)
    raise SystemExit(f"No PDF reached the bucket within {PDF_TIMEOUT} s")


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each program itself, as a supervisor stops it (a signal to all of django-q's
    processes at once leaves its cluster waiting for children already gone), then whatever is
    left of its process group is killed."""
    started = time.monotonic()
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
            print(f"   {process.args[-1]}: stopped in {time.monotonic() - started:.1f} s")
        except subprocess.TimeoutExpired:
            print(f"   {process.args[-1]}: did not stop within 30 s; killed", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def check_logs(logs: list[Path]) -> None:
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 ")
    for log in logs:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line[:2] == "20"]
        wrong = [line for line in lines if not stamp.match(line)]
        if not lines or wrong:
            raise SystemExit(f"{log.name}: lines not stamped in UTC: {wrong[:3] or 'none at all'}")


def walkthrough(work: Path, blocks: dict[str, str], services: dict[str, str], server) -> None:
    started = time.monotonic()
    checkout = clone(work)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "VAIDYA_", "S3_", "RCLONE_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEYS", "DEBUG")
    }
    port = free_port()
    env |= services | {"GUNICORN_BIND": f"127.0.0.1:{port}", "Q_WORKERS": "1", "EMAIL_URL": ""}
    step("README: install")
    run_block(blocks["install"], checkout, env)
    (checkout / ".env").write_text(blocks["env"])
    step("README: keys, check-deploy, migrate, collectstatic, sync_schedules")
    run_block(blocks["setup"], checkout, env)
    step("README: create_clinic")
    run_block(blocks["clinic"].strip() + f" --password {secrets.token_urlsafe(16)}", checkout, env)
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        for number, line in enumerate(blocks["serve"].strip().splitlines()):
            step(f"README: {line}")
            logs.append(work / f"serve-{number}.log")
            processes.append(
                subprocess.Popen(  # noqa: S603
                    ["bash", "-c", f"exec {line}"],  # noqa: S607
                    cwd=checkout,
                    env=env,
                    stdout=logs[-1].open("w"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        answer = wait_for_web(f"http://127.0.0.1:{port}/accounts/login/", processes)
        if answer.status_code != 200:
            raise SystemExit(f"The sign-in page answered {answer.status_code} through the proxy")
        plain = requests.get(
            f"http://127.0.0.1:{port}/accounts/login/",
            headers={"Host": HOST},
            allow_redirects=False,
            timeout=10,
        )
        if plain.status_code != 301 or not plain.headers["Location"].startswith("https://"):
            raise SystemExit(f"Plain HTTP answered {plain.status_code}, not a redirect to https")
        step("a doctor issues a certificate; the worker renders its PDF into the bucket")
        subprocess.run(  # noqa: S603
            [".venv/bin/python", "manage.py", "shell", "-c", ISSUE],
            cwd=checkout,
            env=env,
            check=True,
        )
        key = wait_for_pdf(server, services["S3_BUCKET"], processes)
        step(f"{key} is in the bucket, {time.monotonic() - started:.0f} s after the clone")
    finally:
        stop(processes)
        step("stopped the web server and the worker")
        for log in logs:
            print(f"---- {log.name}\n" + log.read_text(errors="replace")[-3000:], flush=True)
    check_logs(logs)


@contextlib.contextmanager
def own_redis() -> Iterator[str]:
    """A Redis server for this walkthrough alone, on a free loopback port, keeping nothing."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    blocks = readme_blocks()
    with (
        tempfile.TemporaryDirectory(prefix="vaidya-readme-") as tmp,
        fresh_database() as database_url,
        own_redis() as redis_url,
        running_s3_server() as server,
    ):
        bucket = server.create_bucket("vaidya-readme")
        services = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": server.endpoint_url,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }
        walkthrough(Path(tmp), blocks, services, server)
        step("removing the clone, the bucket, Redis and the database")
    print("The README's PostgreSQL, Redis and S3 section works from a fresh clone.")


if __name__ == "__main__":
    main()
