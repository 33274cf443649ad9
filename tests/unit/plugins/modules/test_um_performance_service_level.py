# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_performance_service_level: field map, compare, plan and the guard, against the scripted UM (no jobs)."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.modules import um_performance_service_level as psl
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, warnings_of

PSLS = "/storage-provider/performance-service-levels"
KEY = "7d3c4e2a-0000-4000-8000-000000000001"
ARGS = {"name": "Database", "description": "OLTP", "expected_iops_per_tb": 4096, "peak_iops_per_tb": 8192,
        "absolute_min_iops": 1000, "expected_latency": 1}


def level(name="Database", expected=4096, peak=8192, minimum=1000, policy="allocated_space", latency=1,
          description="OLTP", system=False, used=0):
    return {"key": KEY, "name": name, "description": description, "system_defined": system, "workload_count": used,
            "iops": {"absolute_min_iops": minimum, "expected_iops_per_tb": expected, "peak_iops_per_tb": peak,
                     "peak_iops_allocation_policy": policy},
            "latency": {"expected": latency}, "space": {"used": 0, "available": 1}}


def page(*records):
    return 200, {"records": list(records), "num_records": len(records)}


def writes(um):
    return [r for r in um.requests if r[0] != "GET"]


def test_create_sends_one_post_with_the_nested_body_and_returns_the_read_back(um, run_module):
    um.script("GET", PSLS, page(), page(), page(level()))
    um.script("POST", PSLS, (201, level()))
    code, result, out = run_module(psl.main, dict(ARGS, peak_iops_allocation_policy="allocated_space",
                                                  _ansible_diff=True))
    assert code == 0 and result["changed"] is True, result
    assert writes(um) == [("POST", PSLS, {}, {
        "name": "Database", "description": "OLTP", "latency": {"expected": 1},
        "iops": {"expected_iops_per_tb": 4096, "peak_iops_per_tb": 8192, "absolute_min_iops": 1000,
                 "peak_iops_allocation_policy": "allocated_space"}})]
    assert um.requests[0][2]["name"] == "Database", "found by UM's name filter"
    assert result["key"] == KEY and result["performance_service_level"]["name"] == "Database"
    assert result["jobs"] == [] and result["diff"]["before"] == {}
    assert result["diff"]["after"]["expected_latency"] == 1 and PASSWORD not in out


def test_the_same_values_send_nothing(um, run_module):
    um.script("GET", PSLS, page(level(latency=1.0)))
    code, result, _out = run_module(psl.main, ARGS)
    assert code == 0 and result["changed"] is False and writes(um) == [] and len(um.requests) == 1


def test_iops_change_in_one_patch_with_the_whole_object(um, run_module):
    um.script("GET", PSLS, page(level()), page(level(expected=10000, peak=20000)))
    um.script("PATCH", f"{PSLS}/{KEY}", (200, level(expected=10000, peak=20000)))
    code, result, _out = run_module(psl.main, dict(ARGS, expected_iops_per_tb=10000, peak_iops_per_tb=20000))
    assert code == 0 and result["changed"] is True, result
    assert writes(um) == [("PATCH", f"{PSLS}/{KEY}", {}, {"iops": {
        "absolute_min_iops": 1000, "expected_iops_per_tb": 10000, "peak_iops_per_tb": 20000,
        "peak_iops_allocation_policy": "allocated_space"}})]
    assert [p["step"] for p in result["plan"]] == ["iops"]


def test_check_mode_and_diff_from_the_read_back(um, run_module):
    um.script("GET", PSLS, page(level(latency=5)))
    code, result, _out = run_module(psl.main, dict(ARGS, _ansible_diff=True), check_mode=True)
    assert code == 0 and result["changed"] is True and writes(um) == []
    assert result["diff"]["before"]["expected_latency"] == 5 and result["diff"]["after"]["expected_latency"] == 1
    assert "check mode" in result["msg"]


def test_the_diff_shows_each_iops_option_under_its_own_name(um, run_module):
    """The four IOPS options go to UM as one object; the diff shows them as the task names them."""
    um.script("GET", PSLS, page(level()))
    code, result, _out = run_module(psl.main, dict(ARGS, peak_iops_per_tb=9000, _ansible_diff=True), check_mode=True)
    assert code == 0 and result["changed"] is True and writes(um) == []
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert "iops" not in before and "iops" not in after
    assert before["peak_iops_per_tb"] == 8192 and after["peak_iops_per_tb"] == 9000
    assert before["expected_iops_per_tb"] == after["expected_iops_per_tb"] == 4096
    assert after["absolute_min_iops"] == 1000 and after["peak_iops_allocation_policy"] == "allocated_space"


def test_a_system_defined_level_is_refused_only_when_it_would_change(um, run_module):
    um.script("GET", PSLS, page(level(system=True)), page(level(system=True)), page(level(system=True)))
    code, result, _out = run_module(psl.main, ARGS)
    assert code == 0 and result["changed"] is False
    code, result, _out = run_module(psl.main, dict(ARGS, expected_latency=2))
    assert code == 1 and "system-defined" in result["msg"] and "nothing was sent" in result["msg"]
    code, result, _out = run_module(psl.main, {"name": "Database", "state": "absent"}, check_mode=True)
    assert code == 1 and "deleted" in result["msg"] and writes(um) == []


def test_a_level_in_use_cannot_be_deleted(um, run_module):
    um.script("GET", PSLS, page(level(used=3)))
    code, result, _out = run_module(psl.main, {"name": "Database", "state": "absent"})
    assert code == 1 and "in use by 3 workload(s)" in result["msg"] and writes(um) == []
    assert "\n" not in result["msg"]


def test_delete_then_absent_again(um, run_module):
    um.script("GET", PSLS, page(level()), page(), page(), page())
    um.script("DELETE", f"{PSLS}/{KEY}", (200, {}))
    code, result, _out = run_module(psl.main, {"name": "Database", "state": "absent"})
    assert code == 0 and result["changed"] is True and result["performance_service_level"] is None
    code, result, _out = run_module(psl.main, {"name": "Database", "state": "absent"})
    assert code == 0 and result["changed"] is False


def test_a_name_in_another_case_is_the_same_level_and_a_filter_ignored_is_caught(um, run_module):
    other = dict(level(name="Other"), key="k2")
    um.script("GET", PSLS, page(other), page(other, level(name="DATABASE")))
    code, result, _out = run_module(psl.main, ARGS)
    assert code == 0 and result["changed"] is False and result["key"] == KEY
    assert any("DATABASE" in w for w in warnings_of(result))


def test_create_needs_the_required_values_and_checks_expected_against_peak(um, run_module):
    um.script("GET", PSLS, page(), page(), page(level()))
    code, result, _out = run_module(psl.main, {"name": "Database", "expected_iops_per_tb": 1})
    assert code == 1 and "peak_iops_per_tb, absolute_min_iops, expected_latency" in result["msg"]
    code, result, _out = run_module(psl.main, dict(ARGS, expected_iops_per_tb=9000))
    assert code == 1 and "above peak_iops_per_tb" in result["msg"] and writes(um) == []
