"""Scripted job courses: statuses, styles, aborted/unknown states, tasks, results, children, rules."""

from __future__ import annotations

from urllib.parse import quote

import time
from datetime import datetime

import pytest

from umsim_testlib import Sim, lun_body


def _wait_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


def test_each_status_running_then_completed(sim: Sim) -> None:
    statuses = ["normal", "warning", "partial_failures", "error"]
    keys = {s: sim.start_job({"duration": 0.6, "status": s}) for s in statuses}
    for key in keys.values():
        job = sim.job(key)
        assert (job["state"], job["status"]) == ("running", "normal")
        assert "complete_time" not in job and job["job_results"] == []
    sim.wait_done(keys["error"])  # created last, so every other one has ended too
    for status, key in keys.items():
        job = sim.job(key)
        assert (job["state"], job["status"]) == ("completed", status)
        assert job["complete_time"] >= job["submit_time"]
        tasks = job["task_reports"]
        assert len(tasks) == 3 and all(t["state"] == "completed" for t in tasks)
        if status in ("error", "partial_failures"):
            assert tasks[-1]["status"] == "error" and status in tasks[-1]["failure_reason"]
            assert all("failure_reason" not in t for t in tasks[:-1])
        else:
            assert all("failure_reason" not in t for t in tasks)
        # Only an error creates nothing; partial failures still made the LUN.
        expected = [] if status == "error" else ["lunKey", "volumeKey"]
        assert [r["name"] for r in job["job_results"]] == expected


def test_task_reports_progress_evenly(sim: Sim) -> None:
    t0 = time.monotonic()
    key = sim.start_job({"duration": 1.2})
    seen = []
    for at in (0.2, 0.6, 1.0, 1.3):  # middle of task 1, 2, 3, then done
        _wait_until(t0 + at)
        seen.append([t["state"] for t in sim.job(key)["task_reports"]])
    assert seen == [["running", "pending", "pending"], ["completed", "running", "pending"],
                    ["completed", "completed", "running"], ["completed", "completed", "completed"]]
    tasks = sim.job(key)["task_reports"]
    assert [t["name"] for t in tasks] == ["Validate LUN request", "Create LUN", "Update inventory"]
    assert tasks[0]["complete_time"] == tasks[1]["start_time"]
    assert set(tasks[0]) == {"key", "name", "type", "description", "state", "status", "start_time", "complete_time"}


def test_prose_and_upper_styles(sim: Sim) -> None:
    prose = {s: sim.start_job({"duration": 0.4, "status": s, "style": "prose"})
             for s in ("normal", "error", "partial_failures", "warning")}
    upper = sim.start_job({"duration": 0.4, "status": "warning", "upper": True})
    upper_abort = sim.start_job({"duration": 0.4, "state": "aborted", "upper": True})
    assert sim.job(upper)["state"] == "RUNNING" and sim.job(upper)["status"] == "NORMAL"
    assert sim.job(prose["error"])["state"] == "running"
    sim.wait_done(upper_abort)
    for status, key in prose.items():
        job = sim.job(key)
        assert job["state"] == status.upper() and job["status"] == status and "complete_time" in job
    job = sim.job(upper)
    assert (job["state"], job["status"]) == ("COMPLETED", "WARNING")
    assert {t["state"] for t in job["task_reports"]} == {"COMPLETED"}
    assert sim.job(upper_abort)["state"] == "ABORTED"
    # Filters compare case-insensitively against what is sent.
    listing = sim.api("GET", "/management-server/jobs", params={"state": "normal|error", "max_records": 100}).json()
    assert {r["key"] for r in listing["records"]} >= {prose["normal"], prose["error"]}


def test_aborted_job(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3, "state": "aborted", "status": "error"})
    job = sim.wait_done(key)
    assert (job["state"], job["status"]) == ("aborted", "error") and "complete_time" in job
    assert job["task_reports"][-1]["state"] == "aborted"
    assert job["job_results"] == []


def test_unknown_state_never_completes(sim: Sim) -> None:
    t0 = time.monotonic()
    key = sim.start_job({"duration": 0.3, "state": "Suspended_By_Policy"})
    assert sim.job(key)["state"] == "running"
    _wait_until(t0 + 0.5)
    job = sim.job(key)
    assert job["state"] == "Suspended_By_Policy" and "complete_time" not in job
    # A long poll on it runs to its timeout: the job never becomes terminal.
    started = time.monotonic()
    held = sim.job(key, poll_timeout=1)
    assert held["state"] == "Suspended_By_Policy" and 0.95 < time.monotonic() - started < 1.5


def test_scripted_tasks_results_names(sim: Sim) -> None:
    script = {"duration": 0.3, "status": "partial_failures", "name": "Provision thing", "type": "custom_type",
              "tasks": [{"name": "one"}, {"name": "two", "description": "second", "status": "error",
                                          "failure_reason": "disk on fire"}],
              "results": [{"name": "fooKey", "value": "foo-1"}, {"name": "count", "value": 3}]}
    key = sim.start_job(script)
    running = sim.job(key)
    assert (running["name"], running["type"]) == ("Provision thing", "custom_type")
    job = sim.wait_done(key)
    assert job["status"] == "partial_failures"
    assert [(t["name"], t["description"], t["status"]) for t in job["task_reports"]] == [
        ("one", "one", "normal"), ("two", "second", "error")]
    assert job["task_reports"][1]["failure_reason"] == "disk on fire"
    assert job["job_results"] == [{"name": "fooKey", "value": "foo-1"}, {"name": "count", "value": "3"}]
    filtered = sim.api("GET", "/management-server/jobs", params={"type": "custom_type"}).json()
    assert [r["key"] for r in filtered["records"]] == [key]


def test_children_and_spawned_job_summary(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.5, "status": "error", "children": 3})
    parent = sim.job(key)
    assert parent["spawned_job_summary"] == {"total_jobs": 3, "running_jobs": 3, "completed_jobs": 0,
                                             "successful_jobs": 0, "failed_jobs": 0, "aborted_jobs": 0}
    kids = sim.api("GET", "/management-server/jobs", params={"parent_job_key": key}).json()
    assert kids["total_records"] == 3
    assert all(k["parent_job_key"] == key and k["state"] == "running" for k in kids["records"])
    parent = sim.wait_done(key)
    assert parent["spawned_job_summary"] == {"total_jobs": 3, "running_jobs": 0, "completed_jobs": 3,
                                             "successful_jobs": 2, "failed_jobs": 1, "aborted_jobs": 0}
    kids = sim.api("GET", "/management-server/jobs", params={"parent_job_key": key, "status": "error"}).json()
    assert kids["num_records"] == 1 and kids["records"][0]["task_reports"][0]["failure_reason"]
    child = sim.job(kids["records"][0]["key"])
    assert child["parent_job_key"] == key and "spawned_job_summary" not in child
    aborted = sim.wait_done(sim.start_job({"duration": 0.3, "state": "aborted", "children": 2}))
    assert aborted["spawned_job_summary"]["aborted_jobs"] == 1
    assert aborted["spawned_job_summary"]["successful_jobs"] == 1
    assert sim.ctl("GET", "/counters")["jobs_created"] == 2  # children are not API-created jobs


@pytest.mark.parametrize("header", ['{"duration": -1}', '{"status": 3}', '{"bogus": 1}', "[1]", "{nope",
                                    '{"style": "poetry"}', '{"children": 1.5}', '{"tasks": [{"status": "error"}]}'])
def test_invalid_script_header_is_400(sim: Sim, header: str) -> None:
    r = sim.api("POST", "/storage-provider/luns", json={"name": "x"}, headers={"X-UMSim-Job": header})
    assert r.status_code == 400
    assert r.json()["error"]["target"] == "X-UMSim-Job"
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0


def test_rules_glob_on_name_header_overrides(sim: Sim) -> None:
    sim.ctl("POST", "/rules", {"method": "POST", "path": "/storage-provider/luns", "name": "demo-err*",
                               "job": {"status": "error", "duration": 0.3}})
    sim.ctl("POST", "/rules", [{"path": "/storage-provider/file-shares/*",
                                "job": {"status": "warning", "duration": 0.3}},
                               {"method": "post", "job": {"duration": 0.3, "name": "Fallback"}}])
    assert len(sim.ctl("GET", "/rules")["rules"]) == 3
    err = sim.start_job(body=lun_body("demo-err-1"))
    ok = sim.start_job(body=lun_body("demo-ok-1"))  # falls through to the catch-all POST rule
    v2 = sim.api("POST", "/storage-provider/luns", prefix="/api/v2", json=lun_body("demo-errX")).json()["job"]["key"]
    hdr = sim.start_job({"status": "warning"}, body=lun_body("demo-err-2"))  # header wins field by field
    share = sim.wait_done(sim.start_job(path="/storage-provider/file-shares"))["job_results"][0]["value"]
    fs = sim.start_job(path=f"/storage-provider/file-shares/{quote(share, safe='')}", method="PATCH",
                       body={"space": {"size": 2 << 30}})
    assert sim.job(ok)["name"] == "Fallback"
    sim.wait_done(fs)
    assert sim.job(err)["status"] == "error"
    assert sim.job(v2)["status"] == "error"
    assert sim.job(ok)["status"] == "normal"
    assert (sim.job(hdr)["status"], sim.job(hdr)["state"]) == ("warning", "completed")  # duration from the rule
    assert sim.job(fs)["status"] == "warning"
    sim.ctl("DELETE", "/rules")
    assert sim.ctl("GET", "/rules")["rules"] == []
    assert sim.job(sim.start_job(body=lun_body("demo-err-3")))["state"] == "running"  # default 2 s again


def test_invalid_rules_rejected_atomically(sim: Sim) -> None:
    r = sim.http.post(f"{sim.url}/_umsim/rules", json=[{"path": "/a", "job": {}}, {"job": {"status": 1}}])
    assert r.status_code == 400 and "error" in r.json()
    r = sim.http.post(f"{sim.url}/_umsim/rules", json={"pathh": "/a"})
    assert r.status_code == 400
    assert sim.ctl("GET", "/rules")["rules"] == []


def test_default_duration_is_two_seconds(sim: Sim) -> None:
    t0 = time.monotonic()
    key = sim.start_job()
    job = sim.wait_done(key)
    assert 1.9 < time.monotonic() - t0 < 2.3
    assert job["state"] == "completed" and job["status"] == "normal"
    delta = datetime.fromisoformat(job["complete_time"]) - datetime.fromisoformat(job["submit_time"])
    assert abs(delta.total_seconds() - 2.0) < 0.002


def test_serialized_job_cache_follows_phases() -> None:
    """The per-phase JSON cache must always equal a fresh rendering (model level, no server)."""
    import json as _json

    from umsim_model import JobDefaults, JobScript, KeyGen, build_jobs

    keygen = KeyGen(0x2C6002305AF315D6, lambda key: False)
    defaults = JobDefaults("Create LUN", "provision_lun_create", "Create", "LUN", "lunKey", "k1")
    t0 = 1_800_000_000.0
    for script in (JobScript(duration=3.0, status="error"), JobScript(duration=3.0, style="prose", upper=True),
                   JobScript(duration=3.0, state="weird"), JobScript(duration=3.0, children=2)):
        jobs = build_jobs(script, defaults, keygen, t0)
        by_key = {j.key: j for j in jobs}
        job = jobs[0]
        phases = []
        for offset in (0.0, 0.5, 0.99, 1.0, 1.5, 2.5, 2.999, 3.0, 10.0, 0.5):
            now = t0 + offset
            cached = _json.loads(job.render_json(now, by_key.get))
            fresh = jobs[0].__class__.from_record(job.seq, job.to_record()).render(now, by_key.get)
            assert cached == fresh, (script, offset)
            phases.append(job.phase(now))
        assert phases == [1, 1, 1, 2, 2, 3, 3, 4, 4, 1]
