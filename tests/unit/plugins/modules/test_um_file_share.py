# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_file_share: main() with module args, the real client and waiter against the scripted UM on a fake clock."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.modules import um_file_share
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, job, warnings_of

GIB = 1024 ** 3
SHARES = "/storage-provider/file-shares"
SVMS = "/datacenter/svm/svms"
PSLS = "/storage-provider/performance-service-levels"
K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff3"
SVM1 = "c1:type=vserver,uuid=s1"
FS_KEY = "c1:type=volume,uuid=v1"
ARGS = {"name": "fs1", "svm": "svm1", "cluster": "cluster1", "size": 1, "performance_service_level": "Value"}


def record(size=GIB, psl=("Value", "p3")):
    return {"key": FS_KEY, "name": "fs1", "svm": {"key": SVM1, "name": "svm1"},
            "cluster": {"key": "c1", "name": "cluster1"}, "space": {"size": size},
            "assigned_performance_service_level": {"key": psl[1], "name": psl[0]},
            "assigned_storage_efficiency_policy": {"key": None, "name": "Unassigned"}}


def page(*records):
    return 200, {"records": list(records), "num_records": len(records)}


def accepted(key):
    return 202, {"job": {"key": key, "_links": {"self": {"href": "/api/management-server/jobs/" + key}}}}


def writes(um):
    return [r for r in um.requests if r[0] != "GET"]


def test_create_resolves_waits_and_returns_the_new_share(um, run_module):
    um.script("GET", SHARES, page(), page(record()))
    um.script("GET", SVMS, page({"key": SVM1, "name": "svm1", "cluster": {"name": "cluster1"}}))
    um.script("GET", PSLS, page({"key": "p3", "name": "Value"}, {"key": "p1", "name": "Extreme"}))
    um.script("POST", SHARES, accepted(K1))
    um.add(job(K1, 0.5, final={"job_results": [{"name": "fileshareKey", "value": FS_KEY}]}))
    code, result, out = run_module(um_file_share.main, dict(ARGS, acl=[{"user_or_group": "everyone",
                                                                        "permission": "read"}]))
    assert code == 0 and result["changed"] is True, result
    assert writes(um) == [("POST", SHARES, {}, {"name": "fs1", "svm": {"key": SVM1}, "space": {"size": GIB},
                                                "performance_service_level": {"key": "p3"},
                                                "access_control": {"acl": [{"user_or_group": "everyone",
                                                                            "permission": "read"}]}})]
    find = um.requests[0]
    assert find[1] == SHARES and find[2]["name"] == "fs1" and find[2]["svm.name"] == "svm1" \
        and find[2]["cluster.name"] == "cluster1"
    assert um.requests[-1][1] == SHARES and um.requests[-1][2]["key"] == FS_KEY, "read again by the job's key"
    assert result["key"] == FS_KEY and result["file_share"]["space"]["size"] == GIB
    assert [j["step"] for j in result["jobs"]] == ["create"] and result["jobs"][0]["status"] == "normal"
    assert result["outputs"] == {"fileshareKey": FS_KEY}
    assert "diff" not in result and PASSWORD not in out


def test_unchanged_costs_one_list_request(um, run_module):
    um.script("GET", SHARES, page(record(size=GIB + 4096)))
    code, result, _out = run_module(um_file_share.main, ARGS)
    assert code == 0 and result["changed"] is False and result["jobs"] == []
    assert len(um.requests) == 1 and result["key"] == FS_KEY
    assert "as asked" in result["msg"]


def test_check_mode_with_diff_sends_no_write(um, run_module):
    um.script("GET", SHARES, page(record()))
    args = dict(ARGS, size=2, _ansible_diff=True)
    code, result, _out = run_module(um_file_share.main, args, check_mode=True)
    assert code == 0 and result["changed"] is True and writes(um) == []
    assert result["diff"]["before"]["size"] == GIB and result["diff"]["after"]["size"] == 2 * GIB
    assert [p["step"] for p in result["plan"]] == ["size"] and "check mode" in result["msg"]


def test_two_attributes_two_patches_the_second_after_the_first_job_ended(um, run_module):
    um.script("GET", SHARES, page(record()), page(record(size=2 * GIB)),
              page(record(size=2 * GIB, psl=("Extreme", "p1"))))
    um.script("GET", PSLS, page({"key": "p3", "name": "Value"}, {"key": "p1", "name": "Extreme"}))
    um.script("PATCH", SHARES + "/" + FS_KEY.replace(":", "%3A").replace("=", "%3D").replace(",", "%2C"),
              accepted(K1), accepted(K2))
    um.add(job(K1, 3.0), job(K2, 3.0))
    code, result, _out = run_module(um_file_share.main, dict(ARGS, size=2, performance_service_level="Extreme",
                                                             _ansible_diff=True))
    assert code == 0 and result["changed"] is True, result
    assert [w[3] for w in writes(um)] == [{"space": {"size": 2 * GIB}}, {"performance_service_level": {"key": "p1"}}]
    # The second PATCH went out after the first job had ended: every poll of K1 precedes it.
    k1_polls = [c for c in um.calls if c.keys == (K1,)]
    k2_polls = [c for c in um.calls if c.keys == (K2,)]
    assert k1_polls and k2_polls and max(c.end for c in k1_polls) <= min(c.start for c in k2_polls)
    assert [j["step"] for j in result["jobs"]] == ["size", "performance_service_level"]
    assert result["diff"]["after"]["performance_service_level"] == "Extreme"


def test_a_failed_job_fails_the_task_with_its_reason(um, run_module):
    um.script("GET", SHARES, page(record()))
    um.script("PATCH", SHARES + "/" + FS_KEY.replace(":", "%3A").replace("=", "%3D").replace(",", "%2C"), accepted(K1))
    um.add(job(K1, 1.0, status="error", final={"task_reports": [
        {"name": "Resize", "status": "error", "failure_reason": "Aggregate aggr1 is full."}]}))
    code, result, out = run_module(um_file_share.main, dict(ARGS, size=3))
    assert code == 1 and "Aggregate aggr1 is full." in result["msg"] and "step 'size" in result["msg"]
    assert result["changed"] is False and result["jobs"][0]["status"] == "error"
    assert PASSWORD not in out


def test_shrink_and_unknown_names_fail_with_nothing_sent(um, run_module):
    um.script("GET", SHARES, page(record(size=2 * GIB)))
    code, result, _out = run_module(um_file_share.main, ARGS)
    assert code == 1 and "cannot shrink" in result["msg"] and writes(um) == []


def test_wait_false_returns_the_job_key(um, run_module):
    um.script("GET", SHARES, page(record()))
    um.script("PATCH", SHARES + "/" + FS_KEY.replace(":", "%3A").replace("=", "%3D").replace(",", "%2C"), accepted(K1))
    code, result, _out = run_module(um_file_share.main, dict(ARGS, size=2, wait=False))
    assert code == 0 and result["changed"] is True and result["job_key"] == K1 and result["pending"] == [K1]
    assert not [c for c in um.calls if c.keys == (K1,)], "the last job is not waited"
    assert "um_job_wait" in result["msg"] and not warnings_of(result)


def test_an_export_policy_string_is_a_key_or_a_name_tag():
    assert um_file_share.export_policy("c1:type=export_policy,uuid=9") == {"key": "c1:type=export_policy,uuid=9"}
    assert um_file_share.export_policy("web") == {"name_tag": "web"}
    assert um_file_share.export_policy({"name_tag": "x", "rules": []}) == {"name_tag": "x", "rules": []}
