"""Long polling (?poll_timeout=N): honour / ignore / reject, precision, and 1000 held requests."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime

import aiohttp
import pytest

from umsim_testlib import Sim

JOB = "/management-server/jobs/{}"


def _poll(sim: Sim, key: str, timeout: object) -> tuple[float, object]:
    start = time.monotonic()
    r = sim.api("GET", JOB.format(key), user="operator", params={"poll_timeout": timeout})
    return time.monotonic() - start, r


def test_honour_returns_at_job_end(sim: Sim) -> None:
    for duration, status in ((0.5, "normal"), (1.2, "error")):
        before_post = time.monotonic()
        key = sim.start_job({"duration": duration, "status": status})
        _took, r = _poll(sim, key, 30)
        lag = time.monotonic() - before_post - duration  # includes the POST, so the true lag is smaller
        job = r.json()
        assert r.status_code == 200 and job["state"] == "completed" and job["status"] == status
        assert -0.005 < lag < 0.2, lag
    counters = sim.ctl("GET", "/counters")
    assert counters["long_polls_open"] == 0
    assert counters["by_route"]["GET /management-server/jobs/{key}"] == 2


def test_honour_precise_answer_time(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.8})
    _took, r = _poll(sim, key, 10)
    answered = time.time()
    planned = datetime.fromisoformat(r.json()["complete_time"]).timestamp()
    assert 0 <= answered - planned < 0.05, answered - planned  # within a few ms (plus client overhead)


def test_honour_timeout_before_end(sim: Sim) -> None:
    key = sim.start_job({"duration": 30})
    elapsed, r = _poll(sim, key, 1)
    assert 0.98 < elapsed < 1.3
    assert r.status_code == 200 and r.json()["state"] == "running"


def test_honour_terminal_job_answers_at_once(sim: Sim) -> None:
    key = sim.start_job({"duration": 0})
    elapsed, r = _poll(sim, key, 60)
    assert elapsed < 0.2 and r.json()["state"] == "completed"


@pytest.mark.parametrize("value", ["0", "121", "-1", "1.5", "abc", "", "9999999999999999999999"])
def test_invalid_poll_timeout(sim: Sim, value: str) -> None:
    key = sim.start_job({"duration": 0.3})
    _took, r = _poll(sim, key, value)
    assert r.status_code == 400
    assert r.json()["error"]["target"] == "poll_timeout"


def test_valid_bounds(sim: Sim) -> None:
    key = sim.start_job({"duration": 0})
    for value in ("1", "120"):
        _took, r = _poll(sim, key, value)
        assert r.status_code == 200


def test_ignore_mode_answers_at_once(sim: Sim) -> None:
    assert sim.ctl("POST", "/config", {"long_poll": "ignore"})["long_poll"] == "ignore"
    key = sim.start_job({"duration": 5})
    elapsed, r = _poll(sim, key, 30)
    assert elapsed < 0.2 and r.status_code == 200 and r.json()["state"] == "running"
    _took, r = _poll(sim, key, "not-a-number")  # a server that ignores it does not validate it either
    assert r.status_code == 200


def test_reject_mode_and_switch_back(sim: Sim) -> None:
    sim.ctl("POST", "/config", {"long_poll": "reject"})
    assert sim.ctl("GET", "/config")["long_poll"] == "reject"
    key = sim.start_job({"duration": 0.5})
    elapsed, r = _poll(sim, key, 30)
    assert r.status_code == 400 and elapsed < 0.2
    err = r.json()["error"]
    assert err["target"] == "poll_timeout" and err["message"]
    assert sim.job(key)["key"] == key  # a plain GET still works
    sim.ctl("POST", "/config", {"long_poll": "honour"})
    elapsed, r = _poll(sim, key, 30)
    assert r.json()["state"] == "completed"


def test_bad_config_rejected(sim: Sim) -> None:
    for body in ({"long_poll": "sometimes"}, {"latency": -1}, {"colour": "red"}):
        r = sim.http.post(f"{sim.url}/_umsim/config", json=body)
        assert r.status_code == 400 and "error" in r.json()
    assert sim.ctl("GET", "/config") == {"long_poll": "honour", "latency": 0, "discovery": 1.0,
                                         "ontap_job_retention": 300.0, "clock_skew": {}}


def test_1000_concurrent_long_polls(sim: Sim) -> None:
    """1000 held requests over HTTPS on separate connections, all answered at their job's end."""
    n_jobs, per_job = 10, 100
    duration = 8.0
    keys = [sim.start_job({"duration": duration, "status": "warning" if i % 2 else "normal"}) for i in range(n_jobs)]
    created = time.monotonic()
    ctx = ssl.create_default_context(cafile=sim.ca)

    async def run() -> tuple[list[tuple[str, int, dict]], int]:
        conn = aiohttp.TCPConnector(limit=0, ssl=ctx)
        auth = {"Authorization": aiohttp.encode_basic_auth("operator", "Operator-pass-1")}
        peak = 0
        async with aiohttp.ClientSession(connector=conn, headers=auth,
                                         timeout=aiohttp.ClientTimeout(total=30)) as session:
            async def one(key: str) -> tuple[str, int, dict]:
                async with session.get(f"{sim.url}/api/management-server/jobs/{key}",
                                       params={"poll_timeout": "60"}) as resp:
                    return key, resp.status, await resp.json()

            tasks = [asyncio.create_task(one(k)) for k in keys for _copy in range(per_job)]
            # Watch the simulator's gauge: all 1000 must be held at the same time before the jobs end.
            while time.monotonic() < created + duration - 0.5:
                async with session.get(f"{sim.url}/_umsim/counters") as resp:
                    peak = max(peak, (await resp.json())["long_polls_open"])
                if peak == n_jobs * per_job:
                    break
                await asyncio.sleep(0.1)
            results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=25)
        return results, peak

    results, peak = asyncio.run(run())
    finished = time.monotonic()
    assert peak == n_jobs * per_job
    assert len(results) == n_jobs * per_job
    for i, key in enumerate(keys):
        mine = [body for k, status, body in results if k == key]
        assert len(mine) == per_job
        for body in mine:
            assert body["key"] == key and body["state"] == "completed"
            assert body["status"] == ("warning" if i % 2 else "normal")
    assert all(status == 200 for _key, status, _took in results)
    assert finished - created < duration + 2.0
    counters = sim.ctl("GET", "/counters")
    assert counters["long_polls_open"] == 0
    assert counters["by_status"]["200"] == n_jobs * per_job
    assert sum(counters["by_job"].values()) == n_jobs * per_job
