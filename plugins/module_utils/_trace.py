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
import stat
import time
import typing as t
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._secrets import Secrets, secret_name

DEFAULT_TRACE_FILE = "/tmp/aiqum_apis.log"
DEFAULT_BODY_LENGTH = 2000
MASK = "***"  # what the trace writes for a secret (shorter than a task result's mask: traces are read by eye)


class APITrace:
    """Appends one block per HTTP exchange to `path` (created with mode 0600, never through a symlink)."""

    def __init__(self, path: str = DEFAULT_TRACE_FILE, body_length: int = DEFAULT_BODY_LENGTH,
                 secrets: Secrets | t.Iterable[str] = ()) -> None:
        self.path = path
        self.body_length = max(0, int(body_length))
        self.secrets = secrets if isinstance(secrets, Secrets) else Secrets(secrets)

    def record(self, method: str, url: str, status: int | None, elapsed: float,
               request_headers: t.Mapping[str, t.Any], request_body: t.Any,
               response_headers: t.Mapping[str, t.Any] | None = None, response_body: t.Any = None,
               error: str | None = None) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        outcome = f"HTTP {status}" if status is not None else f"no answer ({error or 'unknown error'})"
        lines = [f"{stamp} {method} {self._url(url)} -> {outcome} in {elapsed:.3f}s"]
        lines += [f"  > {name}: {self._header(name, value)}" for name, value in request_headers.items()]
        if request_body is not None:
            lines.append(f"  > body: {self._body(request_body, sent=True)}")
        for name, value in (response_headers or {}).items():
            lines.append(f"  < {name}: {self._header(name, value)}")
        if status is not None:
            lines.append(f"  < body: {self._body(response_body, sent=False)}")
        text = self.secrets.mask("\n".join(lines), MASK) + "\n"
        with open_private(self.path) as handle:
            handle.write(text)  # one write per exchange: parallel hosts do not interleave lines

    def _url(self, url: str) -> str:
        """The URL with query values under secret-looking names replaced (the secrets themselves are masked later)."""
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(secret_name(k) and v for k, v in pairs):
            return _one_line(url)
        query = urlencode([(k, MASK if secret_name(k) and v else v) for k, v in pairs])
        return _one_line(urlunsplit(parts._replace(query=query)))

    def _header(self, name: str, value: t.Any) -> str:
        return MASK if secret_name(name) else _one_line(str(value))

    def _body(self, body: t.Any, sent: bool) -> str:
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="backslashreplace")
        if isinstance(body, str):
            try:
                body = json.loads(body) if body.strip() else body
            except ValueError:
                pass
        if not isinstance(body, str):
            # What was sent is masked by name too (a datasource's password); an answer by value only.
            body = json.dumps(self.secrets.masked(body, by_name=sent, replacement=MASK), sort_keys=False, default=str)
        # Masked before it is cut: a cut through a secret must not leave its first characters.
        text = self.secrets.mask(_one_line(body), MASK)
        if len(text) > self.body_length:
            text = f"{text[:self.body_length]}... ({len(text)} characters, cut at trace_body_length)"
        return text or "(empty)"


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
    except (OSError, TraceFileError):
        pass


class TraceFileError(Exception):
    """The trace file is not safe to write: the message says why."""


def open_private(path: str) -> t.TextIO:
    """Open `path` for appending, refusing what could leak the trace: a symlink (O_NOFOLLOW), something other
    than a regular file, a file owned by another user, or one that others may read or write. A new file is made
    0600."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0), 0o600)
    except OSError as exc:
        if os.path.islink(path):
            raise TraceFileError("it is a symbolic link") from None
        raise TraceFileError(exc.strerror or type(exc).__name__) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TraceFileError("it is not a regular file")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise TraceFileError("it belongs to another user")
        if info.st_mode & 0o077:
            raise TraceFileError(f"others may read or write it (mode {stat.S_IMODE(info.st_mode):04o}): "
                                 "chmod 600 it, or delete it")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace")


def check_trace_file(path: str) -> str | None:
    """Why the trace file cannot be written safely, or None: checked before anything is sent."""
    try:
        open_private(path).close()
    except TraceFileError as exc:
        return str(exc)
    return None
