# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module runs of a sliced wait warn about reaches the task's result once (validate_certs=false...)."""

from __future__ import annotations

import types

from ansible_collections.aiqum.jobs.plugins.action import um_job_wait as wait_action
from ansible_collections.aiqum.jobs.plugins.action import um_request as request_action
from ansible_collections.aiqum.jobs.plugins.plugin_utils import _wait_action
from ansible_collections.aiqum.jobs.plugins.plugin_utils._warnings import merge_warnings, warning_text

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
INSECURE = "validate_certs is false: the TLS certificate of um is not verified"
# ansible-core 2.19 hands module warnings back as structured summaries.
INSECURE_SUMMARY = {"event": {"msg": INSECURE}}


def job(state="running", status="normal"):
    return {"key": K1, "name": "Create LUN", "state": state, "status": status, "task_reports": []}


def run_action(monkeypatch, cls, args, answers):
    now = [100.0]
    calls = []
    monkeypatch.setattr(_wait_action.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(_wait_action.display, "display", lambda line: None)

    def run_module(task_vars, module_name=None, module_args=None, wrap_async=False):
        calls.append(module_name)
        if module_name == _wait_action.WAIT_MODULE:
            now[0] += min(30.0, module_args["timeout"])
        return dict(answers.pop(0))

    plugin = cls.__new__(cls)
    plugin._task = types.SimpleNamespace(args=args, async_val=0, action="x")
    plugin._connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=None), has_native_async=False)
    plugin._remove_tmp_path = lambda path: None
    plugin._run_module = run_module
    monkeypatch.setattr(_wait_action.ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    return type(plugin).run(plugin, None, {"inventory_hostname": "localhost"}), calls


def test_a_sliced_wait_warns_once_for_all_its_runs(monkeypatch):
    slice_timed_out = {"failed": True, "timed_out": True, "pending": [K1], "jobs": [job()], "polls": 1,
                       "warnings": [INSECURE_SUMMARY], "msg": "timed out"}
    slice_done = {"timed_out": False, "pending": [], "jobs": [job("completed", "warning")], "polls": 1,
                  "warnings": [INSECURE_SUMMARY, {"event": {"msg": "job x ended with status warning"}}]}
    result, calls = run_action(monkeypatch, wait_action.ActionModule,
                               {"key": K1, "timeout": 600, "progress_interval": 30, "validate_certs": False},
                               [slice_timed_out, slice_timed_out, slice_done])
    assert calls == [_wait_action.WAIT_MODULE] * 3
    texts = [warning_text(w) for w in result["warnings"]]
    assert texts.count(INSECURE) == 1, texts
    assert result["outcomes"] == {K1: "warning"} and not result.get("failed")


def test_um_request_keeps_the_warnings_of_its_request_run(monkeypatch):
    started = {"changed": True, "status": 200, "job_key": K1, "job": {"key": K1}, "warnings": [INSECURE_SUMMARY],
               "request": {"method": "POST", "sent": True}}
    slice_done = {"timed_out": False, "pending": [], "jobs": [job("completed")], "polls": 1,
                  "warnings": [INSECURE_SUMMARY]}
    result, _calls = run_action(monkeypatch, request_action.ActionModule,
                                {"method": "post", "path": "/x", "wait": True, "timeout": 600, "progress_interval": 30},
                                [started, slice_done])
    assert [warning_text(w) for w in result["warnings"]] == [INSECURE]
    assert result["changed"] is True and result["job_key"] == K1


def test_merge_keeps_order_and_drops_repeats():
    assert merge_warnings(["a", {"event": {"msg": "b"}}], None, ["b", "a", "c"]) == ["a", "b", "c"]
