# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire: one attempt of one request within its own time budget (connect, TLS handshake, headers and body
together, enforced by a watchdog that shuts the socket down at the deadline), connection classes that report to
it, and the body read within that budget and the size cap. urllib3's retries stay off: the client's loop retries,
each attempt with a budget of its own.

What happened on the wire is tracked, not guessed: the connection classes below note when the first byte of
a request is written (after TCP, proxy CONNECT and TLS handshake), so a failure before that point is
reported as "nothing was sent" (`sent=False`) and one after it as a lost answer. Once a status line came
back the request was sent, whatever its body holds.

Plain Python, nothing from Ansible.
"""

from __future__ import annotations

import socket
import threading
import time
import typing as t

from ._diagnose import _caused_by
from ._errors import UMResponseTooLarge

try:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
except ImportError:  # pragma: no cover - reported by the client (and the module wrapper with missing_required_lib)
    HTTPAdapter = object  # type: ignore[assignment,misc]
    HTTPConnection = HTTPSConnection = object  # type: ignore[assignment,misc]
    HTTPConnectionPool = HTTPSConnectionPool = object  # type: ignore[assignment,misc]

# A job is a few kilobytes and a full page of jobs a few megabytes: an answer far larger is refused, not read.
MAX_BODY = 32 * 1024 * 1024


# The attempt under way in this thread (an Attempt), for the connection classes below to report to.
_WIRE = threading.local()


class Attempt:
    """One try of one request, within its own time budget for connect, TLS handshake, headers and body.

    Socket timeouts bound each read, not the whole: a server sending its headers or its body a byte at a time
    would hold a request for ever. So a watchdog (a timer thread) shuts the attempt's sockets down at its
    deadline, whatever the request is doing then; the blocked read returns and the caller sees `expired`.

    Also what happened on the wire: `sent` turns True when the first byte of the request itself is written
    (after TCP, proxy CONNECT and TLS handshake), so a failure before that is "nothing was sent".
    """

    def __init__(self, budget: float) -> None:
        self.budget = float(budget)
        self.started = time.monotonic()
        self.deadline = self.started + self.budget
        self.sent = False
        self.expired = False
        self._watched: list[t.Any] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Attempt:
        _WIRE.attempt = self
        self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        _WIRE.attempt = None

    def watch(self, thing: t.Any) -> None:
        """Shut `thing` (a socket, or a connection whose socket it may be) down at the deadline."""
        with self._lock:
            self._watched.append(thing)
            if self.expired:
                _shut(thing)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for thing in self._watched:
                _shut(thing)


def _current() -> Attempt | None:
    return getattr(_WIRE, "attempt", None)


def _shut(thing: t.Any) -> None:
    """Shut a socket down for reading and writing, from another thread: a blocked read on it returns at once.

    Only the descriptor is shut (never closed, so it cannot be reused under the reader), and an SSL socket is
    shut beneath its TLS layer, which the reading thread still holds.
    """
    sock = thing if isinstance(thing, socket.socket) else getattr(thing, "sock", None)
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, ValueError, TypeError):
        pass  # already closed or never connected


class _WireMixin:
    """Reports to the attempt under way: its connection and socket (for the watchdog), and when a request's
    bytes start to go out on an established connection."""

    _aiqum_ready = False

    def _new_conn(self) -> t.Any:
        sock = super()._new_conn()  # type: ignore[misc]
        attempt = _current()
        if attempt is not None:
            attempt.watch(sock)
        return sock

    def connect(self) -> None:
        attempt = _current()
        if attempt is not None:
            attempt.watch(self)
        self._aiqum_ready = False
        super().connect()  # type: ignore[misc]
        self._aiqum_ready = True

    def request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        attempt = _current()
        if attempt is not None:
            attempt.watch(self)  # a kept-alive connection from the pool
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def send(self, data: t.Any) -> None:
        if getattr(self, "sock", None) is None:
            self.connect()
        attempt = _current()
        if self._aiqum_ready and attempt is not None:
            attempt.sent = True
        super().send(data)  # type: ignore[misc]


class _WireHTTPConnection(_WireMixin, HTTPConnection):  # type: ignore[misc,valid-type]
    pass


class _WireHTTPSConnection(_WireMixin, HTTPSConnection):  # type: ignore[misc,valid-type]
    pass


class _WireHTTPPool(HTTPConnectionPool):  # type: ignore[misc,valid-type]
    ConnectionCls = _WireHTTPConnection


class _WireHTTPSPool(HTTPSConnectionPool):  # type: ignore[misc,valid-type]
    ConnectionCls = _WireHTTPSConnection


class _WireAdapter(HTTPAdapter):  # type: ignore[misc,valid-type]
    """requests' adapter whose pools (direct or through a proxy) use the connection classes above."""

    _POOLS = {"http": _WireHTTPPool, "https": _WireHTTPSPool}

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = dict(self._POOLS)
        return manager


def read_body(resp: t.Any, method: str, shown: str, attempt: Attempt, late: str,
              unreadable: t.Callable[[int, str], t.NoReturn]) -> bytes:
    """Read the whole body within the attempt's budget (one for connect, answer and body, not per socket read:
    a server that trickles cannot hold the caller past it) and the size cap. `late` says why when it did not
    arrive whole in time."""
    status = resp.status_code
    length = resp.headers.get("Content-Length", "")
    if length.strip().isdigit() and int(length) > MAX_BODY:
        raise UMResponseTooLarge(
            f"{method} {shown}: UM announced an answer of {int(length)} bytes, far more than a job or a page of "
            f"jobs (at most {MAX_BODY // 2**20} MiB is read); check that hostname and http_port point at UM, or "
            "list fewer records", status=status)
    raw = resp.raw
    read = getattr(raw, "read1", None) or raw.read  # read1 (urllib3 2.3+) returns what has arrived
    chunks: list[bytes] = []
    size = 0
    while True:
        left = attempt.deadline - time.monotonic()
        if left <= 0 or attempt.expired:
            unreadable(status, late)
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(left)
        try:
            chunk = read(65536, decode_content=True)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if attempt.expired or _caused_by(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout)):
                unreadable(status, late)
            unreadable(status, "but its answer was cut off")
        if not chunk:
            if attempt.expired:  # an answer without a length ends when its socket does: the watchdog's, here
                unreadable(status, late)
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise UMResponseTooLarge(
                f"{method} {shown}: UM's answer is larger than {MAX_BODY // 2**20} MiB, far more than a job or a "
                "page of jobs; check that hostname and http_port point at UM, or list fewer records",
                status=status)
        chunks.append(chunk)
