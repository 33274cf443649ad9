# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_job_wait: main() with module args, against the scripted UM on a fake clock."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.modules import um_job_wait
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, FakeJob, job, warnings_of
from ansible_collections.aiqum.jobs.tests.unit.plugins.conftest import CONNECTION

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "85b642774a960362:-4405f3a8:16e686b7083:-6fac"
LUN = {"job_results": [{"name": "lunKey", "value": "4a2f:type=lun,uuid=1"}]}
FAILED_TASKS = {"task_reports": [
    {"key": "t1", "name": "Create volume", "state": "completed", "status": "normal"},
    {"key": "t2", "name": "Create LUN", "state": "completed", "status": "error",
     "failure_reason": "Aggregate aggr1 has insufficient space."},
]}


def test_success(um, run_module):
    um.add(job(K1, 30.0, name="Create LUN lun1", final=LUN))
    code, result, _out = run_module(um_job_wait.main, {"key": K1})
    assert code == 0
    assert result["changed"] is False
    assert result["job"]["key"] == K1 and result["job"]["state"] == "completed"
    assert result["jobs"] == [result["job"]]
    assert result["outcomes"] == {K1: "normal"}
    assert result["outputs"] == {"lunKey": "4a2f:type=lun,uuid=1"}
    assert result["pending"] == [] and result["timed_out"] is False
    assert result["long_polling"] is True and result["polls"] == 1
    assert 30.0 <= result["elapsed"] <= 30.1
    assert K1 in result["msg"] and "normal" in result["msg"]
    assert not warnings_of(result)
    # The module's options reach the client, the key is encoded, and the client is closed.
    args, kwargs = um.clients[0]
    assert args[0] == "um.example.com" and kwargs["port"] == 8443 and kwargs["ca_path"] == CONNECTION["ca_path"]
    assert kwargs["validate_certs"] is True
    assert um.requests[0][1] == "/management-server/jobs/" + K1.replace(":", "%3A")
    assert um.requests[0][2] == {"poll_timeout": "60"}
    assert um.closed == 1


def test_warning_warns(um, run_module):
    um.add(job(K1, 5.0, status="warning"))
    code, result, _out = run_module(um_job_wait.main, {"key": K1})
    assert code == 0
    assert result["outcomes"] == {K1: "warning"}
    assert len(warnings_of(result)) == 1 and K1 in warnings_of(result)[0] and "warning" in warnings_of(result)[0]


def test_warning_can_be_silenced(um, run_module):
    um.add(job(K1, 5.0, status="warning"))
    code, result, _out = run_module(um_job_wait.main, {"key": K1, "warn_on_warning": False})
    assert code == 0
    assert not warnings_of(result)


def test_partial_failures_warn(um, run_module):
    um.add(job(K1, 5.0, status="partial_failures", final=FAILED_TASKS))
    code, result, _out = run_module(um_job_wait.main, {"key": K1})
    assert code == 0
    assert result["outcomes"] == {K1: "partial_failures"}
    assert len(warnings_of(result)) == 1
    assert "partial_failures" in warnings_of(result)[0] and "insufficient space" in warnings_of(result)[0]


def test_partial_failures_fail_when_asked(um, run_module):
    um.add(job(K1, 5.0, status="partial_failures", final=FAILED_TASKS))
    code, result, _out = run_module(um_job_wait.main, {"key": K1, "fail_on_partial_failures": True})
    assert code == 1
    assert "partial_failures" in result["msg"] and "insufficient space" in result["msg"]
    assert result["outcomes"] == {K1: "partial_failures"}


def test_error_fails_naming_the_reason(um, run_module):
    um.add(job(K1, 12.0, status="error", name="Create LUN lun1", final=FAILED_TASKS))
    code, result, _out = run_module(um_job_wait.main, {"key": K1})
    assert code == 1
    assert K1 in result["msg"] and "error" in result["msg"]
    assert "task 'Create LUN': Aggregate aggr1 has insufficient space." in result["msg"]
    assert "Create volume" not in result["msg"]
    assert result["job"]["status"] == "error"
    assert result["pending"] == []


def test_aborted_fails(um, run_module):
    um.add(FakeJob(K1, [(-1.0, "running", "normal"), (4.0, "aborting", "normal"), (6.0, "aborted", "normal")]))
    code, result, _out = run_module(um_job_wait.main, {"key": K1})
    assert code == 1 and "aborted" in result["msg"]
    assert result["outcomes"] == {K1: "aborted"}


def test_timeout_fails_and_returns_pending(um, run_module):
    um.add(job(K1, None, fields={"task_reports": [{"state": "completed"}, {"state": "running"}]}), job(K2, 10.0))
    code, result, _out = run_module(um_job_wait.main, {"keys": [K1, K2], "timeout": 120})
    assert code == 1
    assert result["timed_out"] is True
    assert result["pending"] == [K1]
    assert result["outcomes"] == {K1: None, K2: "normal"}
    assert result["msg"].startswith("timed out after 120s with 1 of 2 jobs still running")
    assert f"{K1} (job {K1}): running, tasks 1/2" in result["msg"]
    assert "pending" in result["msg"]
    assert 120.0 <= result["elapsed"] <= 120.1


def test_many_keys(um, run_module):
    um.add(job(K1, 20.0, final=LUN), job(K2, 8.0, status="warning"))
    code, result, _out = run_module(um_job_wait.main, {"keys": [K1, K2]})
    assert code == 0
    assert [j["key"] for j in result["jobs"]] == [K1, K2]
    assert result["outcomes"] == {K1: "normal", K2: "warning"}
    assert result["outputs"] == {K1: {"lunKey": "4a2f:type=lun,uuid=1"}, K2: {}}
    assert "job" not in result
    assert len(warnings_of(result)) == 1 and K2 in warnings_of(result)[0]
    assert result["msg"] == "all 2 jobs ended: 1 normal, 1 warning"


def test_one_of_many_fails(um, run_module):
    um.add(job(K1, 20.0), job(K2, 8.0, status="error", final=FAILED_TASKS))
    code, result, _out = run_module(um_job_wait.main, {"keys": [K1, K2]})
    assert code == 1
    assert result["msg"].startswith("1 of 2 jobs failed")
    assert "insufficient space" in result["msg"]


def test_key_and_keys_together_fail_with_one_line(um, run_module):
    code, result, _out = run_module(um_job_wait.main, {"key": K1, "keys": [K2]})
    assert code == 1
    assert result["msg"] == "give either key or keys, not both"
    assert um.requests == []


def test_no_key_fails(um, run_module):
    code, result, _out = run_module(um_job_wait.main, {})
    assert code == 1 and "key" in result["msg"]
    assert um.requests == []


@pytest.mark.parametrize("args, words", [
    ({"key": "a/b"}, "not a UM job key"), ({"keys": [K1, K1]}, "more than once"), ({"keys": []}, "empty"),
    ({"key": K1, "poll_interval": 0.01}, "poll_interval"), ({"key": K1, "long_poll_timeout": 500}, "long_poll_timeout"),
    ({"key": K1, "timeout": 0}, "timeout"),
])
def test_bad_options_fail_before_any_request(um, run_module, args, words):
    code, result, _out = run_module(um_job_wait.main, args)
    assert code == 1 and words in result["msg"]
    assert "\n" not in result["msg"]
    assert um.requests == []


def test_unknown_key_fails(um, run_module):
    code, result, out = run_module(um_job_wait.main, {"key": K1})
    assert code == 1
    assert K1 in result["msg"] and "does not exist" in result["msg"]
    assert result["not_found"] == [K1] and result["outcomes"] == {K1: "not_found"}
    assert result["pending"] == [] and result["timed_out"] is False
    assert PASSWORD not in out


def test_unknown_state_warns(um, run_module):
    um.add(FakeJob(K1, [(-1.0, "running", "normal"), (3.0, "hibernating", "normal"), (9.0, "completed", "normal")]))
    code, result, _out = run_module(um_job_wait.main, {"key": K1, "long_poll": "never"})
    assert code == 0
    assert result["unknown_states"] == {K1: "hibernating"}
    assert any("hibernating" in w for w in warnings_of(result))
    assert all("poll_timeout" not in q for _m, _p, q, _b in um.requests)


def test_runs_in_check_mode(um, run_module):
    um.add(job(K1, 3.0))
    code, result, _out = run_module(um_job_wait.main, {"key": K1}, check_mode=True)
    assert code == 0 and result["changed"] is False
    assert result["outcomes"] == {K1: "normal"}
    assert um.requests


def test_password_is_never_printed(um, run_module):
    um.add(job(K1, 3.0, status="error"))
    code, _result, out = run_module(um_job_wait.main, {"key": K1})
    assert code == 1
    assert PASSWORD not in out
