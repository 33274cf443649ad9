"""API surface: 202/201 endpoints under /api and /api/v2, resources, errors, auth and roles."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from umsim_testlib import KEY_RE, SVM1_KEY, VALUE_PSL_KEY, Sim, lun_body, share_body

JOB_ENDPOINTS = [
    ("POST", "/admin/backup", "Backup", "backup_create"),
    ("POST", "/datacenter/svm/svms", "Create SVM", "provision_svm_create"),
    ("PATCH", "/datacenter/svm/svms/{key}", "Modify SVM", "provision_svm_modify"),
    ("DELETE", "/datacenter/svm/svms/{key}", "Delete SVM", "provision_svm_delete"),
    ("POST", "/storage-provider/access-endpoints", "Create Access Endpoint", "provision_eth_endpoint_create"),
    ("PATCH", "/storage-provider/access-endpoints/{key}", "Modify Access Endpoint", "provision_eth_endpoint_modify"),
    ("DELETE", "/storage-provider/access-endpoints/{key}", "Delete Access Endpoint", "provision_eth_endpoint_delete"),
    ("POST", "/storage-provider/file-shares", "Create File Share", "provision_file_share_create"),
    ("PATCH", "/storage-provider/file-shares/{key}", "Modify File Share", "provision_file_share_modify"),
    ("DELETE", "/storage-provider/file-shares/{key}", "Delete File Share", "provision_file_share_delete"),
    ("POST", "/storage-provider/luns", "Create LUN", "provision_lun_create"),
    ("PATCH", "/storage-provider/luns/{key}", "Modify LUN", "provision_lun_modify"),
    ("DELETE", "/storage-provider/luns/{key}", "Delete LUN", "provision_lun_delete"),
]
RES_KEY = "4ea7a442-86d1-11e0-ae1c-123478563412:type=lun,uuid=d208cc7d-80a3-4755-93d4-5db2c38f55a6"
CLUSTER1_KEY = "4ea7a442-86d1-11e0-ae1c-000000000001:type=cluster,uuid=4ea7a442-86d1-11e0-ae1c-000000000001"


def made(sim: Sim, path: str, body: dict) -> str:
    """Create an object through its job (ending at once) and return its key from job_results."""
    job = sim.wait_done(sim.start_job({"duration": 0}, path=path, body=body))
    assert job["status"] == "normal", job
    return job["job_results"][0]["value"]


def write_body(sim: Sim, method: str, path: str) -> tuple[str, dict | None]:
    """A path with a real key and a body UM takes, for each job-starting endpoint."""
    if method == "DELETE":
        body = None
    elif path.startswith("/datacenter/svm/svms"):
        body = {"name": f"svm_{method.lower()}_{len(path)}_{time.monotonic_ns()}", "cluster": {"key": CLUSTER1_KEY}}
    elif path.startswith("/storage-provider/luns"):
        body = lun_body() if method == "POST" else {"space": {"size": 2 << 30}}
    elif path.startswith("/storage-provider/file-shares"):
        body = share_body() if method == "POST" else {"space": {"size": 2 << 30}}
    else:
        body = {"name": "x1"}
    key = RES_KEY
    if "{key}" in path and path.startswith("/storage-provider/luns"):
        key = made(sim, "/storage-provider/luns", lun_body())
    elif "{key}" in path and path.startswith("/storage-provider/file-shares"):
        key = made(sim, "/storage-provider/file-shares", share_body())
    sim.ctl("DELETE", "/counters")
    return path.replace("{key}", quote(key, safe="")), body


@pytest.mark.parametrize("prefix", ["/api", "/api/v2"])
@pytest.mark.parametrize("method,path,name,jtype", JOB_ENDPOINTS, ids=[f"{m} {p}" for m, p, *_rest in JOB_ENDPOINTS])
def test_job_endpoints_answer_202_with_job(sim: Sim, prefix: str, method: str, path: str, name: str,
                                           jtype: str) -> None:
    real_path, body = write_body(sim, method, path)
    kw = {} if body is None else {"json": body}
    params = {"force": "true"} if method == "DELETE" else None
    r = sim.api(method, real_path, prefix=prefix, params=params,
                headers={"X-UMSim-Job": json.dumps({"duration": 0.3})}, **kw)
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["job"] and set(body["job"]) == {"key", "_links"}
    key = body["job"]["key"]
    assert KEY_RE.match(key)
    assert body["job"]["_links"] == {"self": {"href": f"/api/management-server/jobs/{key}"}}
    job = sim.job(key)
    assert (job["name"], job["type"], job["state"], job["status"]) == (name, jtype, "running", "normal")
    counters = sim.ctl("GET", "/counters")
    assert counters["by_route"] == {f"{method} {path}": 1, "GET /management-server/jobs/{key}": 1}
    assert counters["jobs_created"] == 1


def test_job_keys_look_real(sim: Sim) -> None:
    keys = sim.ctl("POST", "/jobs", {"count": 50, "job": {"duration": 0.1}})["keys"]
    assert len(set(keys)) == 50
    for key in keys:
        assert KEY_RE.match(key) and key.count(":") == 3
    assert any("-" in k for k in keys)
    assert all(not k.startswith("-") for k in keys)  # the host id field is positive like UM's


def test_lun_lifecycle_resources_follow_jobs(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3}, body=lun_body("lun_a", size=1000))
    # Not visible before the job has succeeded.
    assert sim.api("GET", "/storage-provider/luns", params={"name": "/vol/*/lun_a"}).json()["num_records"] == 0
    job = sim.wait_done(key)
    assert job["status"] == "normal"
    results = {r["name"]: r["value"] for r in job["job_results"]}
    assert set(results) == {"lunKey", "volumeKey"}
    lun_key = results["lunKey"]
    assert ":type=lun,uuid=" in lun_key and ":type=volume,uuid=" in results["volumeKey"]
    listing = sim.api("GET", "/storage-provider/luns", params={"name": "/vol/AIQUM_lun_a/lun_a", "svm.name": "svm1",
                                                                "cluster.name": "cluster1"}, user="operator").json()
    assert listing["num_records"] == 1 and listing["total_records"] == 1
    [lun] = listing["records"]
    # Read differs from write: path name, nested svm/cluster/volume, assigned_* with names, a rounded size.
    assert lun["key"] == lun_key and lun["space"] == {"size": 4096}
    assert lun["svm"]["key"] == SVM1_KEY and lun["svm"]["name"] == "svm1" and lun["cluster"]["name"] == "cluster1"
    assert lun["volume"]["key"] == results["volumeKey"] and lun["volume"]["name"] == "AIQUM_lun_a"
    assert lun["assigned_performance_service_level"]["key"] == VALUE_PSL_KEY
    assert lun["assigned_performance_service_level"]["name"] == "Value"
    assert lun["assigned_storage_efficiency_policy"] == {"key": None, "name": "Unassigned"}
    assert lun["os_type"] == "linux" and lun["lun_maps"] == [] and "performance_service_level" not in lun
    one = sim.api("GET", f"/storage-provider/luns/{quote(lun_key, safe='')}", prefix="/api/v2").json()
    assert one["name"] == "/vol/AIQUM_lun_a/lun_a"
    assert one["_links"]["self"]["href"].startswith("/api/v2/storage-provider/luns/")
    # Modify then delete, each through a job.
    path = f"/storage-provider/luns/{quote(lun_key, safe='')}"
    sim.wait_done(sim.start_job({"duration": 0.3}, path=path, body={"space": {"size": 8193}}, method="PATCH"))
    assert sim.api("GET", path).json()["space"]["size"] == 12288
    r = sim.api("DELETE", path, params={"force": "true"}, headers={"X-UMSim-Job": '{"duration": 0.3}'})
    assert r.status_code == 202
    done = sim.wait_done(r.json()["job"]["key"])
    assert done["job_results"] == [{"name": "lunKey", "value": lun_key}]
    r = sim.api("GET", path)
    assert r.status_code == 404 and r.json()["error"]["target"] == "key"
    assert sim.api("DELETE", path).status_code == 404


def test_failed_job_creates_nothing(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3, "status": "error"}, path="/datacenter/svm/svms",
                        body={"name": "svm_fail", "cluster": {"key": CLUSTER1_KEY}})
    job = sim.wait_done(key)
    assert job["job_results"] == []
    assert sim.api("GET", "/datacenter/svm/svms", params={"name": "svm_fail"}).json()["records"] == []
    ok = sim.wait_done(sim.start_job({"duration": 0.3}, path="/datacenter/svm/svms",
                                     body={"name": "svm_ok", "cluster": {"key": CLUSTER1_KEY}}))
    assert ok["job_results"][0]["name"] == "svmKey"


@pytest.mark.parametrize("prefix", ["/api", "/api/v2"])
def test_datasource_post_is_synchronous_201(sim: Sim, prefix: str) -> None:
    address = f"10.0.0.{len(prefix)}"
    r = sim.api("POST", "/admin/datasources/clusters", prefix=prefix,
                json={"address": address, "username": "admin", "password": "secret", "port": 443})
    assert r.status_code == 201, r.text
    ds = r.json()
    assert "job" not in ds and ds["address"] == address and ds["name"] == address and "password" not in ds
    assert ds["operation"]["type"] == "discovery" and ds["operation"]["state"] == "in_progress"
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0
    got = sim.api("GET", f"/admin/datasources/clusters/{quote(ds['key'], safe='')}", prefix=prefix, user="operator")
    assert got.status_code == 200 and got.json()["key"] == ds["key"]
    listing = sim.api("GET", "/admin/datasources/clusters", prefix=prefix).json()
    assert ds["key"] in [d["key"] for d in listing["records"]]
    dup = sim.api("POST", "/admin/datasources/clusters", prefix=prefix,
                  json={"address": address, "username": "admin", "password": "x"})
    assert dup.status_code == 409 and dup.json()["error"]["target"] == "address"


@pytest.mark.parametrize("prefix", ["/api", "/api/v2"])
def test_data_placement_is_202_without_job(sim: Sim, prefix: str) -> None:
    r = sim.api("POST", "/storage-provider/data-placement", prefix=prefix, user="storage_admin",
                json={"capacity": "10GB", "performance_service_level": {"name": "Value"}})
    assert r.status_code == 202
    agg = r.json()
    assert "job" not in agg
    assert agg["name"] and ":type=aggregate," in agg["key"] and agg["_links"]["self"]["href"]
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0


def test_get_job_raw_and_encoded_key(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3})
    raw = sim.api("GET", f"/management-server/jobs/{key}")
    enc = sim.api("GET", f"/management-server/jobs/{key.replace(':', '%3A')}")
    enc_lower = sim.api("GET", f"/management-server/jobs/{key.replace(':', '%3a')}", prefix="/api/v2")
    assert raw.status_code == enc.status_code == enc_lower.status_code == 200
    assert raw.json()["key"] == enc.json()["key"] == enc_lower.json()["key"] == key
    assert sim.ctl("GET", "/counters")["by_job"] == {key: 3}


def test_unknown_job_404(sim: Sim) -> None:
    for key in ["2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4", "2c6002305af315d6%3A-1%3A2%3A-3"]:
        r = sim.api("GET", f"/management-server/jobs/{key}")
        assert r.status_code == 404
        err = r.json()["error"]
        assert err["target"] == "key" and isinstance(err["code"], str) and err["message"]


def test_job_object_fields(sim: Sim) -> None:
    key = sim.start_job({"duration": 0.3})
    running = sim.job(key)
    assert list(running) == ["key", "name", "type", "state", "status", "submit_time", "job_results",
                             "task_reports", "_links"]
    assert "complete_time" not in running
    done = sim.wait_done(key)
    assert list(done) == ["key", "name", "type", "state", "status", "submit_time", "complete_time", "job_results",
                          "task_reports", "_links"]
    assert done["_links"]["self"]["href"] == f"/api/management-server/jobs/{key}"
    for stamp in (done["submit_time"], done["complete_time"]):
        assert len(stamp) == len("2026-11-27T10:00:00.000+00:00") and stamp.endswith("+00:00") and stamp[19] == "."


def test_unknown_path_and_wrong_method(sim: Sim) -> None:
    r = sim.api("GET", "/storage-provider/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"]
    r = sim.api("GET", "/nothing", prefix="")
    assert r.status_code == 404 and "error" in r.json()
    for method, path in [("DELETE", "/management-server/jobs"), ("POST", "/management-server/jobs/1:2:3:4"),
                         ("GET", "/admin/backup"), ("PUT", "/storage-provider/luns"),
                         ("PUT", "/admin/datasources/clusters/x")]:
        r = sim.api(method, path, json={})
        assert r.status_code == 405, (method, path, r.status_code)
        assert r.json()["error"]["code"] and "Allow" in r.headers
    counters = sim.ctl("GET", "/counters")
    assert counters["by_status"] == {"404": 1, "405": 5}  # the bare /nothing is not an API request
    assert counters["by_route"]["GET (unknown)"] == 1


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null", "{not json", ""])
def test_body_must_be_json_object(sim: Sim, body: str) -> None:
    for path, method in [("/storage-provider/luns", "POST"), ("/storage-provider/luns/k1", "PATCH"),
                         ("/admin/datasources/clusters", "POST")]:
        r = sim.api(method, path, data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (method, path, body, r.text)
        assert r.json()["error"]["message"]
    assert sim.ctl("GET", "/counters")["jobs_created"] == 0


def test_backup_accepts_empty_body(sim: Sim) -> None:
    r = sim.api("POST", "/admin/backup", headers={"X-UMSim-Job": '{"duration": 0.3}'})
    assert r.status_code == 202
    job = sim.wait_done(r.json()["job"]["key"])
    assert job["job_results"][0]["name"] == "backupFileName"


def test_auth_401_without_or_with_bad_credentials(sim: Sim) -> None:
    url = f"{sim.url}/api/management-server/jobs"
    for auth in [None, ("admin", "wrong"), ("nobody", "Admin-pass-1")]:
        r = sim.http.get(url, auth=auth)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="umsim"'
        assert r.content == b""
    r = sim.http.get(url, headers={"Authorization": "Bearer abc"})
    assert r.status_code == 401
    assert sim.http.get(f"{sim.url}/_umsim/health").status_code == 200  # control channel: no auth


ROLE_CASES = [
    # (user, method, path, allowed)
    ("operator", "GET", "/management-server/jobs", True),
    ("operator", "GET", "/storage-provider/luns", True),
    ("operator", "POST", "/storage-provider/luns", False),
    ("operator", "PATCH", "/storage-provider/luns/k1", False),
    ("operator", "POST", "/admin/backup", False),
    ("operator", "POST", "/storage-provider/data-placement", False),
    ("storage_admin", "POST", "/storage-provider/luns", True),
    ("storage_admin", "DELETE", "/storage-provider/file-shares/k1", True),
    ("storage_admin", "POST", "/storage-provider/access-endpoints", True),
    ("storage_admin", "POST", "/storage-provider/data-placement", True),
    ("storage_admin", "POST", "/datacenter/svm/svms", False),
    ("storage_admin", "POST", "/admin/backup", False),
    ("storage_admin", "POST", "/admin/datasources/clusters", False),
    ("admin", "POST", "/datacenter/svm/svms", True),
    ("admin", "POST", "/admin/backup", True),
    ("admin", "POST", "/admin/datasources/clusters", True),
]


@pytest.mark.parametrize("user,method,path,allowed", ROLE_CASES)
def test_roles(sim: Sim, user: str, method: str, path: str, allowed: bool) -> None:
    case = ROLE_CASES.index((user, method, path, allowed))
    body = ({"address": f"192.0.2.{case}", "username": "u", "password": "p"} if "datasources" in path
            else {"name": f"r{case}"})
    if path == "/storage-provider/luns":
        body = lun_body()
    elif path == "/datacenter/svm/svms":
        body = {"name": f"svm_role_{user}", "cluster": {"key": CLUSTER1_KEY}}
    elif path.endswith("/k1") and path.startswith("/storage-provider/file-shares"):
        share = made(sim, "/storage-provider/file-shares", share_body())
        path = "/storage-provider/file-shares/" + quote(share, safe="")
        sim.ctl("DELETE", "/counters")
    r = sim.api(method, path, user=user, json=None if method in ("GET", "DELETE") else body,
                headers={"X-UMSim-Job": '{"duration": 0.3}'})
    if allowed:
        assert r.status_code in (200, 201, 202), r.text
    else:
        assert r.status_code == 403
        err = r.json()["error"]
        assert err["code"] and user in err["message"]
        assert sim.ctl("GET", "/counters")["jobs_created"] == 0


@pytest.mark.parametrize("accept", ["*/*", "application/json", None])
def test_accept_headers(sim: Sim, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    r = sim.api("GET", "/management-server/jobs", headers=headers)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("prefix", ["/api", "/api/v2"])
def test_rediscovery_answers_200_with_operation_id_that_is_a_job(sim: Sim, prefix: str) -> None:
    """UM's datasource rediscovery starts a job but answers 200 {"operationId": <job key>}, not 202 {"job": ...}."""
    ds = sim.api("POST", "/admin/datasources/clusters", prefix=prefix,
                 json={"address": f"cluster-a{len(prefix)}.example.com", "username": "admin", "password": "x"}).json()
    path = f"/management-server/admin/datasources/{quote(ds['key'], safe='')}/discover"
    r = sim.api("POST", path, prefix=prefix, headers={"X-UMSim-Job": json.dumps({"duration": 0.3})})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["operationId"] and KEY_RE.match(body["operationId"]), body
    assert sim.ctl("GET", "/counters")["jobs_created"] == 1
    job = sim.wait_done(body["operationId"])
    assert job["key"] == body["operationId"]
    assert (job["state"], job["status"], job["type"]) == ("completed", "normal", "datasource_discover")
    assert f"cluster-a{len(prefix)}" in job["name"]
    # A rule or header scripts it like any job; an unknown datasource is 404; only writers may start it.
    failed = sim.api("POST", path, prefix=prefix,
                     headers={"X-UMSim-Job": json.dumps({"duration": 0.1, "status": "error"})})
    assert sim.wait_done(failed.json()["operationId"])["status"] == "error"
    missing = sim.api("POST", "/management-server/admin/datasources/nope/discover", prefix=prefix)
    assert missing.status_code == 404 and missing.json()["error"]["target"] == "key"
    assert sim.api("POST", path, prefix=prefix, user="operator").status_code == 403
    assert sim.api("GET", path, prefix=prefix).status_code == 405
