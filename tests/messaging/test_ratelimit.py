"""The send-rate limiter holds a number's rate across several worker processes."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from pathlib import Path

import pytest

from messaging.whatsapp.errors import RateLimitTimeout
from messaging.whatsapp.ratelimit import (
    FileBackend,
    RedisBackend,
    SendRateLimiter,
    acquire,
    get_limiter,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
RATE = 20  # sends per second, per number
PROCESSES = 3
SENDS_EACH = 10  # 30 sends: a second and a half at 20 per second


def _limiter(kind: str, where: str) -> SendRateLimiter:
    if kind == "redis":
        return SendRateLimiter(RedisBackend(REDIS_URL, key_prefix=where))
    return SendRateLimiter(FileBackend(where))


def _send_worker(kind, where, number, start, results):
    """One worker process: wait for the others, then take SENDS_EACH slots."""
    limiter = _limiter(kind, where)
    start.wait(60)  # a barrier: every worker and the test are ready
    stamps = []
    for _ in range(SENDS_EACH):
        limiter.acquire(number, rate=RATE)
        stamps.append(time.time())
    results.put(stamps)


def _run_workers(kind: str, where: str, number: str) -> list[float]:
    context = multiprocessing.get_context("spawn")  # no inherited threads, sockets or settings
    start, results = context.Barrier(PROCESSES + 1), context.Queue()
    workers = [
        context.Process(target=_send_worker, args=(kind, where, number, start, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.wait(60)
    stamps = [stamp for _ in workers for stamp in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    return sorted(stamps)


def _busiest_second(stamps: list[float]) -> int:
    """The most sends in any one-second window."""
    return max(sum(1 for t in stamps[i:] if t < start + 1.0) for i, start in enumerate(stamps))


def _assert_rate_held(stamps: list[float]) -> None:
    assert len(stamps) == PROCESSES * SENDS_EACH
    assert _busiest_second(stamps) <= RATE
    # ...and the limiter does not starve: the sends take about as long as the rate allows.
    elapsed = stamps[-1] - stamps[0]
    expected = (len(stamps) - 1) / RATE
    assert expected * 0.95 <= elapsed <= expected * 1.5


@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    prefix = f"vaidya-test-{uuid.uuid4().hex}:"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_processes_sharing_redis_never_exceed_the_rate(redis_prefix):
    _assert_rate_held(_run_workers("redis", redis_prefix, "109876543210001"))


def test_processes_sharing_the_file_fallback_never_exceed_the_rate(tmp_path):
    _assert_rate_held(_run_workers("file", str(tmp_path / "send-rate"), "109876543210001"))


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_numbers_do_not_hold_each_other_up(kind, tmp_path, request):
    where = request.getfixturevalue("redis_prefix") if kind == "redis" else str(tmp_path)
    limiter = _limiter(kind, where)
    started = time.monotonic()
    for number in ("1001", "1002", "1003", "1004"):
        limiter.acquire(number, rate=1)
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_timeout_refuses_at_once_without_taking_a_slot(kind, tmp_path, request):
    where = request.getfixturevalue("redis_prefix") if kind == "redis" else str(tmp_path)
    limiter = _limiter(kind, where)
    limiter.acquire("1001", rate=2)  # the next slot is half a second away
    started = time.monotonic()
    with pytest.raises(RateLimitTimeout) as caught:
        limiter.acquire("1001", rate=2, timeout=0.1)
    assert time.monotonic() - started < 0.1
    assert caught.value.retryable
    # Nothing was reserved: the next caller still gets the slot half a second on, not a second.
    waited = limiter.acquire("1001", rate=2, timeout=1)
    assert 0.3 < waited <= 0.52


def test_acquire_uses_files_in_data_dir_without_redis(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.DATA_DIR = tmp_path
    settings.WHATSAPP_SEND_RATE_PER_SECOND = 10
    assert isinstance(get_limiter().backend, FileBackend)
    started = time.monotonic()
    for _ in range(4):
        acquire("109876543210001")
    assert 0.29 <= time.monotonic() - started < 1.0
    assert list(Path(tmp_path, "whatsapp-send-rate").iterdir())


def test_acquire_uses_redis_when_configured(settings, redis_prefix):
    settings.REDIS_URL = REDIS_URL
    settings.WHATSAPP_RATE_LIMIT_KEY_PREFIX = redis_prefix
    assert isinstance(get_limiter().backend, RedisBackend)
    started = time.monotonic()
    for _ in range(4):
        acquire("109876543210001", rate=10)
    assert 0.29 <= time.monotonic() - started < 1.0


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_slots_reserved_together_are_spaced_and_held_from_other_senders(kind, tmp_path, request):
    where = request.getfixturevalue("redis_prefix") if kind == "redis" else str(tmp_path)
    limiter = _limiter(kind, where)
    started = time.monotonic()
    pacer = limiter.acquire_many("1001", 5, rate=10)
    stamps = []
    for _ in range(5):
        pacer.wait()
        stamps.append(time.monotonic())
    # No slot is used early: the i-th send waits until i tenths of a second after the first
    # slot. (Not the gaps between sends: a busy machine can wake one late, and the next, whose
    # slot has come by then, right after it.)
    assert all(at - started >= 0.095 * i for i, at in enumerate(stamps))
    assert stamps[-1] - started >= 0.395
    with pytest.raises(RuntimeError, match="Every reserved slot"):
        pacer.wait()
    # Another sender's slot comes after the five reserved ones (half a second on).
    limiter.acquire("1001", rate=10)
    assert time.monotonic() - started >= 0.5
