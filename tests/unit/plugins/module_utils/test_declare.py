# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declarative engine on its own: field maps, comparison, the PATCH plan, applying it step by step.

A small UM in memory plays the client and the waits: a write answers 202 with a job, and (as on UM) the object
changes only when its job ends, here when the engine waits for it.
"""

from __future__ import annotations

import copy
import itertools

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils import _declare as d
from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMResponse
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError, UMError
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitState
from ansible_collections.aiqum.jobs.plugins.modules import um_cluster, um_file_share, um_lun
from ansible_collections.aiqum.jobs.plugins.modules import um_performance_service_level as psl

GIB = 1024 ** 3
SHARES = "/storage-provider/file-shares"
LUNS = "/storage-provider/luns"
C1 = "c1uuid:type=cluster,uuid=c1uuid"
SVM1 = "c1uuid:type=vserver,uuid=s1"
SVM1_C2 = "c2uuid:type=vserver,uuid=s1b"
PSL = {"Extreme": "psl-1", "Performance": "psl-2", "Value": "psl-3"}
SEP = {"Default": "sep-1", "Thin": "sep-2"}
IG = {"ig_linux": "c1uuid:type=lun_igroup,uuid=ig1", "ig_win": "c1uuid:type=lun_igroup,uuid=ig2"}


def ref(name, key):
    return {"key": key, "name": name}


def share(name="fs1", size=GIB, psl="Value", sep=None, key="c1uuid:type=volume,uuid=v1"):
    return {"key": key, "name": name, "svm": ref("svm1", SVM1), "cluster": ref("cluster1", C1),
            "space": {"size": size}, "assigned_performance_service_level": ref(psl, PSL[psl]),
            "assigned_storage_efficiency_policy": ref(sep, SEP[sep]) if sep else {"key": None, "name": "Unassigned"}}


def lun(name="l1", volume="vol1", size=GIB, os_type="linux", maps=(), key="c1uuid:type=lun,uuid=l1", svm=("svm1", SVM1),
        cluster="cluster1"):
    rec = share(size=size, key=key)
    rec.update(name=f"/vol/{volume}/{name}", os_type=os_type, svm=ref(*svm), cluster=ref(cluster, C1),
               volume=ref(volume, "vol-" + volume),
               lun_maps=[{"igroup": ref(g, IG[g]), "logical_unit_number": n} for g, n in maps])
    return rec


class MemoryUM:
    """Lists, writes answered 202 with a job, effects applied when the job's wait ends."""

    request_timeout = 30.0

    def __init__(self, shares=(), luns=()):
        self.store = {
            SHARES: [copy.deepcopy(s) for s in shares],
            LUNS: [copy.deepcopy(x) for x in luns],
            d.SVMS: [{"key": SVM1, "name": "svm1", "cluster": ref("cluster1", C1)},
                     {"key": SVM1_C2, "name": "svm1", "cluster": ref("cluster2", "c2")},
                     {"key": "c1uuid:type=vserver,uuid=s2", "name": "svm2", "cluster": ref("cluster1", C1)}],
            d.CLUSTERS: [{"key": C1, "name": "cluster1"}, {"key": "c2", "name": "cluster2"}],
            d.SERVICE_LEVELS: [{"key": v, "name": k} for k, v in PSL.items()],
            d.EFFICIENCY_POLICIES: [{"key": v, "name": k} for k, v in SEP.items()],
            d.IGROUPS: [{"key": v, "name": k, "svm": ref("svm1", SVM1)} for k, v in IG.items()],
        }
        self.reads = []
        self.writes = []
        self.jobs = {}
        self.outcome = {}          # step name -> (status, failure_reason) for the next job of that kind
        self.ignore = set()        # PATCH attributes whose job ends well but changes nothing
        self.sync = False          # answer writes 200/201 with the record (no job), like the synchronous calls
        self.numbers = itertools.count(1)

    def iter_records(self, path, params=None, limit=None, timeout=None):
        self.reads.append((path, dict(params or {})))
        out = [r for r in self.store[path] if all(d.dig(r, k) == v for k, v in (params or {}).items())]
        return iter(copy.deepcopy(out[:limit] if limit else out))

    def request(self, method, path, body=None):
        self.writes.append((method, path, copy.deepcopy(body)))
        collection = SHARES if path.startswith(SHARES) else LUNS
        key = f"job{next(self.numbers)}:-1:2:-3"
        effect = self._effect(method, path, collection, body)
        if self.sync:
            record = effect()
            return UMResponse(201 if method == "POST" else 200, record, {})
        self.jobs[key] = (effect, method, collection)
        return UMResponse(202, {"job": {"key": key, "_links": {"self": {"href": "/api/management-server/jobs/" + key}}}},
                          {})

    def _effect(self, method, path, collection, body):
        from urllib.parse import unquote
        if method == "POST":
            def create():
                rec = lun(name=body["name"], volume="AIQUM_" + body["name"], key="new:" + body["name"]) \
                    if collection == LUNS else share(name=body["name"], key="new:" + body["name"])
                rec["space"]["size"] = -(-body["space"]["size"] // 4096) * 4096
                self.store[collection].append(rec)
                return rec
            return create
        key = unquote(path.rsplit("/", 1)[1])
        if method == "DELETE":
            return lambda: self.store[collection].remove(next(r for r in self.store[collection] if r["key"] == key))

        def patch():
            rec = next(r for r in self.store[collection] if r["key"] == key)
            (attr, value), = body.items()
            if attr in self.ignore:
                return rec
            if attr == "space":
                rec["space"]["size"] = value["size"]
            elif attr == "performance_service_level":
                name = next(n for n, k in PSL.items() if k == value["key"])
                rec["assigned_performance_service_level"] = ref(name, value["key"])
            elif attr == "storage_efficiency_policy":
                name = next(n for n, k in SEP.items() if k == value["key"])
                rec["assigned_storage_efficiency_policy"] = ref(name, value["key"])
            elif attr == "lun_maps":
                rec["lun_maps"] = [{"igroup": ref(next(n for n, k in IG.items() if k == m["igroup"]["key"]),
                                                  m["igroup"]["key"]),
                                    "logical_unit_number": m.get("logical_unit_number", 0)} for m in value]
            return rec
        return patch

    def wait(self, keys, left):
        state = WaitState(keys=list(keys), started=0.0, deadline=left)
        for key in keys:
            effect, method, collection = self.jobs[key]
            step = "create" if method == "POST" else "delete" if method == "DELETE" else "patch"
            status, reason = self.outcome.pop(step, ("normal", None))
            job = {"key": key, "name": f"{method} job", "state": "completed", "status": status,
                   "complete_time": "2026-12-03T10:00:00.000+00:00", "job_results": [], "task_reports": []}
            if status == "normal":
                rec = effect()
                if method == "POST":
                    # UM's docs say fileshareKey, others write fileShareKey: read case-insensitively.
                    job["job_results"] = [{"name": "fileShareKey" if collection == SHARES else "lunKey",
                                           "value": rec["key"]}]
            else:
                job["task_reports"] = [{"name": "Create", "status": "error", "failure_reason": reason}]
            state.jobs[key] = job
            state.ended[key] = status
        return state


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def engine(server, kind=None, check_mode=False, timeout=600.0):
    clock = Clock()
    waits = d.Waits(server.wait, clock, clock() + timeout)
    return d.Engine(server, kind or um_file_share.KIND, waits, check_mode=check_mode)


def want(**kw):
    base = {"name": "fs1", "svm": "svm1", "cluster": "cluster1", "size": None, "performance_service_level": None,
            "storage_efficiency_policy": None, "export_policy": None, "acl": None}
    base.update(kw)
    return base


def want_lun(**kw):
    base = want(name="l1", os_type=None, lun_maps=None)
    base.pop("export_policy")
    base.pop("acl")
    base.update(kw)
    return base


# -- conversions and compare rules ------------------------------------------------------------------

@pytest.mark.parametrize("size,unit,expected", [(1, "gb", GIB), (1.5, "GB", 3 * GIB // 2), (512, "mb", GIB // 2),
                                                (1, "tb", 1024 * GIB), (4096, "bytes", 4096), (2, "kb", 2048)])
def test_size_in_bytes_is_1024_based(size, unit, expected):
    assert d.size_bytes(size, unit) == expected


@pytest.mark.parametrize("size,unit,words", [(0, "gb", "positive"), (-1, "gb", "positive"), ("ten", "gb", "number"),
                                             (1, "pb", "size_unit")])
def test_bad_sizes_are_refused_with_a_reason(size, unit, words):
    with pytest.raises(UMConfigError, match=words):
        d.size_bytes(size, unit)


def test_a_size_rounded_up_by_um_is_the_same_size():
    asked = d.size_bytes(1.0001, "gb")
    rounded = -(-asked // 4096) * 4096
    assert rounded != asked and d.same_size(rounded, asked)
    assert d.same_size(GIB + 1024 ** 2, GIB) and not d.same_size(GIB + 1024 ** 2 + 1, GIB)
    assert not d.same_size(2 * GIB, GIB) and not d.same_size(None, GIB) and not d.same_size(True, 1)
    # 0.01 percent of a large size is allowed too (10 TiB: about 1 GiB)
    assert d.same_size(10 * 1024 * GIB + GIB // 2, 10 * 1024 * GIB)


def test_a_shrink_is_refused_but_a_rounded_size_is_not():
    refuse = d.refuse_shrink("file share")
    assert refuse(GIB + 4096, GIB) is None
    assert refuse(GIB, 2 * GIB) is None
    text = refuse(2 * GIB, GIB)
    assert "cannot shrink" in text and "2 GiB (2147483648 bytes)" in text and "\n" not in text


def test_a_reference_matches_by_name_or_key():
    current = ref("Value", "psl-3")
    assert d.same_ref(current, "Value") and d.same_ref(current, "psl-3")
    assert not d.same_ref(current, "value") and not d.same_ref(None, "Value") and not d.same_ref(current, None)
    assert d.ref_shown(current) == "Value" and d.ref_shown({"key": "k", "name": None}) == "k"


@pytest.mark.parametrize("name", ["a|b", "a*", "!a", "a..b", '"a"', " a", ""])
def test_names_with_filter_operators_are_refused(name):
    with pytest.raises(UMConfigError):
        d.check_name("svm", name)


def test_a_lun_name_may_not_hold_a_slash():
    with pytest.raises(UMConfigError, match="'/'"):
        d.check_name("name", "vol/l1", slash=True)


def test_field_maps_write_and_read_different_fields():
    fields = {f.option: f for f in um_file_share.FIELDS}
    assert fields["performance_service_level"].write == "performance_service_level"
    assert fields["performance_service_level"].read == "assigned_performance_service_level"
    assert fields["storage_efficiency_policy"].read == "assigned_storage_efficiency_policy"
    assert fields["size"].write == fields["size"].read == "space.size"
    assert fields["export_policy"].mutability == d.CREATE_ONLY and fields["export_policy"].read is None
    assert [f.option for f in sorted(um_lun.FIELDS, key=lambda f: f.order) if f.mutability == d.PATCH] == \
        ["size", "performance_service_level", "storage_efficiency_policy", "lun_maps"]
    assert {f.option: f.mutability for f in um_lun.FIELDS}["os_type"] == d.IMMUTABLE
    required = {f.option for f in um_lun.FIELDS if f.required_to_create}
    assert required == {"size", "performance_service_level", "os_type"}


def test_secret_fields_are_never_compared_nor_shown():
    secret = d.Field("password", "password", "password", secret=True)
    assert not secret.readable({"password": "x"})
    assert secret.show("x") == d.SECRET_SHOWN and secret.show_wanted("y") == d.SECRET_SHOWN


# -- the plan ---------------------------------------------------------------------------------------

def test_the_patch_plan_follows_the_documented_order_and_only_what_differs():
    server = MemoryUM([share(size=GIB, psl="Value", sep="Default")])
    eng = engine(server)
    eng.wanted = w = want(storage_efficiency_policy="Thin", size=2 * GIB, performance_service_level="Extreme")
    steps = eng.plan(w, server.store[SHARES][0], "present")
    assert [s.name for s in steps] == ["size", "performance_service_level", "storage_efficiency_policy"]
    assert [s.body for s in steps] == [{"space": {"size": 2 * GIB}}, {"performance_service_level": {"key": "psl-1"}},
                                       {"storage_efficiency_policy": {"key": "sep-2"}}]
    assert all(s.method == "PATCH" and s.path == SHARES + "/c1uuid%3Atype%3Dvolume%2Cuuid%3Dv1" for s in steps)
    eng.wanted = w = want(size=GIB + 4096, performance_service_level="psl-3", storage_efficiency_policy="Default")
    assert eng.plan(w, server.store[SHARES][0], "present") == []


def test_options_left_out_are_not_managed():
    server = MemoryUM([share(size=5 * GIB, psl="Extreme", sep="Thin")])
    eng = engine(server)
    assert eng.plan(want(), server.store[SHARES][0], "present") == []


def test_an_immutable_field_that_differs_fails_naming_it_and_nothing_is_planned():
    server = MemoryUM(luns=[lun(os_type="windows")])
    eng = engine(server, um_lun.KIND)
    with pytest.raises(UMConfigError, match="os_type is windows on the existing LUN and cannot change"):
        eng.plan(want_lun(os_type="linux", size=2 * GIB), server.store[LUNS][0], "present")
    assert eng.plan(want_lun(os_type="Windows"), server.store[LUNS][0], "present") == []


def test_a_field_um_does_not_read_back_is_not_compared_and_a_warning_says_so():
    record = lun()
    record.pop("lun_maps")
    record.pop("os_type")
    eng = engine(MemoryUM(luns=[record]), um_lun.KIND)
    w = want_lun(os_type="linux", lun_maps=[{"igroup": "ig_linux", "logical_unit_number": None}])
    assert eng.plan(w, record, "present") == []
    assert len(eng.warnings) == 1 and "os_type, lun_maps" in eng.warnings[0]


def test_create_needs_the_required_options_before_anything_is_sent():
    server = MemoryUM()
    with pytest.raises(UMConfigError, match="does not exist; to create it give size, performance_service_level"):
        engine(server).run(want(storage_efficiency_policy="Default"))
    assert server.writes == []


def test_absent_plans_one_delete_or_nothing():
    server = MemoryUM([share()])
    eng = engine(server)
    steps = eng.plan(want(), server.store[SHARES][0], "absent")
    assert [(s.name, s.method) for s in steps] == [("delete", "DELETE")]
    assert eng.plan(want(), None, "absent") == []


# -- applying ---------------------------------------------------------------------------------------

def test_create_resolves_names_to_keys_and_returns_the_object_as_um_lists_it():
    server = MemoryUM()
    out, diff = engine(server).run(want(size=GIB, performance_service_level="Value", storage_efficiency_policy="sep-1",
                                        export_policy={"name_tag": "e1"}))
    assert server.writes == [("POST", SHARES, {"name": "fs1", "svm": {"key": SVM1}, "space": {"size": GIB},
                                               "performance_service_level": {"key": "psl-3"},
                                               "storage_efficiency_policy": {"key": "sep-1"},
                                               "access_control": {"export_policy": {"name_tag": "e1"}}})]
    assert out.changed and out.key == "new:fs1" and out.record["name"] == "fs1"
    assert [j["step"] for j in out.jobs] == ["create"]
    assert out.outputs == {"fileShareKey": "new:fs1"}
    assert diff["before"] == {} and diff["after"]["size"] == GIB and diff["after"]["performance_service_level"] == "Value"


def test_an_unchanged_object_costs_one_list_request_and_no_write():
    server = MemoryUM([share(size=GIB + 4096, psl="Value")])
    out, diff = engine(server).run(want(size=GIB, performance_service_level="Value"))
    assert not out.changed and server.writes == []
    assert len(server.reads) == 1 and server.reads[0][0] == SHARES
    assert diff["before"] == diff["after"]


def test_each_step_is_waited_read_again_and_sent_once():
    server = MemoryUM([share(size=GIB, psl="Value")])
    eng = engine(server)
    out, diff = eng.run(want(size=2 * GIB, performance_service_level="Extreme", storage_efficiency_policy="Default"))
    assert [w[2] for w in server.writes] == [{"space": {"size": 2 * GIB}}, {"performance_service_level": {"key": "psl-1"}},
                                             {"storage_efficiency_policy": {"key": "sep-1"}}]
    assert [j["step"] for j in out.jobs] == ["size", "performance_service_level", "storage_efficiency_policy"]
    # one read to find it, one list of service levels, one of policies, one read again after each of three steps
    assert [r[0] for r in server.reads].count(SHARES) == 4
    assert diff["before"]["size"] == GIB and diff["after"]["size"] == 2 * GIB
    assert diff["before"]["storage_efficiency_policy"] == "Unassigned" and diff["after"]["storage_efficiency_policy"] == "Default"
    assert out.record["assigned_performance_service_level"]["name"] == "Extreme"


def test_the_diff_comes_from_ums_read_back_not_from_what_was_sent():
    server = MemoryUM([share(size=GIB)])
    eng = engine(server)
    out, diff = eng.run(want(size=1.5 * GIB))
    assert diff["after"]["size"] == 3 * GIB // 2  # what UM shows (here the same), never the option's float
    server.store[SHARES][0]["space"]["size"] = 3 * GIB  # changed behind the task's back
    out, diff = engine(server).run(want(size=3 * GIB))
    assert not out.changed and diff["before"]["size"] == 3 * GIB


def test_check_mode_sends_nothing_and_predicts():
    server = MemoryUM([share(size=GIB, psl="Value")])
    out, diff = engine(server, check_mode=True).run(want(size=2 * GIB, performance_service_level="Extreme"))
    assert out.changed and server.writes == []
    assert [p["step"] for p in out.plan] == ["size", "performance_service_level"]
    assert diff["after"]["size"] == 2 * GIB and diff["after"]["performance_service_level"] == "Extreme"
    out, _diff = engine(server, check_mode=True).run(want(size=GIB))
    assert not out.changed


def test_check_mode_still_fails_on_an_unknown_name():
    server = MemoryUM([share()])
    with pytest.raises(UMConfigError, match=r"performance service level 'Gold' does not exist on UM \(there are: "
                                            r"Extreme, Performance, Value\); nothing was sent"):
        engine(server, check_mode=True).run(want(performance_service_level="Gold"))


def test_an_unknown_name_fails_before_the_first_write():
    server = MemoryUM([share(size=GIB)])
    with pytest.raises(UMConfigError, match="storage efficiency policy 'Gold'"):
        engine(server).run(want(size=2 * GIB, storage_efficiency_policy="Gold"))
    assert server.writes == []


def test_a_shrink_is_refused_before_anything_is_sent_even_beside_other_changes():
    server = MemoryUM([share(size=2 * GIB)])
    with pytest.raises(UMConfigError, match="cannot shrink"):
        engine(server).run(want(size=GIB, performance_service_level="Extreme"))
    assert server.writes == []


def test_a_step_whose_read_back_shows_the_old_value_fails_and_is_not_sent_again():
    server = MemoryUM([share(size=GIB, psl="Value")])
    server.ignore.add("performance_service_level")
    with pytest.raises(d.StepFailed) as caught:
        engine(server).run(want(size=2 * GIB, performance_service_level="Extreme", storage_efficiency_policy="Default"))
    text = str(caught.value)
    assert "step 'performance_service_level (Value -> Extreme)' failed" in text
    assert "still shows performance_service_level Value; it was not sent again" in text
    assert "Already changed: size" in text
    assert len(server.writes) == 2, "the failed step is not re-sent and the next one is not sent"
    assert caught.value.details["changed"] is True


def test_a_failed_job_fails_the_task_with_its_reason_and_what_already_changed():
    server = MemoryUM([share(size=GIB, psl="Value")])
    server.outcome["patch"] = ("error", "Not enough space in aggregate aggr1.")
    with pytest.raises(d.StepFailed) as caught:
        engine(server).run(want(size=2 * GIB, performance_service_level="Extreme"))
    assert "step 'size (1 GiB (1073741824 bytes) -> 2 GiB (2147483648 bytes))' failed" in str(caught.value)
    assert "Not enough space in aggregate aggr1." in str(caught.value)
    assert "Nothing was changed" in str(caught.value)
    assert caught.value.details["changed"] is False and len(server.writes) == 1


def test_a_create_job_that_fails_names_the_jobs_reason():
    server = MemoryUM()
    server.outcome["create"] = ("error", "A file share named 'fs1' already exists in SVM 'svm1'.")
    with pytest.raises(d.StepFailed, match="already exists in SVM 'svm1'"):
        engine(server).run(want(size=GIB, performance_service_level="Value"))


def test_without_wait_every_step_but_the_last_is_waited():
    server = MemoryUM([share(size=GIB, psl="Value")])
    out, _diff = engine(server).run(want(size=2 * GIB, performance_service_level="Extreme"), wait=False)
    assert len(server.writes) == 2
    assert out.job_key == out.jobs[-1]["key"] and out.jobs[-1]["step"] == "performance_service_level"
    assert "state" not in out.jobs[-1] and out.jobs[0]["state"] == "completed"
    assert server.store[SHARES][0]["space"]["size"] == 2 * GIB  # the first step's job ended before the second write


def test_delete_waits_and_absent_again_changes_nothing():
    server = MemoryUM([share()])
    out, diff = engine(server).run(want(), state="absent")
    assert out.changed and server.store[SHARES] == [] and diff["after"] == {} and diff["before"]["name"] == "fs1"
    out, _diff = engine(server).run(want(), state="absent")
    assert not out.changed and len(server.writes) == 1


def test_an_unknown_svm_fails_even_for_absent():
    server = MemoryUM()
    with pytest.raises(UMConfigError, match=r"SVM 'svmX' does not exist on UM \(there are: svm1 \(cluster cluster1\)"):
        engine(server).run(want(svm="svmX", cluster=None), state="absent")
    with pytest.raises(UMConfigError, match=r"SVM 'svmX' does not exist on cluster 'cluster1' \(there are: svm1, svm2\)"):
        engine(server).run(want(svm="svmX"), state="absent")


def test_an_svm_name_on_two_clusters_needs_cluster_to_create():
    server = MemoryUM()
    with pytest.raises(UMConfigError, match=r"SVM 'svm1' exists on 2 clusters \(cluster1, cluster2\): give cluster"):
        engine(server).run(want(cluster=None, size=GIB, performance_service_level="Value"))
    out, _diff = engine(server).run(want(cluster=None), state="absent")
    assert not out.changed and server.writes == []


def test_an_unknown_cluster_fails_naming_the_clusters():
    with pytest.raises(UMConfigError, match=r"cluster 'c9' does not exist on UM \(there are: cluster1, cluster2\)"):
        engine(MemoryUM()).run(want(cluster="c9", size=GIB, performance_service_level="Value"))


def test_the_deadline_is_kept_across_steps():
    server = MemoryUM([share(size=GIB, psl="Value")])
    eng = engine(server)
    waited = []

    def slow_wait(keys, left):
        waited.append(left)
        eng.waits.clock.now += 400.0
        return server.wait(keys, left)
    eng.waits.wait = slow_wait
    with pytest.raises(d.StepFailed, match="timeout passed before it could be sent"):
        eng.run(want(size=2 * GIB, performance_service_level="Extreme", storage_efficiency_policy="Default"))
    assert waited[0] == 600.0 and waited[1] == 200.0 and len(server.writes) == 2


def test_synchronous_writes_need_no_job():
    server = MemoryUM([share(size=GIB, psl="Value")])
    server.sync = True
    out, _diff = engine(server).run(want(size=2 * GIB))
    assert out.changed and out.jobs == [] and out.record["space"]["size"] == 2 * GIB
    out, _diff = engine(server).run(want(name="fs9", size=GIB, performance_service_level="Value"))
    assert out.key == "new:fs9"


# -- LUNs -------------------------------------------------------------------------------------------

def test_a_lun_is_found_by_the_last_segment_of_its_path():
    server = MemoryUM(luns=[lun(name="l1", volume="v1"), lun(name="l10", volume="v1", key="k10")])
    out, _diff = engine(server, um_lun.KIND).run(want_lun(size=GIB))
    assert not out.changed and out.record["name"] == "/vol/v1/l1"
    server.store[LUNS].append(lun(name="l1", volume="v2", key="k2"))
    server.store[LUNS].append(lun(name="l1", volume="v3/q1", key="k3"))
    with pytest.raises(UMConfigError, match=r"matches 3 LUNs: /vol/v1/l1 \(cluster cluster1\), /vol/v2/l1 .*/vol/v3/q1/l1"):
        engine(server, um_lun.KIND).run(want_lun(size=GIB))


def test_lun_maps_compare_as_a_set_by_igroup_name_and_patch_the_whole_list():
    server = MemoryUM(luns=[lun(maps=[("ig_linux", 0)])])
    eng = engine(server, um_lun.KIND)
    same = want_lun(lun_maps=[{"igroup": "ig_linux", "logical_unit_number": None}])
    out, _diff = eng.run(same)
    assert not out.changed
    out, diff = engine(server, um_lun.KIND).run(want_lun(lun_maps=[{"igroup": "ig_win", "logical_unit_number": 3},
                                                                   {"igroup": "ig_linux", "logical_unit_number": 0}]))
    assert server.writes[-1][2] == {"lun_maps": [{"igroup": {"key": IG["ig_win"]}, "logical_unit_number": 3},
                                                 {"igroup": {"key": IG["ig_linux"]}, "logical_unit_number": 0}]}
    assert diff["after"]["lun_maps"] == [{"igroup": "ig_linux", "logical_unit_number": 0},
                                         {"igroup": "ig_win", "logical_unit_number": 3}]
    with pytest.raises(UMConfigError, match=r"igroup 'ig_x' does not exist in SVM 'svm1' \(there are: ig_linux, ig_win\)"):
        engine(server, um_lun.KIND).run(want_lun(lun_maps=[{"igroup": "ig_x", "logical_unit_number": None}]))


def test_a_lun_is_created_with_its_maps_and_os_type_in_one_post():
    server = MemoryUM()
    out, _diff = engine(server, um_lun.KIND).run(want_lun(size=GIB, os_type="linux", performance_service_level="Value",
                                                          lun_maps=[{"igroup": "ig_linux", "logical_unit_number": 1}]))
    assert server.writes == [("POST", LUNS, {"name": "l1", "svm": {"key": SVM1}, "space": {"size": GIB},
                                             "performance_service_level": {"key": "psl-3"}, "os_type": "linux",
                                             "lun_maps": [{"igroup": {"key": IG["ig_linux"]},
                                                           "logical_unit_number": 1}]})]
    assert out.key == "new:l1" and out.outputs == {"lunKey": "new:l1"}


def test_errors_are_one_line_and_say_nothing_was_sent():
    server = MemoryUM([share(size=2 * GIB)])
    for wanted in (want(size=GIB), want(performance_service_level="Gold"), want(svm="svmX", name="nope")):
        with pytest.raises(UMError) as caught:
            engine(server).run(wanted)
        assert "\n" not in str(caught.value) and "nothing was sent" in str(caught.value)


# -- a plan carried across module runs (progress slices) ------------------------------------------------------

def test_a_paused_plan_goes_on_in_another_engine_from_the_job_it_waited_for():
    """The snapshot holds the steps left with their bodies: the next run sends nothing again and looks nothing up."""
    import json
    server = MemoryUM([share(size=GIB, psl="Value")])
    real_wait = server.wait
    paused_once = []

    def slice_ends(keys, left):
        if not paused_once:
            paused_once.append(keys)
            raise d.Paused(WaitState(keys=list(keys), started=0.0, deadline=left))
        return real_wait(keys, left)

    server.wait = slice_ends
    first = engine(server)
    with pytest.raises(d.Paused) as caught:
        first.run(want(size=2 * GIB, performance_service_level="Extreme"))
    assert caught.value.step == (1, 2, "size (1 GiB (1073741824 bytes) -> 2 GiB (2147483648 bytes))")
    snapshot = json.loads(json.dumps(caught.value.snapshot))  # it travels as JSON
    assert snapshot["waiting"] == caught.value.key == paused_once[0][0]
    assert [s["name"] for s in snapshot["steps"]] == ["size", "performance_service_level"]
    reads_before, writes_before = len(server.reads), len(server.writes)
    outcome, diff = engine(server).run(want(size=2 * GIB, performance_service_level="Extreme"), resume=snapshot)
    assert [w[2] for w in server.writes[writes_before:]] == [{"performance_service_level": {"key": "psl-1"}}]
    assert all(path == SHARES for path, _q in server.reads[reads_before:]), "no lookup again, only read-backs"
    assert [j["step"] for j in outcome.jobs] == ["size", "performance_service_level"]
    assert diff["before"]["size"] == GIB and diff["after"]["performance_service_level"] == "Extreme"
    assert outcome.changed and outcome.done[0].startswith("size (1 GiB")


@pytest.mark.parametrize("tamper", [
    lambda s: s.update(kind="LUN"),
    lambda s: s["steps"][0].update(method="DELETE"),
    lambda s: s["steps"][0].update(path="/datacenter/svm/svms/x"),
    lambda s: s["steps"][0].update(option="os_type"),
    lambda s: s.update(waiting="not a key"),
    lambda s: s.update(steps=[]),
    lambda s: s.pop("before"),
])
def test_a_snapshot_the_engine_did_not_make_is_refused(tamper):
    server = MemoryUM([share(size=GIB, psl="Value")])

    def slice_ends(keys, left):
        raise d.Paused(WaitState(keys=list(keys), started=0.0, deadline=left))

    server.wait = slice_ends
    with pytest.raises(d.Paused) as caught:
        engine(server).run(want(size=2 * GIB))
    snapshot = caught.value.snapshot
    tamper(snapshot)
    writes = len(server.writes)
    with pytest.raises(UMConfigError, match="never given in a task"):
        engine(server).run(want(size=2 * GIB), resume=snapshot)
    assert len(server.writes) == writes


# -- additions for the configuration modules (issue 20): guard, read_one, patch_body, always, catalog lookups -----

class ListUM:
    """Collections that ignore every filter (as a server may), and synchronous writes that change nothing."""

    request_timeout = 30.0

    def __init__(self, **store):
        self.store = {d.SERVICE_LEVELS: [], um_cluster.DATASOURCES: []}
        self.store.update({{"levels": d.SERVICE_LEVELS, "datasources": um_cluster.DATASOURCES}[k]: v
                           for k, v in store.items()})
        self.reads = []
        self.writes = []

    def iter_records(self, path, params=None, limit=None, timeout=None):
        self.reads.append((path, dict(params or {})))
        return iter(copy.deepcopy(self.store[path]))

    def request(self, method, path, body=None):
        self.writes.append((method, path, body))
        return UMResponse(200, {}, {})

    def wait(self, keys, left):
        raise AssertionError(f"no job to wait for: {keys}")


def level(name="Gold", system=False, used=0, latency=2):
    return {"key": "psl-g", "name": name, "description": "", "system_defined": system, "workload_count": used,
            "iops": {"absolute_min_iops": 10, "expected_iops_per_tb": 100, "peak_iops_per_tb": 200,
                     "peak_iops_allocation_policy": "allocated_space"}, "latency": {"expected": latency}}


def want_level(**kw):
    base = {"name": "Gold", "description": None, "iops": None, "expected_latency": None, "options": {}}
    base.update(kw)
    return base


def test_numbers_and_objects_compare_by_value():
    assert d.same_number(2, 2.0) and not d.same_number(True, 1) and not d.same_number(None, 0)
    current = {"expected_iops_per_tb": 100.0, "peak_iops_allocation_policy": "used_space"}
    assert d.same_subset(current, {"expected_iops_per_tb": 100})
    assert not d.same_subset(current, {"peak_iops_allocation_policy": "allocated_space"})
    assert not d.same_subset(None, {"expected_iops_per_tb": 100})


def test_a_catalog_name_is_found_whatever_its_case_and_a_filter_ignored_is_caught():
    server = ListUM(levels=[dict(level(), name="Other", key="k0"), level(name="GOLD")])
    e = engine(server, psl.KIND)
    found = psl.KIND.find(e, want_level())
    assert found["name"] == "GOLD" and len(server.reads) == 2 and "GOLD" in e.warnings[0]


def test_the_guard_is_asked_only_when_a_step_is_needed():
    server = ListUM(levels=[level(system=True)])
    outcome, _diff = engine(server, psl.KIND).run(want_level(expected_latency=2.0))
    assert outcome.changed is False
    with pytest.raises(UMConfigError, match="system-defined .* changed; .*nothing was sent"):
        engine(server, psl.KIND).run(want_level(expected_latency=3))
    server.store[d.SERVICE_LEVELS] = [level(used=2)]
    with pytest.raises(UMConfigError, match="in use by 2 workload"):
        engine(server, psl.KIND).run(want_level(), state="absent")
    assert server.writes == []


def test_iops_go_in_one_patch_with_the_values_left_out_and_expected_above_peak_is_refused():
    server = ListUM(levels=[level()])
    e = engine(server, psl.KIND)
    current = e.current = psl.KIND.find(e, want_level())
    e.wanted = wanted = want_level(iops={"expected_iops_per_tb": 300, "peak_iops_per_tb": 600})
    steps = e.plan(wanted, current, "present")
    assert [s.body for s in steps] == [{"iops": {"absolute_min_iops": 10, "expected_iops_per_tb": 300,
                                                 "peak_iops_per_tb": 600,
                                                 "peak_iops_allocation_policy": "allocated_space"}}]
    e.wanted = wanted = want_level(iops={"expected_iops_per_tb": 300})
    with pytest.raises(UMConfigError, match="above peak_iops_per_tb 200"):
        e.plan(wanted, current, "present")


def datasource(username="admin", port=443):
    return {"key": "c9", "name": "c9", "address": "c9.example.com", "port": port, "protocol": "https",
            "username": username, "operation": {"type": "discovery", "state": "completed"}}


def want_ds(**kw):
    base = {"address": "C9.example.com.", "name": "C9.example.com.", "state": "present", "port": 443,
            "protocol": "https", "cluster_username": "admin", "cluster_password": "pw"}
    base.update(kw)
    return base


@pytest.mark.parametrize("update, username, bodies", [
    ("on_create", "admin", []),
    ("on_create", "old", [{"username": "admin", "password": "pw"}]),
    ("always", "admin", [{"password": "pw"}]),
    ("always", "old", [{"username": "admin", "password": "pw"}]),  # the password once, with the user name
])
def test_the_password_goes_with_a_new_user_name_or_always_and_once(update, username, bodies):
    server = ListUM(datasources=[datasource(username=username)])
    e = engine(server, um_cluster.kind(update))
    e.wanted = wanted = want_ds()
    current = um_cluster.find(e, wanted)
    assert current["key"] == "c9", "the host name matched without regard to case or a trailing dot"
    assert [s.body for s in e.plan(wanted, current, "present")] == bodies
    assert all(s.as_dict().get("after") != "pw" for s in e.plan(wanted, current, "present"))


def test_a_datasource_is_created_with_its_password_and_read_back_by_key_without_a_filter():
    server = ListUM()
    e = engine(server, um_cluster.kind("on_create"))
    e.wanted = wanted = want_ds()
    (step,) = e.plan(wanted, None, "present")
    assert step.body == {"address": "C9.example.com.", "port": 443, "protocol": "https", "username": "admin",
                         "password": "pw"}
    server.store[um_cluster.DATASOURCES] = [datasource(), dict(datasource(), key="c8", address="c8")]
    assert e.read("c9")["key"] == "c9" and server.reads[-1] == (um_cluster.DATASOURCES, {})
    server.store[um_cluster.DATASOURCES] = [dict(datasource(), operation={"type": "deletion",
                                                                          "state": "in_progress"})]
    assert e.read("c9") is None, "a datasource being removed counts as gone"


def test_another_port_on_an_existing_datasource_is_refused():
    server = ListUM(datasources=[datasource()])
    with pytest.raises(UMConfigError, match="port is 443 .* cannot change"):
        engine(server, um_cluster.kind("on_create")).run(want_ds(port=8443))
    assert server.writes == []
