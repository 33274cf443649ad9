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
"""

from __future__ import annotations

import json
import os
import re
import traceback
import typing as t
from urllib.parse import quote, unquote, urlsplit

from ._errors import (
    UMConfigError,
    UMConnectionError,
    UMHTTPError,
    UMOperationUncertain,
    UMResponseError,
    UMTLSError,
)
from ._trace import traced_request

REQUESTS_IMPORT_ERROR: str | None
try:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
except ImportError:  # pragma: no cover - reported by the module wrapper with missing_required_lib
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    HTTPAdapter = object  # type: ignore[assignment,misc]
    Retry = object  # type: ignore[assignment,misc]
else:
    REQUESTS_IMPORT_ERROR = None

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
JOBS_PATH = "/management-server/jobs"
# UM accepts at most this many records per page.
MAX_PAGE = 1000


def encode_segment(value: str) -> str:
    """Percent-encode one path parameter (job keys hold ':'), so nothing in it can change the path."""
    return quote(str(value), safe="")


def _shown(text: str) -> str:
    """An option's value for a message: user info masked (it may hold a password), control characters escaped."""
    text = re.sub(r"(^|//)[^/?#@]*@", r"\1***@", text)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)[:200]


def check_api_path(path: str) -> str:
    """Normalise a path under /api (`/storage-provider/luns`, `storage-provider/luns`, `/api/...`).

    Refuses absolute URLs, `..` segments and embedded queries, so a path can never leave the API.
    """
    if not isinstance(path, str) or not path.strip():
        raise UMConfigError("path is empty: give a path under /api, for example /storage-provider/luns")
    p = path.strip()
    if "://" in p or p.startswith("//"):
        raise UMConfigError(f"path '{_shown(p)}' is a URL: give only the path under /api (for example "
                            "/storage-provider/luns); the server comes from hostname and http_port")
    if any(c in p for c in "?#"):
        raise UMConfigError(f"path '{_shown(p)}' holds '?' or '#': give query parameters in the query option")
    if any(ord(c) < 33 or ord(c) > 126 for c in p):
        raise UMConfigError(f"path '{_shown(p)}' holds spaces, control or non-ASCII characters: "
                            "percent-encode path parameters or pass them in query")
    if not p.startswith("/"):
        p = "/" + p
    if p == "/api" or p.startswith("/api/"):
        p = p[4:] or "/"
    segments = p.split("/")
    if any(unquote(s) in ("..", ".") for s in segments):
        raise UMConfigError(f"path '{_shown(path)}' holds a '.' or '..' segment: give the path under /api as it is")
    return p


class _CappedRetry(Retry):  # type: ignore[misc,valid-type]
    """urllib3 Retry whose Retry-After wait is capped, so a server cannot park a read for minutes."""

    RETRY_AFTER_CAP = 10.0

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        value = super().get_retry_after(response)
        return None if value is None else min(float(value), self.RETRY_AFTER_CAP)


class UMResponse(t.NamedTuple):
    status: int
    data: t.Any  # decoded JSON, or None for an empty answer (204)
    headers: t.Mapping[str, str]


class UMClient:
    """Talks to one Unified Manager over HTTPS with HTTP Basic authentication."""

    trace = None  # an _trace.APITrace to record every exchange (feature_flags.trace_apis), set by the caller

    def __init__(self, hostname: str, username: str, password: str, port: int | None = None,
                 validate_certs: bool = True, ca_path: str | None = None, request_timeout: float = 30.0,
                 scheme: str = "https", read_retries: int = 3, backoff_factor: float = 0.5,
                 backoff_max: float = 8.0) -> None:
        if REQUESTS_IMPORT_ERROR:
            raise UMConfigError("the Python library 'requests' is required on the host that runs this module "
                                "(pip install requests)")
        if int(urllib3.__version__.split(".", 1)[0]) < 2:
            raise UMConfigError(f"urllib3 {urllib3.__version__} is too old on the host that runs this module: "
                                "it needs urllib3 2 or later (pip install 'requests>=2.30' 'urllib3>=2')")
        host = check_hostname(hostname)
        if port is not None and not 1 <= int(port) <= 65535:
            raise UMConfigError(f"http_port {port} is out of range: give a TCP port from 1 to 65535")
        if request_timeout is None or not 0 < float(request_timeout) <= 3600:
            raise UMConfigError(f"request_timeout {request_timeout} is out of range: give seconds from 1 to 3600")
        netloc = f"[{host}]" if ":" in host else host
        if port:
            netloc += f":{int(port)}"
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
                raise UMConfigError(f"ca_path {_shown(str(ca_path))} is not a readable file: give the PEM file of the CA "
                                    "that signed UM's certificate (UM_CA_PATH)")
            self._verify = ca_path
        self.ca_path = ca_path if validate_certs else None

        self._auth = (username, password)
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
            adapter = HTTPAdapter(max_retries=self._policies[policy](), pool_connections=4, pool_maxsize=16)
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

    def get_href(self, href: str, timeout: float | None = None) -> t.Any:
        """GET a server-relative link UM gave us (`_links.next`), exactly as given."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/api/"):
            raise UMResponseError(f"UM gave a link that is not a path under /api: {href[:200]!r}")
        shown = parts.path[4:] + ("?" + parts.query if parts.query else "")
        return self._send("GET", self.origin + href, shown, None, None, timeout, None).data

    def get_job(self, key: str, poll_timeout: int | None = None, timeout: float | None = None,
                retry: bool = True) -> dict:
        """GET one job; with poll_timeout, ask UM to hold the answer until the job ends (long poll)."""
        params = {"poll_timeout": int(poll_timeout)} if poll_timeout else None
        data = self.request("GET", f"{JOBS_PATH}/{encode_segment(key)}", params=params,
                            timeout=timeout, retry=retry).data
        if not isinstance(data, dict) or "key" not in data:
            raise UMResponseError(f"UM's answer for job {key} is not a job object")
        return data

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
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("records", []), list):
                raise UMResponseError(f"UM's answer for {path} is not a list of records")
            for record in page.get("records") or []:
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            nxt = ((page.get("_links") or {}).get("next") or {}).get("href")
            if not nxt or not page.get("records"):
                return
            page = self.get_href(nxt, timeout=timeout)

    # -- the one place a request goes out ---------------------------------------------------------

    def _send(self, method: str, url: str, shown: str, params: t.Any, body: t.Any,
              timeout: float | None, retry: bool | None) -> UMResponse:
        if method in WRITE_METHODS:
            session = self._session("write")
        else:
            session = self._session("none" if retry is False else "read")
        read_timeout = self.request_timeout if timeout is None else max(0.1, float(timeout))
        kwargs: dict[str, t.Any] = {
            "params": _flatten(params) if params else None,
            "timeout": (min(self.request_timeout, read_timeout), read_timeout),
            "allow_redirects": False,
            # Explicit on every request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the session's
            # setting, which would silently replace ca_path (or turn validate_certs=false back on).
            "verify": self._verify,
        }
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            resp = traced_request(self.trace, session, method, url, kwargs)
        except requests.exceptions.SSLError as exc:
            raise UMTLSError(self._tls_message(exc)) from None
        except requests.exceptions.ConnectTimeout:
            raise UMConnectionError(f"{method} {shown}: could not connect to {self.origin} within "
                                    f"{self.request_timeout:g}s: check hostname, http_port and the network") from None
        except requests.exceptions.ReadTimeout:
            self._lost(method, shown, f"no answer within {read_timeout:g}s (request_timeout)")
        except requests.exceptions.ConnectionError as exc:
            if _never_sent(exc):
                raise UMConnectionError(f"{method} {shown}: cannot reach {self.origin}: {_reason(exc)}; "
                                        "check hostname, http_port and that UM is running") from None
            if _caused_by(exc, (urllib3.exceptions.ReadTimeoutError,)):
                # What urllib3's Retry hands back after the last read timeout it tried again.
                self._lost(method, shown, f"no answer within {read_timeout:g}s (request_timeout)")
            self._lost(method, shown, "the connection was closed before UM answered")
        except requests.exceptions.RequestException as exc:
            self._lost(method, shown, _reason(exc))
        except OSError as exc:
            # requests raises a bare OSError for an unreadable CA bundle, before anything is sent.
            raise UMConfigError(f"{method} {shown}: cannot use the CA file: {exc}") from None
        return self._decode(resp, method, shown)

    def _lost(self, method: str, shown: str, why: str) -> t.NoReturn:
        if method in WRITE_METHODS:
            raise UMOperationUncertain(
                f"{method} {shown}: {why}, after the request was sent. UM may have accepted it and started "
                "a job; it was NOT sent again. Before retrying, look for the job with aiqum.jobs.um_job_info "
                "(filter on name, type or submit_time).", operation_uncertain=True)
        raise UMConnectionError(f"{method} {shown}: {why}", sent=True)

    def _tls_message(self, exc: Exception) -> str:
        why = _reason(exc)
        if self.ca_path:
            return (f"TLS certificate of {self.origin} could not be verified with the CA file {self.ca_path}: "
                    f"{why}. Give the CA certificate that signed UM's certificate in ca_path (UM_CA_PATH).")
        return (f"TLS certificate of {self.origin} could not be verified: {why}. If UM uses a self-signed or "
                "private-CA certificate, give that CA certificate's PEM file in ca_path (or UM_CA_PATH).")

    @staticmethod
    def _decode(resp: t.Any, method: str, shown: str) -> UMResponse:
        status = resp.status_code
        text = resp.text if resp.content else ""
        data: t.Any = None
        if text.strip():
            try:
                data = json.loads(text)
            except ValueError:
                if status < 400:
                    snippet = " ".join(text[:80].split())
                    raise UMResponseError(f"{method} {shown}: UM answered HTTP {status} with a body that is "
                                          f"not JSON (starts with {snippet!r})") from None
        if 300 <= status < 400:
            raise UMResponseError(f"{method} {shown}: UM answered a redirect (HTTP {status}); this client "
                                  "does not follow redirects: point hostname and http_port at UM itself")
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            err = err if isinstance(err, dict) else {}
            raise UMHTTPError(status, method, shown, code=_str(err.get("code")), um_message=_str(err.get("message")),
                              target=_str(err.get("target")), retry_after=_retry_after(resp.headers))
        return UMResponse(status, data, resp.headers)


def check_hostname(hostname: str) -> str:
    """Accept a host name or address only: a scheme, path or port belongs in other options."""
    host = (hostname or "").strip()
    if not host:
        raise UMConfigError("hostname is empty: give UM's host name or address (or set UM_HOSTNAME)")
    if "://" in host:
        raise UMConfigError(f"hostname '{_shown(host)}' holds a scheme: give only the host name or address, "
                            "HTTPS is always used")
    if any(c in host for c in "/?#@ \t"):
        raise UMConfigError(f"hostname '{_shown(host)}' is not a host name or address: give only the host, "
                            "for example um.example.com")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif host.count(":") == 1:
        raise UMConfigError(f"hostname '{_shown(host)}' holds a port: give the port in http_port")
    return host


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


def _never_sent(exc: Exception) -> bool:
    """True when a ConnectionError happened before any byte of the request reached the server."""
    return _caused_by(exc, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                            urllib3.exceptions.NameResolutionError))


def _reason(exc: Exception) -> str:
    """A short reason without URLs (which could carry user info) or nested reprs."""
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
