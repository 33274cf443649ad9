"""Fault injection, latency and counters of the control channel."""

from __future__ import annotations

import json
import time

import pytest
import requests

from umsim_testlib import Sim, lun_body

JOBS = "/management-server/jobs"


def _fresh_session(sim: Sim) -> requests.Session:
    """A session that never reuses a connection a fault has dropped."""
    s = requests.Session()
    s.trust_env = False
    s.verify = sim.ca
    s.auth = ("admin", "Admin-pass-1")
    return s


def test_status_fault_with_retry_after_then_recovers(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3})
    sim.ctl("POST", "/faults", {"kind": "status", "status": 503, "retry_after": 2,
                                "match": {"method": "GET", "path": "/management-server/jobs*"}, "count": 2})
    listed = sim.ctl("GET", "/faults")["faults"]
    assert len(listed) == 1 and listed[0]["remaining"] == 2 and listed[0]["kind"] == "status"
    for _attempt in range(2):
        r = sim.api("GET", f"{JOBS}/{key}")
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
        assert r.json()["error"]["code"] and r.json()["error"]["message"]
    assert sim.api("GET", f"{JOBS}/{key}").status_code == 200
    assert sim.ctl("GET", "/faults")["faults"] == []
    counters = sim.ctl("GET", "/counters")
    assert counters["by_status"] == {"202": 1, "503": 2, "200": 1}
    assert counters["by_job"] == {key: 3}


def test_status_fault_default_and_other_codes(sim: Sim) -> None:
    sim.ctl("POST", "/faults", [{"kind": "status", "match": {"path": "/storage-provider/*"}},
                                {"kind": "status", "status": 429, "match": {"method": "POST"}}])
    r = sim.api("GET", "/storage-provider/luns")
    assert r.status_code == 500 and "Retry-After" not in r.headers
    r = sim.api("POST", "/storage-provider/luns", json={"name": "x"})
    assert r.status_code == 429
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0  # faulted before handling
    assert sim.api("GET", "/storage-provider/luns").status_code == 200


def test_fault_match_is_relative_to_api_and_v2(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "status", "status": 502, "match": {"path": "/management-server/jobs"},
                                "count": 2})
    assert sim.api("GET", JOBS, prefix="/api/v2").status_code == 502
    assert sim.api("GET", f"{JOBS}/1:2:3:4").status_code == 404  # path glob does not match the item
    assert sim.api("GET", JOBS).status_code == 502
    assert sim.api("GET", JOBS).status_code == 200


def test_drop_closes_without_answer(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3})
    sim.ctl("POST", "/faults", {"kind": "drop", "match": {"path": "/management-server/jobs/*"}})
    s = _fresh_session(sim)
    with pytest.raises(requests.exceptions.ConnectionError):
        s.get(f"{sim.url}/api{JOBS}/{key}", timeout=10)
    assert s.get(f"{sim.url}/api{JOBS}/{key}", timeout=10).status_code == 200
    counters = sim.ctl("GET", "/counters")
    assert counters["dropped"] == 1 and counters["by_job"] == {key: 2} and counters["by_status"]["200"] == 1


def test_drop_after_post_creates_exactly_one_job(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "drop_after", "match": {"method": "POST", "path": "/storage-provider/luns"}})
    s = _fresh_session(sim)
    with pytest.raises(requests.exceptions.ConnectionError):
        s.post(f"{sim.url}/api/storage-provider/luns", json=lun_body("lost-answer"),
               headers={"X-UMSim-Job": json.dumps({"duration": 0.3, "name": "Create LUN lost-answer"})}, timeout=10)
    counters = sim.ctl("GET", "/counters")
    assert counters["jobs_created"] == 1 and counters["dropped"] == 1
    assert counters["by_route"] == {"POST /storage-provider/luns": 1}
    assert "202" not in counters["by_status"]
    found = sim.api("GET", JOBS, params={"name": "Create LUN lost-answer"}).json()
    assert found["total_records"] == 1
    assert sim.wait_done(found["records"][0]["key"])["state"] == "completed"


def test_slow_fault_delays_then_answers(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "slow", "delay": 0.5, "match": {"method": "GET"}})
    start = time.monotonic()
    r = sim.api("GET", JOBS)
    assert r.status_code == 200 and "records" in r.json()
    assert 0.5 <= time.monotonic() - start < 0.8
    start = time.monotonic()
    sim.api("GET", JOBS)
    assert time.monotonic() - start < 0.2


def test_malformed_fault(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "malformed", "match": {"method": "POST"}})
    r = sim.api("POST", "/storage-provider/luns", json={"name": "m"})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        json.loads(r.text)
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0


def test_unauthorized_fault(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "unauthorized", "count": 1})
    r = sim.api("GET", JOBS)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="umsim"'
    assert sim.api("GET", JOBS).status_code == 200


def test_seconds_bounded_fault_expires(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "status", "status": 503, "seconds": 0.5, "match": {"path": "/management-*"}})
    assert sim.ctl("GET", "/faults")["faults"][0]["remaining"] is None  # unlimited hits inside the window
    start = time.monotonic()
    hits = 0
    while time.monotonic() - start < 0.35:
        assert sim.api("GET", JOBS).status_code == 503
        hits += 1
    assert hits >= 3
    time.sleep(max(0.0, start + 0.55 - time.monotonic()))
    assert sim.api("GET", JOBS).status_code == 200
    assert sim.ctl("GET", "/faults")["faults"] == []


def test_fault_count_and_seconds_both_bound(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "status", "status": 500, "seconds": 30, "count": 1})
    assert sim.api("GET", JOBS).status_code == 500
    assert sim.api("GET", JOBS).status_code == 200


def test_faults_clear_and_validation(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "drop", "count": 5})
    assert len(sim.ctl("GET", "/faults")["faults"]) == 1
    assert sim.ctl("DELETE", "/faults") == {"faults": []}
    assert sim.api("GET", JOBS).status_code == 200
    for bad in ({"kind": "explode"}, {"kind": "status", "status": 99}, {"kind": "slow", "delay": -1},
                {"kind": "drop", "count": 0}, {"kind": "drop", "match": "/x"}, {"kind": "drop", "oops": 1}):
        r = sim.http.post(f"{sim.url}/_umsim/faults", json=bad)
        assert r.status_code == 400 and "error" in r.json(), bad
    assert sim.ctl("GET", "/faults")["faults"] == []


def test_faults_do_not_touch_control_channel(sim: Sim) -> None:
    sim.ctl("POST", "/faults", {"kind": "status", "status": 500, "seconds": 5})
    assert sim.ctl("GET", "/health") == {"ok": True}
    assert sim.api("GET", JOBS).status_code == 500


def test_latency_added_to_api_answers(sim: Sim) -> None:
    sim.ctl("POST", "/config", {"latency": 0.3})
    start = time.monotonic()
    assert sim.api("GET", JOBS).status_code == 200
    assert 0.3 <= time.monotonic() - start < 0.6
    start = time.monotonic()
    sim.ctl("GET", "/health")
    assert time.monotonic() - start < 0.2


def test_counters_by_route_job_status_and_reset(sim: Sim) -> None:
    k1 = sim.start_job({"duration": 0.3})
    k2 = sim.start_job({"duration": 0.3}, path="/storage-provider/file-shares")
    for _attempt in range(3):
        sim.job(k1)
    sim.job(k2)
    sim.api("GET", JOBS, prefix="/api/v2")
    sim.api("GET", f"{JOBS}/{k1}", user=None)  # 401 still counts as a request for that job
    sim.api("GET", "/storage-provider/luns/nope")
    counters = sim.ctl("GET", "/counters")
    assert counters["total"] == 9
    assert counters["by_route"] == {"POST /storage-provider/luns": 1, "POST /storage-provider/file-shares": 1,
                                    "GET /management-server/jobs/{key}": 5, "GET /management-server/jobs": 1,
                                    "GET /storage-provider/luns/{key}": 1}
    assert counters["by_job"] == {k1: 4, k2: 1}
    assert counters["by_status"] == {"202": 2, "200": 5, "401": 1, "404": 1}
    assert counters["jobs_created"] == 2 and counters["long_polls_open"] == 0
    reset = sim.ctl("DELETE", "/counters")
    assert reset["total"] == 0 and reset["by_route"] == {} and reset["by_job"] == {} and reset["jobs_created"] == 0
    assert sim.ctl("GET", "/counters")["total"] == 0  # control-channel calls are not counted


def test_control_channel_errors(sim: Sim) -> None:
    r = sim.http.get(f"{sim.url}/_umsim/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"]
    r = sim.http.put(f"{sim.url}/_umsim/counters")
    assert r.status_code == 405 and "error" in r.json()
    r = sim.http.post(f"{sim.url}/_umsim/jobs", json={"count": 0})
    assert r.status_code == 400
    r = sim.http.post(f"{sim.url}/_umsim/jobs", json={"count": 2, "spread": [2, 1]})
    assert r.status_code == 400
    assert sim.http.post(f"{sim.url}/_umsim/shutdown").status_code == 404


def test_trickle_sends_the_whole_body_slowly(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.1})
    sim.ctl("POST", "/faults", {"kind": "trickle", "delay": 0.01, "match": {"path": f"{JOBS}/*"}})
    s = _fresh_session(sim)
    started = time.monotonic()
    with s.get(sim.url + f"/api{JOBS}/{key}", stream=True, timeout=30) as r:
        assert r.status_code == 200 and int(r.headers["Content-Length"]) > 100
        first = r.raw.read(1)
        body = first + r.raw.read()
    took = time.monotonic() - started
    assert json.loads(body)["key"] == key
    assert took >= len(body) * 0.01 * 0.8, "the body was not trickled"


def test_endless_streams_a_chunked_body_that_does_not_end(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.1})
    sim.ctl("POST", "/faults", {"kind": "endless", "delay": 0.05, "match": {"path": f"{JOBS}/*"}})
    s = _fresh_session(sim)
    with s.get(sim.url + f"/api{JOBS}/{key}", stream=True, timeout=30) as r:
        assert r.status_code == 200 and r.headers.get("Transfer-Encoding") == "chunked"
        got = b""
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            got += r.raw.read1(4096)
        assert got.lstrip().startswith(b"{") and got.endswith(b" ") and len(got) > 20
    # The server counts the abandoned answer as dropped once the client has gone.
    deadline = time.monotonic() + 5
    while sim.ctl("GET", "/counters")["dropped"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sim.ctl("GET", "/counters")["dropped"] == 1


def test_repeat_next_points_a_listing_at_itself(sim: Sim) -> None:
    for _i in range(3):
        sim.start_job({"duration": 60})
    sim.ctl("POST", "/faults", {"kind": "repeat_next", "match": {"method": "GET", "path": JOBS}, "count": 2})
    r = sim.api("GET", JOBS, params={"max_records": 1})
    nxt = r.json()["_links"]["next"]["href"]
    assert nxt.startswith("/api/management-server/jobs?") and "max_records=1" in nxt and "offset" not in nxt
    again = sim.api("GET", JOBS, params={"max_records": 1})
    assert again.json()["_links"]["next"]["href"] == nxt
    # Once the fault is spent the listing pages on as usual.
    assert "offset=1" in sim.api("GET", JOBS, params={"max_records": 1}).json()["_links"]["next"]["href"]
