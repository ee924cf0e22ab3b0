"""The one pooled HTTP session the WhatsApp clients of a process share, and the bearer token
each request carries (numbers of different clinics never share credentials)."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

DEFAULT_POOL_SIZE = 10
USER_AGENT = "Vaidya-WhatsApp/1"

_session_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


@functools.lru_cache(maxsize=32)
def request_environment(origin: str) -> tuple[dict[str, str], Any]:
    """Proxies (HTTPS_PROXY, NO_PROXY, ...) and the CA bundle (REQUESTS_CA_BUNDLE) for an
    origin, read from the environment once per process. requests re-reads the environment on
    every call (about 1 ms each), so the shared session does not trust it and this does."""
    proxies = requests.utils.get_environ_proxies(origin)
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify


def shared_session() -> requests.Session:
    """This process's pooled session (a fresh one after a fork: sockets must not be shared)."""
    global _session, _session_pid
    pid = os.getpid()
    with _session_lock:
        if _session is None or _session_pid != pid:
            pool_size = int(getattr(settings, "WHATSAPP_HTTP_POOL_SIZE", DEFAULT_POOL_SIZE))
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            session.trust_env = False  # see request_environment
            _session, _session_pid = session, pid
        return _session


class BearerAuth(AuthBase):
    """Sets the bearer token per request. Passing it as `auth` also stops requests from
    replacing it with ~/.netrc credentials, and it is not re-sent after a cross-host redirect."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerAuth [redacted]>"
