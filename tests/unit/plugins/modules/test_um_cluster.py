# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_cluster: add and wait for the discovery and the cluster list, credentials, immutable port, rediscovery (a job
handle {"operationId": ...}), a failed discovery, removal; the cluster password never shown."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.modules import um_cluster
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, job

DS = "/admin/datasources/clusters"
CLUSTERS = "/datacenter/cluster/clusters"
KEY = "c9:type=cluster,uuid=c9"
JOB = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
SECRET = "Cluster-Secret-42"
ARGS = {"address": "Cluster9.Example.com", "cluster_username": "admin", "cluster_password": SECRET,
        "poll_interval": 1}


def ds(state="completed", username="admin", port=443, op="discovery", address="cluster9.example.com"):
    return {"key": KEY, "name": "cluster9" if state == "completed" else address, "address": address, "port": port,
            "protocol": "https", "username": username, "operation": {"type": op, "state": state},
            "status": "error" if state == "failed" else "normal",
            "status_message": "Cannot reach cluster9.example.com:443: connection timed out." if state == "failed"
            else "ok"}


def page(*records):
    return 200, {"records": list(records), "num_records": len(records)}


def writes(um):
    return [r for r in um.requests if r[0] != "GET"]


def test_add_waits_for_the_discovery_and_the_cluster_list(um, run_module):
    created = ds("in_progress", address="Cluster9.Example.com")
    done = dict(ds(), address="Cluster9.Example.com")
    um.script("GET", DS, page(), page(created), page(created), page(done))
    um.script("POST", DS, (201, created))
    um.script("GET", CLUSTERS, page(), page({"key": KEY, "name": "cluster9", "management_ip": "cluster9.example.com"}))
    code, result, out = run_module(um_cluster.main, dict(ARGS, _ansible_diff=True))
    assert code == 0 and result["changed"] is True, result
    assert writes(um) == [("POST", DS, {}, {"address": "Cluster9.Example.com", "port": 443, "protocol": "https",
                                            "username": "admin", "password": SECRET})]
    assert result["name"] == "cluster9" and result["key"] == KEY and result["cluster"]["name"] == "cluster9"
    assert result["datasource"]["operation"]["state"] == "completed"
    assert um.clock.slept > 0, "looked again after a pause"
    assert SECRET not in out and PASSWORD not in out
    assert result["diff"]["after"]["cluster_password"] == "(secret, not compared)"


def test_the_same_again_sends_nothing_and_a_host_name_matches_in_any_case(um, run_module):
    um.script("GET", DS, page(ds()), page(ds()))
    um.script("GET", CLUSTERS, page({"key": KEY, "name": "cluster9", "management_ip": "CLUSTER9.example.com."}))
    code, result, out = run_module(um_cluster.main, ARGS)
    assert code == 0 and result["changed"] is False and writes(um) == [] and SECRET not in out


def test_wait_false_still_waits_for_the_discovery_but_not_the_list(um, run_module):
    um.script("GET", DS, page(ds("in_progress")), page(ds("in_progress")), page(ds()))
    code, result, _out = run_module(um_cluster.main, dict(ARGS, wait=False))
    assert code == 0 and result["changed"] is False and result["cluster"] is None
    assert result["datasource"]["operation"]["state"] == "completed"
    assert not [r for r in um.requests if r[1] == CLUSTERS]


def test_a_failed_discovery_fails_with_ums_message_also_on_an_existing_datasource(um, run_module):
    um.script("GET", DS, page(ds("failed")), page(ds("failed")))
    code, result, out = run_module(um_cluster.main, ARGS)
    assert code == 1 and "connection timed out" in result["msg"] and "rediscover: true" in result["msg"]
    assert "\n" not in result["msg"] and SECRET not in out


def test_a_different_port_is_refused_with_nothing_sent(um, run_module):
    um.script("GET", DS, page(ds()))
    code, result, _out = run_module(um_cluster.main, dict(ARGS, port=8443))
    assert code == 1 and "port is 443" in result["msg"] and "nothing was sent" in result["msg"]
    assert writes(um) == []


def test_a_different_protocol_is_refused_with_nothing_sent(um, run_module):
    um.script("GET", DS, page(ds()))
    code, result, _out = run_module(um_cluster.main, dict(ARGS, protocol="http"))
    assert code == 1 and "protocol is https" in result["msg"] and "nothing was sent" in result["msg"]
    assert writes(um) == []


def test_a_new_username_goes_with_the_password_and_always_sends_it_once(um, run_module):
    um.script("GET", DS, page(ds(username="old")), page(ds()), page(ds()))
    um.script("GET", CLUSTERS, page({"key": KEY, "name": "cluster9", "management_ip": "cluster9.example.com"}))
    um.script("PATCH", f"{DS}/c9%3Atype%3Dcluster%2Cuuid%3Dc9", (200, ds()))
    code, result, out = run_module(um_cluster.main, dict(ARGS, update_password="always", _ansible_diff=True))
    assert code == 0 and result["changed"] is True, result
    assert [w[3] for w in writes(um)] == [{"username": "admin", "password": SECRET}]
    assert SECRET not in out and result["diff"]["before"]["cluster_username"] == "old"


def test_update_password_always_reports_changed_and_on_create_does_not(um, run_module):
    um.script("GET", DS, page(ds()), page(ds()), page(ds()), page(ds()), page(ds()))
    um.script("PATCH", f"{DS}/c9%3Atype%3Dcluster%2Cuuid%3Dc9", (200, ds()))
    code, result, out = run_module(um_cluster.main, dict(ARGS, update_password="always", wait=False))
    assert code == 0 and result["changed"] is True and [w[3] for w in writes(um)] == [{"password": SECRET}]
    assert SECRET not in out
    code, result, _out = run_module(um_cluster.main, dict(ARGS, wait=False))
    assert code == 0 and result["changed"] is False and len(writes(um)) == 1


def test_a_new_username_without_the_password_is_refused(um, run_module):
    um.script("GET", DS, page(ds(username="old")))
    code, result, _out = run_module(um_cluster.main, {"address": "cluster9.example.com", "cluster_username": "x"})
    assert code == 1 and "give cluster_password" in result["msg"] and writes(um) == []


def test_rediscover_waits_for_the_operation_id_job(um, run_module):
    um.script("GET", DS, page(ds()), page(ds()), page(ds()))
    um.script("POST", "/management-server/admin/datasources/c9%3Atype%3Dcluster%2Cuuid%3Dc9/discover",
              (200, {"operationId": JOB}))
    um.add(job(JOB, 2.0))
    code, result, _out = run_module(um_cluster.main, dict(ARGS, rediscover=True, wait=False))
    assert code == 0 and result["changed"] is True, result
    assert [j["step"] for j in result["jobs"]] == ["rediscover"] and result["jobs"][0]["state"] == "completed"
    assert [p["step"] for p in result["plan"]] == ["rediscover"]


def test_rediscover_in_check_mode_sends_nothing(um, run_module):
    um.script("GET", DS, page(ds("failed")))
    code, result, _out = run_module(um_cluster.main, dict(ARGS, rediscover=True), check_mode=True)
    assert code == 0 and result["changed"] is True and writes(um) == []


def test_absent_removes_and_waits_until_gone_then_absent_again(um, run_module):
    removing = ds(op="deletion", state="in_progress")
    um.script("GET", DS, page(ds()), page(removing), page(removing), page(), page(removing))
    um.script("DELETE", f"{DS}/c9%3Atype%3Dcluster%2Cuuid%3Dc9", (200, removing))
    code, result, _out = run_module(um_cluster.main, {"address": "cluster9.example.com", "state": "absent"})
    assert code == 0 and result["changed"] is True and result["datasource"] is None
    code, result, _out = run_module(um_cluster.main, {"address": "cluster9.example.com", "state": "absent"})
    assert code == 0 and result["changed"] is False


def test_the_timeout_bounds_the_wait_for_the_discovery(um, run_module):
    um.script("GET", DS, *[page(ds("in_progress"))] * 8)
    code, result, _out = run_module(um_cluster.main, dict(ARGS, timeout=5))
    assert code == 1 and "waiting for the discovery of cluster datasource" in result["msg"]
    assert result["timed_out"] is True
    um.routes.clear()


def test_a_fresh_discovery_ends_when_its_operation_says_so():
    assert not um_cluster.discovery_ended({"operation": {}}, fresh=True), "no operation yet: not begun"
    assert um_cluster.discovery_ended({"operation": {}}, fresh=False)
    assert not um_cluster.discovery_ended(ds("in_progress"), fresh=True)
    assert um_cluster.discovery_ended(ds("failed"), fresh=True) and um_cluster.discovery_ended(ds(), fresh=True)
    assert um_cluster.discovery_ended({"operation": {"type": "health_poll", "state": "completed"}}, fresh=True)
    assert not um_cluster.discovery_ended(ds(op="deletion", state="completed"), fresh=True)


def test_a_cluster_listed_by_ip_is_found_by_the_name_the_datasource_shows(um, run_module):
    listed = {"key": "other-key", "name": "cluster9", "management_ip": "10.1.2.3"}
    um.script("GET", DS, page(ds()), page(ds()))
    um.script("GET", CLUSTERS, page({"key": "k1", "name": "cluster1", "management_ip": "10.0.0.1"}, listed))
    code, result, _out = run_module(um_cluster.main, dict(ARGS, wait=True))
    assert code == 0 and result["cluster"] == listed and result["key"] == "other-key"
