"""The object model: write checks, one attribute per PATCH, failures after 202, catalogs, datasources, operators."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from umsim_testlib import SVM1_KEY, VALUE_PSL_KEY, Sim, lun_body, share_body

PERF_PSL_KEY = "1b9e84ba-3f1c-4fa8-9f5c-000000000002"


def _made(sim: Sim, path: str, body: dict) -> dict:
    job = sim.wait_done(sim.start_job({"duration": 0}, path=path, body=body))
    return {r["name"]: r["value"] for r in job["job_results"]}


@pytest.mark.parametrize("body,target", [
    ({"name": "x", "os_type": "linux", "svm": {"key": SVM1_KEY}, "space": {"size": 1, "unit": "gb"},
      "performance_service_level": {"key": VALUE_PSL_KEY}}, "space.unit"),
    ({"name": "x", "os_type": "linux", "space": {"size": 1}, "performance_service_level": {"key": VALUE_PSL_KEY}},
     "svm.key"),
    ({"name": "x", "os_type": "linux", "svm": {"key": "nope"}, "space": {"size": 1},
      "performance_service_level": {"key": VALUE_PSL_KEY}}, "svm.key"),
    (lun_body("x", performance_service_level={"key": "nope"}), "performance_service_level.key"),
    ({**lun_body("x"), "size": 1}, "size"),
    ({k: v for k, v in lun_body("x").items() if k != "os_type"}, "os_type"),
])
def test_lun_post_400_names_the_target(sim: Sim, body: dict, target: str) -> None:
    r = sim.api("POST", "/storage-provider/luns", json=body)
    assert r.status_code == 400 and r.json()["error"]["target"] == target, r.text
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0


def test_duplicate_name_fails_after_202_and_patch_rules(sim: Sim) -> None:
    made = _made(sim, "/storage-provider/file-shares", share_body("fs_dup"))
    key = made["fileshareKey"]
    dup = sim.wait_done(sim.start_job({"duration": 0.1}, path="/storage-provider/file-shares",
                                      body=share_body("fs_dup")))
    assert dup["status"] == "error" and dup["job_results"] == []
    assert "already exists" in dup["task_reports"][-1]["failure_reason"]
    path = f"/storage-provider/file-shares/{quote(key, safe='')}"
    two = sim.api("PATCH", path, json={"space": {"size": 4 << 30}, "performance_service_level": {"key": PERF_PSL_KEY}})
    assert two.status_code == 400 and two.json()["error"]["target"] == "body"
    shrink = sim.wait_done(sim.start_job({"duration": 0.1}, path=path, method="PATCH", body={"space": {"size": 4096}}))
    assert shrink["status"] == "error" and "cannot be reduced" in shrink["task_reports"][-1]["failure_reason"]
    sim.wait_done(sim.start_job({"duration": 0.1}, path=path, method="PATCH",
                                body={"performance_service_level": {"key": PERF_PSL_KEY}}))
    rec = sim.api("GET", path).json()
    assert rec["assigned_performance_service_level"]["name"] == "Performance" and rec["space"]["size"] == 1 << 30
    # The level is now in use: it shows a workload and cannot be deleted (and system-defined ones never).
    level = sim.api("GET", f"/storage-provider/performance-service-levels/{PERF_PSL_KEY}").json()
    assert level["workload_count"] >= 1 and level["system_defined"] is True
    assert sim.api("DELETE", f"/storage-provider/performance-service-levels/{PERF_PSL_KEY}").status_code == 400


def test_user_defined_level_and_policy_crud(sim: Sim) -> None:
    base = "/storage-provider/performance-service-levels"
    body = {"name": "Gold-t", "latency": {"expected": 3},
            "iops": {"absolute_min_iops": 100, "expected_iops_per_tb": 1000, "peak_iops_per_tb": 2000}}
    r = sim.api("POST", base, json=body)
    assert r.status_code == 201 and r.json()["system_defined"] is False and r.json()["workload_count"] == 0
    key = r.json()["key"]
    assert sim.api("POST", base, json=body).status_code == 409
    assert sim.api("GET", base, params={"name": "gold-t"}).json()["num_records"] == 1
    r = sim.api("PATCH", f"{base}/{key}", json={"description": "changed"})
    assert r.status_code == 200 and r.json()["description"] == "changed"
    assert sim.api("DELETE", f"{base}/{key}").status_code == 200
    assert sim.api("GET", f"{base}/{key}").status_code == 404
    seps = "/storage-provider/storage-efficiency-policies"
    r = sim.api("POST", seps, json={"name": "sep-t", "compression": "inline", "deduplication": "none"})
    assert r.status_code == 201 and r.json()["space_thin_provisioned"] is True
    assert sim.api("POST", seps, json={"name": "sep-u", "compression": "sometimes"}).status_code == 400
    assert sim.api("GET", seps, params={"system_defined": "true"}).json()["num_records"] == 2


def test_datasource_discovery_patch_delete(sim: Sim) -> None:
    sim.ctl("POST", "/config", {"discovery": 0.3})
    ds = sim.api("POST", "/admin/datasources/clusters",
                 json={"address": "lab7.example.com", "username": "admin", "password": "pw"}).json()
    bad = sim.api("POST", "/admin/datasources/clusters",
                  json={"address": "192.0.2.9", "username": "admin", "password": "pw"}).json()
    assert ds["operation"]["state"] == bad["operation"]["state"] == "in_progress" and "password" not in ds
    assert sim.api("GET", "/datacenter/cluster/clusters", params={"name": "lab7"}).json()["num_records"] == 0
    time.sleep(0.4)
    path = f"/admin/datasources/clusters/{quote(ds['key'], safe='')}"
    got = sim.api("GET", path).json()
    assert got["operation"]["state"] == "completed" and got["name"] == "lab7"
    failed = sim.api("GET", f"/admin/datasources/clusters/{quote(bad['key'], safe='')}").json()
    assert failed["operation"]["state"] == "failed" and failed["status"] == "error" and failed["status_message"]
    assert sim.api("GET", "/datacenter/cluster/clusters", params={"name": "lab7"}).json()["num_records"] == 1
    assert sim.api("PATCH", path, json={"port": 8443}).status_code == 400
    patched = sim.api("PATCH", path, json={"username": "other", "password": "pw2"})
    assert patched.status_code == 200 and patched.json()["username"] == "other" and "password" not in patched.json()
    gone = sim.api("DELETE", path)
    assert gone.status_code == 200 and gone.json()["operation"]["type"] == "deletion"
    time.sleep(0.4)
    assert sim.api("GET", path).status_code == 404
    assert sim.api("GET", "/datacenter/cluster/clusters", params={"name": "lab7"}).json()["num_records"] == 0


def test_comparison_operators_on_times_and_numbers(sim: Sim) -> None:
    key = sim.wait_done(sim.start_job({"duration": 0}))["key"]
    job = sim.job(key)
    stamp = job["submit_time"]
    jobs = "/management-server/jobs"
    assert key in [j["key"] for j in sim.api("GET", jobs, params={"submit_time": f">={stamp}"}).json()["records"]]
    assert key not in [j["key"] for j in sim.api("GET", jobs, params={"submit_time": f">{stamp}"}).json()["records"]]
    shifted = stamp[:-6] + "+05:30"  # the same wall-clock text five and a half hours earlier as an instant
    assert sim.api("GET", jobs, params={"key": key, "submit_time": f"<{shifted}"}).json()["num_records"] == 0
    assert sim.api("GET", jobs, params={"key": key, "submit_time": f"2000-01-01T00:00:00+00:00..{stamp}"}
                   ).json()["num_records"] == 1
    for params, target in [({"submit_time": ">yesterday"}, "submit_time"), ({"name": ">a"}, "name"),
                           ({"submit_time": ">2026-01-01T00:00:00"}, "submit_time")]:
        r = sim.api("GET", jobs, params=params)
        assert r.status_code == 400 and r.json()["error"]["target"] == target, r.text
    luns = "/storage-provider/luns"
    _made(sim, luns, lun_body("big_op", size=10 << 30))
    assert sim.api("GET", luns, params={"space.size": f">{9 << 30}", "name": "*/big_op"}).json()["num_records"] == 1
    assert sim.api("GET", luns, params={"space.size": f"<{9 << 30}", "name": "*/big_op"}).json()["num_records"] == 0
    assert sim.api("GET", luns, params={"space.size": "lots"}).status_code == 400
    assert sim.api("GET", luns, params={"colour": "red"}).json()["error"]["target"] == "colour"


def test_objects_and_the_seed_survive_a_restart(start_sim, tmp_path) -> None:
    state = tmp_path / "st"
    sim = start_sim(state_dir=state)
    key = _made(sim, "/storage-provider/luns", lun_body("kept"))["lunKey"]
    assert sim.stop() == 0
    again = start_sim(state_dir=state)
    record = again.api("GET", f"/storage-provider/luns/{quote(key, safe='')}").json()
    assert record["name"] == "/vol/AIQUM_kept/kept" and record["svm"]["key"] == SVM1_KEY
    datasources = again.api("GET", "/admin/datasources/clusters").json()["records"]
    assert sorted(d["name"] for d in datasources) == ["cluster1", "cluster2"]  # the seed is written once
