# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire: connection classes that note when a request's first byte goes out, and the body read within the
request's budget and size cap.

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


# What happened on the wire during the current request of this thread: `sent` turns True when the first byte
# of the request itself is written (not the proxy's CONNECT, not the TLS handshake); `tries` counts attempts.
_WIRE = threading.local()


class _WireMixin:
    """Notes in _WIRE when a request's bytes start to go out on an established connection."""

    _aiqum_ready = False

    def connect(self) -> None:
        self._aiqum_ready = False
        super().connect()  # type: ignore[misc]
        self._aiqum_ready = True

    def request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        _WIRE.tries = getattr(_WIRE, "tries", 0) + 1
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def send(self, data: t.Any) -> None:
        if getattr(self, "sock", None) is None:
            self.connect()
        if self._aiqum_ready:
            _WIRE.sent = True
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


def read_body(resp: t.Any, method: str, shown: str, deadline: float, budget: float,
              unreadable: t.Callable[[int, str], t.NoReturn]) -> bytes:
    """Read the whole body within the request's budget (one for connect, answer and body, not per socket
    read: a server that trickles cannot hold the caller past it) and size cap."""
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
    late = f"but the rest of its answer did not arrive whole within {budget:g}s (request_timeout)"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            unreadable(status, late)
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(left)
        try:
            chunk = read(65536, decode_content=True)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if _caused_by(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout)):
                unreadable(status, late)
            unreadable(status, "but its answer was cut off")
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise UMResponseTooLarge(
                f"{method} {shown}: UM's answer is larger than {MAX_BODY // 2**20} MiB, far more than a job or a "
                "page of jobs; check that hostname and http_port point at UM, or list fewer records",
                status=status)
        chunks.append(chunk)
