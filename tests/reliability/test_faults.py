# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults during a wait: many randomised trials through the real client and waiter, a few end to end.

Each trial starts a job with a scripted outcome and duration, waits for it with the real UMClient and
JobWaiter against the real simulator (real clock), and injects one fault at a random moment after the
wait's first request, for a random length. The fault matches only that job's path, so trials run side by
side on one simulator. A trial is right when:
  - the wait ends with the job's true outcome within its timeout; or
  - the fault was planned to outlast the timeout (or the job to run past it) and the wait times out,
    within its timeout, saying what went wrong (the last error names the fault) and returning the key
    to resume with in `pending`; or
  - (401 only) the very first answer was a 401: the wait fails at once saying authentication failed; or the
    credentials had worked and then failed three times in a row: the wait fails, saying they are not tried again.
Anything else is a wrong outcome; there must be none.
"""

from __future__ import annotations

import signal
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

import reltools
from reltools import OUTCOMES, Row, script_for

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError, UMHTTPError
from ansible_collections.aiqum.jobs.plugins.module_utils._report import timeout_message
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitOptions
from ansible_collections.aiqum.jobs.plugins.module_utils._table import classify
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter

TRIALS = reltools.scale("AIQUM_RELIABILITY_TRIALS", 20)
E2E_TRIALS = reltools.scale("AIQUM_RELIABILITY_E2E_TRIALS", 3)
WORKERS = reltools.scale("AIQUM_RELIABILITY_WORKERS", 24)
# How far past its timeout a wait may end on a loaded 2-core machine (the waiter bounds itself to ~0.5 s).
TIME_TOLERANCE = 2.5
E2E_TOLERANCE = 8.0   # module start-up under many forks comes on top

# name -> (fault spec without match/seconds, fragment the timeout message's last error must hold)
FAULTS: dict[str, tuple[dict[str, t.Any], tuple[str, ...]]] = {
    "HTTP 500 bursts": ({"kind": "status", "status": 500}, ("HTTP 500",)),
    "HTTP 502 bursts": ({"kind": "status", "status": 502}, ("HTTP 502",)),
    "HTTP 503 bursts": ({"kind": "status", "status": 503}, ("HTTP 503",)),
    "HTTP 504 bursts": ({"kind": "status", "status": 504}, ("HTTP 504",)),
    "429 with Retry-After": ({"kind": "status", "status": 429, "retry_after": None}, ("HTTP 429",)),
    "429 without Retry-After": ({"kind": "status", "status": 429}, ("HTTP 429",)),
    "dropped connections": ({"kind": "drop"}, ("closed", "reset", "cannot reach", "aborted")),
    "answers slower than request_timeout": ({"kind": "slow", "delay": None}, ("did not answer within",)),
    "malformed JSON": ({"kind": "malformed"}, ("not JSON",)),
    "401 for a while": ({"kind": "unauthorized"}, ("HTTP 401",)),
}


class RecordingClient:
    """The real UMClient, with each request the waiter makes counted and its failures kept."""

    def __init__(self, client: UMClient) -> None:
        self.client = client
        self.request_timeout = client.request_timeout
        self.first_sent = threading.Event()
        self.ok = 0
        self.errors: list[str] = []
        self.first_was_401 = False

    def _call(self, fn: t.Callable[..., t.Any], *args: t.Any, **kw: t.Any) -> t.Any:
        self.first_sent.set()
        try:
            answer = fn(*args, **kw)
        except Exception as exc:
            if self.ok == 0 and not self.errors and isinstance(exc, UMHTTPError) and exc.status == 401:
                self.first_was_401 = True
            self.errors.append(f"{type(exc).__name__}: {exc}")
            raise
        self.ok += 1
        return answer

    def get_job(self, *args: t.Any, **kw: t.Any) -> t.Any:
        return self._call(self.client.get_job, *args, **kw)

    def list_jobs(self, *args: t.Any, **kw: t.Any) -> t.Any:
        return self._call(self.client.list_jobs, *args, **kw)

    def get(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """The waiter's one look per job type at recently finished jobs (issue 11)."""
        return self._call(self.client.get, *args, **kw)


@dataclass
class Trial:
    fault: str
    index: int
    outcome: str
    duration: float
    mode: str
    options: WaitOptions
    request_timeout: float
    start_after: float
    length: float
    outlast: bool
    spec: dict[str, t.Any]
    verdict: str = ""
    right: bool = False
    within: bool = False
    elapsed: float = 0.0
    hits: int = 0
    detail: str = ""
    notes: list[str] = field(default_factory=list)


def fault_spec(rng: t.Any, fault: str, slow_timeout: float, late: tuple[float, float]) -> tuple[dict[str, t.Any], float]:
    """The fault to inject and the request_timeout to wait with: a `slow` fault answers `late` seconds after
    a shorter request_timeout; Retry-After, where the fault has one, is 1 or 2 s."""
    spec = dict(FAULTS[fault][0])
    request_timeout = 5.0
    if spec.get("kind") == "slow":
        request_timeout = slow_timeout
        spec["delay"] = round(request_timeout + rng.uniform(*late), 2)
    if "retry_after" in spec:
        spec["retry_after"] = rng.choice([1, 2])
    return spec, request_timeout


def plan(rng: t.Any, fault: str, index: int) -> Trial:
    duration = rng.uniform(1.0, 3.0)
    outlast = index % 4 == 3
    spec, request_timeout = fault_spec(rng, fault, 1.0, (0.3, 1.5))
    mode = rng.choice(["auto", "never"])
    if outlast:
        start_after = rng.uniform(0.0, 0.3)
        timeout = rng.uniform(2.5, 4.0)
        length = timeout + 10.0
        duration = rng.uniform(1.0, timeout + 2.0)
    else:
        start_after = rng.uniform(0.0, duration * 0.8)
        length = rng.uniform(0.5, 3.0)
        timeout = start_after + length + duration + 10.0
    options = WaitOptions(timeout=round(timeout, 2), poll_interval=round(rng.uniform(0.2, 0.5), 2),
                          max_poll_interval=1.0, long_poll=mode, long_poll_timeout=rng.randint(1, 2))
    return Trial(fault, index, rng.choice(OUTCOMES), round(duration, 2), mode, options, request_timeout,
                 round(start_after, 2), round(length, 2), outlast, spec)


def _wait_into(box: dict[str, t.Any], waiter: JobWaiter, keys: list[str]) -> None:
    """Run one wait; keep its result, or the final failure it raised (the 401-first case), and its wall time."""
    started = time.monotonic()
    try:
        box["result"] = waiter.wait(keys)
    except UMError as exc:
        box["error"] = exc
    box["wall"] = time.monotonic() - started


def run_trial(sim: reltools.SimProc, trial: Trial) -> Trial:
    key = sim.start_job(script_for(trial.outcome, trial.duration))
    rec = RecordingClient(UMClient(sim.host, reltools.USER, reltools.PASSWORD, port=sim.port, ca_path=sim.ca,
                                   request_timeout=trial.request_timeout))
    box: dict[str, t.Any] = {}
    thread = threading.Thread(target=_wait_into, args=(box, JobWaiter(rec, trial.options), [key]), daemon=True)
    thread.start()
    rec.first_sent.wait(10)
    time.sleep(trial.start_after)
    sim.add_fault(match={"method": "GET", "path": f"/management-server/jobs/{key}"}, seconds=trial.length,
                  **trial.spec)
    thread.join(trial.options.timeout + 30)
    rec.client.close()
    trial.hits = len(rec.errors)
    judge(trial, key, box, rec)
    return trial


def judge(trial: Trial, key: str, box: dict[str, t.Any], rec: RecordingClient) -> None:
    """Right, wrong, and within the time bound; a short verdict for the failure report."""
    timeout = trial.options.timeout
    if "wall" not in box:
        trial.verdict = "hung: the wait did not return"
        return
    trial.elapsed = box["wall"]
    trial.within = box["wall"] <= timeout + TIME_TOLERANCE
    messages: list[str] = list(rec.errors)
    if "error" in box:
        exc = box["error"]
        messages.append(str(exc))
        # A 401 fails the wait: at once when the credentials never worked, or after two more tries per task when
        # they had (issue 18: retrying until the timeout locks directory accounts).
        given_up = "not tried again" in str(exc)
        ok = trial.fault == "401 for a while" and (rec.first_was_401 or given_up) and \
            isinstance(exc, UMHTTPError) and exc.status == 401 and "authentication failed" in str(exc)
        trial.verdict = f"raised {type(exc).__name__}: {exc}"
        trial.right = ok
        if ok:
            trial.notes.append("first answer 401: failed at once" if rec.first_was_401 else
                               "401 after two more tries: failed")
    else:
        result = box["result"]
        if not result.timed_out:
            outcome = classify(result.jobs[key]).outcome
            trial.right = outcome == trial.outcome
            trial.verdict = f"ended: {outcome} (true: {trial.outcome})"
        else:
            msg = timeout_message(result)
            messages.append(msg)
            fragments = FAULTS[trial.fault][1]
            says_why = result.last_error is None or any(f in result.last_error for f in fragments)
            planned_timeout = trial.outlast or trial.duration > timeout - 3
            trial.right = (planned_timeout and result.pending == [key] and says_why and "timed out" in msg
                           and "'pending'" in msg and key in msg and "\n" not in msg)
            trial.verdict = f"timed out: {msg}"
            trial.detail = result.last_error or ""
    for m in messages:
        reltools.assert_no_secret(f"fault trial {trial.fault} #{trial.index}", m, "waiter messages")


def run_restart_lane(sim: reltools.SimProc, rng: t.Any, cycles: int, lane: int) -> list[Trial]:
    """Kill the simulator (SIGKILL, now and then SIGTERM) mid-wait, restart it on the same port and state."""
    trials = []
    for index in range(cycles):
        outcomes = [rng.choice(OUTCOMES) for _job in range(3)]
        durations = [round(rng.uniform(1.0, 3.0), 2) for _job in range(3)]
        keys = [sim.start_job(script_for(o, d)) for o, d in zip(outcomes, durations)]
        mode = rng.choice(["auto", "never"])
        opts = WaitOptions(timeout=25.0, poll_interval=round(rng.uniform(0.2, 0.5), 2), max_poll_interval=1.0,
                           long_poll=mode, long_poll_timeout=rng.randint(1, 3))
        kill_at, down = round(rng.uniform(0.1, 1.5), 2), round(rng.uniform(0.2, 2.0), 2)
        sig = signal.SIGTERM if index % 4 == 3 else signal.SIGKILL
        trial = Trial("simulator killed and restarted", lane * 100 + index, ",".join(outcomes), max(durations), mode,
                      opts, 2.0, kill_at, down, False, {"signal": sig.name})
        rec = RecordingClient(UMClient(sim.host, reltools.USER, reltools.PASSWORD, port=sim.port, ca_path=sim.ca,
                                       request_timeout=2.0))
        box: dict[str, t.Any] = {}
        thread = threading.Thread(target=_wait_into, args=(box, JobWaiter(rec, opts), keys), daemon=True)
        thread.start()
        rec.first_sent.wait(10)
        time.sleep(kill_at)
        sim.kill(sig)
        time.sleep(down)
        sim.restart()
        thread.join(opts.timeout + 30)
        rec.client.close()
        trial.hits = len(rec.errors)
        if "wall" not in box:
            trial.verdict = "hung"
        else:
            trial.elapsed = box["wall"]
            trial.within = box["wall"] <= opts.timeout + TIME_TOLERANCE
            if "error" in box:
                trial.verdict = f"raised {type(box['error']).__name__}: {box['error']}"
            else:
                result = box["result"]
                got = [classify(result.jobs[k]).outcome if k in result.jobs else None for k in keys]
                trial.right = not result.timed_out and got == outcomes
                trial.verdict = f"ended {got} (true {outcomes}), timed_out={result.timed_out}"
        for m in rec.errors:
            reltools.assert_no_secret(f"restart trial {trial.index}", m, "waiter messages")
        trials.append(trial)
    return trials


def summarize(trials: list[Trial], fault: str, bound: str, notes: str = "", seconds: float = 0.0) -> Row:
    mine = [tr for tr in trials if tr.fault == fault]
    right = sum(tr.right for tr in mine)
    extra = [f"{sum(tr.hits > 0 for tr in mine)} trials hit by the fault ({sum(tr.hits for tr in mine)} failed requests)"]
    outlasting = [tr for tr in mine if tr.outlast]
    if outlasting:
        timeouts = sum(tr.verdict.startswith("timed out") and tr.right for tr in outlasting)
        extra.append(f"{len(outlasting)} faults outlasted the timeout: {timeouts} timed out with the reason and the "
                     "key to resume, the others saw the job end first")
    for note in sorted({n for tr in mine for n in tr.notes}):
        extra.append(f"{sum(note in tr.notes for tr in mine)} x {note}")
    worst = max((tr.elapsed - tr.options.timeout for tr in outlasting), default=None)
    if worst is not None:
        extra.append(f"latest end of a timed-out wait: {worst:+.1f}s after its timeout")
    return Row("wait under faults (client + waiter)", fault, len(mine), right, len(mine) - right, bound,
               sum(tr.within for tr in mine), "; ".join(filter(None, [notes] + extra)), seconds)


@pytest.mark.timeout(420)
def test_faults_during_wait(sim: reltools.SimProc, own_sim: t.Callable[..., reltools.SimProc]) -> None:
    rng = reltools.rng_for("faults")
    trials = [plan(rng, fault, i) for fault in FAULTS for i in range(TRIALS)]
    rng.shuffle(trials)
    restart_rng = [reltools.rng_for(f"restart-{lane}") for lane in range(2)]
    restart_sims = [own_sim(), own_sim()]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        lanes = [pool.submit(run_restart_lane, restart_sims[lane], restart_rng[lane], (TRIALS + 1 - lane) // 2, lane)
                 for lane in range(2)]
        done = list(pool.map(lambda tr: run_trial(sim, tr), trials))
        restarts = [tr for lane in lanes for tr in lane.result()]
    seconds = round(time.monotonic() - started, 1)
    bound = f"timeout + {TIME_TOLERANCE:g}s"
    for fault in FAULTS:
        reltools.RESULTS.add(summarize(done, fault, bound, seconds=seconds))
    reltools.RESULTS.add(summarize(
        restarts, "simulator killed and restarted", bound,
        notes=f"{len(restarts)} kill/restart cycles, 3 jobs waited on together in each "
              f"({sum(tr.spec['signal'] == 'SIGKILL' for tr in restarts)} SIGKILL, the rest SIGTERM)",
        seconds=seconds))
    bad = [tr for tr in done + restarts if not (tr.right and tr.within)]
    report = "\n".join(f"seed {reltools.SEED} {tr.fault} #{tr.index} mode={tr.mode} outcome={tr.outcome} "
                       f"D={tr.duration} T={tr.options.timeout} start={tr.start_after} len={tr.length} "
                       f"spec={tr.spec} elapsed={tr.elapsed:.2f} hits={tr.hits}: {tr.verdict}" for tr in bad)
    assert not bad, f"{len(bad)} wrong or late waits:\n{report}"
    # The faults were really exercised: most trials of each kind saw at least one failed request.
    for fault in FAULTS:
        hit = sum(tr.hits > 0 for tr in done if tr.fault == fault)
        assert hit >= TRIALS // 2, f"{fault}: only {hit} of {TRIALS} trials were hit by the fault"
    assert sum(tr.hits > 0 for tr in restarts) >= len(restarts) // 2


@pytest.mark.timeout(60)
def test_retry_after_zero_does_not_hammer(sim: reltools.SimProc) -> None:
    """A 429 (or 503) burst with `Retry-After: 0` must not turn the waiter into a busy loop.

    The waiter honours Retry-After, but a value of 0 must still leave at least its own backoff between
    requests: 2 s of throttling at poll_interval 0.3 s is worth a handful of requests, not hundreds.
    """
    rows = []
    for status in (429, 503):
        key = sim.start_job(script_for("normal", 3.0))
        sim.add_fault(kind="status", status=status, retry_after=0, seconds=2.0,
                      match={"method": "GET", "path": f"/management-server/jobs/{key}"})
        client = UMClient(sim.host, reltools.USER, reltools.PASSWORD, port=sim.port, ca_path=sim.ca)
        result = JobWaiter(client, WaitOptions(timeout=15, poll_interval=0.3, max_poll_interval=1.0,
                                               long_poll="never")).wait([key])
        client.close()
        rows.append((status, result.polls, classify(result.jobs[key]).outcome))
    reltools.RESULTS.add(Row("wait under faults (client + waiter)", "Retry-After: 0 for 2 s (429, 503)", 2,
                             sum(p <= 40 and o == "normal" for _s, p, o in rows),
                             sum(not (p <= 40 and o == "normal") for _s, p, o in rows), "<= 40 requests in 3 s",
                             sum(p <= 40 for _s, p, _o in rows),
                             "requests sent: " + ", ".join(f"{s}: {p}" for s, p, _o in rows)))
    for status, polls, outcome in rows:
        assert outcome == "normal"
        assert polls <= 40, f"HTTP {status} with Retry-After: 0 for 2 s: the waiter sent {polls} requests"


# ---------------------------------------------------------------------------------------------------
# End to end: the same faults through the um_job_wait task (plain and with progress slices)
# ---------------------------------------------------------------------------------------------------

def _e2e_plan(rng: t.Any, fault: str, index: int, sim: reltools.SimProc) -> dict[str, t.Any]:
    fragments = FAULTS[fault][1]
    spec, request_timeout = fault_spec(rng, fault, 1.5, (0.5, 1.5))
    outlast = index % 3 == 2
    sliced = index % 3 == 1 or (outlast and index % 2 == 0)
    outcome = rng.choice(OUTCOMES)
    if outlast:
        duration, timeout, length, delay = 120.0, round(rng.uniform(5.0, 7.0), 1), 300.0, rng.uniform(0.0, 0.5)
    else:
        # Long enough that the fault lands while the job runs, after up to 30 module start-ups at once.
        duration, timeout = round(rng.uniform(10.0, 14.0), 1), 60.0
        length, delay = round(rng.uniform(1.5, 4.0), 1), rng.uniform(0.0, 2.0)
        if fault == "401 for a while" and sliced:
            length = 5.0  # spans at least one slice boundary (slices of 3 s)
    key = sim.start_job(script_for(outcome, duration))
    args = sim.connection(key=key, timeout=timeout, request_timeout=request_timeout,
                          long_poll=rng.choice(["auto", "never"]), long_poll_timeout=2, poll_interval=0.5,
                          max_poll_interval=1.5, progress_interval=3 if sliced else 0)
    return {"fault": fault, "key": key, "outcome": outcome, "outlast": outlast, "sliced": sliced, "spec": spec,
            "length": length, "delay": delay, "timeout": timeout, "fragments": fragments, "args": args}


def _e2e_judge(plan: dict[str, t.Any], res: dict[str, t.Any], seconds: float) -> tuple[bool, bool, str]:
    key, msg = plan["key"], res.get("msg", "")
    clean = reltools.one_line(msg) and reltools.no_traceback(res)
    within = seconds <= plan["timeout"] + E2E_TOLERANCE
    if plan["fault"] == "401 for a while" and "not tried again" in msg:
        # The credentials worked, then failed three times in a row: the task gives up rather than lock the account.
        ok = res.get("failed") is True and "HTTP 401" in msg and plan["key"] in str(res.get("pending", [])) + msg
    elif plan["outlast"]:
        says_why = any(f in msg.split("Last error:", 1)[-1] for f in plan["fragments"]) and "Last error:" in msg
        ok = (res.get("failed") is True and res.get("timed_out") is True and res.get("pending") == [key]
              and "timed out" in msg and "'pending'" in msg and key in msg and says_why)
    else:
        should_fail = plan["outcome"] in ("error", "aborted")
        ok = (res.get("outcomes") == {key: plan["outcome"]} and bool(res.get("failed")) == should_fail
              and not res.get("pending"))
    return ok and clean, within, msg


@pytest.mark.timeout(300)
def test_faults_during_wait_end_to_end(sim: reltools.SimProc, collections: t.Any) -> None:
    """A few trials per fault through the um_job_wait task: failed flag, one-line msg, resume keys."""
    rng = reltools.rng_for("faults-e2e")
    plans = {f"e2e{i:02d}": _e2e_plan(rng, fault, j, sim)
             for i, (fault, j) in enumerate((f, j) for f in FAULTS for j in range(E2E_TRIALS))}
    # One more, not random: a 401 window that surely covers the start of a progress slice (slices of 3 s).
    extra = _e2e_plan(rng, "401 for a while", 1, sim)
    extra["key"] = sim.start_job(script_for(extra["outcome"], 20.0))
    extra["args"]["key"], extra["delay"], extra["length"] = extra["key"], 0.5, 7.0
    plans["e2e-401-slices"] = extra
    watcher = reltools.FirstPollWatcher(sim)

    def inject(plan: dict[str, t.Any]) -> None:
        watcher.event(plan["key"]).wait(60)
        time.sleep(plan["delay"])
        sim.add_fault(match={"method": "GET", "path": f"/management-server/jobs/{plan['key']}"},
                      seconds=plan["length"], **plan["spec"])

    injectors = [threading.Thread(target=inject, args=(p,), daemon=True) for p in plans.values()]
    for th in injectors:
        th.start()
    try:
        run = reltools.run_cases(collections, reltools.new_tmp("faults-e2e-"),
                                 {h: {"module": "um_job_wait", "args": p["args"]} for h, p in plans.items()},
                                 # Half the trials at a time: 31 module start-ups at once on 2 cores cost
                                 # seconds each, which is load, not waiting (the load test covers load).
                                 forks=min(len(plans), 16), timeout=240)
    finally:
        watcher.stop()
    problems = []
    for fault in FAULTS:
        mine = {h: p for h, p in plans.items() if p["fault"] == fault}
        right = within = 0
        for host, plan in mine.items():
            ok, inside, msg = _e2e_judge(plan, run.result(host), run.seconds.get(host, 999.0))
            right += ok
            within += inside
            if not (ok and inside):
                res = run.result(host)
                problems.append(f"{fault} [{'sliced' if plan['sliced'] else 'plain'}"
                                f"{', outlasting' if plan['outlast'] else ''}] true={plan['outcome']} "
                                f"({run.seconds.get(host, 0):.1f}s): failed={res.get('failed')} "
                                f"outcomes={res.get('outcomes')} pending={res.get('pending')} msg={msg!r}")
        reltools.RESULTS.add(Row("wait under faults (um_job_wait task)", fault, len(mine), right, len(mine) - right,
                                 f"timeout + {E2E_TOLERANCE:g}s", within,
                                 "plain, with progress slices, and one fault outlasting the timeout",
                                 round(run.wall, 1)))
    assert not problems, f"seed {reltools.SEED}:\n" + "\n".join(problems)


@pytest.mark.timeout(180)
def test_simulator_restart_end_to_end(own_sim: t.Callable[..., reltools.SimProc], collections: t.Any) -> None:
    sim = own_sim()
    rng = reltools.rng_for("restart-e2e")
    plans = {}
    for i, (sliced, mode) in enumerate([(False, "auto"), (False, "never"), (True, "auto"), (True, "never")]):
        outcomes = [rng.choice(OUTCOMES) for _job in range(2)]
        keys = [sim.start_job(script_for(o, round(rng.uniform(9.0, 12.0), 1))) for o in outcomes]
        plans[f"restart{i}"] = {"keys": keys, "outcomes": outcomes, "args": sim.connection(
            keys=keys, timeout=60, long_poll=mode, poll_interval=0.5, max_poll_interval=1.5, request_timeout=3,
            progress_interval=2 if sliced else 0)}
    kill_at, down = rng.uniform(0.5, 2.0), rng.uniform(1.0, 3.0)
    sim.ctl("DELETE", "/counters")

    def polls() -> int:
        routes = sim.counters()["by_route"]
        return sum(n for r, n in routes.items() if r.startswith("GET /management-server/jobs"))

    def chaos() -> None:
        deadline = time.monotonic() + 60
        while polls() < 2 * len(plans) and time.monotonic() < deadline:  # every task is waiting
            time.sleep(0.1)
        time.sleep(kill_at)
        sim.kill()
        time.sleep(down)
        sim.restart()

    th = threading.Thread(target=chaos, daemon=True)
    th.start()
    run = reltools.run_cases(collections, reltools.new_tmp("restart-e2e-"),
                             {h: {"module": "um_job_wait", "args": p["args"]} for h, p in plans.items()},
                             forks=len(plans), timeout=150)
    th.join(30)
    right = 0
    problems = []
    for host, plan in plans.items():
        res = run.result(host)
        want = dict(zip(plan["keys"], plan["outcomes"]))
        should_fail = any(o in ("error", "aborted") for o in plan["outcomes"])
        ok = (res.get("outcomes") == want and bool(res.get("failed")) == should_fail
              and reltools.one_line(res.get("msg")) and reltools.no_traceback(res))
        right += ok
        if not ok:
            problems.append(f"{host}: {res.get('outcomes')} vs {want}: {res.get('msg')!r}")
    reltools.RESULTS.add(Row("wait under faults (um_job_wait task)", "simulator killed (SIGKILL) and restarted",
                             len(plans), right, len(plans) - right, "timeout", len(plans),
                             f"2 jobs per task; killed {kill_at:.1f}s after the tasks had polled, down {down:.1f}s; "
                             f"simulator starts: {sim.starts}", round(run.wall, 1)))
    assert sim.starts == 2
    assert not problems, "\n".join(problems)
