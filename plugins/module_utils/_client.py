# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where HTTP happens: a small Unified Manager REST client on `requests`.

Plain Python, nothing from Ansible: the modules, the waiter and the unit tests all use it as is.

Retries, in one place: one loop (`_send`) asks `_retry.decide()` after each failed attempt, and urllib3's own
retries are off (they would make the attempts share one time budget):
- A request that never reached the server (refused, unresolvable, connect timeout) is retried a few
  times for every method: nothing was sent, so nothing can happen twice.
- Reads (GET) are also retried on 429/500/502/503/504 and on answers lost or unreadable after sending, with
  capped, jittered backoff, or after what Retry-After asks (seconds or an HTTP date, capped).
- A write (POST/PATCH/DELETE) is never re-sent once it may have reached UM: it could start a job twice.
  If its answer is lost the client raises UMOperationUncertain, which says how to look for the job.
- Each attempt has its own time budget (request_timeout, or the caller's `timeout`) for connect, headers and
  body together; `within` bounds all attempts and pauses of one call (the waiter passes what is left of its
  deadline). `retry=False` makes one attempt: the waiter and the event source ask decide() themselves.

Around it: `_paths` checks what may be sent where, `_transport` tracks what happened on the wire and reads
bodies within their budget, `_diagnose` turns a proxy, TLS or socket failure into words a user can act on.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
import typing as t
from urllib.parse import unquote, urlsplit

from ._diagnose import _caused_by, _reason, proxy_message, tls_message
from ._errors import (
    UMConfigError,
    UMConnectionError,
    UMError,
    UMOperationUncertain,
    UMProxyError,
    UMRedirectError,
    UMResponseError,
    UMTLSError,
    http_error,
)
from ._paths import check_api_path, check_hostname, encode_segment
from ._table import GATEWAYS_PATH, JOBS_PATH
from ._retry import decide, retry_after
from ._text import mask_userinfo, one_line, tame_json
from ._trace import trace_exchange
from ._transport import Attempt, _WireAdapter, read_body

REQUESTS_IMPORT_ERROR: str | None
try:
    import requests
    import urllib3
    from urllib3.util.retry import Retry
except ImportError:  # pragma: no cover - reported by the module wrapper with missing_required_lib
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# UM accepts at most this many records per page.
MAX_PAGE = 1000
# A paged listing never follows more links than this (1000 pages of 1000 records is far beyond any UM).
MAX_PAGES = 1000


class UMResponse(t.NamedTuple):
    status: int
    data: t.Any  # decoded JSON, or None for an empty answer (204)
    headers: t.Mapping[str, str]


class UMClient:
    """Talks to one Unified Manager over HTTPS with HTTP Basic authentication."""

    MIN_REQUEST_TIMEOUT = 0.1
    trace = None  # an _trace.APITrace to record every exchange (feature_flags.trace_apis), set by the caller
    last_date: str | None = None  # the Date header of the last answer (the waiter measures UM's clock with it)
    # The caller's _secrets.Secrets, set by the caller: masked in what UM says about an error (a server may repeat a
    # password there) before the message is made and cut. Data is left as it is: each entry point masks what it shows.
    secrets = None

    def _masked(self, value: t.Any) -> str | None:
        """Server text for an error message: a string, with the caller's secrets masked (before any cut)."""
        if value is None:
            return None
        return self.secrets.mask(str(value)) if self.secrets else str(value)

    def __init__(self, hostname: str, username: str, password: str, port: int | None = None,
                 validate_certs: bool = True, ca_path: str | None = None, request_timeout: float = 30.0,
                 scheme: str = "https", read_retries: int = 3, backoff_factor: float = 0.5,
                 backoff_max: float = 8.0, clock: t.Callable[[], float] | None = None,
                 sleep: t.Callable[[float], None] | None = None) -> None:
        if REQUESTS_IMPORT_ERROR:
            raise UMConfigError("the Python library 'requests' is required on the host that runs this module "
                                "(pip install requests)")
        if tuple(int(p) for p in urllib3.__version__.split(".")[:2] if p.isdigit()) < (2, 2):
            # urllib3 1.26 (RHEL 8/9 system Python) and 2.0/2.1 read a body ignoring the request's time budget.
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
        # Attempts per call (retries are this client's loop, never urllib3's), their backoff, and the clock and
        # sleep of the pauses between them (injectable: unit tests do not sleep).
        self.tries = max(1, int(read_retries) + 1)
        self.backoff_factor = float(backoff_factor)
        self.backoff_max = float(backoff_max)
        self.clock = clock or time.monotonic
        self.sleep = sleep or _sleep
        # The one rule for a 401 (_retry.decide): not retried until the credentials have worked in this task,
        # then at most MAX_AUTH_RETRIES more times. A caller that runs a task in slices carries both along.
        self.auth_worked = False
        self.auth_failures = 0
        self._session_made: requests.Session | None = None

    def _session(self) -> requests.Session:
        session = self._session_made
        if session is None:
            session = requests.Session()
            session.auth = self._auth
            session.verify = self._verify
            session.headers.update({
                "Accept": "application/json",
                "User-Agent": f"aiqum.jobs python-requests/{requests.__version__}",
            })
            # No retries in urllib3: they would share one time budget across attempts (and a read timeout
            # would leave the retry no time). The loop in _send retries, each attempt with a budget of its own.
            none = Retry(total=0, connect=0, read=0, status=0, other=0, redirect=0, raise_on_status=False,
                         raise_on_redirect=False)
            adapter = _WireAdapter(max_retries=none, pool_connections=4, pool_maxsize=16)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._session_made = session
        return session

    def close(self) -> None:
        if self._session_made is not None:
            self._session_made.close()
            self._session_made = None

    # -- the verbs -----------------------------------------------------------------------------

    def request(self, method: str, path: str, params: t.Mapping[str, t.Any] | None = None,
                body: t.Any = None, timeout: float | None = None, retry: bool | None = None,
                within: float | None = None) -> UMResponse:
        """Send a request to a path under /api and return the decoded answer.

        `timeout`: each attempt's budget (connect, headers and body), request_timeout by default. `retry=False`:
        one attempt. `within`: seconds all attempts and the pauses between them may take (None: no bound).
        Raises UMHTTPError for 4xx/5xx, UMConnectionError/UMTLSError when no answer came, and
        UMOperationUncertain when a write may have reached UM but its answer was lost.
        """
        method = method.upper()
        api_path = check_api_path(path)
        return self._send(method, self.base_url + api_path, api_path, params, body, timeout, retry, **_within(within))

    def get(self, path: str, params: t.Mapping[str, t.Any] | None = None, **kw: t.Any) -> t.Any:
        return self.request("GET", path, params=params, **kw).data

    def get_href(self, href: t.Any, timeout: float | None = None, within: float | None = None) -> t.Any:
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
        return self._send("GET", self.base_url + shown, shown, None, None, timeout, None, **_within(within)).data

    def get_job(self, key: str, poll_timeout: int | None = None, timeout: float | None = None,
                retry: bool = True, within: float | None = None) -> dict:
        """GET one job; with poll_timeout, ask UM to hold the answer until the job ends (long poll).

        Raises UMNotFound (HTTP 404) when UM does not know the job.
        """
        params = {"poll_timeout": int(poll_timeout)} if poll_timeout else None
        answer = self.request("GET", f"{JOBS_PATH}/{encode_segment(key)}", params=params, timeout=timeout, retry=retry,
                              **_within(within))
        data = answer.data
        if not isinstance(data, dict) or "key" not in data:
            raise UMResponseError(f"UM's answer for job {one_line(key)} is not a job object", status=answer.status)
        if str(data["key"]) != str(key):
            raise UMResponseError(f"UM answered the request for job {one_line(key)} with another job "
                                  f"({one_line(data['key'], 100)}): a proxy or cache in front of UM may mix answers",
                                  status=answer.status)
        return data

    def list_jobs(self, keys: t.Sequence[str], timeout: float | None = None, retry: bool = True,
                  within: float | None = None) -> list[dict]:
        """The jobs of `keys` in one list request (`key=a|b|...`, the API's OR syntax).

        A server that does not OR keys answers with fewer (or no) records: the caller asks for the rest one by one.
        """
        page = self.get(JOBS_PATH, params={"key": "|".join(keys), "max_records": max(1, len(keys))},
                        timeout=timeout, retry=retry, **_within(within))
        records = page.get("records") if isinstance(page, dict) else None
        if not isinstance(records, list):
            raise UMResponseError("UM's job list answer has no records list")
        return [r for r in records if isinstance(r, dict)]

    def get_ontap_job(self, cluster: str, uuid: str, timeout: float | None = None, retry: bool = True) -> dict:
        """GET one ONTAP job through UM's API gateway. Raises UMNotFound for UM's 404 (a cluster it does not reach)
        and for ONTAP's (a job it does not know, or no longer); the caller tells them apart."""
        path = f"{GATEWAYS_PATH}/{encode_segment(cluster)}/cluster/jobs/{encode_segment(uuid)}"
        answer = self.request("GET", path, timeout=timeout, retry=retry)
        data = answer.data
        if not isinstance(data, dict) or str(data.get("uuid", "")).lower() != str(uuid).lower():
            raise UMResponseError(f"the answer for ONTAP job {one_line(uuid)} on cluster {one_line(cluster)} is not "
                                  "that job", status=answer.status)
        return data

    def list_ontap_jobs(self, cluster: str, uuids: t.Sequence[str], fields: t.Sequence[str],
                        timeout: float | None = None, retry: bool = True) -> list[dict]:
        """Several ONTAP jobs of one cluster in one list GET through the gateway (`uuid=a|b`), with the `fields`
        asked for (ONTAP returns only the uuid unless asked)."""
        page = self.get(f"{GATEWAYS_PATH}/{encode_segment(cluster)}/cluster/jobs",
                        params={"uuid": "|".join(uuids), "fields": ",".join(fields),
                                "max_records": max(1, len(uuids))}, timeout=timeout, retry=retry)
        records = page.get("records") if isinstance(page, dict) else None
        if not isinstance(records, list):
            raise UMResponseError(f"the ONTAP job list of cluster {one_line(cluster)} has no records list")
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
              timeout: float | None, retry: bool | None, within: float | None = None) -> UMResponse:
        """The retry loop: one attempt after another, each with a fresh budget, as long as decide() says so and
        `within` leaves time; the pauses go through the injected clock and sleep."""
        shown = one_line(shown)
        session = self._session()
        prepared, settings = self._prepare(session, method, url, shown, params, body)
        budget = self.request_timeout if timeout is None else max(self.MIN_REQUEST_TIMEOUT, float(timeout))
        started = self.clock()
        end = None if within is None else started + max(0.0, float(within))
        attempt = 0
        while True:
            attempt += 1
            this = budget if end is None else max(self.MIN_REQUEST_TIMEOUT, min(budget, end - self.clock()))
            try:
                return self._attempt(session, prepared, settings, method, shown, this)
            except UMError as exc:
                if retry is False:
                    raise
                decision = decide(exc, attempt, method, exc.sent, auth_worked=self.auth_worked,
                                  auth_failures=self.auth_failures, tries=self.tries, base=self.backoff_factor,
                                  cap=self.backoff_max)
                if decision.retry and (end is None or
                                       self.clock() + decision.delay + self.MIN_REQUEST_TIMEOUT <= end):
                    if exc.status == 401:
                        self.auth_failures += 1
                    if decision.delay > 0:
                        self.sleep(decision.delay)
                    continue
                if attempt > 1:
                    exc.message = f"{exc.message}; tried {attempt} times in {self.clock() - started:.0f}s"
                raise

    def _prepare(self, session: t.Any, method: str, url: str, shown: str, params: t.Any,
                 body: t.Any) -> tuple[t.Any, dict]:
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
        return prepared, settings

    def _attempt(self, session: t.Any, prepared: t.Any, settings: dict, method: str, shown: str,
                 budget: float) -> UMResponse:
        """One attempt, whose budget covers connect, headers and body: a watchdog shuts its socket at the deadline
        (_transport.Attempt), so no server, however slowly it sends, holds it longer."""
        label = f"{round(budget, 2):g}s" + (" (request_timeout)" if budget == self.request_timeout else "")
        started = time.monotonic()
        with Attempt(budget) as wire:
            try:
                try:
                    # Connect and each read get the whole budget; the watchdog bounds them together.
                    resp = session.send(prepared, timeout=(budget, budget), allow_redirects=False, **settings)
                except Exception as exc:
                    trace_exchange(self.trace, prepared, started, error=type(exc).__name__)
                    raise
            except (requests.exceptions.RequestException, OSError) as exc:
                self._failed(method, shown, exc, settings, wire, label)
            if wire.expired:
                # The watchdog shut the socket while the headers came in: http.client takes the end of the socket
                # for the end of the headers, so what came back is a part of an answer, not one.
                resp.close()
                trace_exchange(self.trace, prepared, started, error="the answer's headers did not arrive in time")
                self._lost(method, shown, f"UM did not answer within {label}")
            if resp.status_code not in (401, 407) and resp.status_code < 500:
                self.auth_worked = True  # UM took the credentials (a 5xx may come from a proxy in front)
            late = f"but the rest of its answer did not arrive whole within {label}"
            content = None
            try:
                content = read_body(resp, method, shown, wire, late,
                                    lambda status, why: self._unreadable(method, shown, status, why))
            finally:
                resp.close()
                trace_exchange(self.trace, prepared, started, resp, content,
                               error=None if content is not None else "the answer's body was not read whole")
        return self._decode(resp, content, method, shown)

    def _failed(self, method: str, shown: str, exc: Exception, settings: dict, wire: Attempt,
                label: str) -> t.NoReturn:
        """No status line came back: say why, and whether the request was sent."""
        if wire.expired:
            # The watchdog shut the socket: whatever requests made of that, the budget ran out.
            if not wire.sent:
                raise UMConnectionError(f"{method} {shown}: cannot reach {self.origin}: the connection or its TLS "
                                        f"handshake did not complete within {label} (nothing was sent); check "
                                        "hostname, http_port (UM's HTTPS port) and that UM is running") from None
            self._lost(method, shown, f"UM did not answer within {label}")
        if isinstance(exc, requests.exceptions.ProxyError):
            message, answered = proxy_message(self.origin, method, shown, exc, settings.get("proxies"))
            raise UMProxyError(message, answered=answered) from None
        if isinstance(exc, requests.exceptions.SSLError):
            if wire.sent:
                self._lost(method, shown, f"the TLS connection failed after the request was sent ({_reason(exc)})")
            message, certificate = tls_message(self.origin, self.host, self.port, self.ca_path, self._verify,
                                               self.request_timeout, exc)
            if certificate:
                raise UMTLSError(message) from None
            # A handshake that broke off (not a certificate verdict) may be UM restarting: not final.
            raise UMConnectionError(message, sent=False) from None
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            raise UMConnectionError(f"{method} {shown}: could not connect to {self.origin} within {label} (nothing "
                                    "was sent): check hostname, http_port and the network") from None
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            timed_out = isinstance(exc, requests.exceptions.ReadTimeout) or \
                _caused_by(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout))
            if not wire.sent:
                if timed_out:
                    why = f"the connection or its TLS handshake did not complete within {label} (nothing was sent)"
                else:
                    why = f"{_reason(exc)} (nothing was sent)"
                raise UMConnectionError(f"{method} {shown}: cannot reach {self.origin}: {why}; check hostname, "
                                        "http_port (UM's HTTPS port) and that UM is running") from None
            if timed_out:
                self._lost(method, shown, f"UM did not answer within {label}")
            self._lost(method, shown, "the connection was closed before UM answered")
        if isinstance(exc, requests.exceptions.RequestException):
            if not wire.sent:
                raise UMConnectionError(f"{method} {shown}: the request to {self.origin} failed before it was "
                                        f"sent: {one_line(_reason(exc), 160)}") from None
            self._lost(method, shown, one_line(_reason(exc), 160))
        # requests raises a bare OSError for an unreadable CA bundle, before anything is sent.
        raise UMConfigError(f"{method} {shown}: cannot use the CA file: {one_line(exc)}") from None

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
                shown_text = self.secrets.mask(text[:400]) if self.secrets else text
                snippet = one_line(" ".join(shown_text[:80].split()), 100)
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
            raise http_error(status, method, shown, code=self._masked(err.get("code")),
                             um_message=self._masked(err.get("message")), target=self._masked(err.get("target")),
                             retry_after=retry_after(resp.headers), hint=hint)
        if problem:
            raise UMResponseError(f"{method} {shown}: UM answered HTTP {status} with {problem}", status=status)
        return UMResponse(status, data, resp.headers)


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


def _within(within: float | None) -> dict:
    """`within` as a keyword only when given, so a stand-in for _send or the verbs (tests) need not know it."""
    return {} if within is None else {"within": within}


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up when called, so a test's patch of time.sleep applies
