# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugins end to end on a fake clock: each module run is the real module's main() against the
scripted UM, so the slices, the carried state and the verdict are the real ones; only time is fake."""

from __future__ import annotations

import json
import types

import pytest

from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.aiqum.jobs.plugins.action import um_file_share as share_action
from ansible_collections.aiqum.jobs.plugins.action import um_job_wait as wait_action
from ansible_collections.aiqum.jobs.plugins.action import um_request as request_action
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMTLSError
from ansible_collections.aiqum.jobs.plugins.module_utils._module import RESUME_KEY
from ansible_collections.aiqum.jobs.plugins.modules import um_file_share, um_job_wait, um_request
from ansible_collections.aiqum.jobs.plugins.plugin_utils import _wait_action
from ansible_collections.aiqum.jobs.plugins.plugin_utils._warnings import merge_warnings
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, FakeJob, http_error, job, warnings_of

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "85b642774a960362:-4405f3a8:16e686b7083:-6fac"
JOB_PATH = "/management-server/jobs/" + K1.replace(":", "%3A")
LUNS = "/storage-provider/luns"
ACCEPTED = (202, {"job": {"key": K1, "_links": {"self": {"href": "/api/management-server/jobs/" + K1}}}})
MODULES = {wait_action.ActionModule: um_job_wait.main, request_action.ActionModule: um_request.main,
           share_action.ActionModule: um_file_share.main}


class Harness:
    """An action plugin made with its real constructor; its module runs are the module's main() in-process."""

    def __init__(self, um, run_module, monkeypatch, cls, args, async_val=0):
        self.lines = []
        self.runs = []
        self.um = um
        monkeypatch.setattr(_wait_action, "display", types.SimpleNamespace(display=self.lines.append))
        main = MODULES[cls]
        runs = self.runs

        class Scripted(cls):
            def _execute_module(self, module_name=None, module_args=None, task_vars=None, persist_files=False,
                                delete_remote_tmp=None, wrap_async=False, ignore_unknown_opts=False):
                args = dict(self._task.args if module_args is None else module_args)
                runs.append((args, wrap_async))
                # A module run is a process of its own: warnings do not carry over from the last one.
                monkeypatch.setattr(ansible_warnings, "_global_warnings", type(ansible_warnings._global_warnings)())
                # What ActionBase._execute_module adds: the module then leaves the resume state to UMModule to check.
                internal = {"_ansible_ignore_unknown_opts": True} if ignore_unknown_opts else {}
                _code, result, _out = run_module(main, dict(args, **internal))
                return result

        task = types.SimpleNamespace(args=args, async_val=async_val, check_mode=False, action="aiqum.jobs.x")
        connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=None), has_native_async=False)
        self.args = args
        self.plugin = Scripted(task, connection, None, None, None, shared_loader_obj=None)  # required before 2.19

    def run(self):
        before = dict(self.args)
        result = self.plugin.run(None, {"inventory_hostname": "localhost"})
        assert self.args == before, "the task's arguments were changed"
        return result


@pytest.fixture
def harness(um, run_module, monkeypatch):
    def make(cls, args, async_val=0):
        return Harness(um, run_module, monkeypatch, cls, args, async_val)
    return make


def test_one_job_in_slices_one_verdict_and_a_line_per_slice(harness, um):
    um.add(job(K1, 95.0, name="Create LUN", final={"job_results": [{"name": "lunKey", "value": "l1"}]}))
    h = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 30})
    result = h.run()
    assert not result.get("failed") and result["changed"] is False
    assert result["outcomes"] == {K1: "normal"} and result["outputs"] == {"lunKey": "l1"}
    assert result["job"]["state"] == "completed" and result["pending"] == []
    assert RESUME_KEY not in result and "waiting" not in result and "progress" not in result
    assert len(h.runs) == 4
    assert h.runs[0][0][RESUME_KEY] == {} and all(r[0][RESUME_KEY] for r in h.runs[1:])
    assert h.lines == [f"[localhost] waiting: job {K1} (Create LUN): running, {s}s elapsed" for s in (30, 60, 90)]
    # The elapsed time and the polls are those of the whole wait, not of the last slice.
    assert 95.0 <= result["elapsed"] <= 95.5


def test_while_long_polling_works_a_slice_costs_one_get(harness, um):
    """Issue 10 (13): a progress slice holds one long poll for the whole slice; no plain GET at its end."""
    um.add(job(K1, 60.0))
    result = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 30}).run()
    assert not result.get("failed") and result["long_polling"] is True
    assert result["polls"] == len(um.calls) == 2
    assert all(c.poll_timeout for c in um.calls)


@pytest.mark.parametrize("fault, words", [
    (lambda: http_error(403, JOB_PATH, "Forbidden."), "HTTP 403"),
    (lambda: UMTLSError("TLS certificate of https://um.example.com:8443 could not be verified"), "TLS certificate"),
])
def test_a_permanent_error_fails_at_once_with_progress_on(harness, um, fault, words):
    """Issue 10 (1): with progress lines on, a permanent error no longer retries until the whole timeout."""
    um.add(job(K1, 600.0))
    um.outages = [(0.0, 1e9, fault)]
    h = harness(wait_action.ActionModule, {"key": K1, "timeout": 3600, "progress_interval": 10})
    result = h.run()
    assert result["failed"] and words in result["msg"] and "timed out" not in result["msg"]
    assert len(h.runs) == 1 and len(um.calls) == 1
    assert um.clock() - um.t0 < 1.0


def test_a_permanent_error_after_the_start_fails_um_request_at_once(harness, um):
    """Issue 10 (1): once UM has answered (um_request's start), a 403 on the polls is still final."""
    um.add(job(K1, 600.0))
    um.script("POST", LUNS, ACCEPTED)
    um.outages = [(0.0, 1e9, lambda: http_error(403, JOB_PATH, "Forbidden."))]
    h = harness(request_action.ActionModule, {"method": "POST", "path": LUNS, "body": {"name": "l"}, "wait": True,
                                              "progress_interval": 10})
    result = h.run()
    assert result["failed"] and "HTTP 403" in result["msg"] and "timed out" not in result["msg"]
    assert result["changed"] is True and result["job_key"] == K1
    assert len(h.runs) == 1 and len(um.calls) == 1


def test_a_job_that_is_gone_fails_at_once_with_progress_on(harness, um):
    h = harness(wait_action.ActionModule, {"key": K1, "timeout": 3600, "progress_interval": 10})
    result = h.run()
    assert result["failed"] and "does not exist" in result["msg"] and result["outcomes"] == {K1: "not_found"}
    assert len(h.runs) == 1 and um.clock() - um.t0 < 1.0


def test_long_poll_always_rejected_fails_at_once_with_progress_on(harness, um):
    um.add(job(K1, 600.0))
    um.long_poll = "reject"
    h = harness(wait_action.ActionModule, {"key": K1, "long_poll": "always", "progress_interval": 10})
    result = h.run()
    assert result["failed"] and "rejected long polling" in result["msg"]
    assert len(h.runs) == 1


@pytest.mark.parametrize("typo", [{"timout": 5}, {"fail_on_partial_failure": True}])
def test_misspelled_options_are_refused_on_the_progress_path(harness, um, typo):
    """Issue 10 (2): the task's arguments reach the module untouched, so its argument check sees every option."""
    um.add(job(K1, 20.0))
    h = harness(wait_action.ActionModule, dict({"key": K1}, **typo))
    result = h.run()
    assert result["failed"] and "Unsupported parameters" in result["msg"] and next(iter(typo)) in result["msg"]
    assert um.calls == []


@pytest.mark.parametrize("behaviour", ["ignore", "honour"])
def test_slices_keep_the_pace_of_the_whole_wait(harness, um, behaviour):
    """Slices carry the waiter's state: a sliced wait polls as often as one unsliced wait, not more."""
    um.long_poll = behaviour
    um.add(job(K1, 300.0), job(K2, 600.0))  # the second wait starts when the first ends
    plain = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 0, "long_poll": "never"}).run()
    sliced = harness(wait_action.ActionModule, {"key": K2, "progress_interval": 10, "long_poll": "never"}).run()
    assert not plain.get("failed") and not sliced.get("failed")
    assert abs(sliced["polls"] - plain["polls"]) <= 2, (sliced["polls"], plain["polls"])


def test_the_overall_timeout_fails_with_the_keys_to_resume(harness, um):
    um.add(job(K1, None), job(K2, 12.0))
    h = harness(wait_action.ActionModule, {"keys": [K1, K2], "timeout": 45, "progress_interval": 20})
    result = h.run()
    assert result["failed"] and result["timed_out"] and result["pending"] == [K1]
    assert result["msg"].startswith("timed out after 45s with 1 of 2 jobs still running")
    assert result["outcomes"] == {K1: None, K2: "normal"}
    assert 45.0 <= um.clock() - um.t0 <= 45.6


def test_many_jobs_progress_is_a_summary_and_the_jobs_that_ended(harness, um):
    """Issue 10 (10): 50 keys print a count line and name only the jobs that ended during the slice."""
    keys = [f"{i:x}:-1:16e3ae18e35:-7ff4" for i in range(50)]
    for i, key in enumerate(keys):
        um.add(job(key, None if i < 37 else 11.0 + (i - 37) * 0.1, status="error" if i == 49 else "normal"))
    h = harness(wait_action.ActionModule, {"keys": keys, "timeout": 40, "progress_interval": 10,
                                           "long_poll": "never"})
    result = h.run()
    assert result["failed"] and result["timed_out"]
    summaries = [line for line in h.lines if not line.startswith("[localhost] waiting:   ")]
    assert summaries[0] == "[localhost] waiting: 50 of 50 jobs running, 10s elapsed"
    assert summaries[1].startswith("[localhost] waiting: 37 of 50 jobs running, 1 error, 12 normal, 20s")
    named = [line for line in h.lines if line.startswith("[localhost] waiting:   ")]
    assert len(named) == 10 + 1 and named[-1].endswith("... and 3 more ended")
    assert len(h.lines) <= 3 + 11, "a line per job per slice"


def test_partial_failures_warn_and_can_fail(harness, um):
    um.add(job(K1, 25.0, status="partial_failures"))
    result = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 10}).run()
    assert not result.get("failed") and any("partial_failures" in w for w in warnings_of(result))
    um.add(job(K2, 25.0, status="partial_failures"))
    strict = harness(wait_action.ActionModule, {"key": K2, "progress_interval": 10,
                                                "fail_on_partial_failures": "yes"}).run()
    assert strict["failed"] and "partial_failures" in strict["msg"]


def test_request_is_sent_once_then_waited_on_in_slices(harness, um):
    um.add(job(K1, 50.0))
    um.script("POST", LUNS, ACCEPTED)
    body = {"name": "lun1", "password": PASSWORD}
    h = harness(request_action.ActionModule, {"method": "POST", "path": LUNS, "body": body, "wait": True,
                                              "progress_interval": 20})
    result = h.run()
    assert not result.get("failed") and result["changed"] is True and result["job_key"] == K1
    assert result["status"] == 202 and result["request"]["sent"] is True
    assert result["outcomes"] == {K1: "normal"} and len(h.runs) == 3
    assert [r for r in um.requests if r[0] == "POST"] == [("POST", LUNS, {}, body)]
    # The state carried between runs never holds the password.
    assert all(PASSWORD not in repr(args.get(RESUME_KEY)) for args, _w in h.runs)


def test_request_without_wait_is_one_run(harness, um):
    um.script("POST", LUNS, ACCEPTED)
    h = harness(request_action.ActionModule, {"method": "POST", "path": LUNS, "body": {"name": "l"}})
    result = h.run()
    assert result["job_key"] == K1 and len(h.runs) == 1 and um.calls == []


@pytest.mark.parametrize("cls, args", [
    (wait_action.ActionModule, {"key": K1}),
    (request_action.ActionModule, {"method": "POST", "path": LUNS, "body": {"name": "l"}, "wait": True}),
])
def test_async_runs_the_module_once_wrapped(harness, um, cls, args):
    um.add(job(K1, 50.0))
    if "method" in args:  # um_request starts the job; um_job_wait only waits
        um.script("POST", LUNS, ACCEPTED)
    h = harness(cls, args, async_val=100)
    result = h.run()
    assert not result.get("failed") and result["outcomes"] == {K1: "normal"}
    assert h.runs == [(args, True)], "under async the module runs once, with the task's own arguments"
    assert h.lines == []


def test_progress_off_is_one_module_run(harness, um):
    um.add(job(K1, 50.0))
    h = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 0})
    result = h.run()
    assert not result.get("failed") and len(h.runs) == 1 and h.lines == []


def test_a_um_restart_in_the_middle_is_ridden_out_across_slices(harness, um):
    um.add(job(K1, 80.0))
    um.long_poll = "ignore"
    um.outages = [(15.0, 40.0, lambda: http_error(503, JOB_PATH, "Starting."))]
    result = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 10}).run()
    assert not result.get("failed") and result["outcomes"] == {K1: "normal"}


def test_prose_state_with_complete_time_ends_the_wait(harness, um):
    """Issue 10 (8): state WARNING (capitals) with a complete_time has ended."""
    um.add(FakeJob(K1, [(-1.0, "running", "normal"), (6.0, "WARNING", "normal")],
                   fields={}, final={}))
    real_snapshot = um.jobs[K1].snapshot

    def snapshot(rel):
        out = real_snapshot(rel)
        if out["state"] == "WARNING":
            out["complete_time"] = "2026-11-27T10:00:06.000+00:00"
        return out
    um.jobs[K1].snapshot = snapshot
    result = harness(wait_action.ActionModule, {"key": K1, "timeout": 60, "progress_interval": 10,
                                                "long_poll": "never"}).run()
    assert not result.get("failed") and result["outcomes"] == {K1: "warning"}
    assert um.clock() - um.t0 < 10.0


def test_what_the_runs_warn_about_reaches_the_result_once(harness, um):
    """validate_certs=false warns in every module run; the task shows it once, with the verdict's warnings."""
    um.add(job(K1, 70.0, status="warning"))
    h = harness(wait_action.ActionModule, {"key": K1, "progress_interval": 30, "validate_certs": False})
    result = h.run()
    texts = warnings_of(result)
    assert len(h.runs) == 3 and not result.get("failed")
    assert sum("validate_certs is false" in w for w in texts) == 1, texts
    assert sum("ended with status warning" in w for w in texts) == 1, texts


def test_um_request_keeps_the_warnings_of_its_request_run(harness, um):
    um.add(job(K1, 40.0))
    um.script("POST", LUNS, ACCEPTED)
    h = harness(request_action.ActionModule, {"method": "post", "path": LUNS, "body": {"name": "l"}, "wait": True,
                                              "validate_certs": False})
    result = h.run()
    assert [w for w in warnings_of(result) if "validate_certs" in w] and len(warnings_of(result)) == 1
    assert result["changed"] is True and result["job_key"] == K1


def test_merge_keeps_order_and_drops_repeats():
    assert merge_warnings(["a", {"event": {"msg": "b"}}], None, ["b", "a", "c"]) == ["a", "b", "c"]


@pytest.mark.parametrize("async_val", [0, 100])
@pytest.mark.parametrize("name", [RESUME_KEY, "wait_state"])
def test_a_state_written_in_the_task_is_refused_on_every_path(harness, um, async_val, name):
    """Issue 18 (6): a state given in the task was used under async; now it is refused before the module runs."""
    forged = {"version": 2, "codes": "n", "context": {"report": {"job_key": K1, "request": {}}}}
    h = harness(request_action.ActionModule, {"method": "POST", "path": LUNS, "body": {"name": "x"}, "wait": True,
                                              name: forged}, async_val=async_val)
    result = h.run()
    assert result["failed"] and "never given in a task" in result["msg"]
    assert h.runs == [] and um.requests == []


def test_the_state_between_slices_is_small_and_holds_no_job_records(harness, um):
    keys = [f"{i:x}:-1:16e3ae18e35:-7ff4" for i in range(300)]
    for key in keys:
        um.add(job(key, 25.0, final={"job_results": [{"name": "lunKey", "value": "l" * 200}]}))
    h = harness(wait_action.ActionModule, {"keys": keys, "progress_interval": 10, "long_poll": "never"})
    result = h.run()
    assert not result.get("failed") and len(result["jobs"]) == 300 and len(h.runs) >= 3
    for args, _wrap in h.runs[1:]:
        carried = json.dumps(args[RESUME_KEY])
        assert len(carried) < 2000 and "lunKey" not in carried and keys[0] not in carried


# -- a declarative module's plan across progress slices (issue 19) -------------------------------------------

SHARES = "/storage-provider/file-shares"
PSLS = "/storage-provider/performance-service-levels"
FS_KEY = "c1:type=volume,uuid=v1"
FS_PATH = SHARES + "/" + FS_KEY.replace(":", "%3A").replace("=", "%3D").replace(",", "%2C")
GIB = 1024 ** 3
SHARE_ARGS = {"name": "fs1", "svm": "svm1", "size": 2, "performance_service_level": "Extreme"}


def share(size=GIB, psl=("Value", "p3")):
    return {"key": FS_KEY, "name": "fs1", "svm": {"key": "s1", "name": "svm1"}, "cluster": {"key": "c1", "name": "c"},
            "space": {"size": size}, "assigned_performance_service_level": {"key": psl[1], "name": psl[0]}}


def page(*records):
    return 200, {"records": list(records), "num_records": len(records)}


def script_two_steps(um, length, lists=3):
    """A share at 1 GiB / Value, asked 2 GiB / Extreme: two PATCHes whose jobs each take `length` seconds. The
    share is listed three times: found, then read again after each step (a fourth list would be a lookup again)."""
    um.script("GET", SHARES, *[page(share()), page(share(size=2 * GIB)), page(share(2 * GIB, ("Extreme", "p1")))][:lists])
    um.script("GET", PSLS, page({"key": "p3", "name": "Value"}, {"key": "p1", "name": "Extreme"}))
    um.script("PATCH", FS_PATH, (202, {"job": {"key": K1}}), (202, {"job": {"key": K2}}))
    # A job's time line counts from the wait's start: the second one runs `length` seconds after the first ended.
    um.add(job(K1, length, name="Modify file share size"), job(K2, 2 * length, name="Modify service level"))


def test_a_plan_goes_on_across_slices_each_step_sent_once(harness, um):
    """Issue 19: progress lines for um_file_share: each run waits one slice and carries where the plan stands; the
    next run goes on from the job it was waiting for, without looking anything up or sending anything again."""
    script_two_steps(um, 45.0)
    h = harness(share_action.ActionModule, dict(SHARE_ARGS, progress_interval=20))
    result = h.run()
    assert not result.get("failed") and result["changed"] is True, result
    assert [(r[0], r[3]) for r in um.requests if r[0] != "GET"] == [
        ("PATCH", {"space": {"size": 2 * GIB}}), ("PATCH", {"performance_service_level": {"key": "p1"}})]
    assert [r[1] for r in um.requests if r[0] == "GET" and not r[1].startswith("/management-server")] == \
        [SHARES, PSLS, SHARES, SHARES]
    # The second PATCH went out after the first job had ended.
    k1_end = max(c.end for c in um.calls if c.keys == (K1,))
    assert k1_end <= min(c.start for c in um.calls if c.keys == (K2,))
    assert [j["step"] for j in result["jobs"]] == ["size", "performance_service_level"]
    assert [j["key"] for j in result["jobs"]] == [K1, K2] and all(j["status"] == "normal" for j in result["jobs"])
    assert result["file_share"]["assigned_performance_service_level"]["name"] == "Extreme"
    assert RESUME_KEY not in result and "waiting" not in result
    steps = [line for line in h.lines if "step" in line]
    assert steps and all(line.startswith("[localhost] waiting: file share 'fs1' in SVM 'svm1': step ")
                         for line in steps)
    assert any("step 1 of 2, size (1 GiB (1073741824 bytes) -> 2 GiB (2147483648 bytes))" in line for line in steps)
    assert any("step 2 of 2, performance_service_level (Value -> Extreme)" in line for line in steps)
    assert any(f"job {K1} (Modify file share size): running" in line for line in h.lines)
    assert len(h.runs) >= 4 and all(r[0][RESUME_KEY] for r in h.runs[1:])
    for args, _wrap in h.runs[1:]:
        assert len(json.dumps(args[RESUME_KEY])) < 4000


def test_a_plan_across_slices_keeps_the_tasks_one_timeout(harness, um):
    """The timeout is the whole task's: it travels with the plan, so a second step cannot start a fresh one."""
    script_two_steps(um, 45.0, lists=2)
    h = harness(share_action.ActionModule, dict(SHARE_ARGS, progress_interval=20, timeout=60))
    result = h.run()
    assert result["failed"] and "performance_service_level" in result["msg"], result
    assert "Already changed: size" in result["msg"] and result["changed"] is True
    assert result["pending"] == [K2] and result["job_key"] == K2
    assert 59.0 <= um.clock() - um.t0 <= 61.0


def test_a_plan_snapshot_from_elsewhere_is_refused(run_module, um):
    """A resume state is the action plugin's alone: a forged plan is refused before anything is sent."""
    forged = {"plan": {"version": 1, "kind": "file share", "waiting": K1, "key": FS_KEY, "before": {},
                       "steps": [{"name": "size", "method": "DELETE", "path": FS_PATH, "body": None, "option": "size",
                                  "wanted": 1, "before": 2}],
                       "done": [], "jobs": [], "outputs": {}, "plan": [{}]}, "deadline": 1e12}
    um.add(job(K1, 1.0))
    from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitState
    state = WaitState(keys=[K1], started=0.0, deadline=1e12, context=forged).carry()
    _code, result, _out = run_module(um_file_share.main, dict(SHARE_ARGS, **{RESUME_KEY: state,
                                                                             "_ansible_ignore_unknown_opts": True}))
    assert result["failed"] and "never given in a task" in result["msg"]
    assert [r for r in um.requests if r[0] != "GET"] == []
