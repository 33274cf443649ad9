# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where HTTP happens: a small Unified Manager REST client on `requests`.

Plain Python, nothing from Ansible: the modules, the waiter and the unit tests all use it as is.

Retry policy, in one place:
- A request that never reached the server (refused, unresolvable, connect timeout) is retried a few
  times for every method: nothing was sent, so nothing can happen twice.
- Reads (GET) are also retried on 429/500/502/503/504 and on answers lost after sending, with capped,
  jittered backoff that honours Retry-After (urllib3's Retry does the work).
- A write (POST/PATCH/DELETE) is never re-sent once it may have reached UM: it could start a job twice.
  If its answer is lost the client raises UMOperationUncertain, which says how to look for the job.
- The waiter polls with `retry=False` (no retries at all, not even connect) and applies its own policy,
  because only it knows its deadline.

What happened on the wire is tracked, not guessed: the connection classes below note when the first byte of
a request is written (after TCP, proxy CONNECT and TLS handshake), so a failure before that point is
reported as "nothing was sent" (`sent=False`) and one after it as a lost answer. Once a status line came
back the request was sent, whatever its body holds.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import ssl
import threading
import time
import traceback
import typing as t
from urllib.parse import quote, unquote, urlsplit

from ._errors import (
    UMConfigError,
    UMConnectionError,
    UMOperationUncertain,
    UMProxyError,
    UMRedirectError,
    UMResponseError,
    UMResponseTooLarge,
    UMTLSError,
    RETRY_AFTER_CAP,
    http_error,
)
from ._text import mask_userinfo, one_line, tame_json
from ._trace import trace_exchange

REQUESTS_IMPORT_ERROR: str | None
try:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.util.retry import Retry
except ImportError:  # pragma: no cover - reported by the module wrapper with missing_required_lib
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    HTTPAdapter = object  # type: ignore[assignment,misc]
    Retry = object  # type: ignore[assignment,misc]
    HTTPConnection = HTTPSConnection = object  # type: ignore[assignment,misc]
    HTTPConnectionPool = HTTPSConnectionPool = object  # type: ignore[assignment,misc]
else:
    REQUESTS_IMPORT_ERROR = None

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
JOBS_PATH = "/management-server/jobs"
# UM accepts at most this many records per page.
MAX_PAGE = 1000
# A job is a few kilobytes and a full page of jobs a few megabytes: an answer far larger is refused, not read.
MAX_BODY = 32 * 1024 * 1024
# A paged listing never follows more links than this (1000 pages of 1000 records is far beyond any UM).
MAX_PAGES = 1000


def encode_segment(value: str) -> str:
    """Percent-encode one path parameter (job keys hold ':'), so nothing in it can change the path."""
    return quote(str(value), safe="")


def _dot_segment(segment: str) -> bool:
    """Whether a path segment is, or hides, a '.' or '..' segment for some server: percent-encoded once or
    twice (`%2e%2e`, `%252e`), followed by a servlet path parameter (`..;x`), or joined by an encoded slash
    or backslash (`..%2Fx`)."""
    seen = segment
    for _round in range(3):
        for part in re.split(r"[/\\]", seen):
            if part.split(";", 1)[0] in (".", ".."):
                return True
        decoded = unquote(seen)
        if decoded == seen:
            break
        seen = decoded
    return False


def check_api_path(path: str) -> str:
    """Normalise a path under /api (`/storage-provider/luns`, `storage-provider/luns`, `/api/...`).

    Refuses absolute URLs, `..` segments in any disguise and embedded queries, so a path can never leave the
    API. User paths, `_links.next` from UM and job keys all go through here before they are sent.
    """
    if not isinstance(path, str) or not path.strip():
        raise UMConfigError("path is empty: give a path under /api, for example /storage-provider/luns")
    p = path.strip()
    if "://" in p or p.startswith("//"):
        raise UMConfigError(f"path '{mask_userinfo(p)}' is a URL: give only the path under /api (for example "
                            "/storage-provider/luns); the server comes from hostname and http_port")
    if any(c in p for c in "?#"):
        raise UMConfigError(f"path '{mask_userinfo(p)}' holds '?' or '#': give query parameters in the query option")
    if any(ord(c) < 33 or ord(c) > 126 for c in p):
        raise UMConfigError(f"path '{mask_userinfo(p)}' holds spaces, control or non-ASCII characters: "
                            "percent-encode path parameters or pass them in query")
    if not p.startswith("/"):
        p = "/" + p
    if p == "/api" or p.startswith("/api/"):
        p = p[4:] or "/"
    segments = p.split("/")
    if any(_dot_segment(s) for s in segments):
        raise UMConfigError(f"path '{mask_userinfo(path)}' holds a '.' or '..' segment (perhaps percent-encoded or with "
                            "';'): give the path under /api as it is")
    if any(ord(c) < 32 or ord(c) == 127 for c in unquote(unquote(p))):
        raise UMConfigError(f"path '{mask_userinfo(path)}' holds a percent-encoded control character: give the path "
                            "under /api as it is")
    return p


class _CappedRetry(Retry):  # type: ignore[misc,valid-type]
    """urllib3 Retry whose Retry-After wait is capped, so a server cannot park a read for minutes."""

    RETRY_AFTER_CAP = RETRY_AFTER_CAP

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        value = super().get_retry_after(response)
        return None if value is None else min(float(value), self.RETRY_AFTER_CAP)


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


class UMResponse(t.NamedTuple):
    status: int
    data: t.Any  # decoded JSON, or None for an empty answer (204)
    headers: t.Mapping[str, str]


class UMClient:
    """Talks to one Unified Manager over HTTPS with HTTP Basic authentication."""

    MIN_REQUEST_TIMEOUT = 0.1
    trace = None  # an _trace.APITrace to record every exchange (feature_flags.trace_apis), set by the caller
    last_date: str | None = None  # the Date header of the last answer (the waiter measures UM's clock with it)

    def __init__(self, hostname: str, username: str, password: str, port: int | None = None,
                 validate_certs: bool = True, ca_path: str | None = None, request_timeout: float = 30.0,
                 scheme: str = "https", read_retries: int = 3, backoff_factor: float = 0.5,
                 backoff_max: float = 8.0) -> None:
        if REQUESTS_IMPORT_ERROR:
            raise UMConfigError("the Python library 'requests' is required on the host that runs this module "
                                "(pip install requests)")
        if tuple(int(p) for p in urllib3.__version__.split(".")[:2] if p.isdigit()) < (2, 2):
            # urllib3 1.26 (RHEL 8/9 system Python) lacks the Retry backoff jitter; before 2.2 a body read ignores
            # the request's time budget.
            raise UMConfigError(f"urllib3 {urllib3.__version__} is too old on the host that runs this module: "
                                "it needs urllib3 2.2 or later (pip install 'requests>=2.30' 'urllib3>=2.2')")
        host = check_hostname(hostname)
        if port is not None and not 1 <= int(port) <= 65535:
            raise UMConfigError(f"http_port {port} is out of range: give a TCP port from 1 to 65535")
        if request_timeout is None or not self.MIN_REQUEST_TIMEOUT <= float(request_timeout) <= 3600:
            raise UMConfigError(f"request_timeout {request_timeout} is out of range: give seconds from "
                                f"{self.MIN_REQUEST_TIMEOUT:g} to 3600")
        netloc = f"[{host}]" if ":" in host else host
        if port:
            netloc += f":{int(port)}"
        self.host = host
        self.port = int(port) if port else (443 if scheme == "https" else 80)
        self.origin = f"{scheme}://{netloc}"
        self.base_url = self.origin + "/api"
        self.username = username
        self.request_timeout = float(request_timeout)
        self._verify: bool | str = True
        if not validate_certs:
            self._verify = False
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        elif ca_path:
            if not os.path.isfile(ca_path) or not os.access(ca_path, os.R_OK):
                raise UMConfigError(f"ca_path {mask_userinfo(str(ca_path))} is not a readable file: give the PEM file of the CA "
                                    "that signed UM's certificate (UM_CA_PATH)")
            self._verify = ca_path
        self.ca_path = ca_path if validate_certs else None

        # As UTF-8 bytes: requests would encode str as Latin-1, which fails on (and names a character of) a
        # password like 'пароль'. UTF-8 is what UM (Java, RFC 7617 charset) reads.
        self._auth = (str(username).encode("utf-8"), str(password).encode("utf-8"))
        # One session per retry policy, made on first use; they share auth, headers and verification.
        self._policies: dict[str, t.Any] = {
            # Reads: connect errors, lost answers, 429 and 5xx, with capped jittered backoff and Retry-After.
            "read": lambda: _CappedRetry(
                total=read_retries, connect=read_retries, read=read_retries, status=read_retries, other=0,
                redirect=0, allowed_methods=frozenset(("GET", "HEAD")),
                status_forcelist=(429, 500, 502, 503, 504), backoff_factor=backoff_factor,
                backoff_max=backoff_max, backoff_jitter=backoff_factor, respect_retry_after_header=True,
                raise_on_status=False, raise_on_redirect=False),
            # Writes: connect errors only; the request never left, so it cannot have started anything.
            "write": lambda: Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.2,
                                   raise_on_status=False, raise_on_redirect=False),
            # The waiter's polls: no retries here at all, the waiter retries within its own deadline.
            "none": lambda: Retry(total=0, connect=0, read=0, status=0, other=0, redirect=0,
                                  raise_on_status=False, raise_on_redirect=False),
        }
        self._sessions: dict[str, requests.Session] = {}

    def _session(self, policy: str) -> requests.Session:
        session = self._sessions.get(policy)
        if session is None:
            session = requests.Session()
            session.auth = self._auth
            session.verify = self._verify
            session.headers.update({
                "Accept": "application/json",
                "User-Agent": f"aiqum.jobs python-requests/{requests.__version__}",
            })
            adapter = _WireAdapter(max_retries=self._policies[policy](), pool_connections=4, pool_maxsize=16)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._sessions[policy] = session
        return session

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    # -- the verbs -----------------------------------------------------------------------------

    def request(self, method: str, path: str, params: t.Mapping[str, t.Any] | None = None,
                body: t.Any = None, timeout: float | None = None, retry: bool | None = None) -> UMResponse:
        """Send one request to a path under /api and return the decoded answer.

        Raises UMHTTPError for 4xx/5xx, UMConnectionError/UMTLSError when no answer came, and
        UMOperationUncertain when a write may have reached UM but its answer was lost.
        """
        method = method.upper()
        api_path = check_api_path(path)
        return self._send(method, self.base_url + api_path, api_path, params, body, timeout, retry)

    def get(self, path: str, params: t.Mapping[str, t.Any] | None = None, **kw: t.Any) -> t.Any:
        return self.request("GET", path, params=params, **kw).data

    def get_href(self, href: t.Any, timeout: float | None = None) -> t.Any:
        """GET a server-relative link UM gave us (`_links.next`), as given once it passed the same path checks
        as a user's path: it must stay under /api, whatever '..' or encoding it holds."""
        if not isinstance(href, str) or not href:
            raise _final(UMResponseError(f"UM gave a next link that is not a string: {one_line(repr(href), 80)}"))
        path, _sep, query = href.partition("?")
        if path.startswith("//") or "://" in path or not path.startswith("/api/") or "#" in href \
                or any(ord(c) < 33 or ord(c) > 126 for c in query):
            raise _final(UMResponseError(f"UM gave a link that is not a path under /api: {one_line(repr(href))}"))
        try:
            api_path = check_api_path(path)
        except UMConfigError:
            raise _final(UMResponseError(f"UM gave a link that leaves /api ('.' or '..' segments): "
                                         f"{one_line(repr(href))}")) from None
        shown = api_path + ("?" + query if query else "")
        return self._send("GET", self.base_url + shown, shown, None, None, timeout, None).data

    def get_job(self, key: str, poll_timeout: int | None = None, timeout: float | None = None,
                retry: bool = True) -> dict:
        """GET one job; with poll_timeout, ask UM to hold the answer until the job ends (long poll).

        Raises UMNotFound (HTTP 404) when UM does not know the job.
        """
        params = {"poll_timeout": int(poll_timeout)} if poll_timeout else None
        answer = self.request("GET", f"{JOBS_PATH}/{encode_segment(key)}", params=params, timeout=timeout, retry=retry)
        data = answer.data
        if not isinstance(data, dict) or "key" not in data:
            raise UMResponseError(f"UM's answer for job {one_line(key)} is not a job object", status=answer.status)
        if str(data["key"]) != str(key):
            raise UMResponseError(f"UM answered the request for job {one_line(key)} with another job "
                                  f"({one_line(data['key'], 100)}): a proxy or cache in front of UM may mix answers",
                                  status=answer.status)
        return data

    def list_jobs(self, keys: t.Sequence[str], timeout: float | None = None, retry: bool = True) -> list[dict]:
        """The jobs of `keys` in one list request (`key=a|b|...`, the API's OR syntax).

        A server that does not OR keys answers with fewer (or no) records: the caller asks for the rest one by one.
        """
        page = self.get(JOBS_PATH, params={"key": "|".join(keys), "max_records": max(1, len(keys))},
                        timeout=timeout, retry=retry)
        records = page.get("records") if isinstance(page, dict) else None
        if not isinstance(records, list):
            raise UMResponseError("UM's job list answer has no records list")
        return [r for r in records if isinstance(r, dict)]

    def iter_records(self, path: str, params: t.Mapping[str, t.Any] | None = None,
                     limit: int | None = None, timeout: float | None = None) -> t.Iterator[dict]:
        """Yield records of a UM collection, following `_links.next` as given until `limit` or the end."""
        query = dict(params or {})
        if limit is not None:
            query.setdefault("max_records", max(1, min(MAX_PAGE, int(limit))))
        else:
            query.setdefault("max_records", MAX_PAGE)
        page = self.get(path, params=query, timeout=timeout)
        count = 0
        followed: set[str] = set()
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("records", []), list):
                raise UMResponseError(f"UM's answer for {path} is not a list of records")
            for record in page.get("records") or []:
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            links = page.get("_links") or {}
            nxt = links.get("next") if isinstance(links, dict) else None
            if nxt is not None and not isinstance(nxt, dict):
                raise UMResponseError(f"UM's answer for {path} holds a _links.next that is not an object")
            href = (nxt or {}).get("href")
            if not href or not page.get("records"):
                return
            # A next link seen before would return the same records again, for ever.
            if not isinstance(href, str) or href in followed or len(followed) >= MAX_PAGES:
                raise UMResponseError(f"UM's listing of {path} does not end: its next link repeats an earlier page "
                                      f"or passes {MAX_PAGES} pages; give filters or max_records to list fewer")
            followed.add(href)
            page = self.get_href(href, timeout=timeout)

    # -- the one place a request goes out ---------------------------------------------------------

    def _send(self, method: str, url: str, shown: str, params: t.Any, body: t.Any,
              timeout: float | None, retry: bool | None) -> UMResponse:
        if method in WRITE_METHODS:
            session = self._session("write")
        else:
            session = self._session("none" if retry is False else "read")
        # One budget for the whole exchange (connect, answer, whole body), not per socket read: a server that
        # trickles its answer cannot hold the caller past it.
        read_timeout = self.request_timeout if timeout is None else max(0.1, float(timeout))
        deadline = time.monotonic() + read_timeout
        connect_timeout = min(self.request_timeout, read_timeout)
        shown = one_line(shown)
        headers = {"Content-Type": "application/json"} if body is not None else None
        data = json.dumps(body).encode("utf-8") if body is not None else None
        try:
            prepared = session.prepare_request(requests.Request(
                method, url, params=_flatten(params) if params else None, data=data, headers=headers))
            # verify explicit on every request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE replace only a
            # `True` (no ca_path), never a ca_path or validate_certs=false. Proxies come from the environment.
            settings = session.merge_environment_settings(prepared.url, {}, None, self._verify, None)
        except (requests.exceptions.RequestException, ValueError) as exc:
            raise UMConfigError(f"{method} {shown}: cannot build a request to {self.origin}: "
                                f"{one_line(_reason(exc), 120)}; check hostname and path") from None
        # stream: the status line and headers first, so a body lost after them is known as answered.
        settings["stream"] = True
        # The path that goes out must be the path that was checked: requests and urllib3 normalise URLs
        # (dot segments removed, %2e decoded), and no such step may move a request elsewhere.
        if unquote(urlsplit(prepared.url).path) != unquote(urlsplit(url).path):
            raise UMConfigError(f"{method} {shown}: the path would be changed to "
                                f"'{one_line(urlsplit(prepared.url).path)}' when sent; give the path under /api as it is")
        _WIRE.sent = False
        _WIRE.tries = 0
        started = time.monotonic()
        try:
            try:
                resp = session.send(prepared, timeout=(connect_timeout, read_timeout), allow_redirects=False,
                                    **settings)
            except Exception as exc:
                trace_exchange(self.trace, prepared, started, error=type(exc).__name__)
                raise
        except requests.exceptions.ProxyError as exc:
            message, answered = self._proxy_message(method, shown, exc, settings.get("proxies"))
            raise UMProxyError(message, answered=answered) from None
        except requests.exceptions.SSLError as exc:
            if _WIRE.sent:
                self._lost(method, shown, f"the TLS connection failed after the request was sent ({_reason(exc)})")
            message, certificate = self._tls_message(exc)
            if certificate:
                raise UMTLSError(message) from None
            # A handshake that broke off (not a certificate verdict) may be UM restarting: not final.
            raise UMConnectionError(message, sent=False) from None
        except requests.exceptions.ConnectTimeout:
            raise UMConnectionError(f"{method} {shown}: could not connect to {self.origin} within "
                                    f"{connect_timeout:g}s (nothing was sent): check hostname, http_port and the "
                                    "network") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            timed_out = isinstance(exc, requests.exceptions.ReadTimeout) or \
                _caused_by(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout))
            if not _WIRE.sent:
                if timed_out:
                    why = (f"the connection or its TLS handshake did not complete within {connect_timeout:g}s "
                           "(nothing was sent)")
                else:
                    why = f"{_reason(exc)} (nothing was sent)"
                raise UMConnectionError(f"{method} {shown}: cannot reach {self.origin}: {why}; check hostname, "
                                        "http_port (UM's HTTPS port) and that UM is running") from None
            if timed_out:
                tries = getattr(_WIRE, "tries", 1)
                why = f"no answer within {read_timeout:g}s (request_timeout)"
                if tries > 1:
                    why += f" to any of {tries} tries, {time.monotonic() - started:.0f}s in all"
                self._lost(method, shown, why)
            self._lost(method, shown, "the connection was closed before UM answered")
        except requests.exceptions.RequestException as exc:
            if not _WIRE.sent:
                raise UMConnectionError(f"{method} {shown}: the request to {self.origin} failed before it was "
                                        f"sent: {one_line(_reason(exc), 160)}") from None
            self._lost(method, shown, one_line(_reason(exc), 160))
        except OSError as exc:
            # requests raises a bare OSError for an unreadable CA bundle, before anything is sent.
            raise UMConfigError(f"{method} {shown}: cannot use the CA file: {one_line(exc)}") from None
        content = None
        try:
            content = self._read_body(resp, method, shown, deadline, read_timeout)
        finally:
            resp.close()
            trace_exchange(self.trace, prepared, started, resp, content,
                           error=None if content is not None else "the answer's body was not read whole")
        return self._decode(resp, content, method, shown)

    def _read_body(self, resp: t.Any, method: str, shown: str, deadline: float, budget: float) -> bytes:
        """Read the whole body within the request's budget (one for connect, answer and body, not per socket
        read: a server that trickles cannot hold the caller past it) and size cap."""
        status = resp.status_code
        length = resp.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > MAX_BODY:
            raise _final(UMResponseTooLarge(
                f"{method} {shown}: UM announced an answer of {int(length)} bytes, far more than a job or a page of "
                f"jobs (at most {MAX_BODY // 2**20} MiB is read); check that hostname and http_port point at UM, or "
                "list fewer records", status=status))
        raw = resp.raw
        read = getattr(raw, "read1", None) or raw.read  # read1 (urllib3 2.3+) returns what has arrived
        chunks: list[bytes] = []
        size = 0
        late = f"but the rest of its answer did not arrive whole within {budget:g}s (request_timeout)"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._unreadable(method, shown, status, late)
            sock = getattr(getattr(raw, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(left)
            try:
                chunk = read(65536, decode_content=True)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                if _caused_by(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout)):
                    self._unreadable(method, shown, status, late)
                self._unreadable(method, shown, status, "but its answer was cut off")
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BODY:
                raise _final(UMResponseTooLarge(
                    f"{method} {shown}: UM's answer is larger than {MAX_BODY // 2**20} MiB, far more than a job or a "
                    "page of jobs; check that hostname and http_port point at UM, or list fewer records",
                    status=status))
            chunks.append(chunk)

    def _unreadable(self, method: str, shown: str, status: int, why: str) -> t.NoReturn:
        """A status line came back (so the request was sent) but the body cannot be used."""
        if method in WRITE_METHODS and 200 <= status < 300:
            raise UMResponseError(
                f"{method} {shown}: UM answered HTTP {status} {why}: UM accepted the request and may have started "
                "a job; it was NOT sent again. Look for the job with aiqum.jobs.um_job_info (filter on name, type or "
                "submit_time) before retrying", status=status, operation_uncertain=True)
        raise UMResponseError(f"{method} {shown}: UM answered HTTP {status} {why}", status=status)

    def _lost(self, method: str, shown: str, why: str) -> t.NoReturn:
        if method in WRITE_METHODS:
            raise UMOperationUncertain(
                f"{method} {shown}: {why}, after the request was sent. UM may have accepted it and started "
                "a job; it was NOT sent again. Before retrying, look for the job with aiqum.jobs.um_job_info "
                "(filter on name, type or submit_time).", operation_uncertain=True)
        raise UMConnectionError(f"{method} {shown}: {why}", sent=True)

    def _proxy_message(self, method: str, shown: str, exc: Exception, proxies: t.Any) -> tuple[str, bool]:
        """The message for a proxy failure, and whether the proxy answered (refused) rather than was unreachable."""
        proxy = None
        try:
            chosen = requests.utils.select_proxy(self.origin, proxies or {})
            if chosen:
                parts = urlsplit(chosen if "://" in chosen else "http://" + chosen)
                proxy = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        except ValueError:
            proxy = None
        where = f"the proxy {one_line(proxy, 100)}" if proxy else "the proxy"
        text = str(exc)
        answered = re.search(r"Tunnel connection failed: (\d{3})([^'\")]*)", text)
        if answered:
            status = answered.group(1)
            words = one_line(answered.group(2).strip(), 60)
            advice = {"407": "the proxy wants credentials: put them in HTTPS_PROXY (http://user:password@proxy:port)",
                      "403": "the proxy does not allow connections to UM: ask for it to be allowed, or list UM in "
                             "NO_PROXY"}.get(status, "check HTTPS_PROXY and NO_PROXY")
            return (f"{method} {shown}: {where} refused to connect to {self.origin} (CONNECT answered HTTP {status}"
                    f"{' ' + words if words else ''}); nothing reached UM: {advice}"), True
        return (f"{method} {shown}: cannot reach {where} ({one_line(_reason(exc), 120)}); nothing reached UM: check "
                "HTTPS_PROXY and NO_PROXY in the environment of the host that runs the module"), False

    def _tls_message(self, exc: Exception) -> tuple[str, bool]:
        """The message for a TLS failure, and whether it is about the certificate (or CA file) rather than a
        handshake that broke off."""
        why = _reason(exc)
        low = str(exc).lower()
        if "expired" in low:
            return (f"TLS certificate of {self.origin} has expired (or the clock of the host that runs the module is "
                    "wrong): renew UM's certificate (or fix the clock); nothing was sent"), True
        if "hostname mismatch" in low or "doesn't match" in low or "not valid for" in low:
            names = self._certificate_names()
            holds = f" (it names {', '.join(one_line(n, 80) for n in names[:8])})" if names else ""
            return (f"TLS certificate of {self.origin} is not issued for '{self.host}'{holds}: set hostname to a "
                    "name the certificate holds (or have UM's certificate reissued); nothing was sent"), True
        if "certificate verify failed" not in low and "certificate" not in low:
            return (f"TLS handshake with {self.origin} failed: {why}; nothing was sent. Check that http_port is UM's "
                    "HTTPS port and that no proxy or firewall in between breaks TLS"), False
        if self.ca_path and ("no certificate or crl found" in low or "pem lib" in low):
            return (f"the CA file {one_line(self.ca_path)} holds no PEM certificate: give in ca_path (UM_CA_PATH) the "
                    "PEM file of the CA that signed UM's certificate; nothing was sent"), True
        if self.ca_path:
            return (f"TLS certificate of {self.origin} could not be verified with the CA file {one_line(self.ca_path)}: "
                    f"{why}. Give the CA certificate that signed UM's certificate in ca_path (UM_CA_PATH)."), True
        return (f"TLS certificate of {self.origin} could not be verified: {why}. If UM uses a self-signed or "
                "private-CA certificate, give that CA certificate's PEM file in ca_path (or UM_CA_PATH)."), True

    def _certificate_names(self) -> list[str]:
        """The DNS names and addresses UM's certificate holds, for a hostname-mismatch message: one more TLS
        handshake (no request), verified against the same CAs with only the name check off. Best effort."""
        if requests.utils.get_environ_proxies(self.origin):
            return []  # through a proxy: not worth a CONNECT of our own for a message
        try:
            # The CAs requests itself used: ca_path, else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else its own bundle.
            cafile = self._verify if isinstance(self._verify, str) else (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or requests.certs.where())
            ctx = ssl.create_default_context(cafile=cafile)
            ctx.check_hostname = False
            with socket.create_connection((self.host, self.port), timeout=min(5.0, self.request_timeout)) as raw:
                with ctx.wrap_socket(raw) as tls:
                    cert = tls.getpeercert() or {}
        except (OSError, ValueError):
            return []
        names = [value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
        if not names:
            names = [value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"]
        return [str(n) for n in names]

    def _decode(self, resp: t.Any, raw: bytes, method: str, shown: str) -> UMResponse:
        """Read an answer. A status line came back, so the request was sent: every error raised here says so."""
        status = resp.status_code
        self.last_date = resp.headers.get("Date")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = resp.text
        text = text.lstrip("\ufeff")  # a UTF-8 byte order mark is allowed before JSON
        data: t.Any = None
        problem = None
        if text.strip():
            try:
                data = tame_json(json.loads(text))
            except RecursionError:
                problem = "JSON nested too deep to read"
            except ValueError:
                snippet = one_line(" ".join(text[:80].split()), 100)
                problem = f"a body that is not JSON (starts with '{snippet}')"
        if problem and status < 300:
            self._unreadable(method, shown, status, f"with {problem}")
        if 300 <= status < 400:
            location = resp.headers.get("Location")
            to = f" to '{mask_userinfo(location, 120)}'" if location else ""
            raise UMRedirectError(f"{method} {shown}: UM answered a redirect (HTTP {status}{to}); this client "
                                  "does not follow redirects: point hostname and http_port at UM itself", status=status)
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            err = err if isinstance(err, dict) else {}
            hint = None
            if status == 401:
                hint = (f"authentication failed for user '{one_line(self.username, 80)}' on {self.host}: check "
                        "username and password (or UM_USERNAME / UM_PASSWORD)")
            raise http_error(status, method, shown, code=_str(err.get("code")), um_message=_str(err.get("message")),
                             target=_str(err.get("target")), retry_after=_retry_after(resp.headers), hint=hint)
        if problem:
            raise UMResponseError(f"{method} {shown}: UM answered HTTP {status} with {problem}", status=status)
        return UMResponse(status, data, resp.headers)


_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def check_hostname(hostname: str) -> str:
    """Accept a host name or address only: a scheme, path, port or user belongs in other options (or nowhere)."""
    host = (hostname or "").strip() if isinstance(hostname, str) or hostname is None else str(hostname).strip()
    if not host:
        raise UMConfigError("hostname is empty: give UM's host name or address (or set UM_HOSTNAME)")
    if "://" in host:
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' holds a scheme: give only the host name or address, "
                            "HTTPS is always used")
    if any(c in host for c in "/?#@ \t") or not host.isprintable():
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a host name or address: give only the host, "
                            "for example um.example.com")
    if host.startswith("["):
        if not host.endswith("]"):
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' holds a port or is not a bracketed IPv6 address: give "
                                "only the address (for example ::1) and the port in http_port")
        host = host[1:-1]
        if not _is_ipv6(host):
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not an IPv6 address: give UM's host name or address")
        return host
    if ":" in host:
        if host.count(":") == 1:
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' holds a port: give the port in http_port")
        if not _is_ipv6(host):
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a host name or an IPv6 address: give only the "
                                "host, and the port in http_port")
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a valid host name: check its spelling") from None
    labels = ascii_host[:-1].split(".") if ascii_host.endswith(".") else ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a valid host name (empty label, a label longer "
                            "than 63 characters, or a character a host name cannot hold): check its spelling")
    return host


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _final(exc: UMResponseError) -> UMResponseError:
    """Mark an error that asking again cannot fix (the same server gives the same bad link)."""
    exc.final = True
    return exc


def _flatten(params: t.Mapping[str, t.Any]) -> dict[str, str]:
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (list, tuple)):
            v = "|".join(str(i) for i in v)
        out[k] = str(v)
    return out


def _str(value: t.Any) -> str | None:
    return None if value is None else str(value)


def _retry_after(headers: t.Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from UM; the caller falls back to its own backoff


def _caused_by(exc: Exception, kinds: tuple[type, ...]) -> bool:
    """Whether `exc` or an error it wraps (requests and urllib3 nest them) is one of `kinds`."""
    seen = set()
    cur: t.Any = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, kinds):
            return True
        if isinstance(cur, urllib3.exceptions.MaxRetryError):
            cur = cur.reason
            continue
        cur = (cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None) \
            or cur.__cause__ or cur.__context__
    return False


def _reason(exc: Exception) -> str:
    """A short reason without URLs (which could carry user info) or nested reprs, made one printable line."""
    return one_line(_raw_reason(exc), 160)


def _raw_reason(exc: Exception) -> str:
    cur: t.Any = exc
    for _depth in range(6):
        if isinstance(cur, urllib3.exceptions.MaxRetryError) and cur.reason is not None:
            cur = cur.reason
        elif cur.args and isinstance(cur.args[0], BaseException):
            cur = cur.args[0]
        else:
            break
    if isinstance(cur, urllib3.exceptions.NameResolutionError):
        return "the host name does not resolve"
    text = str(cur)
    for marker in ("Connection refused", "certificate verify failed", "timed out", "Name or service not known",
                   "No route to host", "Connection reset", "hostname mismatch", "doesn't match",
                   "Remote end closed connection"):
        if marker.lower() in text.lower():
            detail = text[text.lower().index(marker.lower()):].split("'", 1)[0]
            # Drop OpenSSL's source location and what follows it: "(_ssl.c:1006)".
            return re.split(r"\s*\(_ssl\.c:|\)", detail, maxsplit=1)[0].strip(" :(")
    return text.rsplit(": ", 1)[-1][:160] if text else type(cur).__name__
