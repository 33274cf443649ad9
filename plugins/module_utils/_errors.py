# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception hierarchy for everything that can go wrong talking to Unified Manager.

Each exception's str() is the one-line reason a user sees: it says what happened and what to do.
None of them ever holds a password, an Authorization header or a URL with credentials.
Plain Python: nothing from Ansible is imported here.
"""

from __future__ import annotations

import typing as t

from ._retry import TRANSIENT_STATUSES
from ._text import one_line

_HINTS = {
    400: "UM rejected the request as invalid",
    401: "authentication failed: check username and password (or UM_USERNAME / UM_PASSWORD)",
    403: "the user's role may not do this: Operators may only read; writes need a Storage "
         "or Application Administrator",
    404: "no such object on UM",
    405: "UM does not allow this method on this path",
    409: "UM reports a conflict with the current state of the object",
    429: "UM is throttling requests (too many requests)",
    500: "UM had an internal error",
    502: "a proxy in front of UM got no valid answer from it",
    503: "UM is unavailable (starting, restarting or overloaded)",
    504: "a proxy in front of UM timed out waiting for it",
}


class UMError(Exception):
    """Base class: str(error) is a complete one-line message for the user.

    What _retry.decide() needs to know, on every error:
    - `final` is True when asking again cannot help (a proxy refusing, a certificate, a redirect, a bad option)
      or must not happen (a write whose answer was lost): fail at once with the message. HTTP errors leave it
      False: which statuses are worth asking again is decide()'s rule (TRANSIENT_STATUSES).
    - `sent`: whether the request may have reached UM. `status`: the HTTP status, when a status line came back.
    - `retry_after`: seconds the answer's Retry-After asked to wait, or None.
    """

    final = False
    sent = False
    status: int | None = None
    retry_after: float | None = None

    def __init__(self, message: str, **details: t.Any) -> None:
        super().__init__(message)
        self.message = message
        # Extra machine-readable fields that a module adds to its failure result.
        self.details = details

    def __str__(self) -> str:
        return self.message


class UMConfigError(UMError):
    """A connection or module option is unusable (bad hostname, port, CA file...). Nothing was sent."""

    final = True


class UMConnectionError(UMError):
    """No usable answer arrived: refused, unresolvable, reset, dropped, or timed out.

    `sent` tells whether the request may have reached the server (matters for writes).
    """

    def __init__(self, message: str, sent: bool = False, **details: t.Any) -> None:
        super().__init__(message, **details)
        self.sent = sent


class UMTLSError(UMConnectionError):
    """The server's certificate could not be verified, or the TLS handshake failed: nothing was sent."""

    final = True


class UMProxyError(UMConnectionError):
    """The proxy (from HTTPS_PROXY / https_proxy) could not be reached or refused to connect to UM (CONNECT
    answered 407, 403...): nothing reached UM. `final` when the proxy answered (a refusal is not going away);
    a proxy that could not be reached may be restarting."""

    def __init__(self, message: str, answered: bool = True, **details: t.Any) -> None:
        super().__init__(message, sent=False, **details)
        self.final = answered


class UMOperationUncertain(UMError):
    """A write reached UM (or may have) but its answer was lost: it may have started a job.

    The request is never re-sent (`final`): the message tells the user how to look for the job.
    """

    final = True
    sent = True


class UMResponseError(UMError):
    """UM answered something this collection cannot read (not JSON, wrong shape, a job for another key).

    `status` is the HTTP status of the answer when a status line came back, and then `sent` is True: the
    request reached the server, whatever it did with it.
    """

    def __init__(self, message: str, status: int | None = None, **details: t.Any) -> None:
        if status is not None:
            details.setdefault("status", status)
        super().__init__(message, **details)
        self.status = status
        self.sent = status is not None


class UMRedirectError(UMResponseError):
    """UM answered a redirect (301/302/307/308), which is never followed: hostname or http_port is wrong."""

    final = True


class UMHTTPError(UMError):
    """UM answered an HTTP error; carries its status and UM's error code, message and target (made one line)."""

    sent = True

    def __init__(self, status: int, method: str, path: str, code: str | None = None,
                 um_message: str | None = None, target: str | None = None,
                 retry_after: float | None = None, hint: str | None = None) -> None:
        # UM's message may span lines: its white space is folded before anything else is escaped.
        um_message = None if um_message is None else one_line(" ".join(str(um_message).split()))
        target = None if target is None else one_line(target, 80)
        code = None if code is None else one_line(code, 80)
        self.status = status
        self.method = method
        self.path = path
        self.code = code
        self.um_message = um_message
        self.target = target
        self.retry_after = retry_after
        hint = hint or _HINTS.get(status, "UM answered an error")
        text = f"{method} {path}: HTTP {status}, {hint}"
        if um_message:
            text += f". UM says: {um_message}"
            if target:
                text += f" (target: {target})"
        super().__init__(text, status=status, um_error={"code": code, "message": um_message, "target": target})

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES


class UMNotFound(UMHTTPError):
    """HTTP 404: the object (a job, for the waiter) does not exist on UM."""


def http_error(status: int, method: str, path: str, **kw: t.Any) -> UMHTTPError:
    """The one place an HTTP error status becomes an exception class."""
    cls = UMNotFound if status == 404 else UMHTTPError
    return cls(status, method, path, **kw)


class UMResponseTooLarge(UMResponseError):
    """UM's answer was far larger than any job or page of jobs: refused rather than read into memory."""

    final = True
