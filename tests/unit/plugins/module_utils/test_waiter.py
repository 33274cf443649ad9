# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JobWaiter against a scripted server on a fake clock: nothing here sleeps for real."""

from __future__ import annotations

import json
import random
import re

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConfigError,
    UMConnectionError,
    UMHTTPError,
    UMResponseError,
    UMTLSError,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._report import summarize, timeout_message
from ansible_collections.aiqum.jobs.plugins.module_utils._retry import RETRY_AFTER_CAP
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitOptions, WaitState
from ansible_collections.aiqum.jobs.plugins.module_utils._table import ERROR, NOT_FOUND, SUCCESS, classify
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import FakeClock, FakeJob, FakeUM, Reply, http_error, job

pytestmark = pytest.mark.usefixtures("no_sleep")

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "85b642774a960362:-4405f3a8:16e686b7083:-6fac"
K3 = "85b642774a960362:-4405f3a8:16e686b7083:-6fab"
JOB_PATH = "/management-server/jobs/" + K1.replace(":", "%3A")
LATENCY = 0.02


def make(jobs, long_poll="honour", latency=LATENCY, **kw):
    clock = FakeClock()
    return clock, FakeUM(clock, jobs, long_poll=long_poll, latency=latency, **kw)


def run(clock, server, keys, **opts):
    waiter = JobWaiter(server, WaitOptions(**opts), clock=clock, sleep=clock.sleep)
    result = waiter.wait(keys)
    # The waiter counts every request it sent, and time moved only by requests and sleeps.
    assert result.polls == len(server.calls)
    spent = clock.slept + sum(c.end - c.start for c in server.calls)
    assert spent == pytest.approx(result.elapsed, abs=1e-6)
    # It applies its own retry policy: the client's retries would blur its deadline.
    assert all(c.retry is False for c in server.calls)
    return result


def sweep(center, half_width=1.0, step=0.1):
    n = int(round(half_width / step))
    return [round(center + i * step, 3) for i in range(-n, n + 1)]


# -- long polling -----------------------------------------------------------------------------------

def test_long_poll_honoured_one_request_no_lag():
    clock, server = make([job(K1, 30.0)])
    result = run(clock, server, [K1])
    assert result.pending == []
    assert result.polls == 1
    assert server.calls[0].poll_timeout == 60
    assert server.calls[0].timeout >= 60  # the read timeout leaves room for the hold
    assert result.long_poll is True
    assert 0 <= result.elapsed - 30.0 <= LATENCY + 1e-9
    assert clock.sleeps == []
    assert classify(result.jobs[K1]).outcome == SUCCESS


def test_long_poll_longer_than_long_poll_timeout_is_asked_again_without_sleeping():
    clock, server = make([job(K1, 150.0)])
    result = run(clock, server, [K1], long_poll_timeout=60)
    assert [c.poll_timeout for c in server.calls] == [60, 60, 60]
    assert result.pending == [] and result.long_poll is True
    assert result.elapsed - 150.0 <= 3 * LATENCY + 1e-9
    assert clock.sleeps == []


def test_long_poll_timeout_option_is_sent():
    clock, server = make([job(K1, 10.0)])
    run(clock, server, [K1], long_poll_timeout=7)
    assert [c.poll_timeout for c in server.calls] == [7, 7]


def test_quick_job_with_long_polling():
    clock, server = make([job(K1, 0.2, status="warning")])
    result = run(clock, server, [K1])
    assert result.polls == 1 and result.pending == []
    assert classify(result.jobs[K1]).outcome == "warning"


@pytest.mark.parametrize("center", [10.0, 60.0])
def test_ignored_long_poll_falls_back_to_sparse_prompt_polling(center):
    """A server that answers at once: detect it, poll standard, fewer requests than a 1 s loop, small lag.

    Swept over job durations around the center so the result does not hang on the polling phase.
    """
    for duration in sweep(center):
        clock, server = make([job(K1, duration)], long_poll="ignore")
        result = run(clock, server, [K1])
        assert result.pending == [] and classify(result.jobs[K1]).outcome == SUCCESS
        assert result.long_poll is False
        assert len(server.calls_with_poll_timeout()) == 1, "asked for long polling again after it was ignored"
        assert server.calls[0].poll_timeout
        fixed_loop_polls = int(duration) + 1
        assert result.polls < fixed_loop_polls, (duration, result.polls)
        lag = result.elapsed - duration
        assert 0 <= lag < 2.5, (duration, lag)
        assert max(s for _w, s in clock.sleeps) <= 30.0


def test_rejected_long_poll_falls_back():
    clock, server = make([job(K1, 12.0, status="error")], long_poll="reject")
    result = run(clock, server, [K1])
    assert result.long_poll is False
    assert len(server.calls_with_poll_timeout()) == 1
    assert result.pending == [] and classify(result.jobs[K1]).outcome == ERROR
    assert result.elapsed - 12.0 < 2.5


def test_always_with_rejecting_server_is_a_config_error():
    clock, server = make([job(K1, 12.0)], long_poll="reject")
    with pytest.raises(UMConfigError) as err:
        run(clock, server, [K1], long_poll="always")
    assert "long_poll" in str(err.value) and "400" in str(err.value)
    assert len(server.calls) == 1


def test_always_with_ignoring_server_keeps_asking_but_does_not_spin():
    clock, server = make([job(K1, 10.0)], long_poll="ignore")
    result = run(clock, server, [K1], long_poll="always")
    assert result.pending == []
    assert all(c.poll_timeout for c in server.calls)
    assert len(server.calls) <= 11
    assert clock.sleeps
    assert result.elapsed - 10.0 < 2.5


@pytest.mark.parametrize("behaviour", ["honour", "ignore", "reject"])
def test_never_sends_poll_timeout(behaviour):
    clock, server = make([job(K1, 20.0)], long_poll=behaviour)
    result = run(clock, server, [K1], long_poll="never")
    assert result.pending == []
    assert server.calls_with_poll_timeout() == []
    assert result.long_poll is False
    assert result.polls < 21


def test_standard_polling_interval_grows_but_stays_capped():
    clock, server = make([job(K1, 1800.0)], long_poll="ignore")
    result = run(clock, server, [K1], poll_interval=1.0, max_poll_interval=30.0)
    sleeps = [s for _w, s in clock.sleeps]
    assert sleeps[0] >= 1.0
    assert max(sleeps) <= 30.0 + 1e-9
    assert sleeps == sorted(sleeps)
    assert result.polls < 150  # a 1 s loop would send 1800
    assert result.elapsed - 1800.0 <= 30.0 + 2 * LATENCY


# -- many jobs at once ------------------------------------------------------------------------------

def many_jobs(count=100, seed=7):
    rng = random.Random(seed)
    durations = [round(rng.uniform(5.0, 20.0), 2) for _i in range(count)]
    durations[count // 3] = 20.0
    jobs = [job(f"{1000 + i:x}:-{i:x}:16e3ae18e35:-7ff{i % 10}", d, submit=rng.uniform(-30.0, 0.0),
                status="error" if i == 5 else "normal") for i, d in enumerate(durations)]
    return jobs, max(durations)


@pytest.mark.parametrize("behaviour, mode, max_polls, max_lag", [
    ("honour", "auto", 30, 6 * LATENCY),
    ("ignore", "auto", 60, 2.5),
    ("reject", "auto", 60, 2.5),
    ("honour", "never", 60, 2.5),
])
def test_many_jobs_finish_with_the_longest_and_few_requests(behaviour, mode, max_polls, max_lag):
    jobs, longest = many_jobs()
    keys = [j.key for j in jobs]
    clock, server = make(jobs, long_poll=behaviour)
    result = run(clock, server, keys, long_poll=mode)
    assert result.pending == []
    assert set(result.jobs) == set(keys)
    assert all(classify(result.jobs[k]).terminal for k in keys)
    assert classify(result.jobs[keys[5]]).outcome == ERROR
    assert 0 <= result.elapsed - longest <= max_lag
    # Polling each job on its own every second would take 100 x 21 requests; batching takes a few dozen.
    assert result.polls <= max_polls, result.polls
    for call in server.calls:
        if call.kind == "list":
            assert 1 < len(call.keys) <= 50
    summary = summarize(result)
    assert summary.failed and summary.msg.startswith("1 of 100 jobs failed")


def test_batch_size_is_respected():
    jobs = [job(f"k{i}", 5.0 + i) for i in range(20)]
    clock, server = make(jobs)
    result = run(clock, server, [j.key for j in jobs], long_poll="never", batch_size=7)
    assert result.pending == []
    lists = [c for c in server.calls if c.kind == "list"]
    assert lists and all(len(c.keys) <= 7 for c in lists)
    assert sorted(len(c.keys) for c in lists[:3]) == [6, 7, 7]


def test_long_poll_holds_on_the_latest_submitted_job():
    jobs = [job(K1, 30.0, submit=-20.0), job(K2, 10.0, submit=-5.0), job(K3, 20.0, submit=-10.0)]
    clock, server = make(jobs)
    result = run(clock, server, [K1, K2, K3])
    assert result.pending == []
    assert server.calls[0].kind == "list" and set(server.calls[0].keys) == {K1, K2, K3}
    holds = [c.keys[0] for c in server.calls if c.poll_timeout]
    assert holds == [K2, K3, K1]
    assert result.elapsed - 30.0 <= len(server.calls) * LATENCY + 1e-9
    assert clock.sleeps == []


def test_server_that_does_not_or_keys_is_asked_per_job():
    jobs = [job(K1, 3.0), job(K2, 4.0, status="partial_failures"), job(K3, 5.0)]
    clock, server = make(jobs, or_keys=False)
    result = run(clock, server, [K1, K2, K3], long_poll="never")
    assert result.pending == []
    assert classify(result.jobs[K2]).outcome == "partial_failures"
    assert {c.keys[0] for c in server.calls if c.kind == "job"} == {K1, K2, K3}


# -- errors along the way ---------------------------------------------------------------------------

def test_transient_errors_are_tolerated_then_the_true_outcome_is_reported():
    failed = job(K1, 20.0, status="error", final={"task_reports": [
        {"name": "Create LUN", "state": "completed", "status": "error", "failure_reason": "No space left."}]})
    clock, server = make([failed])
    server.faults = {
        1: http_error(503, JOB_PATH, "UM is starting."),
        2: UMConnectionError("GET ...: cannot reach https://um: Connection refused; check hostname"),
        3: UMResponseError("UM's answer for job is not a job object"),
        4: http_error(500, JOB_PATH),
        5: http_error(502, JOB_PATH),
        6: http_error(504, JOB_PATH),
        7: http_error(429, JOB_PATH, "Too many requests.", retry_after=7.0),
    }
    result = run(clock, server, [K1], long_poll="never")
    assert result.pending == []
    assert result.last_error is None
    assert result.jobs[K1]["status"] == "error"
    summary = summarize(result)
    assert summary.failed and "No space left." in summary.msg
    retry_after_sleeps = [s for w, s in clock.sleeps if w - server.t0 == pytest.approx(server.calls[7].end)]
    assert retry_after_sleeps == [7.0], "Retry-After was not honoured"


def test_retry_after_beyond_the_deadline_sleeps_only_to_the_deadline():
    clock, server = make([job(K1, None)])
    server.outages = [(0.5, 1e9, lambda: http_error(429, JOB_PATH, retry_after=3600.0))]
    result = run(clock, server, [K1], long_poll="never", timeout=50)
    assert result.pending == [K1] and result.timed_out
    assert "429" in result.last_error
    assert clock() - server.t0 == pytest.approx(50.0)


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_a_long_retry_after_is_capped_so_a_short_job_is_not_missed(mode):
    """Issue 10 (3): one Retry-After: 300 on a poll no longer hides a 3 s job for minutes."""
    clock, server = make([job(K1, 3.0)], long_poll="honour" if mode == "auto" else "ignore")
    server.faults = {0: http_error(503, JOB_PATH, "Busy.", retry_after=300.0)}
    result = run(clock, server, [K1], long_poll=mode, timeout=600)
    assert result.pending == [] and classify(result.jobs[K1]).outcome == SUCCESS
    assert max(s for _w, s in clock.sleeps) <= RETRY_AFTER_CAP
    assert result.elapsed <= 10.0 + 2.0


def test_transient_errors_during_long_polls_are_tolerated():
    clock, server = make([job(K1, 100.0)])
    server.faults = {1: http_error(503, JOB_PATH), 2: UMConnectionError("connection reset", sent=True)}
    result = run(clock, server, [K1], long_poll_timeout=30)
    assert result.pending == [] and result.long_poll is True
    assert result.elapsed - 100.0 < 1.0


def test_malformed_list_answers_are_tolerated():
    clock, server = make([job(K1, 6.0), job(K2, 8.0)])
    server.faults = {1: Reply({"unexpected": True}), 2: Reply("<html>maintenance</html>"), 3: Reply({"records": None})}
    result = run(clock, server, [K1, K2], long_poll="never")
    assert result.pending == []
    assert result.last_error is None
    assert all(classify(j).outcome == SUCCESS for j in result.jobs.values())


def test_tls_errors_are_not_waited_out():
    clock, server = make([job(K1, 6.0)])
    server.faults = {2: UMTLSError("TLS certificate of https://um could not be verified")}
    with pytest.raises(UMTLSError):
        run(clock, server, [K1], long_poll="never")
    assert len(server.calls) == 3


@pytest.mark.parametrize("status", [400, 403, 405, 409])
def test_other_http_errors_are_final(status):
    clock, server = make([job(K1, 6.0)])
    server.faults = {1: http_error(status, JOB_PATH, "nope")}
    with pytest.raises(UMHTTPError) as err:
        run(clock, server, [K1], long_poll="never")
    assert err.value.status == status
    assert len(server.calls) == 2


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_401_on_the_first_request_fails_at_once(mode):
    clock, server = make([job(K1, 6.0)])
    server.faults = {0: http_error(401, JOB_PATH)}
    with pytest.raises(UMHTTPError) as err:
        run(clock, server, [K1], long_poll=mode)
    assert err.value.status == 401
    assert "username and password" in str(err.value)
    assert len(server.calls) == 1
    assert clock.sleeps == []


def test_401_after_success_is_tolerated():
    clock, server = make([job(K1, 10.0)])
    server.faults = {2: http_error(401, JOB_PATH), 3: http_error(401, JOB_PATH)}
    result = run(clock, server, [K1], long_poll="never")
    assert result.pending == []
    assert classify(result.jobs[K1]).outcome == SUCCESS


def test_401_after_success_gets_two_more_tries_per_task_then_fails():
    """Issue 18: a password that stops working mid-wait was retried until the timeout (22 failed logins in a 600 s
    wait). Now: two more tries per task, counted across progress slices, then the task fails and says why."""
    clock, server = make([job(K1, 500.0)])
    server.outages = [(3.0, 1e9, lambda: http_error(401, JOB_PATH))]
    began = clock()
    waiter = JobWaiter(server, WaitOptions(timeout=600, long_poll="never"), clock=clock, sleep=clock.sleep)
    state = waiter.start([K1])
    with pytest.raises(UMHTTPError, match="not tried again") as caught:
        while not state.done:
            state = WaitState.resume(json.loads(json.dumps(waiter.run(state, until=clock() + 2).carry())), [K1])
    assert caught.value.status == 401
    assert state.auth_failures == 2, "two more tries, carried across the slices"
    assert clock() - began < 30, "it did not ride out the timeout"


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_unknown_job_is_not_found(mode):
    clock, server = make([])
    result = run(clock, server, [K1], long_poll=mode)
    assert result.missing == [K1] and result.pending == [] and not result.timed_out
    assert len(server.calls) == 1
    verdict = summarize(result)
    assert verdict.failed and verdict.outcomes == {K1: NOT_FOUND}
    assert K1 in verdict.msg and "um_job_info" in verdict.msg


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_unknown_job_among_many_is_named_and_the_others_are_waited_on(mode):
    """Issue 10 (9): a key UM does not know no longer drops the other jobs from the wait."""
    clock, server = make([job(K1, 50.0), job(K3, 50.0, status="partial_failures")])
    result = run(clock, server, [K1, K2, K3], long_poll=mode)
    assert result.missing == [K2] and result.pending == []
    assert classify(result.jobs[K1]).outcome == SUCCESS and K2 not in result.jobs
    verdict = summarize(result)
    assert verdict.failed
    assert verdict.outcomes == {K1: SUCCESS, K2: NOT_FOUND, K3: "partial_failures"}
    assert verdict.msg.startswith("1 of 3 jobs failed: job " + K2)
    assert any(K3 in w for w in verdict.warnings)
    assert clock() - server.t0 >= 50.0


# -- the deadline -----------------------------------------------------------------------------------

@pytest.mark.parametrize("behaviour, mode", [
    ("honour", "auto"), ("ignore", "auto"), ("reject", "auto"), ("honour", "never"), ("ignore", "always"),
    ("honour", "always"),
])
@pytest.mark.parametrize("timeout", [7.3, 100.0, 100.5, 200.9])
@pytest.mark.parametrize("latency", [0.0, 0.05])
def test_timeout_never_sleeps_past_the_deadline(behaviour, mode, timeout, latency):
    clock, server = make([job(K1, None), job(K2, 3.0)], long_poll=behaviour, latency=latency)
    start = clock()
    deadline = start + timeout
    result = run(clock, server, [K1, K2], timeout=timeout, long_poll=mode, long_poll_timeout=60)
    assert result.timed_out and result.pending == [K1]
    assert result.last_error is None
    assert classify(result.jobs[K2]).outcome == SUCCESS
    for when, seconds in clock.sleeps:
        assert when + seconds <= deadline + 1e-9, "slept past the deadline"
    # Time went only to sleeps and requests, and at most one request was in flight at the deadline.
    assert clock.slept + sum(c.end - c.start for c in server.calls) <= timeout + latency + 1e-9
    assert timeout - 1e-9 <= result.elapsed <= timeout + latency + 1e-9
    for call in server.calls:
        remaining = timeout - call.start
        if call.poll_timeout:
            assert call.poll_timeout <= max(remaining, 0) + 1e-9, "asked UM to hold past the deadline"
        assert call.timeout <= max(remaining, 0) + JobWaiter.GRACE + 1e-9, "read timeout past the deadline"
    assert result.polls <= timeout + 5, "spinning"


def test_timeout_result_keeps_the_last_error():
    clock, server = make([job(K1, None)])
    server.outages = [(5.0, 1e9, lambda: http_error(503, JOB_PATH, "UM is restarting."))]
    result = run(clock, server, [K1], long_poll="never", timeout=40)
    assert result.pending == [K1]
    assert "503" in result.last_error and "restarting" in result.last_error
    assert result.jobs[K1]["state"] == "running"


def test_timeout_message_names_pending_keys_and_last_error():
    clock, server = make([job(K1, None, name="Create LUN lun1", fields={"task_reports": [
        {"state": "completed"}, {"state": "running"}]}), job(K2, None), job(K3, 2.0)], long_poll="ignore")
    server.outages = [(20.0, 1e9, lambda: UMConnectionError("GET /management-server/jobs: connection reset"))]
    opts = WaitOptions(timeout=30)
    result = JobWaiter(server, opts, clock=clock, sleep=clock.sleep).wait([K1, K2, K3])
    assert result.pending == [K1, K2]
    msg = timeout_message(result)
    assert summarize(result).msg == msg and summarize(result).failed
    assert msg.startswith("timed out after 30s with 2 of 3 jobs still running")
    assert f"{K1} (Create LUN lun1): running, tasks 1/2" in msg
    assert K2 in msg and K3 not in msg
    assert "Last error: GET /management-server/jobs: connection reset" in msg
    assert "pending" in msg and "aiqum.jobs.um_job_wait" in msg
    assert "\n" not in msg


def test_timeout_message_for_a_job_never_seen():
    clock, server = make([job(K1, 5.0)])
    server.outages = [(0.0, 1e9, lambda: UMConnectionError("GET ...: the connection was closed before UM answered",
                                                           sent=True))]
    opts = WaitOptions(timeout=20, long_poll="never")
    result = JobWaiter(server, opts, clock=clock, sleep=clock.sleep).wait([K1])
    assert result.pending == [K1] and result.jobs == {}
    assert len(server.calls) >= 3  # it kept trying until the deadline
    assert re.search(r"never seen.*connection was closed", timeout_message(result))


# -- unknown states and options ---------------------------------------------------------------------

def test_unknown_state_is_recorded_and_waited_through():
    odd = FakeJob(K1, [(-1.0, "running", "normal"), (2.0, "Suspended", "normal"), (9.0, "completed", "normal")])
    clock, server = make([odd])
    result = run(clock, server, [K1], long_poll="never")
    assert result.pending == []
    assert result.unknown_states == {K1: "suspended"}
    assert classify(result.jobs[K1]).outcome == SUCCESS


def test_unknown_state_until_the_timeout():
    odd = FakeJob(K1, [(-1.0, "paused", "normal")])
    clock, server = make([odd])
    result = run(clock, server, [K1], timeout=45, long_poll_timeout=20)
    assert result.pending == [K1]
    assert result.unknown_states == {K1: "paused"}


@pytest.mark.parametrize("opts, words", [
    ({"timeout": 0}, "timeout"), ({"timeout": -5}, "timeout"), ({"timeout": float("nan")}, "timeout"),
    ({"timeout": float("inf")}, "timeout"), ({"timeout": 8 * 86400}, "timeout"),
    ({"poll_interval": 0.01}, "poll_interval"), ({"poll_interval": 5, "max_poll_interval": 2}, "max_poll_interval"),
    ({"long_poll": "sometimes"}, "long_poll"), ({"long_poll_timeout": 0}, "long_poll_timeout"),
    ({"long_poll_timeout": 121}, "long_poll_timeout"),
])
def test_bad_wait_options_are_refused(opts, words):
    with pytest.raises(UMConfigError) as err:
        JobWaiter(object(), WaitOptions(**opts), clock=FakeClock(), sleep=FakeClock().sleep)
    assert words in str(err.value)


def test_the_real_clock_and_sleep_are_the_defaults_and_are_forbidden_here():
    """JobWaiter's defaults are time.monotonic (time.time for what a state carries) and time.sleep; the no_sleep
    fixture turns them into failures."""
    clock, server = make([job(K1, 5.0)])
    with pytest.raises(AssertionError, match="real clock"):
        JobWaiter(server, WaitOptions()).wait([K1])
    assert server.calls == [] and clock.sleeps == []


def test_server_never_reached_fails_at_once():
    clock, server = make([job(K1, 30.0)])
    server.faults = {0: UMConnectionError("GET ...: cannot reach https://um: Connection refused; check hostname")}
    with pytest.raises(UMConnectionError, match="check hostname"):
        run(clock, server, [K1], timeout=600)
    assert clock.slept == 0 and len(server.calls) == 1


def test_server_seen_before_the_wait_rides_out_a_refused_connection():
    clock, server = make([job(K1, 30.0)])
    server.faults = {0: UMConnectionError("GET ...: cannot reach https://um: Connection refused; check hostname")}
    waiter = JobWaiter(server, WaitOptions(timeout=600), clock=clock, sleep=clock.sleep, server_seen=True)
    result = waiter.wait([K1])
    assert result.pending == [] and result.jobs[K1]["state"] == "completed"


def test_a_server_that_does_not_or_keys_is_remembered():
    jobs = [job(K1, 30.0), job(K2, 40.0), job(K3, 50.0)]
    clock, server = make(jobs, or_keys=False)
    result = run(clock, server, [K1, K2, K3], long_poll="never")
    assert result.pending == []
    assert len([c for c in server.calls if c.kind != "job"]) == 1, "the list filter was asked again after it failed"


def test_retry_after_zero_still_backs_off():
    clock, server = make([job(K1, 20.0)])
    server.outages = [(0.5, 4.0, lambda: http_error(429, JOB_PATH, "Too many requests.", retry_after=0.0))]
    result = run(clock, server, [K1], long_poll="never", timeout=60)
    assert result.pending == []
    assert len(server.calls) < 20, f"{len(server.calls)} requests: Retry-After 0 made a busy loop"


# -- issue 10: the faults the old wait engine missed -------------------------------------------------

def test_a_slow_server_that_ignores_long_polling_is_not_taken_for_one_that_honours_it():
    """Issue 10 (4): an answer in 0.6 s with a running job means poll_timeout was ignored."""
    clock, server = make([job(K1, 20.0)], long_poll="ignore", latency=0.6)
    result = run(clock, server, [K1])
    assert result.pending == [] and result.long_poll is False
    assert result.polls <= 14, f"{result.polls} GETs for a 20 s job: back-to-back polling"
    gaps = [b.start - a.end for a, b in zip(server.calls[1:], server.calls[2:])]
    assert min(gaps) >= 1.0 - 1e-9


@pytest.mark.parametrize("count, latency, or_keys, timeout", [(500, 0.4, True, 5.0), (200, 0.05, False, 3.0)])
def test_many_keys_never_overrun_the_timeout(count, latency, or_keys, timeout):
    """Issue 10 (5): the batch and per-key loops look at the deadline before every request."""
    keys = [f"{i:x}:-7:16e3ae18e35:-7ff4" for i in range(count)]
    clock, server = make([job(k, None) for k in keys], latency=latency, or_keys=or_keys)
    start = clock()
    result = run(clock, server, keys, timeout=timeout)
    assert result.timed_out and len(result.pending) == count
    assert result.elapsed <= timeout + latency + 1e-9
    for call in server.calls:
        left = timeout - (call.start - (start - server.t0))
        assert left >= JobWaiter.MIN_REQUEST - 1e-9, "a request was sent with no time left"
        assert call.timeout <= left + 1e-9, "a request's budget ran past the deadline"


def test_a_deadline_inside_a_list_round_keeps_what_was_seen():
    keys = [f"{i:x}:-8:16e3ae18e35:-7ff4" for i in range(120)]
    clock, server = make([job(k, 1.0 if i < 60 else None) for i, k in enumerate(keys)], latency=1.0)
    result = run(clock, server, keys, timeout=2.5, long_poll="never")
    assert result.timed_out
    assert len(result.jobs) >= 50, "jobs seen before the deadline must be kept"


def test_a_state_carried_between_runs_goes_on_where_it_stopped():
    """The waiter's state is plain data: a later run (another process) continues the same wait from what was carried
    (no job records travel: pending jobs are read again, ended ones once at the end)."""
    clock, server = make([job(K1, 95.0), job(K2, 50.0)], long_poll="ignore")
    waiter = JobWaiter(server, WaitOptions(timeout=600), clock=clock, sleep=clock.sleep)
    state = waiter.start([K1, K2])
    stops = 0
    while not state.done:
        state = waiter.run(state, until=clock() + 10)
        elapsed = state.elapsed
        carried = json.loads(json.dumps(state.carry()))
        assert "jobs" not in carried and K1 not in json.dumps(carried), "no job records or keys travel"
        state = WaitState.resume(carried, [K1, K2])
        stops += 1
    assert stops == 10 and state.pending == [] and not state.timed_out
    assert state.long_poll is False and state.batch_ok is True, "what was learnt about the server was kept"
    assert state.ended == {K1: SUCCESS, K2: SUCCESS}
    assert 95.0 <= elapsed <= 95.0 + 95.0 / JobWaiter.AGE_DIVISOR + 0.5


def test_ended_jobs_are_read_once_at_the_end_of_a_sliced_wait():
    """A job that ended in an earlier slice is read again once, at the end, for the task's result."""
    clock, server = make([job(K1, 30.0), job(K2, 5.0, status="warning")], long_poll="ignore")
    waiter = JobWaiter(server, WaitOptions(timeout=600), clock=clock, sleep=clock.sleep)
    state = waiter.start([K1, K2])
    while not state.done:
        state = WaitState.resume(json.loads(json.dumps(waiter.run(state, until=clock() + 10).carry())), [K1, K2])
        if state.done:
            break
    state = waiter.run(state)  # the last run: nothing pending, only the final read of what ended earlier
    assert set(state.jobs) == {K1, K2} and state.jobs[K2]["status"] == "warning" and not state.reread
    verdict = summarize(state)
    assert not verdict.failed and verdict.outcomes == {K1: SUCCESS, K2: "warning"}


def test_the_state_of_a_ten_thousand_key_wait_is_kilobytes():
    """Issue 18 (6): what travels per progress slice beyond the task's own keys is kilobytes, not megabytes."""
    keys = [f"2c6002305af315d6:-36e66c:16e3ae18e{i:03x}:-{i:04x}" for i in range(10_000)]
    state = WaitState(keys=keys, started=0.0, deadline=600.0)
    for i, key in enumerate(keys[:5000]):
        state.jobs[key] = {"key": key, "state": "completed", "status": "normal", "job_results": [{"name": "x"}] * 5}
        state.ended[key] = SUCCESS if i % 7 else ERROR
    size = len(json.dumps(state.carry()))
    assert size < 16_000, f"{size} bytes carried"
    back = WaitState.resume(json.loads(json.dumps(state.carry())), keys)
    assert len(back.pending) == 5000 and back.ended == state.ended


def _carried(**changes):
    state = WaitState(keys=[K1, K2], started=0.0, deadline=60.0)
    state.ended[K2] = ERROR
    data = json.loads(json.dumps(state.carry()))
    data.update(changes)
    return data


@pytest.mark.parametrize("data", [None, [], {"version": 99}, {"version": 1, "keys": "x"}, {"version": 2, "evil": 1},
                                  _carried(codes="n"), _carried(codes="nz"), _carried(digest="0" * 32),
                                  _carried(polls=-1), _carried(deadline=float("nan")), _carried(evil=1),
                                  {k: v for k, v in _carried().items() if k != "codes"},
                                  _carried(unknown_states={"other": "x"}), _carried(started=100.0)])
def test_a_state_that_this_collection_did_not_write_is_refused(data):
    """Issue 18 (6): a forged or damaged state is refused with one line (a state without a field crashed with a
    KeyError), and one carried for other jobs too."""
    with pytest.raises(UMConfigError, match="never given in a task"):
        WaitState.resume(data, [K1, K2])
