"""Fuzz every operation of the API schema against a live Vaidya with schemathesis.

    .venv/bin/python tests/fuzz/run_api_fuzz.py [--max-examples N] [--seed S]
        [--include-path-regex '^/api/v1/bills/']

Sets up a throwaway data folder (SQLite), migrates, seeds the demo clinic, creates a
read-write and a read-only API key, starts gunicorn on a free loopback port with production
settings (DEBUG off, served over plain http, static files not collected: tests/fuzz/settings.py),
and runs schemathesis over every operation in
/api/schema/ once with each key, with a fixed seed. It fails on any server error, any response
that breaks the schema or the error shape, any schema-valid request refused for a rule the
schema does not declare (`tests/fuzz/hooks.py`), and any schema-invalid request accepted.
Exits 0 only when both runs are clean.
"""

from __future__ import annotations

import argparse
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python")
TOKEN_RE = re.compile(r"^vdy_\S+$", re.MULTILINE)
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "refused_only_for_declared_rules",
        "negative_data_rejection",
        "error_shape",
    ]
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _api_key(env: dict[str, str], *, name: str, read_write: bool) -> str:
    args = ["create_api_key", "--clinic", "demo", "--name", name, "--role", "owner"]
    out = _manage(env, *args, *(["--read-write"] if read_write else []))
    match = TOKEN_RE.search(out)
    if match is None:
        sys.exit(f"create_api_key printed no token:\n{out}")
    return match.group(0)


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"The server stopped with status {server.returncode}.")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"The server did not answer {url} within {seconds:.0f} s.")


def _show_errors(log: Path) -> None:
    """The server's tracebacks, if any, for a failed run."""
    text = log.read_text(errors="replace") if log.exists() else ""
    if "Traceback" in text:
        print("== server log (tracebacks)", flush=True)
        print(text[-20000:], flush=True)


def _fuzz(base: str, token: str, label: str, args: argparse.Namespace, workdir: Path) -> bool:
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}/api/schema/",
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--seed",
        str(args.seed),
        "--max-examples",
        str(args.max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--continue-on-failure",
        *(["--include-path-regex", args.include_path_regex] if args.include_path_regex else []),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT)}
    print(f"== schemathesis with the {label} key", flush=True)
    started = time.monotonic()
    # Run from the data folder: schemathesis keeps its cache in the working directory.
    done = subprocess.run(command, cwd=workdir, env=env, check=False)  # noqa: S603
    print(
        f"== {label} key: exit {done.returncode} in {time.monotonic() - started:.0f} s", flush=True
    )
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--only", choices=["read-write", "read-only"])
    parser.add_argument(
        "--include-path-regex",
        default="",
        help="Only the operations whose path matches (for example '^/api/v1/bills/').",
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="vaidya-fuzz-"))
    env = {
        **os.environ,
        "VAIDYA_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'vaidya.sqlite3'}",
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "tests.fuzz.settings",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
        "Q_SYNC": "false",
    }
    server = None
    try:
        started = time.monotonic()
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        _manage(env, "seed_demo", "--patients", str(args.patients), "--verbosity", "0")
        keys = {
            "read-write": _api_key(env, name="fuzz read-write", read_write=True),
            "read-only": _api_key(env, name="fuzz read-only", read_write=False),
        }
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        # The server's log goes to a file, shown when a run fails.
        server_log = (data_dir / "server.log").open("w")
        server = subprocess.Popen(  # noqa: S603 (gunicorn from our venv, fixed arguments)
            [
                *(str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "2", "--threads", "2", "--timeout", "60", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        _wait_for(f"{base}/api/schema/", server)
        print(f"== server ready on {base} after {time.monotonic() - started:.0f} s", flush=True)
        ok = True
        for label, token in keys.items():
            if args.only and label != args.only:
                continue
            ok = _fuzz(base, token, label, args, data_dir) and ok
        print(f"== fuzzing took {time.monotonic() - started:.0f} s in all", flush=True)
        if not ok:
            _show_errors(data_dir / "server.log")
        return 0 if ok else 1
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
