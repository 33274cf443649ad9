# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_request: main() with module args, against the scripted UM on a fake clock."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConnectionError, UMOperationUncertain
from ansible_collections.aiqum.jobs.plugins.module_utils._module import RESUME_KEY
from ansible_collections.aiqum.jobs.plugins.modules import um_request
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, http_error, job, warnings_of

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
LUNS = "/storage-provider/luns"
ACCEPTED = (202, {"job": {"key": K1, "_links": {"self": {"href": "/api/management-server/jobs/" + K1}}}})
JOB_PATH = "/management-server/jobs/" + K1.replace(":", "%3A")


def writes(um):
    return [r for r in um.requests if r[0] != "GET"]


def test_get_is_sent(um, run_module):
    um.script("GET", LUNS, (200, {"records": [{"key": "l1"}], "num_records": 1}))
    code, result, _out = run_module(um_request.main, {"path": LUNS, "query": {"max_records": 5, "name": ["a", "b"]}})
    assert code == 0 and result["changed"] is False
    assert result["status"] == 200 and result["json"]["records"] == [{"key": "l1"}]
    assert result["request"] == {"method": "GET", "path": LUNS, "query": {"max_records": 5, "name": ["a", "b"]},
                                 "body": None, "sent": True}
    assert um.requests == [("GET", LUNS, {"max_records": "5", "name": "a|b"}, None)]
    assert "job_key" not in result


def test_get_is_sent_in_check_mode(um, run_module):
    um.script("GET", LUNS, (200, {"records": []}))
    code, result, _out = run_module(um_request.main, {"path": "/api" + LUNS}, check_mode=True)
    assert code == 0 and result["changed"] is False and result["request"]["sent"] is True
    assert len(um.requests) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_write_in_check_mode_is_not_sent(um, run_module, method):
    # Nothing is scripted: a write that went out would meet a 404 and be seen in um.requests.
    body = {"name": "lun1"} if method != "DELETE" else None
    code, result, _out = run_module(um_request.main, {"method": method, "path": LUNS, "body": body, "wait": True},
                                    check_mode=True)
    assert code == 0 and result["changed"] is True
    assert result["request"] == {"method": method, "path": LUNS, "query": {}, "body": body, "sent": False}
    assert method in result["msg"] and "check mode" in result["msg"]
    assert um.requests == []
    assert um.clients == [], "no connection is needed to not send a write"


def test_accepted_returns_the_job_key_without_waiting(um, run_module):
    um.script("POST", LUNS, ACCEPTED)
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS,
                                                      "body": {"name": "lun1", "size": {"value": 10, "unit": "gb"}}})
    assert code == 0 and result["changed"] is True
    assert result["status"] == 202 and result["job_key"] == K1
    assert result["job"] == ACCEPTED[1]["job"]
    assert um.requests == [("POST", LUNS, {}, {"name": "lun1", "size": {"value": 10, "unit": "gb"}})]
    assert "outcomes" not in result


def test_accepted_and_wait_waits_for_the_job(um, run_module):
    um.add(job(K1, 40.0, final={"job_results": [{"name": "lunKey", "value": "lun-1"}]}))
    um.script("POST", LUNS, ACCEPTED)
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True})
    assert code == 0 and result["changed"] is True
    assert result["job_key"] == K1
    assert result["job"]["state"] == "completed"
    assert result["outcomes"] == {K1: "normal"}
    assert result["outputs"] == {"lunKey": "lun-1"}
    assert result["pending"] == [] and result["timed_out"] is False
    assert 40.0 <= result["elapsed"] <= 40.2
    assert len(writes(um)) == 1
    assert [r[1] for r in um.requests if r[0] == "GET"] == [JOB_PATH]


def test_wait_on_a_failing_job_fails_but_reports_the_change(um, run_module):
    um.add(job(K1, 40.0, status="error", final={"task_reports": [
        {"name": "Create LUN", "status": "error", "state": "completed", "failure_reason": "Volume is offline."}]}))
    um.script("DELETE", LUNS + "/l1", ACCEPTED)
    code, result, _out = run_module(um_request.main, {"method": "DELETE", "path": LUNS + "/l1", "wait": True})
    assert code == 1 and result["changed"] is True
    assert "Volume is offline." in result["msg"]
    assert result["job_key"] == K1


def test_wait_timeout_returns_pending(um, run_module):
    um.add(job(K1, None))
    um.script("PATCH", LUNS + "/l1", ACCEPTED)
    code, result, _out = run_module(um_request.main, {"method": "PATCH", "path": LUNS + "/l1", "body": {"size": 2},
                                                      "wait": True, "timeout": 90, "long_poll": "never"})
    assert code == 1 and result["changed"] is True
    assert result["pending"] == [K1] and result["timed_out"] is True
    assert "timed out" in result["msg"]
    assert len(writes(um)) == 1


@pytest.mark.parametrize("status, data", [(201, {"key": "ds1"}), (200, {"key": "x"}), (204, None),
                                          (202, {"aggregate": {"key": "a1"}})])
def test_answers_without_a_job(um, run_module, status, data):
    um.script("POST", "/admin/datasources/clusters", (status, data))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": "/admin/datasources/clusters",
                                                      "body": {"address": "c1"}, "wait": True})
    assert code == 0 and result["changed"] is True
    assert result["status"] == status and result["json"] == data
    assert "job_key" not in result and "outcomes" not in result
    assert len(um.requests) == 1


def test_body_as_json_text_is_sent_as_an_object(um, run_module):
    um.script("POST", LUNS, (201, {}))
    code, _result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": '{"name": "lun1"}'})
    assert code == 0
    assert um.requests[0][3] == {"name": "lun1"}


@pytest.mark.parametrize("args, words", [
    ({"method": "POST", "body": [1, 2]}, "must be a JSON object"),
    ({"method": "POST", "body": "[1, 2]"}, "must be a JSON object"),
    ({"method": "POST", "body": "{not json"}, "not valid JSON"),
    ({"method": "PATCH", "body": 5}, "must be a JSON object"),
    ({"method": "GET", "body": {"a": 1}}, "only sent with POST or PATCH"),
    ({"method": "DELETE", "body": {"a": 1}}, "only sent with POST or PATCH"),
])
def test_bad_body_fails_before_sending(um, run_module, args, words):
    args = dict(args, path=LUNS)
    code, result, _out = run_module(um_request.main, args)
    assert code == 1 and words in result["msg"]
    assert um.requests == []


@pytest.mark.parametrize("path, words", [
    ("https://um.example.com/api/storage-provider/luns", "URL"), ("/storage-provider/../admin", ".."),
    ("/storage-provider/luns?max_records=1", "query"),
])
def test_bad_path_fails_before_sending(um, run_module, path, words):
    code, result, _out = run_module(um_request.main, {"path": path})
    assert code == 1 and words in result["msg"]
    assert um.requests == []


def test_http_error_fails_with_um_message(um, run_module):
    um.script("POST", LUNS, http_error(409, LUNS, "LUN lun1 already exists.", target="name", method="POST"))
    code, result, out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"}})
    assert code == 1
    assert "HTTP 409" in result["msg"] and "LUN lun1 already exists." in result["msg"]
    assert result["status"] == 409 and result["um_error"]["target"] == "name"
    assert PASSWORD not in out


def test_lost_answer_to_a_write_fails_as_changed(um, run_module):
    um.script("POST", LUNS, UMOperationUncertain("POST /storage-provider/luns: the connection was closed; it was NOT "
                                                 "sent again; look with aiqum.jobs.um_job_info",
                                                 operation_uncertain=True))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True})
    assert code == 1
    assert result["changed"] is True and result["operation_uncertain"] is True
    assert "um_job_info" in result["msg"]
    assert len(um.requests) == 1


def test_bad_wait_option_fails_before_anything_is_sent(um, run_module):
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True, "poll_interval": 0.01})
    assert code == 1 and "poll_interval" in result["msg"]
    assert um.requests == [], "the write must not be sent when the wait options are unusable"


@pytest.mark.parametrize("fault", [http_error(403, JOB_PATH, "Not allowed."), http_error(404, JOB_PATH)])
def test_a_wait_that_fails_after_the_job_started_keeps_its_key(um, run_module, fault):
    um.add(job(K1, 5.0))
    um.script("POST", LUNS, ACCEPTED)
    um.faults = {0: fault}
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True})
    assert code == 1
    assert result["changed"] is True and result["job_key"] == K1
    why = f"started job {K1}" if fault.status == 403 else f"job {K1} does not exist"
    assert why in result["msg"] and "\n" not in result["msg"]
    assert len(writes(um)) == 1


def test_secrets_in_the_body_are_sent_but_never_shown(um, run_module):
    um.script("POST", "/admin/datasources/clusters", (201, {"key": "ds1", "name": "c1"}))
    body = {"address": "c1.example.com", "username": "admin", "password": "Cluster-Secret-9",
            "nested": {"api_token": "Tok-123456"}}
    code, result, out = run_module(um_request.main, {"method": "POST", "path": "/admin/datasources/clusters", "body": body})
    assert code == 0 and result["status"] == 201
    assert um.requests[0][3]["password"] == "Cluster-Secret-9", "the secret must still be sent"
    assert "Cluster-Secret-9" not in out and "Tok-123456" not in out
    assert result["request"]["body"]["address"] == "c1.example.com"


def test_a_failed_request_still_says_what_was_sent(um, run_module):
    um.script("POST", LUNS, http_error(403, LUNS, "Not allowed."))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "l"}})
    assert code == 1 and "HTTP 403" in result["msg"]
    assert result["request"]["method"] == "POST" and result["request"]["sent"] is True


def test_a_request_that_never_left_says_so(um, run_module):
    um.script("POST", LUNS, UMConnectionError("POST /storage-provider/luns: cannot reach https://um: Connection refused"))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "l"}})
    assert code == 1 and result["request"]["sent"] is False and not result.get("changed")


@pytest.mark.parametrize("wait", [False, True])
def test_a_started_job_whose_key_cannot_be_polled_is_never_lost(um, run_module, wait):
    """Issue 10 (12): a 202 whose key holds an unexpected character keeps job_key and changed."""
    odd = "2c6002305af315d6:-36e66c|16e3ae18e35"
    um.script("POST", LUNS, (202, {"job": {"key": odd}}))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "l"},
                                                      "wait": wait})
    assert result["changed"] is True and result["job_key"] == odd and result["job"] == {"key": odd}
    assert result["status"] == 202 and result["request"]["sent"] is True
    assert len(writes(um)) == 1 and um.calls == []
    # Wait or not, a key that cannot be polled fails the task, which still says what was started.
    assert code == 1 and "started a job" in result["msg"] and "not again" in result["msg"]


def test_a_202_without_a_body_follows_a_location_that_names_a_job(um, run_module):
    """Issue 18 (7): a 202 with a Location header and no body skipped the wait silently (the job itself failed)."""
    um.add(job(K1, 30.0, status="error"))
    um.script("POST", LUNS, (202, None, {"Location": "https://um.example.com:8443/api/management-server/jobs/"
                                                     + K1.replace(":", "%3A")}))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True})
    assert code == 1 and result["failed"] and result["job_key"] == K1 and result["outcomes"] == {K1: "error"}


def test_a_202_without_a_job_anywhere_warns_that_nothing_was_waited_for(um, run_module):
    um.script("POST", LUNS, (202, None, {}))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True})
    assert code == 0 and result["changed"] is True and "job_key" not in result
    assert any("no job to wait for" in w for w in warnings_of(result))


def test_a_202_that_carries_another_object_is_not_a_job_and_not_a_warning(um, run_module):
    placement = (202, {"key": "aggr-1", "name": "aggr1", "cluster": {"key": "c1"}})
    um.script("POST", "/storage-provider/data-placement", placement)
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": "/storage-provider/data-placement",
                                                      "body": {"capacity": 1}, "wait": True})
    assert code == 0 and "job_key" not in result and not warnings_of(result)
    assert result["json"]["key"] == "aggr-1"


@pytest.mark.parametrize("state", [{}, {"version": 2, "codes": "n"}])
def test_a_resume_state_in_the_task_is_refused_by_the_module_itself(um, run_module, state):
    """Issue 18 (6): under async the module ran with a wait_state given in the task (a forged state made a failed job
    'normal' and um_request report success without sending its POST). Without the action plugin's
    ignore_unknown_opts, AnsibleModule refuses the key; nothing is sent."""
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": LUNS, "body": {"name": "lun1"},
                                                      "wait": True, RESUME_KEY: state})
    assert code == 1 and "Unsupported parameters" in result["msg"] and RESUME_KEY in result["msg"]
    assert um.requests == []


def test_another_unknown_option_is_refused_even_with_ignore_unknown_opts(um, run_module):
    """The action plugin hands the state over with ignore_unknown_opts: a typo must still fail, and the message
    does not list the internal key among the supported parameters."""
    code, result, _out = run_module(um_request.main, {"path": LUNS, "tiemout": 5, RESUME_KEY: {},
                                                      "_ansible_ignore_unknown_opts": True})
    assert code == 1 and "Unsupported parameters" in result["msg"] and "tiemout" in result["msg"]
    assert RESUME_KEY not in result["msg"].split("Supported parameters include")[1]
    assert um.requests == []
