"""ONTAP through UM's API gateway: GET /gateways, ONTAP jobs and their states, forgetting, return_timeout, Date."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from umsim_testlib import Sim

CLUSTER1 = "4ea7a442-86d1-11e0-ae1c-000000000001"
VOLUMES = f"/gateways/{CLUSTER1}/storage/volumes"
JOBS = f"/gateways/{CLUSTER1}/cluster/jobs"


def _create(sim: Sim, name: str, script: dict | None = None, **params: str) -> tuple[int, dict]:
    headers = {"X-UMSim-Ontap-Job": json.dumps(script)} if script else {}
    r = sim.api("POST", VOLUMES, json={"name": name, "svm": {"name": "svm1"}, "aggregates": [{"name": "aggr1"}]},
                headers=headers, params=params)
    return r.status_code, r.json()


def test_gateways_list_the_seeded_clusters(sim: Sim) -> None:
    body = sim.api("GET", "/gateways", user="operator").json()
    assert {g["uuid"] for g in body["records"]} >= {CLUSTER1, "4ea7a442-86d1-11e0-ae1c-000000000002"}
    for gateway in body["records"]:
        assert gateway["type"] == "ONTAP" and gateway["_links"]["self"]["href"].startswith("/api/gateways/")
    assert sim.api("GET", "/gateways", params={"name": "cluster2"}).json()["num_records"] == 1


def test_volume_create_runs_an_ontap_job(sim: Sim) -> None:
    status, body = _create(sim, "gw_vol1", {"duration": 0.6, "queued": 0.2, "paused": 0.4})
    assert status == 202 and list(body) == ["job"]
    uuid = body["job"]["uuid"]
    assert body["job"]["_links"]["self"]["href"] == f"/api/gateways/{CLUSTER1}/cluster/jobs/{uuid}"
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job = sim.api("GET", f"{JOBS}/{uuid}").json()
        seen.append(job["state"])
        if job["state"] in ("success", "failure"):
            break
        time.sleep(0.05)
    assert seen[0] == "queued" and "running" in seen and "paused" in seen and seen[-1] == "success", seen
    assert set(job) == {"uuid", "description", "state", "message", "code", "start_time", "end_time", "_links"}
    names = [v["name"] for v in sim.api("GET", VOLUMES).json()["records"]]
    assert "gw_vol1" in names
    # The collection answers only uuid by default; fields= selects; uuid=a|b filters.
    listing = sim.api("GET", JOBS, params={"uuid": f"{uuid}|nope"}).json()
    assert [set(r) for r in listing["records"]] == [{"uuid", "_links"}]
    full = sim.api("GET", JOBS, params={"uuid": uuid, "fields": "state,message"}).json()["records"][0]
    assert full["state"] == "success" and full["message"] and "end_time" not in full
    # A duplicate name fails after its 202, with ONTAP's message and code.
    _status, dup = _create(sim, "gw_vol1", {"duration": 0.1})
    time.sleep(0.2)
    failed = sim.api("GET", f"{JOBS}/{dup['job']['uuid']}").json()
    assert failed["state"] == "failure" and "Duplicate" in failed["message"] and failed["code"] != 0


def test_forgotten_jobs_and_the_two_kinds_of_404(sim: Sim) -> None:
    sim.ctl("POST", "/config", {"ontap_job_retention": 0.3})
    _status, body = _create(sim, "gw_vol2", {"duration": 0.1})
    uuid = body["job"]["uuid"]
    time.sleep(0.2)
    assert sim.api("GET", f"{JOBS}/{uuid}").json()["state"] == "success"
    time.sleep(0.4)
    ontap = sim.api("GET", f"{JOBS}/{uuid}")
    assert ontap.status_code == 404 and ontap.json()["error"]["code"] == "4"
    um = sim.api("GET", "/gateways/00000000-0000-0000-0000-000000000000/cluster/jobs/x")
    assert um.status_code == 404 and um.json()["error"]["code"] == "entity_not_found"
    assert um.json()["error"]["target"] == "cluster_uuid"


def test_return_timeout_holds_the_call(sim: Sim) -> None:
    start = time.monotonic()
    status, _body = _create(sim, "gw_vol3", {"duration": 0.5}, return_timeout="5")
    assert status == 201 and 0.4 <= time.monotonic() - start < 2
    status, _body = _create(sim, "gw_vol4", {"duration": 3}, return_timeout="1")
    assert status == 202
    status, err = _create(sim, "gw_vol5", {"duration": 0.2, "state": "failure", "message": "no space"},
                          return_timeout="3")
    assert status == 400 and err["error"]["message"] == "no space"
    for bad in ("121", "-1", "soon"):
        status, err = _create(sim, "gw_bad", None, return_timeout=bad)
        assert status == 400 and err["error"]["target"] == "return_timeout"


@pytest.mark.parametrize("skew", [-3600, 7200])
def test_date_header_follows_the_cluster_clock(sim: Sim, skew: int) -> None:
    sim.ctl("POST", "/config", {"clock_skew": {"cluster1": skew}})
    r = sim.api("GET", JOBS)
    told = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
    assert abs(told - (time.time() + skew)) < 3
    counters = sim.ctl("GET", "/counters")["by_route"]
    assert counters["GET /gateways/{cluster_uuid}/cluster/jobs"] == 1


def test_gateway_writes_need_the_application_administrator(sim: Sim) -> None:
    r = sim.api("POST", VOLUMES, user="storage_admin", json={"name": "x", "svm": {"name": "svm1"}})
    assert r.status_code == 403
