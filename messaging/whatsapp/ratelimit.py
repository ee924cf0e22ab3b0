"""Hold each sending number under Meta's throughput limit across every worker process.

Meta allows 80 messages per second per business phone number by default (raised to 1,000 for
busy numbers; 20 for numbers shared with the WhatsApp Business app) and answers 130429 beyond
that. `acquire(phone_number_id)` blocks until the number may send once more.

How: GCRA in its simplest form (a "virtual scheduling" meter with no burst). The state per
number is one timestamp, the earliest time the next send may go (the theoretical arrival time,
TAT). Each caller atomically reserves the slot at max(TAT, now), moves TAT one interval on, and
sleeps until its slot. Sends of one number are therefore spaced at least one interval apart, so
no one-second window ever holds more than `rate` of them, however many processes send. The
interval carries a 2 % margin: our workers' sends reach Meta with network jitter, and a send
that leaves late must not squeeze an extra one into Meta's window.

Where the state lives:
- Redis, when settings.REDIS_URL is set: one key per number, updated by a Lua script using the
  Redis server's clock (so several machines agree). Required when workers run on more than one
  machine.
- Otherwise a small state file per number under settings.DATA_DIR/whatsapp-send-rate/, updated
  under an exclusive `flock`. That holds across all processes on one machine (the embedded
  default: SQLite, the ORM broker, one host), needs no migration and no new service.
  (fcntl: Linux and macOS, which is where Vaidya runs.)

Settings (read with defaults):
    WHATSAPP_SEND_RATE_PER_SECOND     80
    WHATSAPP_RATE_LIMIT_KEY_PREFIX    "vaidya:"  (Redis key prefix)
    REDIS_URL, DATA_DIR               as configured for the rest of Vaidya
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
import time
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings

from messaging.whatsapp.errors import RateLimitTimeout, TransientError

DEFAULT_RATE_PER_SECOND = 80.0
DEFAULT_KEY_PREFIX = "vaidya:"
SAFETY_MARGIN = 0.02
# A stored slot further ahead than this is from a clock that jumped back: start afresh.
MAX_AHEAD_SECONDS = 300.0


class Backend(Protocol):
    def reserve(self, key: str, interval: float, max_wait: float | None) -> float | None:
        """Reserve the next slot for `key`: seconds until it, or None (nothing reserved) when
        it is more than `max_wait` seconds away."""


class RedisBackend:
    """The slot state in Redis, shared by every machine using the same server."""

    # KEYS[1] = state key; ARGV[1] = interval (µs); ARGV[2] = max wait (µs, -1 = unlimited);
    # ARGV[3] = max ahead (µs). Returns the wait in µs, or -1 if it exceeds the max wait.
    SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now or tat > now + tonumber(ARGV[3]) then tat = now end
local wait = tat - now
if max_wait >= 0 and wait > max_wait then return -1 end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
           'PX', math.ceil((next_tat - now) / 1000) + 1000)
return wait
"""

    def __init__(self, url: str, *, key_prefix: str = DEFAULT_KEY_PREFIX):
        self.key_prefix = key_prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._redis.register_script(self.SCRIPT)

    def reserve(self, key: str, interval: float, max_wait: float | None) -> float | None:
        args = [
            round(interval * 1_000_000),
            -1 if max_wait is None else round(max_wait * 1_000_000),
            round(MAX_AHEAD_SECONDS * 1_000_000),
        ]
        try:
            wait_us = int(
                self._script(keys=[f"{self.key_prefix}whatsapp:send-rate:{key}"], args=args)
            )
        except redis.RedisError:
            raise TransientError(
                "The send-rate limiter (Redis) is unavailable.", title="Rate limiter"
            ) from None
        return None if wait_us < 0 else wait_us / 1_000_000


class FileBackend:
    """The slot state in one small file per number, updated under an exclusive flock."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        safe = key if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key) else None
        return self.directory / f"{safe or hashlib.sha256(key.encode()).hexdigest()[:32]}.slot"

    def reserve(self, key: str, interval: float, max_wait: float | None) -> float | None:
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = time.time()
            try:
                tat = float(os.pread(fd, 64, 0).decode("ascii").strip() or 0)
            except (UnicodeDecodeError, ValueError):
                tat = 0.0
            if tat < now or tat > now + MAX_AHEAD_SECONDS:
                tat = now
            wait = tat - now
            if max_wait is not None and wait > max_wait:
                return None
            state = f"{tat + interval:.6f}".encode("ascii")
            os.ftruncate(fd, 0)
            os.pwrite(fd, state, 0)
            return wait
        finally:
            os.close(fd)  # closing releases the flock


class SendRateLimiter:
    """Blocks callers so each key (a sending number) stays under `rate` sends per second."""

    def __init__(self, backend: Backend, *, rate: float | None = None):
        self.backend = backend
        self.rate = rate

    def acquire(
        self, phone_number_id: str, *, rate: float | None = None, timeout: float | None = None
    ) -> float:
        """Wait for this number's next send slot; returns the seconds waited. Raises
        RateLimitTimeout at once (reserving nothing) if the slot is more than `timeout` away."""
        rate = float(rate or self.rate or _setting_rate())
        if rate <= 0:
            raise ValueError("The send rate must be positive.")
        interval = (1.0 + SAFETY_MARGIN) / rate
        wait = self.backend.reserve(str(phone_number_id), interval, timeout)
        if wait is None:
            raise RateLimitTimeout(
                "This WhatsApp number is sending at its limit; try again shortly.",
                title="Send rate limit",
                retry_after=max(1.0, float(timeout or 0)),
            )
        if wait > 0:
            time.sleep(wait)
        return wait

    def acquire_many(
        self,
        phone_number_id: str,
        count: int,
        *,
        rate: float | None = None,
        timeout: float | None = None,
    ) -> Pacer:
        """Reserve `count` consecutive slots in one call (one Redis round trip instead of
        `count`); the returned pacer spaces the sends one interval apart. Slots a caller does
        not use are simply lost (the number sends a little slower, never faster)."""
        if count < 1:
            raise ValueError("Reserve at least one slot.")
        rate = float(rate or self.rate or _setting_rate())
        if rate <= 0:
            raise ValueError("The send rate must be positive.")
        interval = (1.0 + SAFETY_MARGIN) / rate
        wait = self.backend.reserve(str(phone_number_id), interval * count, timeout)
        if wait is None:
            raise RateLimitTimeout(
                "This WhatsApp number is sending at its limit; try again shortly.",
                title="Send rate limit",
                retry_after=max(1.0, float(timeout or 0)),
            )
        return Pacer(start=time.monotonic() + wait, interval=interval, count=count)


class Pacer:
    """Consecutive send slots reserved together: `wait()` before each send."""

    def __init__(self, *, start: float, interval: float, count: int):
        self.start, self.interval, self.count = start, interval, count
        self.used = 0

    def wait(self) -> float:
        """Sleep until the next reserved slot; returns the seconds waited."""
        if self.used >= self.count:
            raise RuntimeError("Every reserved slot has been used.")
        due = self.start + self.used * self.interval
        self.used += 1
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
            return delay
        return 0.0


def _setting_rate() -> float:
    return float(getattr(settings, "WHATSAPP_SEND_RATE_PER_SECOND", DEFAULT_RATE_PER_SECOND))


_limiters: dict[tuple, SendRateLimiter] = {}
_limiters_lock = threading.Lock()


def get_limiter() -> SendRateLimiter:
    """The limiter the settings call for (Redis when REDIS_URL is set, else files in DATA_DIR)."""
    redis_url = getattr(settings, "REDIS_URL", "") or ""
    prefix = getattr(settings, "WHATSAPP_RATE_LIMIT_KEY_PREFIX", DEFAULT_KEY_PREFIX)
    directory = Path(settings.DATA_DIR) / "whatsapp-send-rate"
    config = (redis_url, prefix) if redis_url else ("", str(directory))
    with _limiters_lock:
        limiter = _limiters.get(config)
        if limiter is None:
            backend = (
                RedisBackend(redis_url, key_prefix=prefix) if redis_url else FileBackend(directory)
            )
            limiter = _limiters[config] = SendRateLimiter(backend)
        return limiter


def acquire(
    phone_number_id: str, *, rate: float | None = None, timeout: float | None = None
) -> float:
    """Block until `phone_number_id` may send one more message (see the module docstring)."""
    return get_limiter().acquire(phone_number_id, rate=rate, timeout=timeout)


def acquire_many(
    phone_number_id: str, count: int, *, rate: float | None = None, timeout: float | None = None
) -> Pacer:
    """Reserve `count` send slots for `phone_number_id` at once (see SendRateLimiter)."""
    return get_limiter().acquire_many(phone_number_id, count, rate=rate, timeout=timeout)
