"""GET /management-server/jobs: filters, paging, ordering, next links, 10,000 jobs."""

from __future__ import annotations

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
