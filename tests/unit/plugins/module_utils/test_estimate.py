# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standard polling that knows when to look (issue 11): the estimator, and the waiter's schedule on a fake clock."""

from __future__ import annotations

import json
import math

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils import _estimate as est
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError, UMConnectionError
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitOptions, WaitState
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import EPOCH, FakeClock, FakeJob, FakeUM, finished, \
    http_error, iso, job

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "85b642774a960362:-4405f3a8:16e686b7083:-6fac"
TYPE = "provision_lun_create"
LATENCY = 0.02


def history(durations, kind=TYPE, gap=60.0):
    """Finished jobs of `kind`, the newest ending `gap` seconds before the wait, one every `gap` seconds."""
    out = []
    for i, d in enumerate(durations):
        out.append(finished(f"h{i}:{kind}", kind, submit=-gap * (i + 1) - d, duration=d))
    return out


def make(jobs, long_poll="ignore", **kw):
    clock = FakeClock()
    return clock, FakeUM(clock, jobs, long_poll=long_poll, latency=LATENCY, **kw)


def run(clock, server, keys, **opts):
    waiter = JobWaiter(server, WaitOptions(**opts), clock=clock, sleep=clock.sleep)
    state = waiter.wait(keys)
    assert state.polls == len(server.calls)
    assert all(c.retry is False for c in server.calls)
    return state


def lag(clock, server, key):
    return clock() - server.t0 - server.jobs[key].end()


def typed(key, duration, kind=TYPE, **kw):
    fake = job(key, duration, **kw)
    fake.type = kind
    return fake


# -- the estimator ---------------------------------------------------------------------------------

def test_parse_time_reads_um_timestamps_and_refuses_the_rest():
    assert est.parse_time("2019-11-15T09:57:18.000+05:30") == pytest.approx(1573792038.0)
    assert est.parse_time("2026-11-27T10:00:00Z") == EPOCH.timestamp()
    assert est.parse_time(iso(12.5)) == EPOCH.timestamp() + 12.5
    for bad in (None, "", "yesterday", 12, "2026-13-40T00:00:00"):
        assert est.parse_time(bad) is None


def test_durations_skip_failed_broken_and_excluded_jobs():
    def rec(key, begin, end, status="normal"):
        return {"key": key, "submit_time": iso(begin), "complete_time": iso(end), "status": status}
    records = [rec("a", 0, 10), rec("b", 0, 3, "error"), rec("self", 0, 99), {"key": "c", "submit_time": iso(0)},
               rec("d", 5, 4), "junk", rec("e", 0, 12.25), rec("f", 0, 8 * 86400)]
    assert est.durations(records, exclude={"self"}) == [10.0, 12.25]
    # Only failed jobs: better than nothing.
    assert est.durations([rec("b", 0, 3, "error")]) == [3.0]
    assert len(est.durations([rec(str(i), 0, 10 + i) for i in range(9)])) == est.HISTORY_RECORDS


def test_history_window_spans_the_durations_with_a_margin_and_ignores_outliers():
    w = est.from_history([9.6, 10.2, 9.9, 10.4])
    assert w.source == "history" and w.expected == pytest.approx(10.05)
    assert 9.3 < w.early < 9.6 and 10.4 < w.late < 11.0
    w = est.from_history([600, 540, 660, 1e5 / 2])
    assert w.late <= 3 * w.expected + 0.05 * w.expected
    assert est.from_history([]) is None and est.from_history([float("nan"), -1, True]) is None


def test_progress_from_task_times_and_from_children_counts():
    submit = iso(0)
    tasks = [{"state": "completed", "start_time": iso(0), "complete_time": iso(100)},
             {"state": "running", "start_time": iso(100)}, {"state": "pending"}]
    share, at, source = est.progress_of({"submit_time": submit, "task_reports": tasks}, age=150)
    assert (share, at, source) == (pytest.approx(1 / 3), pytest.approx(100.0), "tasks")
    w = est.from_progress(share, at, source)
    assert w.expected == pytest.approx(300.0) and w.early == pytest.approx(200.0) and w.late == pytest.approx(500.0)
    kids = {"submit_time": submit, "spawned_job_summary": {"total_jobs": 4, "completed_jobs": 1, "aborted_jobs": 1}}
    assert est.progress_of(kids, age=40.0) == (0.5, 40.0, "children")
    # Nothing done yet, or everything done: no pace to read.
    assert est.progress_of({"submit_time": submit, "task_reports": [{"state": "running"}]}, 5.0) is None
    assert est.from_progress(1.0, 10.0, "tasks") is None
    # History wins over progress when both are there.
    assert est.estimate({"submit_time": submit, "task_reports": tasks}, 150, [280.0, 320.0]).source == "history"
    assert est.estimate({"submit_time": submit, "task_reports": tasks}, 150, []).source == "tasks"


def test_first_age_uses_a_clock_that_agrees_with_um_and_else_what_um_proves():
    submit = EPOCH.timestamp()
    running = {"submit_time": iso(0), "task_reports": [{"start_time": iso(4.0)}]}
    assert est.first_age(running, submit + 6.5) == pytest.approx(6.5)   # same clock: now - submit_time
    assert est.first_age(running, submit + 2.0) == pytest.approx(4.0)   # never less than UM's own stamps prove
    assert est.first_age(running, submit - 3.0) == pytest.approx(4.0)   # a little behind UM: what UM proves
    assert est.first_age(running, 1000.0) == pytest.approx(4.0)         # another clock altogether
    assert est.first_age({"submit_time": "bad"}, 1000.0) == 0.0


@pytest.mark.parametrize("ceiling", [30.0, 5.0])
def test_next_gap_is_sparse_before_dense_inside_and_backs_off_after_the_window(ceiling):
    w = est.Window(540.0, 600.0, 690.0, "history")
    dense = est.next_gap(600.0, w, fallback=20.0, ceiling=ceiling)
    assert dense == pytest.approx(min(ceiling, max(est.DENSE_FACTOR * math.sqrt(600), 150 / est.WINDOW_POLLS)))
    assert est.next_gap(10.0, w, 1.0, ceiling) == ceiling               # far before: once a ceiling
    assert est.next_gap(530.0, w, 20.0, ceiling) == min(10.0, ceiling)  # wake at the window
    assert est.next_gap(539.99, w, 20.0, ceiling) == est.FLOOR          # never closer than the floor
    overdue = [est.next_gap(age, w, 20.0, ceiling) for age in (691, 700, 760, 900, 5000)]
    assert overdue == sorted(overdue) and overdue[0] == pytest.approx(dense, abs=0.3)
    assert overdue[-1] == min(20.0, ceiling)                            # never sparser than without an estimate
    assert est.next_gap(100.0, None, 7.5, ceiling) == 7.5                # no estimate: today's pace, untouched


# -- the waiter's schedule -------------------------------------------------------------------------

def test_a_job_whose_type_has_run_before_is_noticed_quickly_with_few_requests():
    jobs = history([9.6, 10.2, 9.9, 10.4]) + [typed(K1, 10.0)]
    clock, server = make(jobs)
    state = run(clock, server, [K1])
    assert state.pending == []
    # One long poll that came back at once, one history request, then looks around the expected end only.
    kinds = [c.kind for c in server.calls]
    assert kinds[:2] == ["job", "history"] and kinds.count("history") == 1
    assert state.polls <= 5, kinds
    assert lag(clock, server, K1) <= 0.45
    assert state.history == {TYPE: [9.6, 10.2, 9.9, 10.4]}  # newest first
    assert state.estimates[K1][3] == "history"
    # The first pause runs up to the window's start: no looks while the job cannot have ended.
    first_sleep = clock.sleeps[0][1]
    assert first_sleep > 8.5


def test_the_history_request_asks_for_finished_jobs_of_the_type_with_a_short_budget():
    jobs = history([20.0, 22.0]) + [typed(K1, 21.0)]
    clock, server = make(jobs)
    seen = []
    real_get = server.get

    def spy(path, params=None, **kw):
        seen.append((dict(params or {}), kw))
        return real_get(path, params, **kw)
    server.get = spy
    run(clock, server, [K1], timeout=3.0 + 0.04)
    params, kw = seen[0]
    assert params == {"type": TYPE, "state": "completed", "max_records": est.HISTORY_RECORDS}
    assert kw["retry"] is False
    # Never longer than HISTORY_TIMEOUT, never past the deadline.
    assert kw["timeout"] <= 3.04 - LATENCY + 1e-9


def test_without_history_or_progress_the_schedule_is_todays():
    """A typed job whose type has no finished jobs polls exactly like a typeless one (today's waiter)."""
    clock_a, server_a = make([job(K1, 95.0)])
    today = run(clock_a, server_a, [K1])
    clock_b, server_b = make([typed(K1, 95.0)])
    state = run(clock_b, server_b, [K1])
    assert state.history == {TYPE: []} and state.estimates == {}
    assert [c.kind for c in server_b.calls].count("history") == 1
    assert state.polls == today.polls + 1
    gaps_a = [s for _w, s in clock_a.sleeps]
    gaps_b = [s for _w, s in clock_b.sleeps]
    assert gaps_b == pytest.approx(gaps_a, abs=LATENCY + 1e-6)
    # The one history request shifts the later looks by its latency, no more.
    assert lag(clock_b, server_b, K1) <= lag(clock_a, server_a, K1) + 2 * LATENCY


def test_a_ten_minute_job_with_history_varying_ten_percent():
    durations = [600 * f for f in (0.93, 1.08, 0.97, 1.1, 0.9)]
    clock_a, server_a = make([job(K1, 612.0)])
    today = run(clock_a, server_a, [K1])
    today_lag = lag(clock_a, server_a, K1)
    clock_b, server_b = make(history(durations) + [typed(K1, 612.0)])
    state = run(clock_b, server_b, [K1])
    new_lag = lag(clock_b, server_b, K1)
    assert new_lag <= today_lag / 3, (new_lag, today_lag)
    assert state.polls <= 600 / 10, state.polls  # a fixed 10 s loop
    assert state.polls < today.polls


@pytest.mark.parametrize("fault", [
    lambda: http_error(500, "/management-server/jobs", "internal"),
    lambda: http_error(400, "/management-server/jobs", "Unknown filter state."),
    lambda: UMConnectionError("GET /management-server/jobs: no answer within 5s (request_timeout)", sent=True),
])
def test_a_failed_history_request_never_fails_or_holds_the_wait(fault):
    clock_a, server_a = make([job(K1, 40.0)])
    run(clock_a, server_a, [K1])
    jobs = history([10.0, 10.0]) + [typed(K1, 40.0)]
    clock, server = make(jobs)
    server.faults = {1: fault()}
    state = run(clock, server, [K1])
    assert state.pending == [] and not state.failures and state.last_error is None
    assert state.history == {TYPE: []}
    assert [c.kind for c in server.calls].count("history") == 1
    # The failure costs one request: the pace is today's.
    assert [s for _w, s in clock.sleeps] == pytest.approx([s for _w, s in clock_a.sleeps], abs=2 * LATENCY)
    assert state.polls == len(server_a.calls) + 1


def test_history_is_asked_once_per_type_across_slices_and_kept_in_the_state():
    jobs = history([30.0, 32.0]) + history([5.0], kind="other_type") + [typed(K1, 31.0), typed(K2, 12.0, "other_type")]
    clock, server = make(jobs)

    def wall():  # the controller's wall clock agrees with UM's (each slice recomputes the jobs' ages from it)
        return EPOCH.timestamp() + clock() - clock.start

    waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep, wall=wall)
    state = waiter.start([K1, K2])
    slices = 0
    while not state.done:
        state = waiter.run(state, until=clock() + 5.0)
        # Each slice is another module run: the state goes through JSON-able dicts.
        state = WaitState.resume(json.loads(json.dumps(state.carry())), [K1, K2])
        waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep, wall=wall)
        slices += 1
    assert slices >= 6 and state.pending == []
    assert sorted(c.keys for c in server.calls if c.kind == "history") == [(), ()]
    assert set(state.history) == {TYPE, "other_type"}
    assert lag(clock, server, K1) <= 0.6


def test_no_history_request_while_long_polling_is_honoured():
    jobs = history([10.0]) + [typed(K1, 10.0)]
    clock, server = make(jobs, long_poll="honour")
    state = run(clock, server, [K1])
    assert [c.kind for c in server.calls] == ["job"]
    assert state.history == {}


@pytest.mark.parametrize("actual", [3.0, 25.0])
def test_a_wrong_history_costs_a_few_requests_never_a_missed_end_or_a_storm(actual):
    # History says 600 s; the job ends much sooner: found within one ceiling.
    clock, server = make(history([600.0, 610.0]) + [typed(K1, actual)])
    state = run(clock, server, [K1], max_poll_interval=10.0)
    assert state.pending == [] and lag(clock, server, K1) <= 10.0 + 2 * LATENCY
    # History says 5 s; the job takes 300 s: a few looks around 5 s, then today's pace, no storm.
    clock_a, server_a = make([job(K2, 300.0)])
    today = run(clock_a, server_a, [K2])
    clock, server = make(history([5.0, 5.2]) + [typed(K2, 300.0)])
    state = run(clock, server, [K2])
    assert state.pending == []
    assert min(s for _w, s in clock.sleeps) >= est.FLOOR - 1e-9
    assert state.polls <= today.polls + 10, (state.polls, today.polls)
    assert lag(clock, server, K2) <= lag(clock_a, server_a, K2) + 1.0


def test_task_progress_without_history_narrows_the_wait():
    tasks = [(0.0, 100.0), (100.0, 200.0), (200.0, 300.0)]
    clock_a, server_a = make([job(K1, 300.0)])
    run(clock_a, server_a, [K1])
    today_lag = lag(clock_a, server_a, K1)
    clock_b, server_b = make([typed(K1, 300.0, tasks=None)])
    server_b.jobs[K1].tasks = tasks
    state = run(clock_b, server_b, [K1])
    assert state.estimates[K1][3] == "tasks"
    assert lag(clock_b, server_b, K1) < today_lag / 2


def test_many_types_are_asked_at_most_history_types_times():
    keys = [f"k{i}:x" for i in range(JobWaiter.HISTORY_TYPES + 5)]
    jobs = [typed(k, 20.0 + i, kind=f"type_{i}") for i, k in enumerate(keys)]
    clock, server = make(jobs)
    state = run(clock, server, keys)
    assert state.pending == []
    assert [c.kind for c in server.calls].count("history") == JobWaiter.HISTORY_TYPES


def test_a_type_that_would_change_the_filter_is_not_asked():
    clock, server = make([typed(K1, 8.0, kind="provision_*|x")])
    state = run(clock, server, [K1])
    assert state.pending == [] and "history" not in [c.kind for c in server.calls]


@pytest.mark.parametrize("value", [{"t": ["x"]}, [], {"t": [float("inf")]}, {"t": [-1.0]}, {"t": 3}])
def test_a_carried_state_with_bad_learnt_history_is_refused(value):
    state = WaitState(keys=[K1], started=0.0, deadline=10.0).carry()
    state["history"] = value
    with pytest.raises(UMConfigError, match="never given in a task"):
        WaitState.resume(state, [K1])


def test_fake_jobs_show_task_times_as_they_pass():
    fake = FakeJob(K1, [(-1.0, "running", "normal"), (30.0, "completed", "normal")], tasks=[(0, 10), (10, 30)],
                   job_type=TYPE)
    mid = fake.snapshot(15.0)
    assert mid["type"] == TYPE
    assert [t.get("complete_time") for t in mid["task_reports"]] == [iso(10), None]
    assert [t["state"] for t in mid["task_reports"]] == ["completed", "running"]
    assert "type" not in job(K2, 5.0).snapshot(0.0)
