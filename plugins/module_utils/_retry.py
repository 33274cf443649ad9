# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for "ask again?": which failures are retried, and after how long.

`decide()` is a function of the error, the attempt, the method and whether the request was sent, nothing else:
the client's retry loop, the waiter and the event source all ask it, so a 503, a lost answer or a 401 is treated
the same wherever it happens. The callers keep their own loops (they know their deadlines); none keeps its own
list of statuses or its own reading of Retry-After.

Plain Python: nothing from Ansible, nothing from requests.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import time
import typing as t

# HTTP statuses worth asking again for a read: the server or a proxy in front of it is busy or restarting.
TRANSIENT_STATUSES = frozenset((429, 500, 502, 503, 504))
# A Retry-After is honoured up to this many seconds: a server cannot park a request or a wait for minutes.
RETRY_AFTER_CAP = 10.0
# Once the credentials have worked in a task, a 401 is a directory hiccup worth this many more tries (per task).
MAX_AUTH_RETRIES = 2
# Methods that change nothing on UM: asking again cannot start anything twice.
READ_METHODS = frozenset(("GET", "HEAD"))
# Backoff without Retry-After: BACKOFF_BASE * 2 ** (attempt - 1), at most BACKOFF_CAP, jittered down to half.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


class Decision(t.NamedTuple):
    """Whether to ask again, after how many seconds, and why (for a log line or a test)."""

    retry: bool
    delay: float
    why: str


def retry_after(headers: t.Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds an answer's Retry-After asks to wait, or None when it has none (or one that cannot be read).

    Either delta-seconds, or an HTTP date: a date is measured against the same answer's `Date` header (the
    server's clock against the server's clock), else against `now` (epoch seconds; the local clock by default).
    Never negative; not capped here (decide() caps what it uses).
    """
    if not headers:
        return None
    value = headers.get("Retry-After")
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        when = http_date(text)
        if when is None:
            return None
        served = http_date(str(headers.get("Date") or ""))
        base = served if served is not None else (time.time() if now is None else now)
        seconds = when - base
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), 86400.0)


def http_date(text: t.Any, assume_utc: bool = False) -> float | None:
    """Epoch seconds of an HTTP date (a `Date` or `Retry-After` header), or None: the one reader of them.

    RFC 9110 dates are always GMT; a date without a zone is refused unless `assume_utc` (the estimate's reading of
    a server's `Date`, where an hour-off guess is caught by its own bounds)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        if not assume_utc:
            return None
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def backoff(attempt: int, rng: t.Callable[[], float] = random.random, base: float = BACKOFF_BASE,
            cap: float = BACKOFF_CAP) -> float:
    """Capped exponential backoff after failed attempt `attempt` (1 = the first), jittered between half and all
    of it so that many clients failing together do not come back together."""
    full = min(cap, base * 2 ** min(max(attempt, 1) - 1, 16))
    return full * (0.5 + 0.5 * rng())


def decide(error: BaseException, attempt: int, method: str, sent: bool, *, auth_worked: bool = False,
           auth_failures: int = 0, rng: t.Callable[[], float] = random.random, tries: int | None = None,
           base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> Decision:
    """Whether to ask again after `error` ended attempt `attempt` (1 = the first) of a `method` request.

    - Only the client's errors (UMError) are retried; anything else is a bug to report, not to repeat.
    - Anything the error marks `final` (a certificate, a proxy that refuses, a redirect, an answer too large, a
      write whose answer was lost) is not retried.
    - A request that was not sent (refused, unresolvable, connect timeout) is retried for every method:
      nothing reached UM, so nothing can happen twice.
    - Once sent, only reads (GET, HEAD) are retried: on a transient status (TRANSIENT_STATUSES), or when the
      answer was lost or unreadable. A write that may have reached UM is never sent again.
    - A 401 is retried only when the credentials have worked before in this task (`auth_worked`), and then at
      most MAX_AUTH_RETRIES times per task (`auth_failures`: the 401s already retried); otherwise it is final and
      its message names the user and the host.
    - `tries` caps the attempts (None: the caller's deadline does).
    The delay is the answer's Retry-After, capped at RETRY_AFTER_CAP, else a capped, jittered exponential backoff.
    """
    method = str(method).upper()
    status = getattr(error, "status", None)
    sent = bool(sent or getattr(error, "sent", False))
    if not _is_client_error(error):
        return Decision(False, 0.0, f"not a client error ({type(error).__name__})")
    if getattr(error, "final", False):
        return Decision(False, 0.0, "final: asking again cannot help")
    if status == 401:
        if method not in READ_METHODS:
            return Decision(False, 0.0, "authentication failed on a write")
        if not auth_worked:
            return Decision(False, 0.0, "authentication failed and the credentials never worked in this task")
        if auth_failures >= MAX_AUTH_RETRIES:
            return Decision(False, 0.0, f"authentication failed again after {auth_failures} more tries")
    elif sent:
        if method not in READ_METHODS:
            return Decision(False, 0.0, f"a {method} that may have reached UM is never sent again")
        # A status counts when UM's answer could be read (UMHTTPError); an answer cut off or unreadable after its
        # status line is a lost answer, whatever the status said.
        if _is_http_error(error) and status is not None and status >= 400 and status not in TRANSIENT_STATUSES:
            return Decision(False, 0.0, f"HTTP {status} is not transient")
    if tries is not None and attempt >= tries:
        return Decision(False, 0.0, f"{attempt} tries made, the most allowed")
    wait = getattr(error, "retry_after", None)
    if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait >= 0:
        return Decision(True, min(float(wait), RETRY_AFTER_CAP), _why(status, sent) + ", as Retry-After asks")
    return Decision(True, backoff(attempt, rng, base, cap), _why(status, sent))


def _why(status: int | None, sent: bool) -> str:
    if status == 401:
        return "authentication failed after it had worked"
    if status is not None and status >= 400:
        return f"HTTP {status} is transient"
    return "the answer was lost or unreadable" if sent else "nothing was sent"


def _is_http_error(error: BaseException) -> bool:
    from ._errors import UMHTTPError  # here, not at the top: _errors takes its lists from this module
    return isinstance(error, UMHTTPError)


def _is_client_error(error: BaseException) -> bool:
    from ._errors import UMError  # here, not at the top: _errors takes its lists from this module
    return isinstance(error, UMError)
