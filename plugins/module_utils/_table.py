# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job table: has a job ended, and what does its outcome mean. One table for every entry point (the
modules, the waiter, progress lines, the lookup, the event source), and the readers of a job record.

Plain Python, nothing from Ansible.
"""

from __future__ import annotations

import datetime as _dt
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import unquote

from ._errors import UMConfigError
from ._text import one_line

# ---------------------------------------------------------------------------------------------
# The table. Values are compared lower-case: servers differ in case.
#
#   state (lifecycle)                  terminal?  outcome
#   running, aborting, queued, ...     no         -
#   completed                          yes        from `status` (below)
#   aborted                            yes        aborted
#   normal | error | partial_failures  yes        the state itself (servers that follow the vendor's prose)
#   anything, with a complete_time     yes        the state if it names an outcome (WARNING), else `status`
#   anything else                      no         reported as an unknown state while waiting
#
#   status (outcome)    what the task does
#   normal              ok
#   warning             ok, with a warning (option: silence it)
#   partial_failures    ok, with a warning (option: fail)
#   error               fail
#   aborted             fail
#   not_found           fail (UM answered 404 for the key: no such job, or no longer)
#   anything else       fail (a finished job with an outcome we cannot read is never called a success)
#
# Two vocabularies, side by side. Which one a job speaks comes from its handle (its key), never from its record:
# UM's keys (`2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4`) read by UM's columns, ONTAP's jobs reached through UM's
# API gateway (key `ontap:<cluster uuid>:<job uuid>`, see ontap_key) by ONTAP's.
#
#   UM: state / status (above)             ONTAP: state               terminal?  outcome      the task
#   running, queued, ...                   queued, running, paused    no         -            -
#   completed + normal                     success                    yes        normal | success    ok
#   completed + warning                    -                          yes        warning      warn
#   completed + partial_failures           -                          yes        partial_failures  warn
#   completed + error                      failure                    yes        error | failure  fail (ONTAP: message, code)
#   aborted                                -                          yes        aborted      fail
#   404 for the key                        404, job never seen        yes        not_found    fail
#   -                                      404, job seen before       yes        forgotten    fail (ONTAP forgets ended jobs)
#   anything else                          anything else              no         (unknown state, warned; still running)
# ---------------------------------------------------------------------------------------------
RUNNING_STATES = frozenset(("running", "aborting", "queued", "scheduled", "pending", "starting"))
COMPLETED_STATES = frozenset(("completed",))
ABORTED_STATES = frozenset(("aborted",))
PROSE_TERMINAL_STATES = frozenset(("normal", "error", "partial_failures"))
# The vendor's prose lists WARNING among its "states" but not among the terminal ones: a job in it is
# still running as far as the wire tells us.
PROSE_RUNNING_STATES = frozenset(("warning",))

# The state words under which a listed job may have ended (a prose WARNING only with a complete_time), for list
# filters that ask UM for ended jobs: each in lower and upper case, as servers differ in case.
ENDED_STATE_WORDS = tuple(w for word in ("completed", "aborted", "normal", "error", "partial_failures", "warning")
                          for w in (word, word.upper()))

SUCCESS, WARNING, PARTIAL, ERROR, ABORTED, UNKNOWN, NOT_FOUND = (
    "normal", "warning", "partial_failures", "error", "aborted", "unknown", "not_found")
# ONTAP's column: its own words for its two ends, and what a 404 means for a job that was seen before.
ONTAP_SUCCESS, ONTAP_FAILURE, FORGOTTEN = "success", "failure", "forgotten"
OUTCOMES = (SUCCESS, WARNING, PARTIAL, ERROR, ABORTED, UNKNOWN, NOT_FOUND, ONTAP_SUCCESS, ONTAP_FAILURE, FORGOTTEN)
ONTAP_RUNNING_STATES = frozenset(("queued", "running", "paused"))
ONTAP_TERMINAL_STATES = frozenset((ONTAP_SUCCESS, ONTAP_FAILURE))
# The vocabularies a job key can name (vocabulary_of).
UM, ONTAP = "um", "ontap"

# What the task does for each outcome by default; action_for() applies the two switches (warning, partial).
OUTCOME_ACTIONS: dict[str, str] = {
    SUCCESS: "ok",
    WARNING: "warn",
    PARTIAL: "warn",
    ERROR: "fail",
    ABORTED: "fail",
    UNKNOWN: "fail",
    NOT_FOUND: "fail",
    ONTAP_SUCCESS: "ok",
    ONTAP_FAILURE: "fail",
    FORGOTTEN: "fail",
}

# A job key goes into a URL path and a `key=a|b` filter: refuse what could change either.
MAX_KEY_LENGTH = 256
_KEY_FORBIDDEN = set("/?#|%\\&=+\"'<>`{}[]")


def _lower(value: t.Any) -> str:
    return str(value).strip().lower() if value is not None else ""


@dataclass(frozen=True)
class Verdict:
    terminal: bool
    outcome: str | None  # one of OUTCOMES when terminal
    state: str
    status: str
    known_state: bool = True


def classify(job: t.Mapping[str, t.Any], vocabulary: str | None = None) -> Verdict:
    """Read one job object by the table above, in the vocabulary its handle names: `vocabulary` (UM or ONTAP), or
    else the one of the key the record carries (the waiter stores an ONTAP record under its `ontap:` key)."""
    if (vocabulary or vocabulary_of(job.get("key"))) == ONTAP:
        return _classify_ontap(job)
    state = _lower(job.get("state"))
    status = _lower(job.get("status"))
    if state in COMPLETED_STATES:
        outcome = status if status in (SUCCESS, WARNING, PARTIAL, ERROR) else UNKNOWN
        return Verdict(True, outcome, state, status)
    if state in ABORTED_STATES:
        return Verdict(True, ABORTED, state, status)
    if state in PROSE_TERMINAL_STATES:
        return Verdict(True, state, state, status)
    if job.get("complete_time"):
        # A job with a completion time has ended, whatever its state says (a prose-following server may write
        # WARNING there): the state names the outcome if it can, else the status does.
        if state == WARNING:
            return Verdict(True, WARNING, state, status)
        return Verdict(True, status if status in (SUCCESS, WARNING, PARTIAL, ERROR) else UNKNOWN, state, status)
    if state in RUNNING_STATES or state in PROSE_RUNNING_STATES:
        return Verdict(False, None, state, status)
    return Verdict(False, None, state, status, known_state=False)


def _classify_ontap(job: t.Mapping[str, t.Any]) -> Verdict:
    """ONTAP's column: `success` and `failure` end a job, `queued`, `running` and `paused` do not."""
    state = _lower(job.get("state"))
    if state in ONTAP_TERMINAL_STATES:
        return Verdict(True, state, state, state)
    return Verdict(False, None, state, "", known_state=state in ONTAP_RUNNING_STATES)


def action_for(outcome: str, fail_on_partial: bool = False, warn_on_warning: bool = True) -> str:
    """'ok', 'warn' or 'fail' for a terminal outcome, with the user's two switches applied."""
    action = OUTCOME_ACTIONS.get(outcome, "fail")
    if outcome == PARTIAL and fail_on_partial:
        return "fail"
    if outcome == WARNING and not warn_on_warning:
        return "ok"
    return action


def ended(job: t.Mapping[str, t.Any], vocabulary: str | None = None) -> bool:
    """Whether a job record shows a job that has ended, by the table (the one rule for every entry point)."""
    return classify(job, vocabulary).terminal


_ISO_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def parse_time(value: t.Any) -> float | None:
    """Epoch seconds of a UM time (`2019-11-15T09:57:18.000+05:30`), or None when it is not one: the one time
    parser. A time without an offset is read as UTC (UM always sends one; a guess in local time would be hours off).
    An impossible date or offset (`+25:00`) is None too, never an exception."""
    if not isinstance(value, str):
        return None
    m = _ISO_TIME.match(value.strip())
    if not m:
        return None
    try:
        year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
        second = int(m.group(6) or 0)
        micro = int((m.group(7) or "0").ljust(6, "0")[:6])
        tz = _dt.timezone.utc
        off = m.group(8)
        if off and off not in ("Z", "z"):
            digits = off[1:].replace(":", "")
            delta = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            tz = _dt.timezone(delta if off[0] == "+" else -delta)
        return _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).timestamp()
    except (ValueError, OverflowError):
        return None


def check_key(key: t.Any, ontap: bool = True) -> str:
    """Validate one job key from the user; keys are opaque but must be safe to put in a URL.

    With `ontap` (um_request, um_job_wait), an ONTAP job through the gateway is accepted in any of its forms (the
    `ontap:` key, its link, the `job` dict of the answer that started it) and comes back as its `ontap:` key; without
    (um_job_info, the lookup, which read UM's job list), an ONTAP job is refused with one line.
    """
    key = normalise_key(key)
    if isinstance(key, str) and key.strip().lower().startswith(ONTAP_KEY_PREFIX):
        k = key.strip()
        if ontap_parts(k) is None:
            raise UMConfigError(f"job key '{_printable(k[:120])}' is not an ONTAP job key: give it as "
                                "ontap:<cluster uuid>:<job uuid> (job_key of aiqum.jobs.um_request), the job's link "
                                "/api/gateways/<cluster uuid>/cluster/jobs/<job uuid>, or the job dict")
        if not ontap:
            raise UMConfigError(f"job key '{k}' names an ONTAP job (through UM's API gateway), which UM's job list "
                                "does not hold: wait for it with aiqum.jobs.um_job_wait, or read it with "
                                "aiqum.jobs.um_request at /gateways/<cluster uuid>/cluster/jobs/<job uuid>")
        return k
    if not isinstance(key, str):
        raise UMConfigError(f"job key {key!r} is not a string: give the key UM returned, like "
                            "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4")
    k = key.strip()
    if not k:
        raise UMConfigError("a job key is empty: give the key UM returned (job.key of the starting task)")
    if len(k) > MAX_KEY_LENGTH:
        raise UMConfigError(f"job key '{_printable(k[:40])}...' is {len(k)} characters long: UM keys are much shorter; "
                            "check what was passed")
    bad = sorted({c for c in k if c in _KEY_FORBIDDEN or ord(c) < 33 or ord(c) > 126})
    if bad or ".." in k:
        shown = "".join(bad) or ".."
        raise UMConfigError(f"job key '{_printable(k)}' is not a UM job key: it holds {shown!r}; a key looks like "
                            "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4")
    return k


def _printable(text: str) -> str:
    """Escape control characters, so a bad key cannot break the one-line message that shows it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def check_keys(keys: t.Iterable[t.Any], ontap: bool = True) -> list[str]:
    out = [check_key(k, ontap) for k in keys]
    if not out:
        raise UMConfigError("keys is empty: give at least one job key")
    seen: set[str] = set()
    dups = [k for k in out if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    if dups:
        raise UMConfigError(f"keys lists {dups[0]} more than once: give each job key once")
    return out


def task_progress(job: t.Mapping[str, t.Any]) -> tuple[int, int]:
    """(done, total) from task_reports, or from spawned_job_summary for a job that spawns jobs."""
    summary = job.get("spawned_job_summary")
    if isinstance(summary, dict) and _int(summary.get("total_jobs")):
        total = _int(summary.get("total_jobs"))
        done = _int(summary.get("completed_jobs")) + _int(summary.get("aborted_jobs"))
        return min(done, total), total
    tasks = job.get("task_reports")
    if isinstance(tasks, list) and tasks:
        done = sum(1 for r in tasks if isinstance(r, dict) and classify(r).terminal)
        return done, len(tasks)
    return 0, 0


def _int(value: t.Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def failure_reasons(job: t.Mapping[str, t.Any], vocabulary: str | None = None) -> list[str]:
    """Why a job failed: UM puts it only in task_reports[].failure_reason, ONTAP in the job's message and code."""
    if (vocabulary or vocabulary_of(job.get("key"))) == ONTAP:
        message, code = job.get("message"), job.get("code")
        if message in (None, "") and code in (None, ""):
            return []
        text = f"ONTAP says: {one_line(' '.join(str(message or '(no message)').split()))}"
        return [text + (f" (code {one_line(code, 40)})" if code not in (None, "") else "")]
    reasons = []
    tasks = job.get("task_reports")
    for task in tasks if isinstance(tasks, list) else []:
        if isinstance(task, dict) and task.get("failure_reason"):
            reasons.append(f"task '{one_line(task.get('name') or task.get('key'), 120)}': "
                           f"{one_line(task['failure_reason'])}")
    return reasons


def results_of(job: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """job_results as a dict name -> value: what the job made (lunKey, ...)."""
    out: dict[str, t.Any] = {}
    items = job.get("job_results")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "name" in item:
            out[str(item["name"])] = item.get("value")
    return out


# ---------------------------------------------------------------------------------------------
# Job handles: how an answer that started a job names it
# ---------------------------------------------------------------------------------------------

# Where UM lists and reads its jobs (under /api): the one place this path is written.
JOBS_PATH = "/management-server/jobs"
_JOB_HREF = re.compile(r"^(?:[a-z][a-z0-9+.-]*://[^/]*)?/api(?:/v\d+)?/management-server/jobs/([^/?#]+)/?(?:[?#].*)?$",
                       re.IGNORECASE)


def job_key_from_href(href: t.Any) -> str | None:
    """The key of the job a link names (`/api/management-server/jobs/<key>`, absolute or server-relative,
    with the key percent-encoded or not), or None when the link names no UM job."""
    if not isinstance(href, str):
        return None
    match = _JOB_HREF.match(href.strip())
    return unquote(match.group(1)) if match else None


def job_handle_of(data: t.Any, location: t.Any = None, gateway: str | None = None) -> tuple[str, t.Any, dict] | None:
    """The job an answer to a write carries, by its known shapes: (where it was found, the key as given, the job
    reference). None when the answer carries no job.

    `{"job": {"key": ...}}` (202 from most operations), `{"operationId": ...}` (200 from a datasource rediscovery),
    a top-level `job_key` (the predecessor API), and, for an answer without a JSON object, a `Location` header that
    names a job. For an answer that came through the gateway (`gateway`: the cluster uuid of the request's path),
    ONTAP's job `{"job": {"uuid": ..., "_links": {"self": {"href": "/api/gateways/<c>/cluster/jobs/<uuid>"}}}}`: its
    key is the `ontap:` form (the link's cluster, else the path's).
    """
    if gateway is not None and isinstance(data, dict) and isinstance(data.get("job"), dict):
        job = data["job"]
        key = normalise_key(job)
        if not isinstance(key, str) and isinstance(job.get("uuid"), str) and job["uuid"]:
            key = ontap_key(gateway, job["uuid"])
        if isinstance(key, str):
            return "job.uuid", key, job
    if isinstance(data, dict):
        job = data.get("job")
        if isinstance(job, dict) and job.get("key") not in (None, ""):
            return "job.key", job["key"], job
        for name in ("operationId", "job_key"):
            if data.get(name) not in (None, ""):
                return name, data[name], {"key": data[name]}
        return None
    key = job_key_from_href(location)
    if key:
        return "Location", key, {"key": key, "_links": {"self": {"href": str(location)}}}
    return None


# ---------------------------------------------------------------------------------------------
# ONTAP's jobs through UM's API gateway: one key form, `ontap:<cluster uuid>:<job uuid>`
# ---------------------------------------------------------------------------------------------

# Where UM lists the clusters its API gateway reaches, and where a cluster's ONTAP API starts (under /api).
GATEWAYS_PATH = "/gateways"
ONTAP_KEY_PREFIX = "ontap:"
# The ONTAP fields the waiter asks for: ONTAP's job list returns only the uuid unless asked.
ONTAP_JOB_FIELDS = ("uuid", "description", "state", "message", "code", "start_time", "end_time")
# A cluster or job uuid: letters, digits and '-' only (nothing that could change a path or a filter). A UM key
# (hex fields, some negative, or `...:type=job,uuid=...`) never starts with `ontap:`.
_UUID = r"[A-Za-z0-9][A-Za-z0-9-]{0,63}"
_ONTAP_KEY = re.compile(rf"^ontap:({_UUID}):({_UUID})$", re.IGNORECASE)
_ONTAP_HREF = re.compile(rf"^(?:[a-z][a-z0-9+.-]*://[^/]*)?(?:/api)?/gateways/({_UUID})/cluster/jobs/({_UUID})/?$",
                         re.IGNORECASE)
_GATEWAY_PATH = re.compile(r"^/gateways/([^/?#]+)(/.*)?$")


def ontap_key(cluster_uuid: str, job_uuid: str) -> str:
    """The one key form of an ONTAP job through the gateway."""
    return f"{ONTAP_KEY_PREFIX}{cluster_uuid}:{job_uuid}"


def ontap_parts(key: t.Any) -> tuple[str, str] | None:
    """(cluster uuid, job uuid) of an ONTAP key, or None for any other key (a UM key)."""
    if not isinstance(key, str):
        return None
    match = _ONTAP_KEY.match(key.strip())
    return (match.group(1), match.group(2)) if match else None


def vocabulary_of(key: t.Any) -> str:
    """Which column of the table a job's key reads by: ONTAP for an `ontap:` key, else UM."""
    return ONTAP if isinstance(key, str) and key.strip().lower().startswith(ONTAP_KEY_PREFIX) else UM


def ontap_key_from_href(href: t.Any) -> str | None:
    """The key of the ONTAP job a link names (`/api/gateways/<cluster>/cluster/jobs/<uuid>`), or None."""
    if not isinstance(href, str):
        return None
    match = _ONTAP_HREF.match(href.strip().split("?", 1)[0])
    return ontap_key(match.group(1), match.group(2)) if match else None


def normalise_key(value: t.Any) -> t.Any:
    """One place that turns the forms a user may give for a job into its key: an ONTAP job's link or its `job` dict
    (`{"uuid", "_links": {"self": {"href"}}}`, or the whole answer `{"job": {...}}`) become `ontap:` keys; a UM job
    dict (`{"key": ...}`) its key. Anything else is returned as it is, for check_key to judge."""
    if isinstance(value, dict):
        inner = value.get("job")
        if isinstance(inner, dict) and "key" not in value and "uuid" not in value:
            value = inner
        if isinstance(value.get("key"), str):
            return value["key"]
        links = value.get("_links")
        href = links.get("self", {}).get("href") if isinstance(links, dict) and \
            isinstance(links.get("self"), dict) else None
        key = ontap_key_from_href(href)
        if key and (value.get("uuid") in (None, "") or str(value.get("uuid")) == key.rsplit(":", 1)[1]):
            return key
        return value
    if isinstance(value, str):
        key = ontap_key_from_href(value)
        return key or value
    return value


def gateway_cluster_of(path: str) -> str | None:
    """The cluster uuid of a path through the gateway (`/gateways/<cluster uuid>/...`, a checked path under /api),
    or None for any other path."""
    match = _GATEWAY_PATH.match(path)
    return unquote(match.group(1)) if match and match.group(2) else None
