# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The waiter: polls until every job ended, the deadline passes, or a progress slice ends.

Plain Python, nothing from Ansible. The waiter takes its clock and sleep from the caller, so unit
tests drive it with a fake clock and never really sleep.
"""

from __future__ import annotations

import math
import time
import typing as t

from . import _estimate
from ._errors import UMConfigError, UMConnectionError, UMError, UMHTTPError, UMNotFound
from ._retry import decide
from ._state import WaitOptions, WaitState
from ._table import (
    COMPLETED_STATES,
    FORGOTTEN,
    JOBS_PATH,
    ONTAP,
    ONTAP_JOB_FIELDS,
    UNKNOWN,
    classify,
    ontap_parts,
    parse_time,
    vocabulary_of,
)


class _Transient(Exception):
    """Internal: a poll failed in a way worth trying again before the deadline, after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


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
    # ONTAP's jobs (no long polling, no history): the next look comes before the job's age grows by ONTAP_SHARE of
    # itself plus ONTAP_BASE seconds, so a job is found within ONTAP_BASE + ONTAP_SHARE of its age at most (less
    # ONTAP_MARGIN for the request's own time): looks at ages 0, 1.06, 2.24, 3.54, 4.99, 6.6, 8.39, 10.38, ...
    ONTAP_BASE = 1.0
    ONTAP_SHARE = 0.1
    ONTAP_MARGIN = 0.05
    ONTAP_MAX_GAP = 60.0   # ONTAP forgets an ended job after about 300 s: never look less often than this

    def __init__(self, client: t.Any, options: WaitOptions | None = None,
                 clock: t.Callable[[], float] | None = None, sleep: t.Callable[[float], None] | None = None,
                 server_seen: bool = False, wall: t.Callable[[], float] | None = None) -> None:
        self.client = client
        self.opts = options or WaitOptions()
        self.opts.check()
        # Monotonic time within a run; the wall clock only for what a state carries to the next module run (its
        # deadline and pace). A test's fake clock serves as both.
        self.clock = clock or time.monotonic
        self.wall = wall or (clock if clock is not None else time.time)
        self.sleep = sleep or time.sleep
        # Until UM has answered once, a refused connection or a 401 means a wrong hostname, port or
        # password: fail at once rather than retry for the whole timeout. um_request passes True.
        self.server_seen = server_seen
        self._stop = 0.0
        self._deadline = 0.0  # the wait's deadline on self.clock, for this run
        self._next = 0.0      # no standard poll before this time on self.clock
        # What standard polling measures afresh in each run (nothing of it is carried in the state): how far the
        # wall clock is from UM's, when this waiter first saw each job (for a clock that cannot be matched to UM's),
        # and each job's last plan [first, expected, last, source] (for tests and traces).
        self._skew = _estimate.Skew()
        # Per ONTAP cluster (answers through the gateway carry the cluster's Date, not UM's): the least value of
        # (cluster clock - this wall clock) its answers proved.
        self._cluster_ahead: dict[str, float] = {}
        # Clusters whose job list refused our list request (a gateway without it, or without `fields`): their jobs
        # are asked for one by one for the rest of this run.
        self._no_ontap_list: set[str] = set()
        self._first_seen: dict[str, tuple[float, float]] = {}
        self.plans: dict[str, list[t.Any]] = {}

    def start(self, keys: t.Sequence[str], started: float | None = None) -> WaitState:
        """A new wait; `started` (wall clock, default now): when the task's timeout began (um_request counts the
        write that held until ONTAP's return_timeout)."""
        now = self.wall()
        began = now if started is None else min(now, started)
        return WaitState(keys=list(keys), started=began, deadline=began + float(self.opts.timeout), next_poll=now,
                         seen=self.server_seen, long_poll=False if self.opts.long_poll == "never" else None)

    def wait(self, keys: t.Sequence[str]) -> WaitState:
        """The whole wait in one go."""
        return self.run(self.start(keys))

    def run(self, state: WaitState, until: float | None = None) -> WaitState:
        """Go on with a wait until every job ended, the deadline, or `until` (the end of a progress slice)."""
        offset = self.wall() - self.clock()
        self._deadline = state.deadline - offset
        self._next = state.next_poll - offset
        self._stop = self._deadline if until is None else min(until, self._deadline)
        try:
            self._run(state)
        finally:
            state.next_poll = self._next + offset
            state.elapsed = max(0.0, self.wall() - state.started)
        if not state.pending:
            self._reread(state)
        return state

    def _run(self, state: WaitState) -> None:
        while state.pending:
            now = self.clock()
            if self._stop - now < self.MIN_REQUEST:
                break
            if self._next > now:
                self._pause_until(min(self._next, self._stop))
                continue
            try:
                more = self._round(state)
            except _Transient as exc:
                self._failed(state, str(exc), exc.delay)
                continue
            if not more:
                break  # the slice is over
            state.failures = 0
            state.last_error = None
            state.rounds += 1
            before = len(state.pending)
            ontap = any(vocabulary_of(k) == ONTAP for k in state.pending)
            self._update_ended(state)
            # Still finding out about long polling, and a job just turned out finished: ask again at once.
            trying = state.long_poll is None and len(state.pending) < before and not ontap
            if state.pending and (not state.long_poll or ontap) and not trying:
                if state.long_poll is False:
                    self._learn(state)
                self._next = self.clock() + self._gap(state)
        if state.pending and self._stop == self._deadline:
            self._pause_until(self._deadline)  # the last moments, too short for a request, still belong to the wait
        state.timed_out = bool(state.pending) and self.clock() >= self._deadline

    def _failed(self, state: WaitState, error: str, delay: float) -> None:
        state.failures += 1
        state.last_error = error
        self._next = self.clock() + delay

    def _update_ended(self, state: WaitState) -> None:
        """Note the outcome of each job read that has ended (by the table), and unknown states of the others."""
        for k in state.pending:
            job = state.jobs.get(k)
            if job is None:
                continue
            vocabulary = vocabulary_of(k)
            verdict = classify(job, vocabulary)
            if verdict.terminal:
                state.ended[k] = verdict.outcome or UNKNOWN
                continue
            if vocabulary == ONTAP:
                state.seen_running.add(k)  # a later 404 means ONTAP forgot it after it ended
            if not verdict.known_state:
                state.unknown_states[k] = verdict.state

    def _reread(self, state: WaitState) -> None:
        """Read once the jobs that ended in an earlier progress slice (their records do not travel between slices),
        for the task's result. Within the deadline only; a job not read keeps its outcome and is listed in
        `reread` (the result says so)."""
        keys = [k for k in state.keys if k in state.ended and k not in state.jobs]
        if not keys:
            return
        self._stop = self._deadline
        missing = list(state.missing)
        try:
            self._look(state, keys)
        except (_Transient, UMError):
            pass
        state.missing = missing  # a job that ended is not made "not found" by a look after its end
        for k in keys:
            job = state.jobs.get(k)
            if job is None or not classify(job, vocabulary_of(k)).terminal:
                state.jobs.pop(k, None)
                state.reread.append(k)

    # -- one round: look at every pending job once -------------------------------------------------

    def _round(self, state: WaitState) -> bool:
        """Look at every pending job once. False when the slice ended before anything could be asked."""
        pending = [k for k in state.pending if vocabulary_of(k) != ONTAP]
        ontap = [k for k in state.pending if vocabulary_of(k) == ONTAP]
        if ontap:
            # ONTAP has no long polling: plain looks, one list request per cluster; UM's jobs of a mixed wait then
            # get plain looks too (a held request would keep ONTAP's jobs from being looked at).
            self._refresh_ontap(state, ontap)
            pending = [k for k in pending if k in state.pending]
            if pending:
                self._refresh(state, pending)
            return True
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
        to_stop, to_deadline = self._stop - now, self._deadline - now
        # Hold for the rest of the slice (a slice is one long poll), never past the deadline.
        hold = math.ceil(to_stop) if self._stop < self._deadline else math.floor(to_stop)
        poll_timeout = int(min(self.opts.long_poll_timeout, hold, math.floor(to_deadline)))
        if poll_timeout < 1:
            if self._stop < self._deadline:
                return "slice over"
            # Too little time left to hold a request: one plain look, and the wait ends at the deadline.
            self._refresh(state, [key])
            self._next = self._deadline
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
                self._next = self.clock() + self.opts.poll_interval
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

    def _look(self, state: WaitState, keys: list[str]) -> None:
        """Read `keys` once, each origin its own way: UM's jobs in UM's list, ONTAP's per cluster."""
        ontap = [k for k in keys if vocabulary_of(k) == ONTAP]
        if ontap:
            self._refresh_ontap(state, ontap)
        um = [k for k in keys if vocabulary_of(k) != ONTAP]
        if um:
            self._refresh(state, um)

    def _refresh_ontap(self, state: WaitState, keys: list[str]) -> None:
        """Read ONTAP's jobs through the gateway: one GET for one job of a cluster, a list GET (`uuid=a|b` with the
        fields the table needs) for several. Never UM's long-poll parameter, never a history request. A job the list
        leaves out is asked for directly, so that only ONTAP's own 404 for it counts."""
        clusters: dict[str, list[str]] = {}
        for k in keys:
            parts = ontap_parts(k)
            if parts is not None:
                clusters.setdefault(parts[0], []).append(k)
        for cluster, cluster_keys in clusters.items():
            alone = list(cluster_keys) if len(cluster_keys) == 1 or cluster in self._no_ontap_list else []
            for i in range(0, len(cluster_keys) if not alone else 0, self.opts.batch_size):
                batch = cluster_keys[i:i + self.opts.batch_size]
                budget = self._budget(state)
                if budget is None:
                    return
                uuids = [ontap_parts(k)[1] for k in batch]  # type: ignore[index]
                try:
                    records = self._call(state, lambda: self.client.list_ontap_jobs(
                        cluster, uuids, ONTAP_JOB_FIELDS, timeout=budget, retry=False), origin=cluster)
                except UMHTTPError as exc:
                    if exc.status not in (400, 404, 405, 501):
                        raise
                    # A gateway that does not list jobs this way: ask for each job directly (where UM's own 404 for
                    # an unknown cluster, and ONTAP's for a job, are told apart), now and for the rest of the run.
                    self._no_ontap_list.add(cluster)
                    alone.extend(k for k in cluster_keys[i:] if k not in alone)
                    break
                # A record counts only with its state (a server that ignored `fields` is asked job by job).
                found = {str(r.get("uuid")).lower(): r for r in records if isinstance(r, dict) and r.get("state")}
                for k, u in zip(batch, uuids):
                    if u.lower() in found:
                        state.jobs[k] = dict(found[u.lower()], key=k)
                    else:
                        alone.append(k)
            for k in alone:
                budget = self._budget(state)
                if budget is None:
                    return
                job_uuid = ontap_parts(k)[1]  # type: ignore[index]
                try:
                    record = self._call(state, lambda: self.client.get_ontap_job(cluster, job_uuid, timeout=budget,
                                                                                 retry=False), origin=cluster)
                except UMNotFound as exc:
                    self._ontap_not_found(state, k, exc)
                    continue
                state.jobs[k] = dict(record, key=k)

    @staticmethod
    def _cluster_not_found(key: str, exc: UMNotFound) -> None:
        """UM's own 404 for a cluster its gateway does not reach (a word as its code, target cluster_uuid), told
        apart from ONTAP's for a job (a number as its code, target uuid): fails the wait with one line."""
        if exc.target == "cluster_uuid" or (exc.code is not None and not str(exc.code).strip().lstrip("-").isdigit()):
            parts = ontap_parts(key)
            raise UMConfigError(f"job {key}: UM does not reach cluster {parts[0] if parts else '?'} through its API "
                                f"gateway (HTTP 404, {exc.code or 'no code'}): check the cluster uuid in the key "
                                "against GET /gateways (aiqum.jobs.um_request path=/gateways)") from None

    @staticmethod
    def _ontap_not_found(state: WaitState, key: str, exc: UMNotFound) -> None:
        """A 404 through the gateway: UM's own for a cluster it does not reach (a word as its code, target
        cluster_uuid) fails the wait with one line; ONTAP's for the job means it was forgotten after it ended (seen
        before) or is unknown (never seen). Neither is ever a success."""
        JobWaiter._cluster_not_found(key, exc)
        if key in state.ended or key in state.missing:
            return
        if key in state.seen_running:
            state.ended[key] = FORGOTTEN
        else:
            state.missing.append(key)

    def _call(self, state: WaitState, fn: t.Callable[[], t.Any], origin: str | None = None) -> t.Any:
        """Run one request (one attempt: the client does not retry the waiter's polls), counting it; a failure
        worth trying again before the deadline becomes _Transient, by the one retry rule (_retry.decide). `origin`:
        the ONTAP cluster that answers through the gateway (its clock, not UM's), None for UM."""
        state.polls += 1
        sent = self.wall()
        try:
            answer = fn()
            if origin is None:
                self._note_clock(answer, sent)
            else:
                self._note_cluster_clock(origin, answer)
        except UMNotFound:
            state.seen = True
            raise
        except UMError as exc:
            if isinstance(exc, UMConnectionError) and not exc.sent and not state.seen:
                # Until UM has answered once in this task, a server never reached is a wrong hostname or port.
                raise
            o = self.opts
            decision = decide(exc, state.failures + 1, "GET", bool(getattr(exc, "sent", False)),
                              auth_worked=state.seen, auth_failures=state.auth_failures,
                              base=o.poll_interval, cap=o.max_poll_interval)
            if not decision.retry:
                if getattr(exc, "status", None) == 401 and state.seen:
                    exc.message += (f" (the credentials had worked earlier in this task; after {state.auth_failures} "
                                    "more failed tries they are not tried again, so that the account is not locked: "
                                    "check whether the password was changed or the account locked)")
                raise
            if getattr(exc, "status", None) == 401:
                state.auth_failures += 1  # counted across progress slices: the state carries it
            # Never faster than the task's poll_interval (a Retry-After of 0 must not make a busy loop).
            raise _Transient(str(exc), max(decision.delay, o.poll_interval)) from None
        state.seen = True
        return answer

    def _budget(self, state: WaitState) -> float | None:
        """The time one request may take: the client's request_timeout, never past the deadline."""
        left = self._deadline - self.clock()
        if left < self.MIN_REQUEST:
            return None
        return min(float(self.client.request_timeout), left)

    # -- standard polling that knows when to look (see _estimate) ----------------------------------

    def _learn(self, state: WaitState) -> None:
        """Ask once per job type how long such jobs took (the history, the one learnt thing the state carries).

        The history request is one short GET per type and wait, made only while time is left in the slice; its
        failure is noted (an empty history) and never fails or holds up the wait.
        """
        for kind in self._types(state):
            now = self.clock()
            budget = min(self.HISTORY_TIMEOUT, float(self.client.request_timeout), self._stop - now, self._deadline - now)
            if budget < self.MIN_REQUEST:
                return  # the next slice asks
            state.history[kind] = []
            state.polls += 1
            try:
                page = self.client.get(JOBS_PATH,
                                       params={"type": kind, "state": "|".join(sorted(COMPLETED_STATES)),
                                               "max_records": _estimate.HISTORY_RECORDS},
                                       timeout=budget, retry=False)
            except UMError:
                continue
            records = page.get("records") if isinstance(page, dict) else None
            if isinstance(records, list):
                state.history[kind] = _estimate.durations(records, exclude=set(state.keys), kind=kind)

    def _note_clock(self, answer: t.Any, sent: float) -> None:
        """Narrow the clock skew with one answer (wall clock): its Date header, and the latest time UM wrote in the
        jobs."""
        received = self.wall()
        self._skew.note_date(getattr(self.client, "last_date", None), sent, received)
        records = answer if isinstance(answer, list) else [answer]
        for job in records[:50]:
            if isinstance(job, dict):
                self._skew.note_stamp(_estimate.latest_stamp(job), received)

    def _note_cluster_clock(self, cluster: str, answer: t.Any) -> None:
        """One answer from a cluster: its clock was at least its Date header (whole seconds) when it answered, and
        at least the latest time it wrote into a job."""
        received = self.wall()
        stamps = [_estimate.http_date(getattr(self.client, "last_date", None))]
        for job in (answer if isinstance(answer, list) else [answer])[:50]:
            if isinstance(job, dict):
                stamps += [parse_time(job.get("start_time")), parse_time(job.get("end_time"))]
        found = [s - received for s in stamps if s is not None]
        if found:
            self._cluster_ahead[cluster] = max(found + [self._cluster_ahead.get(cluster, -math.inf)])

    def _ontap_gap(self, state: WaitState, key: str, job: t.Mapping[str, t.Any] | None, now: float) -> float:
        """Seconds to the next look at an ONTAP job: soon while it is young, then in step with its age. The age is a
        least value (never more than the job's real age, so a look is never late): the wait's own age (the job
        started before it), or what the cluster's clock proves from the job's start_time (whole seconds)."""
        age = max(0.0, now - state.started)
        cluster = ontap_parts(key)
        start = parse_time(job.get("start_time")) if job else None
        if start is not None and cluster and cluster[0] in self._cluster_ahead:
            age = max(age, now + self._cluster_ahead[cluster[0]] - (start + 1.0))
        gap = (self.ONTAP_BASE + age) / (1.0 - self.ONTAP_SHARE) - age - self.ONTAP_MARGIN
        return min(self.ONTAP_MAX_GAP, self.opts.max_poll_interval, max(self.opts.poll_interval, gap))

    def _age(self, key: str, job: t.Mapping[str, t.Any], now: float, coarse: bool) -> float:
        """The job's age by UM's clock: from its submit_time and the measured skew, or, when this clock cannot be
        matched to UM's, from what UM's own times prove when this waiter first saw it, plus the time since."""
        age = _estimate.age_of(job, now, self._skew.value, coarse)
        if age is not None:
            return age
        seen, proven = self._first_seen.setdefault(key, (now, _estimate.server_age(job)))
        return max(_estimate.server_age(job), proven + now - seen)

    def _types(self, state: WaitState) -> list[str]:
        """Job types of pending jobs whose history is not known yet, within the per-wait cap."""
        out: list[str] = []
        for key in state.pending:
            if vocabulary_of(key) == ONTAP:
                continue  # ONTAP's jobs have no history in UM
            kind = state.jobs.get(key, {}).get("type")
            # A type goes into a filter: '|' or '*' there would mean OR or a wildcard.
            if not isinstance(kind, str) or not kind or len(kind) > 200 or any(c in kind for c in "|*,") \
                    or kind in state.history or kind in out:
                continue
            out.append(kind)
        return out[:max(0, self.HISTORY_TYPES - len(state.history))]

    def _gap(self, state: WaitState) -> float:
        """Seconds to the next standard poll: the soonest any pending job wants a look. A job without an estimate
        wants one at today's pace (_interval), so a wait with no history and no progress polls as before. Each
        plan is made afresh from the job's submit_time, its progress and its type's history."""
        fallback = self._interval(state)
        now = self.wall()
        gaps = []
        # Many jobs of one type, started together, share their plan and their gap: each is worked out once.
        plans: dict[tuple, _estimate.Plan | None] = {}
        found: dict[tuple, float] = {}
        for key in state.pending:
            job = state.jobs.get(key)
            if vocabulary_of(key) == ONTAP:
                gaps.append(self._ontap_gap(state, key, job, now))
                continue
            if job is None:
                gaps.append(fallback)
                continue
            kind = job.get("type")
            kind = kind if isinstance(kind, str) else None
            coarse = _estimate.is_coarse(job, state.history.get(kind) or ()) if kind else False
            age = self._age(key, job, now, coarse)
            progress = _estimate.progress_of(job, age)
            mark = (kind, coarse,
                    None if progress is None else (round(progress[0], 3), round(progress[1], 1), progress[2]))
            base = (kind, coarse, None)
            if base not in plans:
                plans[base] = _estimate.from_history(state.history.get(kind) or (), coarse) if kind else None
            if mark not in plans:
                plans[mark] = _estimate.from_progress(*progress, history=plans[base])  # type: ignore[misc]
            plan = plans[mark]
            if plan is None:
                self.plans.pop(key, None)
            else:
                self.plans[key] = plan.as_list()
            near = mark + (round(age * 20),)
            if near not in found:
                found[near] = _estimate.next_gap(age, plan, fallback, self.opts.max_poll_interval)
            gaps.append(found[near])
        return min(gaps) if gaps else fallback

    def _interval(self, state: WaitState) -> float:
        o = self.opts
        age = self.wall() - state.started
        early = min(o.poll_interval * self.GROWTH ** state.rounds, max(self.EARLY_CAP, o.poll_interval))
        return max(o.poll_interval, min(o.max_poll_interval, max(early, age / self.AGE_DIVISOR)))

    def _pause_until(self, when: float) -> None:
        seconds = when - self.clock()
        if seconds > 0:
            self.sleep(seconds)
