"""GET /management-server/jobs: filters, paging, ordering, next links, 10,000 jobs."""

from __future__ import annotations

import datetime
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from umsim_testlib import Sim

JOBS = "/management-server/jobs"


@pytest.fixture(scope="module")
def listed(sim_module: Sim) -> dict[str, Any]:
    """25 jobs of known shape, created once for the module (ordering assertions need stable data)."""
    sim = sim_module
    sim.reset()
    keys: dict[str, list[str]] = {"lun": [], "share": [], "err": []}
    for i in range(10):
        keys["lun"].append(sim.start_job({"duration": 0.2, "name": f"Create LUN lun_{i:02d}"}))
    for i in range(10):
        keys["share"].append(sim.start_job({"duration": 60, "type": "provision_file_share_create",
                                            "name": f"Create File Share fs_{i:02d}"}))
    for i in range(5):
        keys["err"].append(sim.start_job({"duration": 0.2, "status": "error", "name": f"Broken {i}"}))
    time.sleep(0.25)
    keys["all_newest_first"] = list(reversed(keys["lun"] + keys["share"] + keys["err"]))
    return keys


def _get(sim: Sim, **params: Any) -> dict[str, Any]:
    r = sim.api("GET", JOBS, user="operator", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_default_is_last_20_newest_first(sim: Sim, listed: dict[str, Any]) -> None:
    body = _get(sim)
    assert body["num_records"] == 20 and body["total_records"] == 25
    assert [j["key"] for j in body["records"]] == listed["all_newest_first"][:20]
    assert body["_links"]["self"]["href"] == "/api/management-server/jobs"
    assert body["_links"]["next"]["href"] == "/api/management-server/jobs?max_records=20&offset=20"
    nxt = sim.http.get(sim.url + body["_links"]["next"]["href"], auth=("operator", "Operator-pass-1")).json()
    assert [j["key"] for j in nxt["records"]] == listed["all_newest_first"][20:]
    assert "next" not in nxt["_links"]


def test_filters_or_wildcard_case_insensitive(sim: Sim, listed: dict[str, Any]) -> None:
    assert _get(sim, state="running")["total_records"] == 10
    assert _get(sim, state="RUNNING|completed")["total_records"] == 25
    assert _get(sim, status="error")["total_records"] == 5
    assert _get(sim, status="ERROR|Normal", state="completed")["total_records"] == 15
    assert _get(sim, name="create lun*")["total_records"] == 10
    assert _get(sim, name="*fs_0[1]*")["total_records"] == 0  # only * is special
    assert _get(sim, name="*_03")["total_records"] == 2
    assert _get(sim, name="Broken 1|broken 2|*fs_09")["total_records"] == 3
    assert _get(sim, type="provision_file_share_*")["total_records"] == 10
    key = listed["err"][0]
    assert [j["key"] for j in _get(sim, key=key)["records"]] == [key]
    assert _get(sim, key=key.replace(key[:4], key[:4].upper()))["total_records"] == 1
    assert _get(sim, key=key.split(":")[0] + ":*")["total_records"] == 25
    assert _get(sim, complete_time="*")["total_records"] == 15  # running jobs have no complete_time
    assert _get(sim, parent_job_key="*")["total_records"] == 0
    first = _get(sim, key=key)["records"][0]
    assert _get(sim, submit_time=first["submit_time"][:10] + "*")["total_records"] == 25
    assert _get(sim, complete_time=first["complete_time"])["total_records"] >= 1


def test_paging_and_order_by(sim: Sim, listed: dict[str, Any]) -> None:
    body = _get(sim, max_records=7, offset=3, order_by="submit_time asc")
    oldest_first = list(reversed(listed["all_newest_first"]))
    assert [j["key"] for j in body["records"]] == oldest_first[3:10]
    assert body["num_records"] == 7 and body["total_records"] == 25
    by_name = _get(sim, order_by="name desc", max_records=1000)["records"]
    names = [j["name"] for j in by_name]
    assert names == sorted(names, key=str.casefold, reverse=True)
    two = _get(sim, order_by="status asc,name asc", max_records=30)["records"]
    assert [(j["status"], j["name"]) for j in two] == sorted((j["status"], j["name"]) for j in two)
    assert _get(sim, offset=100)["records"] == []
    tail = _get(sim, max_records=10, offset=20)
    assert tail["num_records"] == 5 and "next" not in tail["_links"]


@pytest.mark.parametrize("params,target", [
    ({"max_records": 1001}, "max_records"), ({"max_records": 0}, "max_records"),
    ({"max_records": "ten"}, "max_records"), ({"offset": -1}, "offset"),
    ({"order_by": "colour desc"}, "order_by"), ({"order_by": "name sideways"}, "order_by"),
])
def test_bad_paging_is_400(sim: Sim, listed: dict[str, Any], params: dict[str, Any], target: str) -> None:
    r = sim.api("GET", JOBS, params=params)
    assert r.status_code == 400
    assert r.json()["error"]["target"] == target


def test_max_records_1000_allowed(sim: Sim, listed: dict[str, Any]) -> None:
    assert _get(sim, max_records=1000)["num_records"] == 25


def test_next_link_keeps_query_and_reaches_the_end(sim: Sim, listed: dict[str, Any]) -> None:
    params = {"state": "completed|running", "name": "Create*", "order_by": "name asc", "max_records": 3,
              "fields": "key,name"}
    body = _get(sim, **params)
    seen = [j["key"] for j in body["records"]]
    pages = 1
    prefix = "/api/v2"
    url = sim.url + prefix + JOBS
    r = sim.http.get(url, params=params, auth=("admin", "Admin-pass-1"))
    body = r.json()
    seen_v2 = [j["key"] for j in body["records"]]
    while "next" in body["_links"]:
        href = body["_links"]["next"]["href"]
        assert href.startswith(prefix + JOBS + "?")
        query = parse_qs(urlsplit(href).query)
        assert query["state"] == ["completed|running"] and query["name"] == ["Create*"]
        assert query["order_by"] == ["name asc"] and query["fields"] == ["key,name"]
        assert query["max_records"] == ["3"] and query["offset"] == [str(len(seen_v2))]
        body = sim.http.get(sim.url + href, auth=("admin", "Admin-pass-1")).json()
        seen_v2 += [j["key"] for j in body["records"]]
        pages += 1
    assert pages == 7 and len(seen_v2) == 20 == len(set(seen_v2))
    assert seen_v2[:3] == seen
    names = [sim.job(k)["name"] for k in seen_v2]
    assert names == sorted(names)


def test_bulk_10000_jobs_paged_fast(sim: Sim, listed: dict[str, Any]) -> None:
    t0 = time.monotonic()
    keys = sim.ctl("POST", "/jobs", {"count": 10_000, "job": {"duration": 0.5, "status": "warning"},
                                     "spread": [0.2, 1.0], "seed": 7})["keys"]
    created_in = time.monotonic() - t0
    assert len(keys) == len(set(keys)) == 10_000
    assert created_in < 5, created_in
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0  # bulk jobs are set-up, not API traffic
    body = _get(sim, type="provision_lun_create", max_records=1000, order_by="submit_time desc")
    assert body["total_records"] == 10_000 + len(listed["lun"]) + len(listed["err"])
    got: list[str] = []
    server_times = []
    href: str | None = f"/api{JOBS}?max_records=1000&type=provision_lun_create"
    while href:
        r = sim.http.get(sim.url + href, auth=("operator", "Operator-pass-1"))
        assert r.status_code == 200
        server_times.append(r.elapsed.total_seconds())  # until the response headers arrived
        page = r.json()
        got += [j["key"] for j in page["records"]]
        href = page["_links"].get("next", {}).get("href")
    assert len(server_times) == 11
    assert len(got) == len(set(got)) == 10_015 and set(keys) <= set(got)
    assert got[:1000] == [j["key"] for j in body["records"]]
    # Pages of 1000 fresh (never rendered) running jobs: typically 20-40 ms on an idle 2-core box. The
    # bounds leave room for a machine shared with other work but still catch any per-page O(n^2).
    assert sorted(server_times)[len(server_times) // 2] < 0.1, server_times
    assert max(server_times) < 0.3, server_times
    # Default page over 10k jobs: newest first = the last bulk keys, in reverse creation order.
    start = time.monotonic()
    default = _get(sim)
    assert time.monotonic() - start < 0.1
    assert [j["key"] for j in default["records"]] == list(reversed(keys))[:20]
    # Spread: durations vary within [0.2, 1.0]; all finish by then.
    time.sleep(max(0.0, t0 + 1.05 - time.monotonic()))
    done = _get(sim, state="completed", status="warning", max_records=1)
    assert done["total_records"] == 10_000


def _epoch(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def test_history_of_a_type_ran_back_to_back_in_the_past(sim: Sim) -> None:
    """`ended_ago` makes finished jobs of a type, as the waiter's estimate reads them (issue 11)."""
    before = time.time()
    keys = sim.ctl("POST", "/jobs", {"count": 4, "job": {"type": "history_probe", "status": "normal"},
                                     "spread": [9.0, 11.0], "seed": 3, "ended_ago": 30})["keys"]
    page = _get(sim, type="history_probe", state="completed", max_records=5)
    records = page["records"]
    assert [r["key"] for r in records] == list(reversed(keys))  # newest first
    spans = [_epoch(r["complete_time"]) - _epoch(r["submit_time"]) for r in records]
    assert all(9.0 <= s <= 11.0 for s in spans) and len(set(spans)) == 4
    # Back to back: each one submitted when the one before it ended; the newest ended 30 s ago.
    for newer, older in zip(records, records[1:]):
        assert _epoch(newer["submit_time"]) == pytest.approx(_epoch(older["complete_time"]), abs=0.002)
    assert before - 30 - 0.01 <= _epoch(records[0]["complete_time"]) <= time.time() - 30 + 0.01
    # Task times lie within each job, as a finished job shows them.
    tasks = records[0]["task_reports"]
    assert tasks and all("start_time" in t and "complete_time" in t for t in tasks)
    assert _epoch(tasks[-1]["complete_time"]) == pytest.approx(_epoch(records[0]["complete_time"]), abs=0.002)


def test_running_job_shows_task_times_as_they_pass(sim: Sim) -> None:
    key = sim.start_job({"duration": 3.0, "type": "history_probe_running"})
    time.sleep(1.5)
    job = sim.api("GET", f"{JOBS}/{key}", user="operator").json()
    done = [t for t in job["task_reports"] if t.get("complete_time")]
    assert "complete_time" not in job and len(done) == 1 and done[0]["start_time"] == job["submit_time"]
    assert job["type"] == "history_probe_running"


@pytest.mark.parametrize("bad", [-1, "10", True])
def test_bad_ended_ago_is_400(sim: Sim, bad: Any) -> None:
    r = sim.http.request("POST", f"{sim.url}/_umsim/jobs", json={"count": 1, "ended_ago": bad}, timeout=30)
    assert r.status_code == 400 and "ended_ago" in r.text
