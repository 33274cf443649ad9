# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_lun: main() with module args, the real client and waiter against the scripted UM on a fake clock."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.modules import um_lun
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, job

GIB = 1024 ** 3
LUNS = "/storage-provider/luns"
SVMS = "/datacenter/svm/svms"
PSLS = "/storage-provider/performance-service-levels"
IGROUPS = "/datacenter/protocols/san/igroups"
K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
SVM1 = "c1:type=vserver,uuid=s1"
LUN_KEY = "c1:type=lun,uuid=l1"
LUN_PATH = LUNS + "/" + LUN_KEY.replace(":", "%3A").replace("=", "%3D").replace(",", "%2C")
IG1 = "c1:type=lun_igroup,uuid=g1"
IG2 = "c1:type=lun_igroup,uuid=g2"
ARGS = {"name": "l1", "svm": "svm1", "cluster": "cluster1", "size": 1, "os_type": "linux",
        "performance_service_level": "Value"}


def record(path="/vol/v1/l1", key=LUN_KEY, os_type="linux", maps=(("ig_linux", IG1, 0),)):
    return {"key": key, "name": path, "svm": {"key": SVM1, "name": "svm1"}, "cluster": {"key": "c1", "name": "cluster1"},
            "volume": {"key": "v1", "name": path.split("/")[2]}, "space": {"size": GIB}, "os_type": os_type,
            "assigned_performance_service_level": {"key": "p3", "name": "Value"},
            "assigned_storage_efficiency_policy": {"key": None, "name": "Unassigned"},
            "lun_maps": [{"igroup": {"key": k, "name": n}, "logical_unit_number": u} for n, k, u in maps]}


def page(*records):
    return 200, {"records": list(records), "num_records": len(records)}


def accepted(key):
    return 202, {"job": {"key": key, "_links": {"self": {"href": "/api/management-server/jobs/" + key}}}}


def writes(um):
    return [r for r in um.requests if r[0] != "GET"]


def test_found_by_the_last_segment_of_its_path_even_in_a_qtree(um, run_module):
    um.script("GET", LUNS, page(record(path="/vol/v1/q1/l1"), record(path="/vol/v1/l10", key="other")))
    code, result, _out = run_module(um_lun.main, dict(ARGS, lun_maps=[{"igroup": "ig_linux"}]))
    assert code == 0 and result["changed"] is False and result["key"] == LUN_KEY
    assert um.requests[0][2]["svm.name"] == "svm1" and "name" not in um.requests[0][2]


def test_the_same_base_name_in_two_volumes_fails_listing_the_paths(um, run_module):
    um.script("GET", LUNS, page(record(path="/vol/v1/l1"), record(path="/vol/v2/l1", key="k2")))
    code, result, _out = run_module(um_lun.main, ARGS)
    assert code == 1 and "/vol/v1/l1" in result["msg"] and "/vol/v2/l1" in result["msg"] and writes(um) == []


def test_another_os_type_on_an_existing_lun_fails_with_a_reason(um, run_module):
    um.script("GET", LUNS, page(record(os_type="windows")))
    code, result, _out = run_module(um_lun.main, dict(ARGS, size=2))
    assert code == 1 and "os_type is windows on the existing LUN and cannot change" in result["msg"]
    assert writes(um) == []


def test_create_sends_maps_with_igroup_keys(um, run_module):
    um.script("GET", LUNS, page(), page(record()))
    um.script("GET", SVMS, page({"key": SVM1, "name": "svm1", "cluster": {"name": "cluster1"}}))
    um.script("GET", PSLS, page({"key": "p3", "name": "Value"}))
    um.script("GET", IGROUPS, page({"key": IG1, "name": "ig_linux", "svm": {"key": SVM1}}))
    um.script("POST", LUNS, accepted(K1))
    um.add(job(K1, 0.5, final={"job_results": [{"name": "LUNKEY", "value": LUN_KEY}]}))
    code, result, out = run_module(um_lun.main, dict(ARGS, lun_maps=[{"igroup": "ig_linux", "logical_unit_number": 0}]))
    assert code == 0 and result["changed"] is True, result
    body = writes(um)[0][3]
    assert body["lun_maps"] == [{"igroup": {"key": IG1}, "logical_unit_number": 0}] and body["os_type"] == "linux"
    assert result["lun"]["name"] == "/vol/v1/l1" and result["key"] == LUN_KEY
    assert PASSWORD not in out


def test_maps_that_differ_are_replaced_with_one_patch(um, run_module):
    um.script("GET", LUNS, page(record()), page(record(maps=(("ig_windows", IG2, 5),))))
    um.script("GET", IGROUPS, page({"key": IG1, "name": "ig_linux", "svm": {"key": SVM1}},
                                   {"key": IG2, "name": "ig_windows", "svm": {"key": SVM1}}))
    um.script("PATCH", LUN_PATH, accepted(K1))
    um.add(job(K1, 0.5))
    code, result, _out = run_module(um_lun.main, {"name": "l1", "svm": "svm1", "cluster": "cluster1",
                                                  "lun_maps": [{"igroup": "ig_windows", "logical_unit_number": 5}]})
    assert code == 0 and result["changed"] is True, result
    assert writes(um) == [("PATCH", LUN_PATH, {}, {"lun_maps": [{"igroup": {"key": IG2}, "logical_unit_number": 5}]})]
    assert [j["step"] for j in result["jobs"]] == ["lun_maps"]


def test_bad_maps_are_refused_before_anything_is_sent(um, run_module):
    code, result, _out = run_module(um_lun.main, dict(ARGS, lun_maps=[{"igroup": "ig_linux", "logical_unit_number": 5000}]))
    assert code == 1 and "0 to 4095" in result["msg"] and um.requests == []
    code, result, _out = run_module(um_lun.main, dict(ARGS, lun_maps=[{"igroup": "a"}, {"igroup": "a"}]))
    assert code == 1 and "more than once" in result["msg"] and um.requests == []
