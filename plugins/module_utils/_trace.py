# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""API tracing (`feature_flags: {trace_apis: true}`): every HTTP exchange appended to a log file.

This is how a user sees what a real Unified Manager answers (the shape of a job handle, an error body)
without a proxy. Secrets never reach the file: the Authorization and cookie headers are replaced by `***`,
body values under secret-looking names are masked, and the password itself is masked wherever it appears.
Plain Python, nothing from Ansible: the client calls `trace_exchange` from its one sending place.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import time
import typing as t

DEFAULT_TRACE_FILE = "/tmp/aiqum_apis.log"
DEFAULT_BODY_LENGTH = 2000
MASK = "***"
# Headers whose values are credentials or sessions: never written.
_SECRET_HEADERS = re.compile(r"^(authorization|proxy-authorization|cookie|set-cookie|x-auth-token|x-api-key)$",
                             re.IGNORECASE)
# Body fields whose values are secrets (a datasource's password, a token, ...).
_SECRET_FIELDS = re.compile(r"pass(word|wd|phrase)?$|secret|token|private_?key|api_?key|credential", re.IGNORECASE)


class APITrace:
    """Appends one block per HTTP exchange to `path` (created with mode 0600)."""

    def __init__(self, path: str = DEFAULT_TRACE_FILE, body_length: int = DEFAULT_BODY_LENGTH,
                 secrets: t.Iterable[str] = ()) -> None:
        self.path = path
        self.body_length = max(0, int(body_length))
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if isinstance(s, str) and len(s) >= 1}, key=len, reverse=True)

    def record(self, method: str, url: str, status: int | None, elapsed: float,
               request_headers: t.Mapping[str, t.Any], request_body: t.Any,
               response_headers: t.Mapping[str, t.Any] | None = None, response_body: t.Any = None,
               error: str | None = None) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        outcome = f"HTTP {status}" if status is not None else f"no answer ({error or 'unknown error'})"
        lines = [f"{stamp} {method} {url} -> {outcome} in {elapsed:.3f}s"]
        lines += [f"  > {name}: {self._header(name, value)}" for name, value in request_headers.items()]
        if request_body is not None:
            lines.append(f"  > body: {self._body(request_body)}")
        for name, value in (response_headers or {}).items():
            lines.append(f"  < {name}: {self._header(name, value)}")
        if status is not None:
            lines.append(f"  < body: {self._body(response_body)}")
        text = self._mask("\n".join(lines)) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)  # one write per exchange: parallel hosts do not interleave lines

    def _header(self, name: str, value: t.Any) -> str:
        return MASK if _SECRET_HEADERS.match(str(name)) else _one_line(str(value))

    def _body(self, body: t.Any) -> str:
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="backslashreplace")
        if isinstance(body, str):
            try:
                body = json.loads(body) if body.strip() else body
            except ValueError:
                pass
        text = body if isinstance(body, str) else json.dumps(_masked(body), sort_keys=False, default=str)
        text = _one_line(text)
        if len(text) > self.body_length:
            text = f"{text[:self.body_length]}... ({len(text)} characters, cut at trace_body_length)"
        return text or "(empty)"

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
            # As JSON would escape it (a password with quotes or non-ASCII characters).
            escaped = json.dumps(secret)[1:-1]
            if escaped != secret:
                text = text.replace(escaped, MASK)
        return text


def _masked(data: t.Any) -> t.Any:
    if isinstance(data, dict):
        return {k: (MASK if _SECRET_FIELDS.search(str(k)) and not isinstance(v, (dict, list)) else _masked(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_masked(v) for v in data]
    return data


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def trace_exchange(trace: APITrace | None, prepared: t.Any, started: float, resp: t.Any = None,
                   content: bytes | None = None, error: str | None = None) -> None:
    """Record one exchange when tracing is on: the request as it went out (a `requests.PreparedRequest`) and the
    answer with its whole body, or the error that ended it. `started` is time.monotonic() before sending."""
    if trace is None:
        return
    headers = dict(prepared.headers)
    headers["Authorization"] = MASK  # Basic auth is always sent; the value is never written
    status = None if resp is None else resp.status_code
    _record(trace, prepared.method, prepared.url, status, time.monotonic() - started, headers, prepared.body,
            None if resp is None else dict(resp.headers), content, error=error)


def _record(trace: APITrace, *args: t.Any, **kwargs: t.Any) -> None:
    """Tracing is a diagnosis aid: a full disk must not turn a sent request into a failed task."""
    try:
        trace.record(*args, **kwargs)
    except OSError:
        pass


def check_trace_file(path: str) -> str | None:
    """Why the trace file cannot be written, or None: checked before anything is sent."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    return None
