"""Vaidya's patient API against a bare DRF app doing the same jobs: the ratio of their rates.

    .venv/bin/python bench/api_ratio_bench.py [--patients 100000] [--seconds 6] [--rounds 3]
    .venv/bin/python bench/api_ratio_bench.py --vaidya-root /path/to/another/checkout

Seeds (once) Vaidya's database (`vaidya_actor_bench`, the same seed as `bench/api_bench.py`) and
the bare app's (`vaidya_actor_bare`, `bench/bare_api/`) with the same number of patients, serves
both with gunicorn (2 sync workers each, `config/gunicorn.conf.py` for Vaidya), and replays each
scenario with wrk (4 connections) against one server, then the other, alternating which goes
first, for --rounds rounds. Prints each side's median rate and the ratio Vaidya / bare for the
patient list (page of 20), name search, a record and registering a patient. Only one server is
under load at a time; both share the machine with PostgreSQL and wrk.

--vaidya-root serves Vaidya's code from another checkout (for a before/after comparison); the
database and the seed stay the same.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import api_bench  # noqa: E402
import wrkgen  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SCENARIOS = ("list", "search", "detail", "create")


def _serve(cmd: list[str], *, cwd: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [*cmd, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    api_bench.wait_for_port(port)
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _seed_bare(n_patients: int, db: str) -> dict:
    api_bench.ensure_database(db)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bare_api.settings", "BARE_DB": db}
    done = subprocess.run(
        [PYTHON, "-m", "bare_api.seed", str(n_patients)],
        cwd=HERE,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _requests(token: str, ids: list[int], names: list[str], run_id: int) -> dict:
    """Request makers per scenario; the same for both servers (JSON in, JSON out)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    post = {**headers, "Content-Type": "application/json"}
    rng = random.Random(7)
    counter = itertools.count()

    def create() -> tuple:
        n = next(counter)
        body = {
            "full_name": f"Ratio Patient {run_id} {n}",
            "sex": "F",
            "date_of_birth": "1990-04-01",
            "phone": f"+917{run_id:05d}{n % 10000:04d}",
            "confirm_duplicate": True,
        }
        return ("POST", "/api/v1/patients/", json.dumps(body).encode(), post)

    return {
        "list": lambda: ("GET", "/api/v1/patients/?page_size=20", b"", headers),
        "search": lambda: ("GET", f"/api/v1/patients/?q={quote(rng.choice(names))}", b"", headers),
        "detail": lambda: ("GET", f"/api/v1/patients/{rng.choice(ids)}/", b"", headers),
        "create": create,
    }


def _bare_create_maker(make):
    """The bare app's serializer knows no `confirm_duplicate`: leave it out of the body."""

    def maker() -> tuple:
        method, path, body, headers = make()
        data = json.loads(body)
        data.pop("confirm_duplicate", None)
        return method, path, json.dumps(data).encode(), headers

    return maker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--db", default="vaidya_actor_bench")
    parser.add_argument("--bare-db", default="vaidya_actor_bare")
    parser.add_argument("--port", type=int, default=0, help="default: two free ports")
    parser.add_argument("--vaidya-root", type=Path, default=ROOT)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()
    if not wrkgen.available():
        raise SystemExit("wrk is not installed: apt-get install wrk")
    scenarios = [s for s in args.scenarios.split(",") if s]

    api_bench.ensure_database(args.db)
    env = api_bench.bench_env(args.db)
    env["QUERY_COUNT_HEADER"] = "false"
    (Path(env["VAIDYA_DATA_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    vaidya = api_bench.seed(args.patients)
    bare = _seed_bare(args.patients, args.bare_db)
    run_id = int(time.time()) % 100000
    makers = {
        "Vaidya": _requests(vaidya["token"], vaidya["ids"], vaidya["names"], run_id),
        "bare": _requests(bare["token"], bare["ids"], vaidya["names"], run_id),
    }
    makers["bare"]["create"] = _bare_create_maker(makers["bare"]["create"])

    ports = {
        "Vaidya": args.port or _free_port(),
        "bare": args.port + 1 if args.port else _free_port(),
    }
    vaidya_root = args.vaidya_root.resolve()
    servers = {
        "Vaidya": _serve(
            [GUNICORN, "-c", str(vaidya_root / "config" / "gunicorn.conf.py"), "config.wsgi"],
            cwd=vaidya_root,
            env={**env, "PYTHONPATH": str(vaidya_root)},
            port=ports["Vaidya"],
        ),
        "bare": _serve(
            [GUNICORN, "bare_api.wsgi"],
            cwd=HERE,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "bare_api.settings",
                "BARE_DB": args.bare_db,
                "PYTHONPATH": str(HERE),
            },
            port=ports["bare"],
        ),
    }
    try:
        for side, port in ports.items():
            _check_answers(side, port, makers[side]["list"])
        rates = _run_rounds(args, scenarios, makers, ports)
    finally:
        for server in servers.values():
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
    print(
        f"\n{args.patients:,} patients, wrk with {args.connections} connections, "
        f"{args.seconds:.0f} s a run, {args.rounds} rounds (median req/s); Vaidya from "
        f"{vaidya_root}\n"
    )
    _print_table(scenarios, rates)


def _check_answers(side: str, port: int, make) -> None:
    """One request before the runs: a server that does not answer 200 is not measured."""
    method, path, _, headers = make()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{side} answers {exc.code} to {method} {path}") from exc
        except OSError as exc:
            if time.time() > deadline:
                raise SystemExit(f"{side} does not answer {method} {path}: {exc}") from exc
        time.sleep(0.5)


def _run_rounds(args, scenarios: list[str], makers: dict, ports: dict) -> dict:
    """Replay every scenario on each side, alternating which side goes first each round."""
    rates: dict[tuple[str, str], list[float]] = {}
    for round_no in range(args.rounds):
        order = ["Vaidya", "bare"] if round_no % 2 == 0 else ["bare", "Vaidya"]
        for scenario in scenarios:
            for side in order:
                result = wrkgen.run(
                    f"{side} {scenario}",
                    host="127.0.0.1",
                    port=ports[side],
                    make_request=makers[side][scenario],
                    connections=args.connections,
                    seconds=args.seconds,
                    expected_rps=1500,
                )
                flag = "  <- errors" if result.non_2xx or result.socket_errors else ""
                print(f"  round {round_no + 1}: {result.row()}{flag}", flush=True)
                rates.setdefault((side, scenario), []).append(result.rps)
    return rates


def _print_table(scenarios: list[str], rates: dict) -> None:
    """Per scenario: each side's median rate, the ratio of the medians, and the median of the
    rounds' own ratios (each round's two runs are minutes apart at most, so that one moves
    less with the rest of the machine's load)."""
    print("| scenario | Vaidya req/s | bare req/s | ratio | by round | Vaidya runs | bare runs |")
    print("|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        ours, theirs = rates[("Vaidya", scenario)], rates[("bare", scenario)]
        ratio = statistics.median(ours) / statistics.median(theirs)
        by_round = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
        print(
            f"| {scenario} | {statistics.median(ours):.0f} | {statistics.median(theirs):.0f} | "
            f"{ratio:.2f} | {by_round:.2f} | {' '.join(f'{r:.0f}' for r in ours)} | "
            f"{' '.join(f'{r:.0f}' for r in theirs)} |"
        )


if __name__ == "__main__":
    main()
