# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_storage_efficiency_policy: field map, compare, plan and the guard, against the scripted UM (no jobs)."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.modules import um_storage_efficiency_policy as sep

SEPS = "/storage-provider/storage-efficiency-policies"
KEY = "5b1e0c9d-0000-4000-8000-000000000002"
ARGS = {"name": "Compact", "compression": "inline", "deduplication": "inline", "space_thin_provisioned": True}


def policy(name="Compact", compression="inline", deduplication="inline", thin=True, system=False, used=0):
    return {"key": KEY, "name": name, "description": "", "compression": compression, "deduplication": deduplication,
            "space_thin_provisioned": thin, "system_defined": system, "workload_count": used}


def page(*records):
    return 200, {"records": list(records), "num_records": len(records)}


def writes(um):
    return [r for r in um.requests if r[0] != "GET"]


def test_create_then_the_same_again(um, run_module):
    um.script("GET", SEPS, page(), page(), page(policy()), page(policy()))
    um.script("POST", SEPS, (201, policy()))
    code, result, _out = run_module(sep.main, ARGS)
    assert code == 0 and result["changed"] is True
    assert writes(um) == [("POST", SEPS, {}, {"name": "Compact", "compression": "inline", "deduplication": "inline",
                                              "space_thin_provisioned": True})]
    code, result, _out = run_module(sep.main, ARGS)
    assert code == 0 and result["changed"] is False and len(writes(um)) == 1
    assert result["storage_efficiency_policy"]["key"] == KEY


def test_each_change_is_one_patch_in_order_and_read_back(um, run_module):
    after = policy(deduplication="background", thin=False)
    um.script("GET", SEPS, page(policy()), page(policy(deduplication="background")), page(after))
    um.script("PATCH", f"{SEPS}/{KEY}", (200, {}), (200, {}))
    code, result, _out = run_module(sep.main, dict(ARGS, deduplication="background", space_thin_provisioned=False,
                                                   _ansible_diff=True))
    assert code == 0 and result["changed"] is True, result
    assert [w[3] for w in writes(um)] == [{"deduplication": "background"}, {"space_thin_provisioned": False}]
    assert result["diff"]["before"]["deduplication"] == "inline"
    assert result["diff"]["after"] == {"name": "Compact", "description": "", "compression": "inline",
                                       "deduplication": "background", "space_thin_provisioned": False}


def test_in_use_or_system_defined_refused_before_anything_is_sent(um, run_module):
    um.script("GET", SEPS, page(policy(used=2)), page(policy(system=True)))
    code, result, _out = run_module(sep.main, dict(ARGS, compression="none"))
    assert code == 1 and "in use by 2" in result["msg"]
    code, result, _out = run_module(sep.main, {"name": "Compact", "state": "absent"})
    assert code == 1 and "system-defined" in result["msg"] and writes(um) == []


def test_check_mode_sends_nothing(um, run_module):
    um.script("GET", SEPS, page(policy()))
    code, result, _out = run_module(sep.main, dict(ARGS, compression="background"), check_mode=True)
    assert code == 0 and result["changed"] is True and writes(um) == []
    assert result["plan"][0]["before"] == "inline" and result["plan"][0]["after"] == "background"
