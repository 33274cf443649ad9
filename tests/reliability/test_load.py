# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load: 200 concurrent waits against one simulator, all with the right outcome.

Half are Ansible tasks (one play over 25 inventory hosts, forks 25, each task waiting on 4 keys; half of
them with progress slices, long polling auto or never), half are JobWaiter threads of one key each, all
running at the same time. Every job has a random outcome and duration; each wait must report every one of
its jobs with its true outcome, and end soon after its last job.
"""

from __future__ import annotations

import threading
import time
import typing as t
from pathlib import Path

import pytest

import reltools
from reltools import OUTCOMES, Row, script_for

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitOptions
from ansible_collections.aiqum.jobs.plugins.module_utils._table import classify
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter

HOSTS = reltools.scale("AIQUM_RELIABILITY_LOAD_HOSTS", 25)
KEYS_PER_HOST = 4
THREADS = reltools.scale("AIQUM_RELIABILITY_LOAD_THREADS", 100)
END_SLACK = 12.0   # a wait ends at most this long after its last job (slices and module start-up included)


def _peak(intervals: list[tuple[float, float, int]]) -> int:
    events = sorted([(s, w) for s, _e, w in intervals] + [(e, -w) for _s, e, w in intervals], key=lambda x: (x[0], x[1]))
    now = peak = 0
    for _when, delta in events:
        now += delta
        peak = max(peak, now)
    return peak


@pytest.mark.timeout(240)
def test_200_concurrent_waits(own_sim: t.Callable[..., reltools.SimProc], collections: Path) -> None:
    sim = own_sim()
    rng = reltools.rng_for("load")
    truth: dict[str, str] = {}
    ends: dict[str, float] = {}

    def make(n: int) -> list[str]:
        keys = []
        for _job in range(n):
            outcome, duration = rng.choice(OUTCOMES), round(rng.uniform(12.0, 20.0), 2)
            key = sim.start_job(script_for(outcome, duration))
            truth[key], ends[key] = outcome, time.time() + duration
            keys.append(key)
        return keys

    cases = {}
    for h in range(HOSTS):
        keys = make(KEYS_PER_HOST)
        cases[f"load{h:02d}"] = {"module": "um_job_wait", "args": sim.connection(
            keys=keys, timeout=120, long_poll=rng.choice(["auto", "never"]), poll_interval=1, max_poll_interval=3,
            progress_interval=rng.choice([0, 4]))}
    thread_keys = make(THREADS)
    box: dict[str, t.Any] = {}
    intervals: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def wait(key: str, mode: str) -> None:
        client = UMClient(sim.host, reltools.USER, reltools.PASSWORD, port=sim.port, ca_path=sim.ca)
        start = time.time()
        try:
            result = JobWaiter(client, WaitOptions(timeout=120, poll_interval=1, max_poll_interval=3,
                                                   long_poll=mode)).wait([key])
            box[key] = (classify(result.jobs[key]).outcome if not result.timed_out else "timed out", time.time())
        except UMError as exc:
            box[key] = (f"raised {exc}", time.time())
        finally:
            client.close()
        with lock:
            intervals.append((start, time.time(), 1))

    peak_polls = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):
            try:
                peak_polls[0] = max(peak_polls[0], sim.counters()["long_polls_open"])
            except Exception:  # pylint: disable=broad-except
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=wait, args=(k, rng.choice(["auto", "never"])), daemon=True)
               for k in thread_keys]
    started = time.monotonic()
    for th in threads:
        th.start()
    run = reltools.run_cases(collections, reltools.new_tmp("load-"), cases, forks=HOSTS, timeout=200)
    for th in threads:
        th.join(150)
    stop.set()
    watcher.join(5)
    wall = time.monotonic() - started

    problems = []
    right = within = 0
    for key in thread_keys:
        got, ended = box.get(key, ("hung", time.time()))
        ok = got == truth[key]
        right += ok
        within += ended <= ends[key] + END_SLACK
        if not ok or ended > ends[key] + END_SLACK:
            problems.append(f"thread wait {key}: got {got}, true {truth[key]}, ended {ended - ends[key]:+.1f}s")
    for host, case in cases.items():
        res = run.result(host)
        keys = case["args"]["keys"]
        should_fail = any(truth[k] in ("error", "aborted") for k in keys)
        ended = run.started[host] + run.seconds[host]
        last_end = max(ends[k] for k in keys)
        ok = (res.get("outcomes") == {k: truth[k] for k in keys} and bool(res.get("failed")) == should_fail
              and reltools.one_line(res.get("msg")) and reltools.no_traceback(res) and not res.get("pending"))
        right += KEYS_PER_HOST if ok else 0
        within += KEYS_PER_HOST if ended <= last_end + END_SLACK else 0
        intervals.append((run.started[host], ended, KEYS_PER_HOST))
        if not ok or ended > last_end + END_SLACK:
            problems.append(f"{host}: outcomes {res.get('outcomes')} vs {[truth[k] for k in keys]}, failed="
                            f"{res.get('failed')} msg={res.get('msg')!r}, ended {ended - last_end:+.1f}s")
    total = THREADS + HOSTS * KEYS_PER_HOST
    peak = _peak(intervals)
    reltools.RESULTS.add(Row("load", f"{total} concurrent waits ({HOSTS} Ansible hosts x {KEYS_PER_HOST} keys, forks "
                             f"{HOSTS}; {THREADS} waiter threads)", total, right, total - right,
                             f"last job's end + {END_SLACK:g}s", within,
                             f"peak waits in progress at once: {peak}; peak long polls held by the simulator: "
                             f"{peak_polls[0]}; wall {wall:.0f}s", round(wall, 1)))
    assert not problems, f"seed {reltools.SEED}:\n" + "\n".join(problems)
    assert peak >= 0.9 * total, f"only {peak} of {total} waits overlapped"
