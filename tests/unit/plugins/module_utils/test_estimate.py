# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standard polling that knows when to look (issues 11 and 22): the plan of looks from a distribution of past
durations, and the waiter's schedule on a fake clock. These tests are the contract of the plan: one mode, two
modes, an outlier, no history, a wrong history, progress, clock skew."""

from __future__ import annotations

import email.utils
import json

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
ONE = [9.6, 10.2, 9.9, 10.4, 10.0]                            # one mode around 10 s
TWO = [60.0, 61.0, 59.0, 10.0, 10.3, 9.8, 60.5, 10.1, 59.5]   # 10 s and 60 s jobs of one type, newest first
EVEN = [8 + 4 * ((i * 7) % 12) / 11 for i in range(12)]       # spread evenly over 8-12 s


def history(durations, kind=TYPE, gap=60.0):
    """Finished jobs of `kind`, newest first: the first ends `gap` seconds before the wait, one every `gap`."""
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
    return state, waiter


def lag(clock, server, key):
    return clock() - server.t0 - server.jobs[key].end()


def typed(key, duration, kind=TYPE, **kw):
    fake = job(key, duration, **kw)
    fake.type = kind
    return fake


def found_at(looks, end):
    """The first look at or after `end`: when a job that ends then is found."""
    return next(a for a in looks if a >= end)


# -- reading UM's answers ------------------------------------------------------------------------------

def test_parse_time_reads_um_timestamps_and_refuses_the_rest():
    assert est.parse_time("2019-11-15T09:57:18.000+05:30") == pytest.approx(1573792038.0)
    assert est.parse_time("2026-11-27T10:00:00Z") == EPOCH.timestamp()
    assert est.parse_time(iso(12.5)) == EPOCH.timestamp() + 12.5
    for bad in (None, "", "yesterday", 12, "2026-13-40T00:00:00"):
        assert est.parse_time(bad) is None


def test_durations_newest_end_first_more_than_five_and_without_failed_broken_or_excluded_jobs():
    def rec(key, begin, end, status="normal"):
        return {"key": key, "submit_time": iso(begin), "complete_time": iso(end), "status": status}
    # Listed in any order: the newest end comes first all the same.
    records = [rec("e", 0, 12.25), rec("a", 100, 110), rec("b", 0, 3, "error"), rec("self", 0, 99),
               {"key": "c", "submit_time": iso(0)}, rec("d", 5, 4), "junk", rec("f", 0, 8 * 86400)]
    assert est.durations(records, exclude={"self"}) == [10.0, 12.25]
    # A server that ignores the type filter: the other types' jobs are left out.
    typed_records = [dict(rec("x", 0, 50), type="other"), dict(rec("y", 0, 20), type="mine"), rec("z", 0, 19)]
    assert est.durations(typed_records, kind="mine") == [20.0, 19.0]
    # Only failed jobs: better than nothing.
    assert est.durations([rec("b", 0, 3, "error")]) == [3.0]
    many = est.durations([rec(str(i), i * 100, i * 100 + 10 + i) for i in range(30)])
    assert len(many) == est.HISTORY_RECORDS > 5 and many[0] == 39.0


# -- the plan: where the looks go -------------------------------------------------------------------------

def test_one_mode_no_look_before_it_a_few_inside_and_a_growing_pace_past_it():
    plan = est.from_history(ONE)
    assert len(plan.modes) == 1 and plan.modes[0].weight == pytest.approx(1.0)
    assert 9.0 < plan.first < 9.6 and 10.4 < plan.last < 11.0
    looks = est.looks(plan, 0.5, 14.0)
    inside = [a for a in looks if a <= plan.last]
    assert looks[0] > 9.0                       # no look while the job cannot have ended
    assert 2 <= len(inside) <= 3                # the mode costs two or three looks ...
    assert all(found_at(looks, end) - end <= 0.6 for end in (9.6, 9.9, 10.0, 10.2, 10.4))  # ... and finds its ends
    overdue = [b - a for a, b in zip(looks, looks[1:]) if a >= plan.last]
    assert overdue == sorted(overdue) and overdue[-1] >= 4 * overdue[0]   # then less and less often
    assert min(b - a for a, b in zip(looks, looks[1:])) >= est.FLOOR - 1e-9


def test_two_modes_looks_on_each_and_sparse_between():
    plan = est.from_history(TWO)
    assert [round(m.center) for m in plan.modes] == [10, 60]
    # Recent jobs weigh more: the newest are 60 s ones.
    assert plan.modes[1].weight > plan.modes[0].weight > 0.3
    looks = est.looks(plan, 0.5, 64.0)
    (lo10, hi10), (lo60, hi60) = plan.spans
    assert len([a for a in looks if a <= hi10]) <= 3
    between = [a for a in looks if hi10 < a < lo60]
    assert 2 <= len(between) <= 5               # the log of the spread, not its width
    assert len([a for a in looks if lo60 <= a <= hi60]) <= 7
    assert len([a for a in looks if a <= 61.0]) <= 14
    for end in (9.8, 10.0, 10.3):
        assert found_at(looks, end) - end <= 0.6
    for end in (59.5, 60.0, 61.0):
        assert found_at(looks, end) - end <= 1.5
    # Between the modes a job that fits neither is found within a share of its age.
    for end in range(12, 56, 3):
        assert found_at(looks, end) - end <= max(est.AGE_MIN, est.AGE_SHARE * end) * est.SLACK


def test_the_number_of_looks_grows_with_the_log_of_the_spread_not_its_width():
    def plan_looks(far):
        plan = est.from_history([10.0, 10.1, 9.9, far, far * 1.01, far * 0.99])
        looks = est.looks(plan, 0.5, far * 1.1, ceiling=1e6)
        (_lo, hi), (lo_far, hi_far) = plan.spans
        return [a for a in looks if hi < a < lo_far], [a for a in looks if lo_far <= a <= hi_far]
    between_60, mode_60 = plan_looks(60.0)
    between_600, mode_600 = plan_looks(600.0)
    between_6000, mode_6000 = plan_looks(6000.0)
    # Ten and a hundred times the spread: a few more looks each time, between the modes ...
    assert len(between_60) < len(between_600) < len(between_6000) <= len(between_60) + 12
    assert len(between_6000) - len(between_600) <= len(between_600) - len(between_60) + 2
    # ... and a mode of the same shape costs the same looks wherever it is (once past a few seconds' floor).
    assert abs(len(mode_6000) - len(mode_600)) <= 2


def test_an_outlier_does_not_widen_the_plan_for_the_jobs_that_fit():
    usual = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3]
    plain = est.from_history(usual)
    odd = est.from_history(usual[:4] + [95.0] + usual[4:])
    assert len(odd.modes) == 2 and odd.modes[1].weight < est.MINOR
    looks_plain, looks_odd = est.looks(plain, 0.5, 11.0), est.looks(odd, 0.5, 11.0)
    for end in usual:                                                   # the jobs that fit: found as before
        assert found_at(looks_odd, end) == pytest.approx(found_at(looks_plain, end), abs=0.15)
    # The outlier's mode is looked at more sparsely than a major mode of the same width would be.
    looks = est.looks(odd, 0.5, 110.0)
    lo, hi = odd.spans[1]
    major = est.from_history([95.0, 95.0 * 1.01, 95.0 * 0.99])
    assert len([a for a in looks if lo <= a <= hi]) < len([a for a in est.looks(major, 0.5, 110.0) if lo <= a <= hi])
    # An outlier one time in fifty is no mode at all.
    rare = est.from_history(usual * 7 + [95.0])
    assert len(rare.modes) == 1


def test_history_spread_evenly_is_one_mode_looked_at_a_few_times():
    plan = est.from_history(EVEN)
    assert len(plan.modes) == 1
    looks = est.looks(plan, 0.5, 12.5)
    assert looks[0] > 7.5 and len([a for a in looks if a <= 12.0]) <= 4
    ends = [8 + i * 0.25 for i in range(17)]
    mean_lag = sum(found_at(looks, e) - e for e in ends) / len(ends)
    mean_looks = sum(looks.index(found_at(looks, e)) + 1 for e in ends) / len(ends)
    assert mean_lag <= 0.65 and mean_looks <= 3.0, (mean_lag, mean_looks, looks)


def test_no_history_no_plan_the_pace_without_an_estimate():
    assert est.from_history([]) is None and est.from_history([float("nan"), -1, True, "x"]) is None
    assert est.next_gap(100.0, None, 7.5, 30.0) == 7.5
    assert est.looks(None, 0.5, 4.5, fallback=1.0) == [1.5, 2.5, 3.5, 4.5]


@pytest.mark.parametrize("ceiling", [30.0, 5.0])
def test_a_wrong_history_costs_a_share_of_the_age_never_a_missed_end_or_a_storm(ceiling):
    plan = est.from_history([60.0, 60.5, 59.5, 60.2, 59.8])    # the job is much shorter than its type's history
    looks = est.looks(plan, 0.5, 80.0, ceiling=ceiling)
    for end in (1.0, 3.0, 10.0, 20.0, 40.0):
        assert found_at(looks, end) - end <= min(ceiling, max(est.AGE_MIN, est.AGE_SHARE * end) * est.SLACK) + 1e-6
    plan = est.from_history([5.0, 5.2])                        # ... or much longer
    looks = est.looks(plan, 0.5, 3600.0, ceiling=ceiling)
    gaps = [b - a for a, b in zip(looks, looks[1:])]
    assert min(gaps) >= est.FLOOR - 1e-9 and max(gaps) <= ceiling + 1e-9
    assert len([a for a in looks if a <= 300]) <= 300 / ceiling + 12   # a few looks more than the ceiling's pace


# -- progress ---------------------------------------------------------------------------------------------

def test_progress_from_task_times_and_from_children_counts():
    submit = iso(0)
    tasks = [{"state": "completed", "start_time": iso(0), "complete_time": iso(100)},
             {"state": "running", "start_time": iso(100)}, {"state": "pending"}]
    share, at, source = est.progress_of({"submit_time": submit, "task_reports": tasks}, age=150)
    assert (share, at, source) == (pytest.approx(1 / 3), pytest.approx(100.0), "tasks")
    alone = est.from_progress(share, at, source)
    assert alone.source == "tasks" and alone.expected == pytest.approx(300.0)
    kids = {"submit_time": submit, "spawned_job_summary": {"total_jobs": 4, "completed_jobs": 1, "aborted_jobs": 1}}
    assert est.progress_of(kids, age=40.0) == (0.5, 40.0, "children")
    # Nothing done yet, or everything done: no pace to read.
    assert est.progress_of({"submit_time": submit, "task_reports": [{"state": "running"}]}, 5.0) is None
    assert est.from_progress(1.0, 10.0, "tasks") is None


def test_progress_narrows_a_history_of_two_modes():
    both = est.from_history(TWO)
    # Two thirds done after 6.7 s: a 10 s job; the 60 s mode weighs less.
    short = est.from_progress(2 / 3, 6.7, "tasks", history=both)
    assert short.source == "history+tasks"
    assert [round(m.center) for m in short.modes][0] == 10 and short.modes[0].weight > 0.75 > both.modes[0].weight
    # A third done after 20 s: a 60 s job; the 10 s mode weighs less.
    long_ = est.from_progress(1 / 3, 20.0, "tasks", history=both)
    assert long_.modes[-1].weight > both.modes[-1].weight
    # A pace that fits no past job keeps the history (tasks do not all take the same time).
    odd = est.from_progress(0.5, 150.0, "tasks", history=both)
    assert [round(m.center) for m in odd.modes] == [10, 60]


# -- the job's age by UM's clock ----------------------------------------------------------------------------

def test_skew_from_date_headers_and_the_jobs_own_times():
    skew = est.Skew()
    assert skew.value is None
    true = 1000.0 - (EPOCH.timestamp() + 42.3)                   # controller minus UM

    def answer(controller):                                      # an answer that took 20 ms, UM's Date to the second
        skew.note_date(email.utils.formatdate(controller - true, usegmt=True), controller - 0.02, controller)
    answer(1000.0)
    assert skew.low <= true <= skew.high and skew.high - skew.low <= 1.02
    assert skew.value == pytest.approx(true, abs=0.7)
    answer(1000.69)                                              # UM's clock just before a second ...
    answer(1000.71)                                              # ... and just after it: bounds to a few ms
    assert skew.low <= true <= skew.high and skew.high - skew.low <= 0.05
    skew.note_stamp(EPOCH.timestamp() + 43.0, received=1000.71)  # a time UM wrote: no narrower than the Date
    assert skew.low <= true <= skew.high
    stamps = est.Skew()
    stamps.note_stamp(EPOCH.timestamp() + 42.0, received=1000.0)  # UM's clock was at least 42 s: controller ahead
    assert stamps.high == pytest.approx(1000.0 - EPOCH.timestamp() - 42.0) and stamps.value is None
    for bad in (None, "", "yesterday", 12):
        est.Skew().note_date(bad, 1.0, 2.0)
    assert est.http_date("Thu, 03 Dec 2026 19:36:02 GMT") == pytest.approx(1796326562.0)
    assert est.http_date("nonsense") is None


def test_age_of_a_job_by_skew_by_an_agreeing_clock_or_unknown():
    submit = EPOCH.timestamp()
    running = {"submit_time": iso(0), "task_reports": [{"start_time": iso(4.0)}]}
    assert est.age_of(running, submit + 6.5) == pytest.approx(6.5)           # same clock: now - submit_time
    assert est.age_of(running, submit + 2.0) == pytest.approx(4.0)           # never less than UM's stamps prove
    assert est.age_of(running, 1000.0) is None                                # another clock, no skew measured
    assert est.age_of(running, 1006.5, skew=1000.0 - submit) == pytest.approx(6.5)
    assert est.age_of({"submit_time": "bad"}, 1000.0) is None
    assert est.server_age(running) == pytest.approx(4.0)


def test_a_server_that_writes_whole_seconds():
    """UM writes .000: a duration is good to +-1 s and the job was submitted half a second after its submit_time on
    the mean; the plan takes both into account, and only when every time it saw is whole."""
    job_whole = {"submit_time": "2026-11-27T10:00:00.000+00:00"}
    job_ms = {"submit_time": "2026-11-27T10:00:00.250+00:00"}
    assert est.is_coarse(job_whole, [10.0, 11.0, 10.0])
    assert not est.is_coarse(job_ms, [10.0, 11.0]) and not est.is_coarse(job_whole, [10.0, 10.6])
    assert not est.is_coarse(job_whole, [])
    now = EPOCH.timestamp() + 7.0
    assert est.age_of(job_whole, now, coarse=True) == pytest.approx(6.5)
    assert est.age_of(job_whole, now) == pytest.approx(7.0)
    fine, coarse = est.from_history([10.0, 10.0, 10.0]), est.from_history([10.0, 10.0, 10.0], coarse=True)
    assert coarse.spans[0][1] - coarse.spans[0][0] > 1.5 > fine.spans[0][1] - fine.spans[0][0]
    # Every end within a second of the durations UM wrote is found soon.
    looks = est.looks(coarse, 0.5, 12.0)
    assert all(found_at(looks, e) - e <= 0.9 for e in (9.2, 9.6, 10.0, 10.4, 10.8))


# -- the waiter's schedule ------------------------------------------------------------------------------------

def test_a_job_whose_type_has_run_before_is_noticed_quickly_with_few_requests():
    jobs = history(ONE) + [typed(K1, 10.0)]
    clock, server = make(jobs)
    state, waiter = run(clock, server, [K1])
    assert state.pending == []
    # One long poll that came back at once, one history request, then looks around the expected end only.
    kinds = [c.kind for c in server.calls]
    assert kinds[:2] == ["job", "history"] and kinds.count("history") == 1
    assert state.polls <= 5, kinds
    assert lag(clock, server, K1) <= 0.45
    assert state.history == {TYPE: ONE}  # newest first
    assert waiter.plans[K1][3] == "history"
    # The first pause runs up to the mode: no looks while the job cannot have ended.
    assert clock.sleeps[0][1] > 9.0


def test_the_history_request_asks_for_many_finished_jobs_of_the_type_with_a_short_budget():
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
    today, _w = run(clock_a, server_a, [K1])
    clock_b, server_b = make([typed(K1, 95.0)])
    state, waiter = run(clock_b, server_b, [K1])
    assert state.history == {TYPE: []} and waiter.plans == {}
    assert [c.kind for c in server_b.calls].count("history") == 1
    assert state.polls == today.polls + 1
    gaps_a = [s for _w, s in clock_a.sleeps]
    gaps_b = [s for _w, s in clock_b.sleeps]
    assert gaps_b == pytest.approx(gaps_a, abs=LATENCY + 1e-6)
    assert lag(clock_b, server_b, K1) <= lag(clock_a, server_a, K1) + 2 * LATENCY


def test_a_ten_minute_job_with_history_varying_ten_percent():
    durations = [600 * f for f in (0.93, 1.08, 0.97, 1.1, 0.9)]
    lags, today_lags = [], []
    for end in (583.0, 600.0, 612.0, 631.0):
        clock_a, server_a = make([job(K1, end)])
        today, _w = run(clock_a, server_a, [K1])
        today_lags.append(lag(clock_a, server_a, K1))
        clock_b, server_b = make(history(durations) + [typed(K1, end)])
        state, _w = run(clock_b, server_b, [K1])
        lags.append(lag(clock_b, server_b, K1))
        assert state.polls <= 600 / 10, state.polls  # a fixed 10 s loop
        assert state.polls < today.polls
    assert sum(lags) <= sum(today_lags) / 3, (lags, today_lags)


def test_a_history_of_two_modes_one_job_of_each():
    """The issue's case: 10 s and 60 s jobs of one type, then one of each; beside a 1 s and a 5 s loop."""
    lags, polls = [], []
    for duration in (10.0, 60.0):
        clock, server = make(history(TWO) + [typed(K1, duration)])
        state, _w = run(clock, server, [K1])
        lags.append(lag(clock, server, K1))
        polls.append(state.polls)
    # A 1 s loop: about half a second of lag; a 5 s loop: 3 and 13 GETs.
    assert sum(lags) / 2 <= 0.5, lags
    assert sum(polls) / 2 <= (3 + 13) / 2 + 2, polls


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
    state, _w = run(clock, server, [K1])
    assert state.pending == [] and not state.failures and state.last_error is None
    assert state.history == {TYPE: []}
    assert [c.kind for c in server.calls].count("history") == 1
    # The failure costs one request: the pace is today's.
    assert [s for _w, s in clock.sleeps] == pytest.approx([s for _w, s in clock_a.sleeps], abs=2 * LATENCY)
    assert state.polls == len(server_a.calls) + 1


def test_the_plan_is_made_afresh_in_each_slice_and_only_the_history_is_carried():
    jobs = history([30.0, 32.0, 31.0]) + history([5.0], kind="other_type") + \
        [typed(K1, 31.0), typed(K2, 12.0, "other_type")]
    clock, server = make(jobs, date=True)
    waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
    state = waiter.start([K1, K2])
    slices = 0
    while not state.done:
        state = waiter.run(state, until=clock() + 5.0)
        # Each slice is another module run: the state goes through JSON, the waiter is new (its measure of UM's clock
        # and its plans too).
        carried = json.loads(json.dumps(state.carry()))
        assert "submitted" not in carried and "estimates" not in carried and "plans" not in carried
        state = WaitState.resume(carried, [K1, K2])
        waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
        slices += 1
    assert slices >= 6 and state.pending == []
    assert sorted(c.keys for c in server.calls if c.kind == "history") == [(), ()]
    assert set(state.history) == {TYPE, "other_type"}
    # Each slice measures UM's clock again (to a second at first, then closer): a little more lag, no more looks.
    assert lag(clock, server, K1) <= 0.8
    # The same wait in one go looks at the same times, give or take a request.
    clock_one, server_one = make(jobs, date=True)
    one, _w = run(clock_one, server_one, [K1, K2])
    assert abs(one.polls - state.polls) <= 2 and lag(clock_one, server_one, K1) <= 0.8


def test_the_age_comes_from_ums_clock_when_the_controllers_is_another():
    """A job submitted 100 s before the wait, of a type that takes 120 s; the controller's clock is not UM's.
    With Date headers the waiter knows the job's age and sleeps to its mode; without, it can only count from when it
    first saw the job and is found by the insurance's pace, later."""
    def jobs():
        old = FakeJob(K1, [(-101.0, "running", "normal"), (17.0, "completed", "normal")], submit=-100.0,
                      job_type=TYPE)
        return history([117.0, 116.0, 118.0, 119.0]) + [old]
    clock, server = make(jobs(), date=True)
    state, _w = run(clock, server, [K1])
    assert lag(clock, server, K1) <= 1.5 and state.polls <= 6, (lag(clock, server, K1), state.polls)
    clock_b, server_b = make(jobs())
    state_b, _w = run(clock_b, server_b, [K1])
    assert lag(clock_b, server_b, K1) > 1.0 + lag(clock, server, K1)


def test_no_history_request_while_long_polling_is_honoured():
    jobs = history([10.0]) + [typed(K1, 10.0)]
    clock, server = make(jobs, long_poll="honour")
    state, _w = run(clock, server, [K1])
    assert [c.kind for c in server.calls] == ["job"]
    assert state.history == {}


@pytest.mark.parametrize("actual", [3.0, 25.0])
def test_a_wrong_history_in_the_waiter(actual):
    # History says 600 s; the job ends much sooner: found within a share of its age.
    clock, server = make(history([600.0, 610.0]) + [typed(K1, actual)])
    state, _w = run(clock, server, [K1], max_poll_interval=10.0)
    assert state.pending == [] and lag(clock, server, K1) <= max(est.AGE_MIN, est.AGE_SHARE * actual) * est.SLACK
    # History says 5 s; the job takes 300 s: a few looks around 5 s, then a growing pace, no storm.
    clock_a, server_a = make([job(K2, 300.0)])
    today, _w = run(clock_a, server_a, [K2])
    clock, server = make(history([5.0, 5.2]) + [typed(K2, 300.0)])
    state, _w = run(clock, server, [K2])
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
    _state, waiter = run(clock_b, server_b, [K1])
    assert waiter.plans[K1][3] == "tasks"
    assert lag(clock_b, server_b, K1) < today_lag / 2


def test_many_types_are_asked_at_most_history_types_times():
    keys = [f"k{i}:x" for i in range(JobWaiter.HISTORY_TYPES + 5)]
    jobs = [typed(k, 20.0 + i, kind=f"type_{i}") for i, k in enumerate(keys)]
    clock, server = make(jobs)
    state, _w = run(clock, server, keys)
    assert state.pending == []
    assert [c.kind for c in server.calls].count("history") == JobWaiter.HISTORY_TYPES


def test_a_type_that_would_change_the_filter_is_not_asked():
    clock, server = make([typed(K1, 8.0, kind="provision_*|x")])
    state, _w = run(clock, server, [K1])
    assert state.pending == [] and "history" not in [c.kind for c in server.calls]


@pytest.mark.parametrize("value", [{"t": ["x"]}, [], {"t": [float("inf")]}, {"t": [-1.0]}, {"t": 3}])
def test_a_carried_state_with_bad_learnt_history_is_refused(value):
    state = WaitState(keys=[K1], started=0.0, deadline=10.0).carry()
    state["history"] = value
    with pytest.raises(UMConfigError, match="never given in a task"):
        WaitState.resume(state, [K1])


@pytest.mark.parametrize("field", ["submitted", "estimates"])
def test_a_carried_state_with_retired_learnt_fields_is_refused(field):
    state = WaitState(keys=[K1], started=0.0, deadline=10.0).carry()
    state[field] = {K1: 1.0}
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
