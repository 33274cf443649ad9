# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where "is this job done, and what does its outcome mean?" is decided: one table and one waiter.

Plain Python, nothing from Ansible. The waiter takes its clock and sleep from the caller, so unit
tests drive it with a fake clock and never really sleep.
"""

from __future__ import annotations

import math
import time
import typing as t
from dataclasses import dataclass, field

from ._errors import (
    UMConfigError,
    UMConnectionError,
    UMHTTPError,
    UMJobsNotFound,
    UMResponseError,
    UMTLSError,
    UMWaitTimeout,
)

# ---------------------------------------------------------------------------------------------
# The table. Values are compared lower-case: servers differ in case.
#
#   state (lifecycle)                  terminal?  outcome
#   running, aborting, queued, ...     no         -
#   completed                          yes        from `status` (below)
#   aborted                            yes        aborted
#   normal | error | partial_failures  yes        the state itself (servers that follow the vendor's prose)
#   anything else                      no         reported as an unknown state while waiting
#
#   status (outcome)    what the task does
#   normal              ok
#   warning             ok, with a warning (option: silence it)
#   partial_failures    ok, with a warning (option: fail)
#   error               fail
#   aborted             fail
#   anything else       fail (a finished job with an outcome we cannot read is never called a success)
# ---------------------------------------------------------------------------------------------
RUNNING_STATES = frozenset(("running", "aborting", "queued", "scheduled", "pending", "starting"))
COMPLETED_STATES = frozenset(("completed",))
ABORTED_STATES = frozenset(("aborted",))
PROSE_TERMINAL_STATES = frozenset(("normal", "error", "partial_failures"))
# The vendor's prose lists WARNING among its "states" but not among the terminal ones: a job in it is
# still running as far as the wire tells us.
PROSE_RUNNING_STATES = frozenset(("warning",))

SUCCESS, WARNING, PARTIAL, ERROR, ABORTED, UNKNOWN = (
    "normal", "warning", "partial_failures", "error", "aborted", "unknown")
OUTCOMES = (SUCCESS, WARNING, PARTIAL, ERROR, ABORTED, UNKNOWN)

# What the task does for each outcome by default; action_for() applies the two switches (warning, partial).
OUTCOME_ACTIONS: dict[str, str] = {
    SUCCESS: "ok",
    WARNING: "warn",
    PARTIAL: "warn",
    ERROR: "fail",
    ABORTED: "fail",
    UNKNOWN: "fail",
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


def classify(job: t.Mapping[str, t.Any]) -> Verdict:
    """Read one job object by the table above."""
    state = _lower(job.get("state"))
    status = _lower(job.get("status"))
    if state in COMPLETED_STATES:
        outcome = status if status in (SUCCESS, WARNING, PARTIAL, ERROR) else UNKNOWN
        return Verdict(True, outcome, state, status)
    if state in ABORTED_STATES:
        return Verdict(True, ABORTED, state, status)
    if state in PROSE_TERMINAL_STATES:
        return Verdict(True, state, state, status)
    if state in RUNNING_STATES or state in PROSE_RUNNING_STATES:
        return Verdict(False, None, state, status)
    return Verdict(False, None, state, status, known_state=False)


def action_for(outcome: str, fail_on_partial: bool = False, warn_on_warning: bool = True) -> str:
    """'ok', 'warn' or 'fail' for a terminal outcome, with the user's two switches applied."""
    action = OUTCOME_ACTIONS.get(outcome, "fail")
    if outcome == PARTIAL and fail_on_partial:
        return "fail"
    if outcome == WARNING and not warn_on_warning:
        return "ok"
    return action


def check_key(key: t.Any) -> str:
    """Validate one job key from the user; keys are opaque but must be safe to put in a URL."""
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


def check_keys(keys: t.Iterable[t.Any]) -> list[str]:
    out = [check_key(k) for k in keys]
    if not out:
        raise UMConfigError("keys is empty: give at least one job key")
    seen: set[str] = set()
    dups = [k for k in out if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    if dups:
        raise UMConfigError(f"keys lists {dups[0]} more than once: give each job key once")
    return out


# ---------------------------------------------------------------------------------------------
# Progress and messages
# ---------------------------------------------------------------------------------------------

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
    except (TypeError, ValueError):
        return 0


def describe(job: t.Mapping[str, t.Any]) -> str:
    """'KEY (NAME)' for messages."""
    name = job.get("name")
    return f"{job.get('key')} ({name})" if name else str(job.get("key"))


def failure_reasons(job: t.Mapping[str, t.Any]) -> list[str]:
    """Why a job failed: UM puts it only in task_reports[].failure_reason."""
    reasons = []
    for task in job.get("task_reports") or []:
        if isinstance(task, dict) and task.get("failure_reason"):
            reasons.append(f"task '{task.get('name') or task.get('key')}': {task['failure_reason']}")
    return reasons


def progress_line(job: t.Mapping[str, t.Any], elapsed: float) -> str:
    done, total = task_progress(job)
    tasks = f", tasks {done}/{total}" if total else ""
    return f"job {describe(job)}: {_lower(job.get('state')) or 'unknown'}{tasks}, {elapsed:.0f}s elapsed"


def results_of(job: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """job_results as a dict name -> value: what the job made (lunKey, ...)."""
    out: dict[str, t.Any] = {}
    for item in job.get("job_results") or []:
        if isinstance(item, dict) and "name" in item:
            out[str(item["name"])] = item.get("value")
    return out


@dataclass
class Summary:
    """What a finished wait means for the task: fail or not, the message, the warnings."""
    failed: bool
    msg: str
    warnings: list[str]
    outcomes: dict[str, str | None]


def summarize(jobs: t.Mapping[str, t.Mapping[str, t.Any]], keys: t.Sequence[str], pending: t.Sequence[str] = (),
              fail_on_partial: bool = False, warn_on_warning: bool = True) -> Summary:
    """Turn the last-seen jobs into the task's verdict, by the table. Used by the modules and the action plugin."""
    failures: list[str] = []
    warnings: list[str] = []
    outcomes: dict[str, str | None] = {}
    for key in keys:
        job = jobs.get(key)
        if job is None:
            outcomes[key] = None
            continue
        verdict = classify(job)
        outcomes[key] = verdict.outcome
        if not verdict.terminal:
            continue
        action = action_for(verdict.outcome or UNKNOWN, fail_on_partial, warn_on_warning)
        if action == "ok":
            continue
        if verdict.outcome == UNKNOWN:
            text = f"job {describe(job)} completed with status '{verdict.status or '(none)'}', which is not a " \
                   "known outcome; treating it as a failure"
        elif verdict.outcome == ABORTED:
            text = f"job {describe(job)} was aborted"
        else:
            text = f"job {describe(job)} ended with status {verdict.outcome}"
        reasons = failure_reasons(job)
        if reasons:
            text += ": " + "; ".join(reasons)
        (failures if action == "fail" else warnings).append(text)
    done = len(keys) - len(pending)
    if failures:
        msg = "; ".join(failures)
        if len(keys) > 1:
            msg = f"{len(failures)} of {len(keys)} jobs failed: {msg}"
    elif pending:
        msg = f"{len(pending)} of {len(keys)} jobs still running"
    elif len(keys) == 1:
        msg = f"job {describe(jobs[keys[0]])} ended with status {outcomes[keys[0]]}"
    else:
        msg = f"all {done} jobs ended: " + ", ".join(
            f"{n} {o}" for o, n in sorted(_count(outcomes.values()).items()))
    return Summary(bool(failures), msg, warnings, outcomes)


def _count(values: t.Iterable[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


# ---------------------------------------------------------------------------------------------
# The waiter
# ---------------------------------------------------------------------------------------------

@dataclass
class WaitOptions:
    timeout: float = 3600.0          # one wall-clock deadline for the whole wait
    poll_interval: float = 1.0       # first interval of standard polling
    max_poll_interval: float = 30.0  # the interval never grows past this
    long_poll: str = "auto"          # auto | always | never
    long_poll_timeout: int = 60      # seconds UM may hold one long-poll request (1..120)
    batch_size: int = 50             # keys per `key=a|b|...` list request

    def check(self) -> None:
        if not (isinstance(self.timeout, (int, float)) and math.isfinite(self.timeout)) or not 0 < self.timeout <= 7 * 86400:
            raise UMConfigError(f"timeout {self.timeout} is out of range: give seconds from 1 to 604800 (a week)")
        if not 0.1 <= self.poll_interval <= 3600:
            raise UMConfigError(f"poll_interval {self.poll_interval} is out of range: give seconds from 0.1 to 3600")
        if not self.poll_interval <= self.max_poll_interval <= 3600:
            raise UMConfigError(f"max_poll_interval {self.max_poll_interval} must be at least poll_interval "
                                f"({self.poll_interval}) and at most 3600")
        if self.long_poll not in ("auto", "always", "never"):
            raise UMConfigError(f"long_poll '{self.long_poll}' is not one of auto, always, never")
        if not 1 <= int(self.long_poll_timeout) <= 120:
            raise UMConfigError(f"long_poll_timeout {self.long_poll_timeout} is out of range: UM accepts 1 to 120 seconds")


@dataclass
class WaitResult:
    keys: list[str]
    jobs: dict[str, dict]
    pending: list[str]
    elapsed: float
    polls: int
    long_poll: bool | None                     # None: never tried; True: honoured; False: not available
    last_error: str | None = None
    unknown_states: dict[str, str] = field(default_factory=dict)

    @property
    def timed_out(self) -> bool:
        return bool(self.pending)

    def ordered_jobs(self) -> list[dict]:
        return [self.jobs[k] for k in self.keys if k in self.jobs]


class _Transient(Exception):
    """Internal: a poll failed in a way worth trying again before the deadline."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class JobWaiter:
    """Waits until every job is terminal, or the deadline passes.

    Long polling is tried first (in `auto`), and dropped for standard polling when the server rejects it
    (400) or answers at once with a running job. Standard polling asks for many jobs in one list request
    (`key=a|b|...`) and spaces polls out as a wait grows long. Transient failures are tolerated until the
    deadline. Nothing here sleeps past the deadline.
    """

    # In standard polling the interval grows by this factor from poll_interval to EARLY_CAP, then keeps pace
    # with the wait's age (age / AGE_DIVISOR) up to max_poll_interval: quick jobs are noticed quickly and
    # hour-long jobs are not hammered. The interval stays at or under 2 s for the first minute, so a job of a
    # minute or less is seen to end within about 2 s (with 3 s / age/20 the lag reached 3 s around 60 s).
    GROWTH = 1.3
    EARLY_CAP = 2.0
    AGE_DIVISOR = 30.0
    # A long poll answered sooner than this (running job) means the server ignored poll_timeout.
    IGNORED_IF_UNDER = 0.5
    GRACE = 0.5  # extra read time beyond a long poll's poll_timeout

    def __init__(self, client: t.Any, options: WaitOptions | None = None,
                 clock: t.Callable[[], float] = time.monotonic,
                 sleep: t.Callable[[float], None] = time.sleep, server_seen: bool = False) -> None:
        self.client = client
        self.opts = options or WaitOptions()
        self.opts.check()
        self.clock = clock
        self.sleep = sleep
        # Until UM has answered once, a refused connection or a 401 means a wrong hostname, port or
        # password: fail at once rather than retry for the whole timeout. After that, both are hiccups
        # (a restart, a directory outage) to ride out until the deadline. um_request passes True: its
        # request has just been answered.
        self._seen = server_seen
        # Whether the server ORs keys in a list filter (`key=a|b`); None until a list answer tells.
        self._batch_ok: bool | None = None

    def wait(self, keys: t.Sequence[str]) -> WaitResult:
        keys = list(keys)
        start = self.clock()
        deadline = start + float(self.opts.timeout)
        result = WaitResult(keys=keys, jobs={}, pending=list(keys), elapsed=0.0, polls=0,
                            long_poll=False if self.opts.long_poll == "never" else None)
        failures = 0
        round_no = 0
        while result.pending:
            now = self.clock()
            if now >= deadline:
                break
            try:
                self._round(result, deadline, round_no)
                failures = 0
                result.last_error = None
            except _Transient as exc:
                failures += 1
                result.last_error = str(exc)
                # Retry-After is the server's word, but never shorter than poll_interval: a 0 must not make a busy loop.
                if exc.retry_after is not None:
                    delay = max(exc.retry_after, self.opts.poll_interval)
                else:
                    delay = min(self.opts.max_poll_interval, self.opts.poll_interval * (2 ** min(failures - 1, 6)))
                self._pause(delay, deadline)
                continue
            except UMHTTPError as exc:
                if exc.status == 401 and self._seen:
                    # Credentials that worked a moment ago: a directory hiccup; keep trying until the deadline.
                    failures += 1
                    result.last_error = str(exc)
                    self._pause(min(self.opts.max_poll_interval, self.opts.poll_interval * 2 ** min(failures, 5)), deadline)
                    continue
                raise
            round_no += 1
            before = len(result.pending)
            result.pending = [k for k in keys if not (k in result.jobs and classify(result.jobs[k]).terminal)]
            for k in result.pending:
                verdict = classify(result.jobs.get(k, {}))
                if k in result.jobs and not verdict.known_state:
                    result.unknown_states[k] = verdict.state
            # Still finding out about long polling, and a job just turned out finished: ask again at once.
            trying = result.long_poll is None and len(result.pending) < before
            if result.pending and not result.long_poll and not trying:
                self._pause(self._interval(round_no, self.clock() - start), deadline)
        result.elapsed = self.clock() - start
        return result

    # -- one round: look at every pending job once -------------------------------------------------

    def _round(self, result: WaitResult, deadline: float, round_no: int) -> None:
        pending = result.pending
        use_long = result.long_poll is not False and self.opts.long_poll != "never"
        if use_long:
            if len(pending) > 1 and (round_no == 0 or any(k not in result.jobs for k in pending)):
                # Learn every job's state first (and fail fast on unknown keys), then hold on one.
                self._refresh(result, pending, deadline)
                pending = [k for k in pending if not classify(result.jobs[k]).terminal]
                if not pending:
                    return
            target = self._pick(result, pending)
            if self._long_poll(result, target, deadline) and len(pending) > 1:
                others = [k for k in pending if k != target]
                self._refresh(result, others, deadline)
            return
        self._refresh(result, pending, deadline)

    def _pick(self, result: WaitResult, pending: list[str]) -> str:
        """Hold on the job likely to end last (the latest submitted): fewer rounds for many jobs."""
        def submitted(k: str) -> str:
            return str(result.jobs.get(k, {}).get("submit_time") or "")
        return max(reversed(pending), key=submitted)

    def _long_poll(self, result: WaitResult, key: str, deadline: float) -> bool:
        """One long poll. Returns True when it was honoured (or the job was done), False when we fell back."""
        remaining = deadline - self.clock()
        poll_timeout = int(min(self.opts.long_poll_timeout, remaining))
        if poll_timeout < 1:
            # Too little time left to hold a request: one plain look, then rest until the deadline.
            self._refresh(result, [key], deadline)
            self._pause(self.opts.poll_interval, deadline)
            return True
        sent = self.clock()
        try:
            job = self._call(
                lambda: self.client.get_job(key, poll_timeout=poll_timeout, timeout=poll_timeout + self.GRACE, retry=False),
                result, [key])
        except UMHTTPError as exc:
            if exc.status == 400:
                if self.opts.long_poll == "always":
                    raise UMConfigError("UM rejected long polling (HTTP 400 for poll_timeout); "
                                        "use long_poll: auto or never with this server") from None
                result.long_poll = False
                return False
            raise
        took = self.clock() - sent
        result.jobs[key] = job
        if classify(job).terminal:
            if result.long_poll is None and took >= self.IGNORED_IF_UNDER:
                result.long_poll = True
            return True
        if took < self.IGNORED_IF_UNDER and poll_timeout >= 1 and self.clock() < deadline - self.IGNORED_IF_UNDER:
            if self.opts.long_poll == "always":
                # The user insists; do not spin: wait like standard polling before asking again.
                self._pause(self.opts.poll_interval, deadline)
                return True
            result.long_poll = False
            return False
        result.long_poll = True
        return True

    def _refresh(self, result: WaitResult, keys: list[str], deadline: float) -> None:
        """Fetch the current state of `keys`: one request for one key, list requests for many."""
        if len(keys) == 1:
            timeout = self._read_timeout(deadline)
            result.jobs[keys[0]] = self._call(
                lambda: self.client.get_job(keys[0], timeout=timeout, retry=False), result, keys)
            return
        missing: list[str] = []
        if self._batch_ok is False:
            missing = list(keys)
        for i in range(0, len(keys) if self._batch_ok is not False else 0, self.opts.batch_size):
            batch = keys[i:i + self.opts.batch_size]
            timeout = self._read_timeout(deadline)
            page = self._call(lambda: self.client.get(
                "/management-server/jobs", params={"key": "|".join(batch), "max_records": len(batch)},
                timeout=timeout, retry=False), result, batch)
            records = page.get("records") if isinstance(page, dict) else None
            if not isinstance(records, list):
                raise _Transient("UM's job list answer has no records list")
            found = {r.get("key"): r for r in records if isinstance(r, dict)}
            for k in batch:
                if k in found:
                    result.jobs[k] = found[k]
                else:
                    missing.append(k)
        if self._batch_ok is None and len(missing) < len(keys):
            self._batch_ok = True
        # A server that does not OR keys in a filter, or a job not yet listed: ask for each one directly.
        for k in missing:
            timeout = self._read_timeout(deadline)
            result.jobs[k] = self._call(lambda: self.client.get_job(k, timeout=timeout, retry=False), result, [k])
        if self._batch_ok is None and missing and len(missing) == len(keys):
            # None of the keys came back from the list, yet each exists: this server does not OR keys.
            self._batch_ok = False

    def _call(self, fn: t.Callable[[], t.Any], result: WaitResult, keys: list[str]) -> t.Any:
        """Run one request, counting it and sorting its failures into transient and final."""
        result.polls += 1
        try:
            answer = fn()
        except UMHTTPError as exc:
            if exc.transient:
                raise _Transient(str(exc), exc.retry_after) from None
            if exc.status == 404 and exc.method == "GET" and "/management-server/jobs/" in exc.path:
                raise UMJobsNotFound(f"job {keys[0]} does not exist on UM (HTTP 404): check the key; "
                                     "aiqum.jobs.um_job_info lists recent jobs", missing_keys=keys) from None
            raise
        except (UMConnectionError, UMResponseError) as exc:
            # No amount of waiting fixes a certificate; a server never reached is a wrong hostname or port.
            if isinstance(exc, UMTLSError) or (isinstance(exc, UMConnectionError) and not exc.sent and not self._seen):
                raise
            raise _Transient(str(exc)) from None
        self._seen = True
        return answer

    def _interval(self, round_no: int, age: float) -> float:
        o = self.opts
        early = min(o.poll_interval * self.GROWTH ** round_no, max(self.EARLY_CAP, o.poll_interval))
        return max(o.poll_interval, min(o.max_poll_interval, max(early, age / self.AGE_DIVISOR)))

    def _read_timeout(self, deadline: float) -> float:
        return max(0.5, min(self.client.request_timeout, deadline - self.clock() + self.GRACE))

    def _pause(self, seconds: float, deadline: float) -> None:
        seconds = min(seconds, deadline - self.clock())
        if seconds > 0:
            self.sleep(seconds)


def raise_for_timeout(result: WaitResult, opts: WaitOptions) -> t.NoReturn:
    """The failure a timed-out wait raises: what is still running, the keys to resume with, the last error."""
    parts = []
    for k in result.pending:
        job = result.jobs.get(k)
        parts.append(progress_line(job, result.elapsed).replace("job ", "", 1) if job else f"{k} (never seen)")
    msg = (f"timed out after {opts.timeout:g}s with {len(result.pending)} of {len(result.keys)} jobs still "
           f"running: {'; '.join(parts)}")
    if result.last_error:
        msg += f". Last error: {result.last_error}"
    msg += ". The jobs go on in UM; resume with aiqum.jobs.um_job_wait and keys from 'pending'."
    raise UMWaitTimeout(msg)
