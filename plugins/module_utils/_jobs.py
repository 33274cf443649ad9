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
from dataclasses import asdict, dataclass, field, fields

from . import _estimate
from ._errors import (
    UMConfigError,
    UMConnectionError,
    UMError,
    UMHTTPError,
    UMNotFound,
    UMResponseError,
    UMTLSError,
)
from ._retry import RETRY_AFTER_CAP
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
# ---------------------------------------------------------------------------------------------
RUNNING_STATES = frozenset(("running", "aborting", "queued", "scheduled", "pending", "starting"))
COMPLETED_STATES = frozenset(("completed",))
ABORTED_STATES = frozenset(("aborted",))
PROSE_TERMINAL_STATES = frozenset(("normal", "error", "partial_failures"))
# The vendor's prose lists WARNING among its "states" but not among the terminal ones: a job in it is
# still running as far as the wire tells us.
PROSE_RUNNING_STATES = frozenset(("warning",))

SUCCESS, WARNING, PARTIAL, ERROR, ABORTED, UNKNOWN, NOT_FOUND = (
    "normal", "warning", "partial_failures", "error", "aborted", "unknown", "not_found")
OUTCOMES = (SUCCESS, WARNING, PARTIAL, ERROR, ABORTED, UNKNOWN, NOT_FOUND)

# What the task does for each outcome by default; action_for() applies the two switches (warning, partial).
OUTCOME_ACTIONS: dict[str, str] = {
    SUCCESS: "ok",
    WARNING: "warn",
    PARTIAL: "warn",
    ERROR: "fail",
    ABORTED: "fail",
    UNKNOWN: "fail",
    NOT_FOUND: "fail",
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
    if job.get("complete_time"):
        # A job with a completion time has ended, whatever its state says (a prose-following server may write
        # WARNING there): the state names the outcome if it can, else the status does.
        if state == WARNING:
            return Verdict(True, WARNING, state, status)
        return Verdict(True, status if status in (SUCCESS, WARNING, PARTIAL, ERROR) else UNKNOWN, state, status)
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

def plural(count: int, noun: str) -> str:
    """'1 job', '2 jobs'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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


def describe(job: t.Mapping[str, t.Any]) -> str:
    """'KEY (NAME)' for messages; server text is made safe for one line."""
    name = job.get("name")
    key = one_line(job.get("key"), 120)
    return f"{key} ({one_line(name, 120)})" if name else key


def failure_reasons(job: t.Mapping[str, t.Any]) -> list[str]:
    """Why a job failed: UM puts it only in task_reports[].failure_reason."""
    reasons = []
    tasks = job.get("task_reports")
    for task in tasks if isinstance(tasks, list) else []:
        if isinstance(task, dict) and task.get("failure_reason"):
            reasons.append(f"task '{one_line(task.get('name') or task.get('key'), 120)}': "
                           f"{one_line(task['failure_reason'])}")
    return reasons


def job_line(job: t.Mapping[str, t.Any], elapsed: float | None = None) -> str:
    """One job as a progress line: key, name, state (and outcome once ended), tasks done."""
    verdict = classify(job)
    done, total = task_progress(job)
    text = f"job {describe(job)}: {one_line(verdict.state or 'unknown', 40)}"
    if verdict.terminal and verdict.outcome and verdict.outcome != verdict.state:
        text += f" ({verdict.outcome})"
    if total:
        text += f", tasks {done}/{total}"
    if elapsed is not None:
        text += f", {elapsed:.0f}s elapsed"
    return text


def results_of(job: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """job_results as a dict name -> value: what the job made (lunKey, ...)."""
    out: dict[str, t.Any] = {}
    items = job.get("job_results")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "name" in item:
            out[str(item["name"])] = item.get("value")
    return out


# ---------------------------------------------------------------------------------------------
# Wait options and the state of a wait
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


_STATE_VERSION = 1


@dataclass
class WaitState:
    """Everything a wait knows, so that it can stop after a slice and go on in another module run.

    Times are the waiter's clock (wall-clock seconds in modules), so a later process continues the same deadline.
    """
    keys: list[str]
    started: float
    deadline: float
    pending: list[str]
    jobs: dict[str, dict] = field(default_factory=dict)     # each job as last seen
    missing: list[str] = field(default_factory=list)        # keys UM answered 404 for
    polls: int = 0                                           # requests sent, over the whole wait
    long_poll: bool | None = None                            # None: not known yet; True: honoured; False: not used
    batch_ok: bool | None = None                             # whether UM ORs keys in `key=a|b`
    seen: bool = False                                       # whether UM has answered during this wait (or before)
    failures: int = 0                                        # transient failures in a row
    last_error: str | None = None
    unknown_states: dict[str, str] = field(default_factory=dict)
    rounds: int = 0                                          # rounds that looked at every pending job
    next_poll: float = 0.0                                   # no standard poll before this time (pace across slices)
    elapsed: float = 0.0
    timed_out: bool = False
    reported: dict[str, str] = field(default_factory=dict)   # what the last progress lines said of each job
    context: dict[str, t.Any] = field(default_factory=dict)  # what the module carries along (um_request's answer)
    # What standard polling learnt about when jobs end (see _estimate): durations of recently finished jobs per
    # job type (asked once per type and wait; [] when nothing usable came back or the request failed), each job's
    # submit time on the waiter's clock, and each job's last window [early, expected, late, source] in seconds.
    history: dict[str, list[float]] = field(default_factory=dict)
    submitted: dict[str, float] = field(default_factory=dict)
    estimates: dict[str, list] = field(default_factory=dict)
    version: int = _STATE_VERSION

    @property
    def done(self) -> bool:
        return not self.pending or self.timed_out

    @property
    def timeout(self) -> float:
        return self.deadline - self.started

    def ordered_jobs(self) -> list[dict]:
        return [self.jobs[k] for k in self.keys if k in self.jobs]

    def to_dict(self) -> dict[str, t.Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: t.Any) -> "WaitState":
        """Read a state a module run returned; refuse anything else with a one-line reason."""
        bad = UMConfigError("wait_state is not a wait state this collection returned: leave the option out "
                            "(the action plugin sets it)")
        if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
            raise bad
        names = {f.name for f in fields(cls)}
        if set(data) - names:
            raise bad
        try:
            state = cls(**data)
        except TypeError:
            raise bad from None
        lists_ok = all(isinstance(v, list) and all(isinstance(k, str) for k in v)
                       for v in (state.keys, state.pending, state.missing))
        numbers_ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                         for v in (state.started, state.deadline, state.polls, state.failures, state.rounds,
                                   state.next_poll, state.elapsed))
        maps_ok = all(isinstance(v, dict) for v in (state.jobs, state.unknown_states, state.reported, state.context,
                                                    state.history, state.submitted, state.estimates))
        learnt_ok = maps_ok and all(isinstance(v, list) and all(_finite(d) for d in v) for v in state.history.values()) \
            and all(_finite(v) for v in state.submitted.values()) \
            and all(isinstance(v, list) for v in state.estimates.values())
        if not (lists_ok and numbers_ok and learnt_ok and set(state.pending) <= set(state.keys)):
            raise bad
        return state


def _finite(value: t.Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---------------------------------------------------------------------------------------------
# The verdict: one function turns the last-seen jobs into the task's result, for every path
# ---------------------------------------------------------------------------------------------

@dataclass
class Summary:
    """What a finished wait means for the task: fail or not, the message, the warnings."""
    failed: bool
    msg: str
    warnings: list[str]
    outcomes: dict[str, str | None]


def summarize(state: WaitState, fail_on_partial: bool = False, warn_on_warning: bool = True) -> Summary:
    """The task's verdict over a wait, by the table: fail on error/abort/unknown/timeout, warn on the rest."""
    keys = state.keys
    failures: list[str] = []
    warnings = [f"job {one_line(k, 120)} reports state '{one_line(s, 40)}', which this collection does not know; "
                "it was treated as still running" for k, s in state.unknown_states.items()]
    outcomes: dict[str, str | None] = {}
    for key in keys:
        if key in state.missing:
            outcomes[key] = NOT_FOUND
            failures.append(f"job {key} does not exist on UM (HTTP 404): check the key; "
                            "aiqum.jobs.um_job_info lists recent jobs")
            continue
        job = state.jobs.get(key)
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
            text = f"job {describe(job)} ended with status '{one_line(verdict.status or '(none)', 40)}', which is " \
                   "not a known outcome; treating it as a failure"
        elif verdict.outcome == ABORTED:
            text = f"job {describe(job)} was aborted"
        else:
            text = f"job {describe(job)} ended with status {verdict.outcome}"
        reasons = failure_reasons(job)
        if reasons:
            text += ": " + "; ".join(reasons)
        (failures if action == "fail" else warnings).append(text)
    if failures:
        msg = "; ".join(failures)
        if len(keys) > 1:
            msg = f"{len(failures)} of {plural(len(keys), 'job')} failed: {msg}"
        if state.pending:
            msg += f"; {plural(len(state.pending), 'job')} still running at the end of the wait"
    elif state.pending:
        msg = timeout_message(state)
    elif len(keys) == 1:
        msg = f"job {describe(state.jobs[keys[0]])} ended with status {outcomes[keys[0]]}"
    else:
        msg = f"all {len(keys)} jobs ended: " + ", ".join(
            f"{n} {o}" for o, n in sorted(_count(outcomes.values()).items()))
    return Summary(bool(failures) or bool(state.pending), msg, warnings, outcomes)


def timeout_message(state: WaitState) -> str:
    """What is still running at the deadline, the keys to resume with, and the last error."""
    parts = []
    for k in state.pending:
        job = state.jobs.get(k)
        parts.append(job_line(job, state.elapsed).replace("job ", "", 1) if job else f"{k} (never seen)")
    msg = (f"timed out after {state.timeout:g}s with {len(state.pending)} of {plural(len(state.keys), 'job')} still "
           f"running: {'; '.join(parts)}")
    if state.last_error:
        msg += f". Last error: {one_line(state.last_error)}"
    return msg + ". The jobs go on in UM; resume with aiqum.jobs.um_job_wait and keys from 'pending'."


def _count(values: t.Iterable[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


# How many jobs a progress report names, beyond its summary line.
PROGRESS_NAMED = 10


def progress_lines(state: WaitState) -> list[str]:
    """The lines to print after a slice: one job's line, or for many jobs one summary line plus the jobs whose
    state changed since the last report (on the first report, the jobs that already ended)."""
    if len(state.keys) == 1:
        key = state.keys[0]
        job = state.jobs.get(key)
        return [job_line(job, state.elapsed) if job else f"job {key}: not seen yet, {state.elapsed:.0f}s elapsed"]
    counts: dict[str, int] = {}
    changed = []
    first = not state.reported
    for key in state.keys:
        job = state.jobs.get(key)
        if key in state.missing:
            sig = NOT_FOUND
        elif job is None:
            sig = "not seen yet"
        else:
            verdict = classify(job)
            sig = verdict.outcome if verdict.terminal else "running"
        counts[sig] = counts.get(sig, 0) + 1
        line = f"job {key}: not found" if sig == NOT_FOUND else (job_line(job) if job else "")
        if line and (state.reported.get(key) != line) and (not first or sig != "running"):
            changed.append(line)
        if line:
            state.reported[key] = line
    running = counts.pop("running", 0) + counts.pop("not seen yet", 0)
    summary = f"{running} of {plural(len(state.keys), 'job')} running"
    summary += "".join(f", {n} {o}" for o, n in sorted(counts.items()))
    out = [f"{summary}, {state.elapsed:.0f}s elapsed"]
    out += ["  " + line for line in changed[:PROGRESS_NAMED]]
    if len(changed) > PROGRESS_NAMED:
        out.append(f"  ... and {len(changed) - PROGRESS_NAMED} more changed")
    return out


# ---------------------------------------------------------------------------------------------
# The waiter
# ---------------------------------------------------------------------------------------------

class _Transient(Exception):
    """Internal: a poll failed in a way worth trying again before the deadline."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class JobWaiter:
    """Waits until every job is terminal, the deadline passes, or the caller's slice ends.

    Long polling is tried first (in `auto`), and dropped for standard polling when the server rejects it
    (400) or answers early with a running job. Standard polling asks for many jobs in one list request
    and spaces polls out as a wait grows long. Transient failures are ridden out until the deadline, with
    Retry-After honoured up to a cap. No request is sent, and no pause lasts, past the deadline; each request's
    time budget ends at the deadline too. Everything learnt is kept in a WaitState that a later run continues.
    """

    # In standard polling the interval grows by this factor from poll_interval to EARLY_CAP, then keeps pace
    # with the wait's age (age / AGE_DIVISOR) up to max_poll_interval: quick jobs are noticed quickly and
    # hour-long jobs are not hammered.
    GROWTH = 1.3
    EARLY_CAP = 2.0
    AGE_DIVISOR = 30.0
    # A long poll that comes back with a running job before this share of its poll_timeout (and at least
    # IGNORED_IF_UNDER seconds) means the server ignored poll_timeout.
    EARLY_SHARE = 0.8
    IGNORED_IF_UNDER = 0.5
    GRACE = 0.5           # extra time beyond a long poll's poll_timeout for the answer to arrive
    MIN_REQUEST = 0.1     # with less time than this left, no request is sent
    HISTORY_TIMEOUT = 5.0  # the most one history request (finished jobs of a type) may take
    HISTORY_TYPES = 10     # job types whose history one wait asks for, at most

    def __init__(self, client: t.Any, options: WaitOptions | None = None,
                 clock: t.Callable[[], float] | None = None, sleep: t.Callable[[float], None] | None = None,
                 server_seen: bool = False) -> None:
        self.client = client
        self.opts = options or WaitOptions()
        self.opts.check()
        # Wall-clock time by default: a wait's state goes from one module process to the next.
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        # Until UM has answered once, a refused connection or a 401 means a wrong hostname, port or
        # password: fail at once rather than retry for the whole timeout. um_request passes True.
        self.server_seen = server_seen
        self._stop = 0.0

    def start(self, keys: t.Sequence[str]) -> WaitState:
        now = self.clock()
        return WaitState(keys=list(keys), started=now, deadline=now + float(self.opts.timeout), pending=list(keys),
                         seen=self.server_seen, long_poll=False if self.opts.long_poll == "never" else None)

    def wait(self, keys: t.Sequence[str]) -> WaitState:
        """The whole wait in one go."""
        return self.run(self.start(keys))

    def run(self, state: WaitState, until: float | None = None) -> WaitState:
        """Go on with a wait until every job ended, the deadline, or `until` (the end of a progress slice)."""
        self._stop = state.deadline if until is None else min(until, state.deadline)
        while state.pending:
            now = self.clock()
            if self._stop - now < self.MIN_REQUEST:
                break
            if state.next_poll > now:
                self._pause_until(min(state.next_poll, self._stop))
                continue
            try:
                more = self._round(state)
            except _Transient as exc:
                self._failed(state, str(exc), self._retry_delay(exc.retry_after, state.failures + 1))
                continue
            except UMHTTPError as exc:
                if exc.status == 401 and state.seen:
                    # Credentials that worked a moment ago: a directory hiccup; keep trying until the deadline.
                    self._failed(state, str(exc), self._retry_delay(None, state.failures + 2))
                    continue
                raise
            if not more:
                break  # the slice is over
            state.failures = 0
            state.last_error = None
            state.rounds += 1
            before = len(state.pending)
            self._update_pending(state)
            # Still finding out about long polling, and a job just turned out finished: ask again at once.
            trying = state.long_poll is None and len(state.pending) < before
            if state.pending and not state.long_poll and not trying:
                if state.long_poll is False:
                    self._learn(state)
                state.next_poll = self.clock() + self._gap(state)
        if state.pending and self._stop == state.deadline:
            self._pause_until(state.deadline)  # the last moments, too short for a request, still belong to the wait
        now = self.clock()
        state.elapsed = now - state.started
        state.timed_out = bool(state.pending) and now >= state.deadline
        return state

    def _failed(self, state: WaitState, error: str, delay: float) -> None:
        state.failures += 1
        state.last_error = error
        state.next_poll = self.clock() + delay

    def _update_pending(self, state: WaitState) -> None:
        state.pending = [k for k in state.keys
                         if k not in state.missing and not (k in state.jobs and classify(state.jobs[k]).terminal)]
        for k in state.pending:
            verdict = classify(state.jobs.get(k, {}))
            if k in state.jobs and not verdict.known_state:
                state.unknown_states[k] = verdict.state

    # -- one round: look at every pending job once -------------------------------------------------

    def _round(self, state: WaitState) -> bool:
        """Look at every pending job once. False when the slice ended before anything could be asked."""
        pending = state.pending
        use_long = state.long_poll is not False and self.opts.long_poll != "never"
        if not use_long:
            self._refresh(state, pending)
            return True
        if len(pending) > 1 and (state.rounds == 0 or any(k not in state.jobs for k in pending)):
            # Learn every job's state first (and which keys UM does not know), then hold on one.
            self._refresh(state, pending)
            pending = [k for k in pending
                       if k in state.jobs and k not in state.missing and not classify(state.jobs[k]).terminal]
            if not pending:
                return True
        target = self._pick(state, pending)
        outcome = self._long_poll(state, target)
        if outcome == "honoured" and len(pending) > 1:
            self._refresh(state, [k for k in pending if k != target])
        return outcome != "slice over"

    def _pick(self, state: WaitState, pending: list[str]) -> str:
        """Hold on the job likely to end last (the latest submitted): fewer rounds for many jobs."""
        def submitted(k: str) -> str:
            return str(state.jobs.get(k, {}).get("submit_time") or "")
        return max(reversed(pending), key=submitted)

    def _long_poll(self, state: WaitState, key: str) -> str:
        """One long poll: 'honoured' (or the job ended), 'fallback' to standard polling, or 'slice over'."""
        now = self.clock()
        to_stop, to_deadline = self._stop - now, state.deadline - now
        # Hold for the rest of the slice (a slice is one long poll), never past the deadline.
        hold = math.ceil(to_stop) if self._stop < state.deadline else math.floor(to_stop)
        poll_timeout = int(min(self.opts.long_poll_timeout, hold, math.floor(to_deadline)))
        if poll_timeout < 1:
            if self._stop < state.deadline:
                return "slice over"
            # Too little time left to hold a request: one plain look, and the wait ends at the deadline.
            self._refresh(state, [key])
            state.next_poll = state.deadline
            return "honoured"
        sent = self.clock()
        budget = min(poll_timeout + self.GRACE, to_deadline)
        try:
            job = self._call(state, lambda: self.client.get_job(key, poll_timeout=poll_timeout, timeout=budget,
                                                                retry=False))
        except UMNotFound:
            state.missing.append(key)
            return "honoured"
        except UMHTTPError as exc:
            if exc.status == 400:
                if self.opts.long_poll == "always":
                    raise UMConfigError("UM rejected long polling (HTTP 400 for poll_timeout); "
                                        "use long_poll: auto or never with this server") from None
                state.long_poll = False
                return "fallback"
            raise
        took = self.clock() - sent
        state.jobs[key] = job
        if classify(job).terminal:
            if state.long_poll is None and took >= self.IGNORED_IF_UNDER:
                state.long_poll = True
            return "honoured"
        if took < max(self.IGNORED_IF_UNDER, self.EARLY_SHARE * poll_timeout):
            # A running job, answered well before poll_timeout: the server does not hold requests.
            if self.opts.long_poll == "always":
                # The user insists; do not spin: wait like standard polling before asking again.
                state.next_poll = self.clock() + self.opts.poll_interval
                return "honoured"
            state.long_poll = False
            return "fallback"
        state.long_poll = True
        return "honoured"

    def _refresh(self, state: WaitState, keys: list[str]) -> None:
        """Fetch the current state of `keys`: one request for one key, list requests for many.

        Stops early, with what it has, when the deadline leaves no time for another request.
        """
        missing: list[str] = []
        if len(keys) == 1 or state.batch_ok is False:
            missing = list(keys)
        else:
            for i in range(0, len(keys), self.opts.batch_size):
                batch = keys[i:i + self.opts.batch_size]
                budget = self._budget(state)
                if budget is None:
                    return
                records = self._call(state, lambda: self.client.list_jobs(batch, timeout=budget, retry=False))
                found = {r.get("key"): r for r in records if isinstance(r.get("key"), str)}
                for k in batch:
                    if k in found:
                        state.jobs[k] = found[k]
                    else:
                        missing.append(k)
            if state.batch_ok is None and len(missing) < len(keys):
                state.batch_ok = True
        # A server that does not OR keys in a filter, or a job not yet listed: ask for each one directly.
        for k in missing:
            budget = self._budget(state)
            if budget is None:
                return
            try:
                state.jobs[k] = self._call(state, lambda: self.client.get_job(k, timeout=budget, retry=False))
            except UMNotFound:
                state.missing.append(k)
        if state.batch_ok is None and len(keys) > 1 and len(missing) == len(keys) and \
                any(k in state.jobs for k in keys):
            # None of the keys came back from the list, yet they exist: this server does not OR keys.
            state.batch_ok = False

    def _call(self, state: WaitState, fn: t.Callable[[], t.Any]) -> t.Any:
        """Run one request, counting it and sorting its failures into transient and final."""
        state.polls += 1
        try:
            answer = fn()
        except UMNotFound:
            state.seen = True
            raise
        except UMHTTPError as exc:
            if exc.transient:
                raise _Transient(str(exc), exc.retry_after) from None
            raise
        except (UMConnectionError, UMResponseError) as exc:
            # No amount of waiting fixes what the client calls final (a certificate, a proxy that refuses, a
            # redirect, an absurdly large answer, a link that leaves the API); a server never reached is a wrong
            # hostname or port.
            if getattr(exc, "final", False) or isinstance(exc, UMTLSError) or \
                    (isinstance(exc, UMConnectionError) and not exc.sent and not state.seen):
                raise
            raise _Transient(str(exc)) from None
        state.seen = True
        return answer

    def _budget(self, state: WaitState) -> float | None:
        """The time one request may take: the client's request_timeout, never past the deadline."""
        left = state.deadline - self.clock()
        if left < self.MIN_REQUEST:
            return None
        return min(float(self.client.request_timeout), left)

    # -- standard polling that knows when to look (see _estimate) ----------------------------------

    def _learn(self, state: WaitState) -> None:
        """Note when each newly seen job was submitted, and ask once per job type how long such jobs took.

        The history request is one short GET per type and wait, made only while time is left in the slice; its
        failure is noted (an empty history) and never fails or holds up the wait.
        """
        now = self.clock()
        for key in state.pending:
            job = state.jobs.get(key)
            if job is not None and key not in state.submitted:
                state.submitted[key] = now - _estimate.first_age(job, now)
        for kind in self._types(state):
            now = self.clock()
            budget = min(self.HISTORY_TIMEOUT, float(self.client.request_timeout), self._stop - now, state.deadline - now)
            if budget < self.MIN_REQUEST:
                return  # the next slice asks
            state.history[kind] = []
            state.polls += 1
            try:
                page = self.client.get(_estimate.HISTORY_PATH,
                                       params={"type": kind, "state": "completed",
                                               "max_records": _estimate.HISTORY_RECORDS},
                                       timeout=budget, retry=False)
            except UMError:
                continue
            records = page.get("records") if isinstance(page, dict) else None
            if isinstance(records, list):
                state.history[kind] = _estimate.durations(records, exclude=set(state.keys))

    def _types(self, state: WaitState) -> list[str]:
        """Job types of pending jobs whose history is not known yet, within the per-wait cap."""
        out: list[str] = []
        for key in state.pending:
            kind = state.jobs.get(key, {}).get("type")
            # A type goes into a filter: '|' or '*' there would mean OR or a wildcard.
            if not isinstance(kind, str) or not kind or len(kind) > 200 or any(c in kind for c in "|*,") \
                    or kind in state.history or kind in out:
                continue
            out.append(kind)
        return out[:max(0, self.HISTORY_TYPES - len(state.history))]

    def _gap(self, state: WaitState) -> float:
        """Seconds to the next standard poll: the soonest any pending job wants a look. A job without an estimate
        wants one at today's pace (_interval), so a wait with no history and no progress polls as before."""
        fallback = self._interval(state)
        now = self.clock()
        gaps = []
        for key in state.pending:
            job = state.jobs.get(key)
            if job is None or key not in state.submitted:
                gaps.append(fallback)
                continue
            age = now - state.submitted[key]
            kind = job.get("type")
            window = _estimate.estimate(job, age, state.history.get(kind) if isinstance(kind, str) else None)
            if window is None:
                state.estimates.pop(key, None)
            else:
                state.estimates[key] = window.as_list()
            gaps.append(_estimate.next_gap(age, window, fallback, self.opts.max_poll_interval))
        return min(gaps) if gaps else fallback

    def _interval(self, state: WaitState) -> float:
        o = self.opts
        age = self.clock() - state.started
        early = min(o.poll_interval * self.GROWTH ** state.rounds, max(self.EARLY_CAP, o.poll_interval))
        return max(o.poll_interval, min(o.max_poll_interval, max(early, age / self.AGE_DIVISOR)))

    def _retry_delay(self, retry_after: float | None, failures: int) -> float:
        """The one pacing rule for retries: Retry-After within [poll_interval, cap], else capped exponential backoff."""
        o = self.opts
        if retry_after is not None:
            # The server's word, but a 0 must not make a busy loop and a 300 must not hide a job that ends in 3 s.
            return min(max(retry_after, o.poll_interval), max(RETRY_AFTER_CAP, o.poll_interval))
        return min(o.max_poll_interval, o.poll_interval * 2 ** min(failures - 1, 6))

    def _pause_until(self, when: float) -> None:
        seconds = when - self.clock()
        if seconds > 0:
            self.sleep(seconds)
