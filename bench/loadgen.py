"""A small loopback HTTP load generator for Vaidya's benchmarks.

One asyncio process keeps N connections busy (each sends a request, waits for the whole answer,
sends the next), so its own CPU use stays small next to the server's. It speaks plain HTTP/1.1
and reconnects when the server closes the connection (gunicorn's sync workers do after every
response). It records each request's latency and the server's X-Query-Count header.

Only loopback targets are allowed.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Result:
    name: str
    connections: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    query_counts: list[int] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float, values: list[float] | None = None) -> float:
        values = self.latencies_ms if values is None else values
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def queries(self) -> str:
        if not self.query_counts:
            return "-"
        lo, hi = min(self.query_counts), max(self.query_counts)
        return str(lo) if lo == hi else f"{lo}-{hi} (mean {statistics.mean(self.query_counts):.1f})"

    def row(self) -> str:
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        return (
            f"| {self.name} | {self.connections} | {self.rps:.0f} | {self.pct(50):.1f} | "
            f"{self.pct(95):.1f} | {self.pct(50, self.server_ms):.1f} | "
            f"{self.pct(95, self.server_ms):.1f} | {self.queries} | {ok}/{self.requests} |"
        )


HEADER = (
    "| scenario | connections | req/s | p50 ms | p95 ms | server p50 ms | server p95 ms "
    "| queries/request | 2xx |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


async def _one(
    host: str, port: int, req: Request, conn
) -> tuple[int, int | None, float | None, object]:
    method, path, body, headers = req
    if conn is None:
        conn = await asyncio.open_connection(host, port)
    reader, writer = conn
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, close, queries, server_ms = 0, False, None, None
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and "close" in value.lower():
            close = True
        elif name == "x-query-count":
            queries = int(value)
        elif name == "x-server-time-ms":
            server_ms = float(value)
    if length:
        await reader.readexactly(length)
    if close:
        writer.close()
        conn = None
    return status, queries, server_ms, conn


async def _worker(host, port, make_request, deadline, result: Result, record: bool):
    conn = None
    while time.perf_counter() < deadline:
        req = make_request()
        start = time.perf_counter()
        try:
            status, queries, server_ms, conn = await _one(host, port, req, conn)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            conn = None
            continue
        if record:
            result.latencies_ms.append((time.perf_counter() - start) * 1000)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if queries is not None:
                result.query_counts.append(queries)
            if server_ms is not None:
                result.server_ms.append(server_ms)
    if conn is not None:
        conn[1].close()


def run(
    name: str,
    *,
    host: str,
    port: int,
    make_request: Callable[[], Request],
    connections: int,
    seconds: float,
    warmup: float = 1.0,
) -> Result:
    """Drive `make_request()` requests at the server with `connections` at once."""
    if host not in LOOPBACK:
        raise SystemExit(f"Benchmarks only send traffic to loopback addresses, not {host}")

    async def main() -> Result:
        result = Result(name, connections, seconds)
        if warmup:
            end = time.perf_counter() + warmup
            await asyncio.gather(
                *(_worker(host, port, make_request, end, result, False) for _ in range(connections))
            )
        start = time.perf_counter()
        end = start + seconds
        await asyncio.gather(
            *(_worker(host, port, make_request, end, result, True) for _ in range(connections))
        )
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(main())
