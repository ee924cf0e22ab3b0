"""Drive a Vaidya benchmark scenario with wrk (Debian's `wrk` package) instead of Python.

The Python load generator (`loadgen.py`) records the server's own time and query count per
request, but it shares the machine's two cores with the server and PostgreSQL and takes a real
part of them. wrk is a small C program: with it the same server answers more requests a second,
which is nearer to what a clinic's many separate browsers and integrations would see.

The scenario's requests are made in Python beforehand (the same `make_request()` the Python run
uses: random patients, unique new patients), written as raw HTTP/1.1 requests to a file, and
replayed in order by a short Lua script. Only loopback targets are allowed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadgen import LOOPBACK, Request

LUA = r"""
local requests, i = {}, 0
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  for r in string.gmatch(data, "(.-)%z") do requests[#requests + 1] = r end
end
function request()
  i = i + 1
  if i > #requests then i = 1 end
  return requests[i]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %.3f %.3f\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""

HEADER = (
    "| scenario | connections | req/s | p50 ms | p95 ms | non-2xx | socket errors |\n"
    "|---|---|---|---|---|---|---|"
)


def available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkResult:
    name: str
    connections: int
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p95_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        return (
            f"| {self.name} | {self.connections} | {self.rps:.0f} | {self.p50_ms:.1f} | "
            f"{self.p95_ms:.1f} | {self.non_2xx} | {self.socket_errors} |"
        )


def _raw(host: str, port: int, request: Request) -> bytes:
    method, path, body, headers = request
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
    raw = head + body
    if b"\0" in raw:
        raise ValueError("A request with a NUL byte cannot be replayed by the wrk script.")
    return raw


def run(
    name: str,
    *,
    host: str,
    port: int,
    make_request: Callable[[], Request],
    connections: int,
    seconds: float,
    expected_rps: int = 2000,
    warmup: float = 1.0,
) -> WrkResult:
    """Replay `make_request()` requests with wrk (one thread, `connections` connections).

    Enough distinct requests are made for `expected_rps` over the warm-up and the run, so that
    requests that create something are not replayed (wrk starts over only past the end).
    """
    if host not in LOOPBACK:
        raise SystemExit(f"Benchmarks only send traffic to loopback addresses, not {host}")
    count = int(expected_rps * (seconds + warmup)) + 100
    with tempfile.TemporaryDirectory(prefix="vaidya-wrk-") as folder:
        script = Path(folder) / "replay.lua"
        script.write_text(LUA)

        def replay(duration: float) -> str:
            data = Path(folder) / "requests.bin"
            with open(data, "wb") as out:
                for _ in range(count):
                    out.write(_raw(host, port, make_request()) + b"\0")
            done = subprocess.run(
                [
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{max(1, round(duration))}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    f"http://{host}:{port}/",
                    "--",
                    str(data),
                ],
                capture_output=True,
                text=True,
                timeout=duration + 60,
                check=True,
            )
            return done.stdout

        if warmup:
            replay(warmup)
        output = replay(seconds)
    line = next((x for x in output.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    requests, duration_us, non_2xx, socket_errors, p50, p95 = line.split()[1:]
    return WrkResult(
        name=name,
        connections=connections,
        requests=int(requests),
        seconds=int(duration_us) / 1_000_000,
        non_2xx=int(non_2xx),
        socket_errors=int(socket_errors),
        p50_ms=float(p50),
        p95_ms=float(p95),
    )
