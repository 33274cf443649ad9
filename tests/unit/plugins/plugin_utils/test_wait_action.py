# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugins' sliced wait: um_job_wait slices are scripted, time is fake, lines are captured."""

from __future__ import annotations

import types

import pytest

from ansible_collections.aiqum.jobs.plugins.action import um_job_wait as wait_action
from ansible_collections.aiqum.jobs.plugins.action import um_request as request_action
from ansible_collections.aiqum.jobs.plugins.plugin_utils import _wait_action

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "85b642774a960362:-4405f3a8:16e686b7083:-6fac"


def job(key, state="running", status="normal", reason=None, name="Create LUN"):
    out = {"key": key, "name": name, "state": state, "status": status, "submit_time": "2026-11-27T10:00:00.000+00:00",
           "task_reports": [{"name": "Create LUN", "state": state, "status": status}]}
    if reason:
        out["task_reports"][0]["failure_reason"] = reason
    return out


def timed_out(jobs, pending, polls=3):
    return {"failed": True, "timed_out": True, "pending": pending, "jobs": jobs, "polls": polls, "long_polling": True,
            "msg": "timed out after 30s ... Last error: HTTP 503. The jobs go on in UM"}


def finished(jobs, polls=2):
    return {"changed": False, "timed_out": False, "pending": [], "jobs": jobs, "polls": polls, "long_polling": True}


class Harness:
    """An action plugin instance without Ansible's executor: module runs and the clock are scripted."""

    def __init__(self, monkeypatch, cls, args, answers, slice_seconds=30.0):
        self.now = 100.0
        self.calls = []
        self.lines = []
        self.answers = list(answers)
        self.slice_seconds = slice_seconds
        monkeypatch.setattr(_wait_action.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(_wait_action.display, "display", self.lines.append)
        self.sleeps = []
        monkeypatch.setattr(_wait_action.time, "sleep", self.sleep)
        plugin = cls.__new__(cls)
        plugin._task = types.SimpleNamespace(args=args, async_val=0, action="aiqum.jobs.um_job_wait")
        plugin._connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=None), has_native_async=False)
        plugin._remove_tmp_path = lambda path: None
        plugin._run_module = self.run_module
        self.plugin = plugin

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds

    def run_module(self, task_vars, module_name=None, module_args=None, wrap_async=False):
        self.calls.append((module_name, dict(module_args or {}), wrap_async))
        answer = self.answers.pop(0)
        if module_name == _wait_action.WAIT_MODULE:
            self.now += min(self.slice_seconds, module_args["timeout"])
        return dict(answer)

    def _run(self):
        plugin = self.plugin
        args = plugin._task.args
        base_run = _wait_action.ActionBase.run
        try:
            _wait_action.ActionBase.run = lambda self, tmp=None, task_vars=None: {}
            return type(plugin).run(plugin, None, {"inventory_hostname": "localhost"})
        finally:
            _wait_action.ActionBase.run = base_run
            assert plugin._task.args is args


def test_slices_merge_into_one_verdict_with_progress_lines(monkeypatch):
    args = {"keys": [K1, K2], "timeout": 600, "progress_interval": 30, "hostname": "um", "password": "pw"}
    h = Harness(monkeypatch, wait_action.ActionModule, args, [
        timed_out([job(K1, "completed", "error", reason="No space."), job(K2)], [K2]),
        timed_out([job(K2)], [K2]),
        finished([job(K2, "completed", "normal")]),
    ])
    result = h._run()
    assert [c[0] for c in h.calls] == [_wait_action.WAIT_MODULE] * 3
    assert h.calls[0][1]["keys"] == [K1, K2] and h.calls[1][1]["keys"] == [K2]
    assert all(c[1]["progress_interval"] == 0 and c[1]["hostname"] == "um" for c in h.calls)
    assert result["failed"] is True
    assert "No space." in result["msg"] and K1 in result["msg"]
    assert result["outcomes"] == {K1: "error", K2: "normal"}
    assert result["polls"] == 8 and result["pending"] == [] and result["timed_out"] is False
    assert len(h.lines) == 2 and all(K2 in line and "running" in line for line in h.lines)


def test_slices_keep_the_polling_pace_of_the_whole_wait(monkeypatch):
    args = {"key": K1, "timeout": 3600, "progress_interval": 60, "poll_interval": 1, "max_poll_interval": 30}
    answers = [timed_out([job(K1)], [K1])] * 40 + [finished([job(K1, "completed")])]
    h = Harness(monkeypatch, wait_action.ActionModule, args, answers, slice_seconds=60)
    result = h._run()
    firsts = [c[1]["poll_interval"] for c in h.calls]
    assert firsts[0] == 1
    assert firsts == sorted(firsts), "a later slice must not poll faster than an earlier one"
    assert firsts[-1] == 30, "after 40 minutes the pace reaches max_poll_interval"
    assert result["job"]["state"] == "completed" and "failed" not in result


def test_the_overall_timeout_fails_with_the_keys_to_resume(monkeypatch):
    args = {"key": K1, "timeout": 70, "progress_interval": 30}
    h = Harness(monkeypatch, wait_action.ActionModule, args, [timed_out([job(K1)], [K1])] * 3)
    result = h._run()
    assert result["failed"] is True and result["pending"] == [K1]
    assert result["msg"].startswith("timed out after 70s") and "HTTP 503" in result["msg"]
    assert sum(c[1]["timeout"] for c in h.calls) == pytest.approx(70)


def test_partial_failures_warn_and_can_fail(monkeypatch):
    partial = job(K1, "completed", "partial_failures", reason="QoS policy missing.")
    for fail_on, failed in ((False, False), (True, True)):
        args = {"key": K1, "timeout": 600, "progress_interval": 30, "fail_on_partial_failures": fail_on}
        h = Harness(monkeypatch, wait_action.ActionModule, args, [timed_out([job(K1)], [K1]), finished([partial])])
        result = h._run()
        assert bool(result.get("failed")) is failed
        if not failed:
            assert any("QoS policy missing." in w for w in result["warnings"])


def test_an_error_before_waiting_is_returned_as_the_module_gave_it(monkeypatch):
    args = {"key": K1, "timeout": 600, "progress_interval": 30}
    h = Harness(monkeypatch, wait_action.ActionModule, args, [{"failed": True, "msg": "job x does not exist on UM"}])
    result = h._run()
    assert result == {"failed": True, "msg": "job x does not exist on UM"}


@pytest.mark.parametrize("args", [
    {"key": K1, "timeout": 600, "progress_interval": 0},
    {"key": K1, "timeout": 20, "progress_interval": 30},
    {"key": K1, "keys": [K2], "timeout": 600},
    {"keys": [K1, K1], "timeout": 600},
])
def test_plain_runs_leave_the_module_alone(monkeypatch, args):
    h = Harness(monkeypatch, wait_action.ActionModule, args, [finished([job(K1, "completed")])])
    result = h._run()
    assert h.calls == [(None, {}, False)]
    assert result["pending"] == []


def test_request_is_sent_once_then_waited_on_in_slices(monkeypatch):
    args = {"method": "POST", "path": "/storage-provider/luns", "body": {"name": "l"}, "wait": True,
            "timeout": 600, "progress_interval": 30, "hostname": "um"}
    started = {"changed": True, "status": 202, "job_key": K1, "job": {"key": K1},
               "request": {"method": "POST", "sent": True}}
    h = Harness(monkeypatch, request_action.ActionModule, args, [
        started, timed_out([job(K1)], [K1]), finished([job(K1, "completed", "warning")])])
    result = h._run()
    assert h.calls[0][0] is None and h.calls[0][1]["wait"] is False
    assert [c[0] for c in h.calls[1:]] == [_wait_action.WAIT_MODULE] * 2
    assert "method" not in h.calls[1][1] and h.calls[1][1]["keys"] == [K1]
    assert result["changed"] is True and result["job_key"] == K1 and result["status"] == 202
    assert result["outcomes"] == {K1: "warning"} and result["warnings"]


def test_request_without_a_job_is_one_run(monkeypatch):
    args = {"path": "/storage-provider/luns", "wait": True, "timeout": 600, "progress_interval": 30}
    h = Harness(monkeypatch, request_action.ActionModule, args, [{"changed": False, "status": 200, "json": {}}])
    result = h._run()
    assert result["status"] == 200 and len(h.calls) == 1 and h.calls[0][1]["wait"] is False


@pytest.mark.parametrize("cls, args", [
    (wait_action.ActionModule, {"key": K1, "timeout": 600, "progress_interval": 30}),
    (request_action.ActionModule, {"path": "/x", "method": "POST", "wait": True, "timeout": 600, "progress_interval": 30}),
])
def test_async_runs_the_module_once_wrapped(monkeypatch, cls, args):
    h = Harness(monkeypatch, cls, args, [{"ansible_job_id": "j1", "started": 1, "finished": 0}])
    h.plugin._task.async_val = 600
    result = h._run()
    assert h.calls == [(None, {}, True)] and result["ansible_job_id"] == "j1"


def test_a_slice_that_fails_after_um_was_seen_is_ridden_out(monkeypatch):
    args = {"key": K1, "timeout": 600, "progress_interval": 30}
    h = Harness(monkeypatch, wait_action.ActionModule, args, [
        timed_out([job(K1)], [K1]),
        {"failed": True, "msg": "GET /management-server/jobs/x: cannot reach https://um: Connection refused"},
        {"failed": True, "msg": "GET /management-server/jobs/x: HTTP 401, authentication failed"},
        finished([job(K1, "completed")]),
    ])
    result = h._run()
    assert "failed" not in result and result["job"]["state"] == "completed"
    assert len(h.sleeps) == 2 and all(0 < s <= 10 for s in h.sleeps)


def test_a_slice_failing_until_the_deadline_ends_as_a_timeout_with_the_last_error(monkeypatch):
    args = {"key": K1, "timeout": 100, "progress_interval": 30}
    refused = {"failed": True, "msg": "cannot reach https://um: Connection refused"}
    h = Harness(monkeypatch, wait_action.ActionModule, args, [timed_out([job(K1)], [K1])] + [refused] * 50)
    result = h._run()
    assert result["failed"] is True and result["pending"] == [K1]
    assert "timed out after 100s" in result["msg"] and "Connection refused" in result["msg"]


@pytest.mark.parametrize("bad", [{"timeout": float("inf")}, {"timeout": 1e12}, {"poll_interval": 0},
                                 {"poll_interval": -1}, {"long_poll": "sometimes"}, {"long_poll_timeout": 500}])
def test_unusable_wait_options_are_left_to_the_module(monkeypatch, bad):
    args = dict({"key": K1, "timeout": 600, "progress_interval": 30}, **bad)
    h = Harness(monkeypatch, wait_action.ActionModule, args, [{"failed": True, "msg": "the module's own message"}])
    result = h._run()
    assert h.calls == [(None, {}, False)] and result["msg"] == "the module's own message"


@pytest.mark.parametrize("value, failed", [("false", False), ("no", False), ("true", True), (True, True)])
def test_switches_given_as_strings_are_read_as_booleans(monkeypatch, value, failed):
    partial = job(K1, "completed", "partial_failures", reason="QoS policy missing.")
    args = {"key": K1, "timeout": 600, "progress_interval": 30, "fail_on_partial_failures": value}
    h = Harness(monkeypatch, wait_action.ActionModule, args, [timed_out([job(K1)], [K1]), finished([partial])])
    assert bool(h._run().get("failed")) is failed


def test_long_polling_once_honoured_is_reported(monkeypatch):
    args = {"key": K1, "timeout": 600, "progress_interval": 30}
    last = dict(finished([job(K1, "completed")]), long_polling=False)
    h = Harness(monkeypatch, wait_action.ActionModule, args, [timed_out([job(K1)], [K1]), last])
    assert h._run()["long_polling"] is True
