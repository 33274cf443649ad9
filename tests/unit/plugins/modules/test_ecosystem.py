# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What users bring from netapp.ontap / netapp.um_info / awx.awx: job handles in any shape, method in any case,
the user/pass aliases, feature_flags (shared module_defaults, API tracing), UM_* variables named in errors,
one warning for validate_certs=false, connection options required unless their variable is set."""

from __future__ import annotations

import os
import re
import stat

import pytest

from ansible_collections.aiqum.jobs.plugins.modules import um_job_info, um_job_wait, um_request
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, job, warnings_of

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
DS = "4ea7a442-86d1-11e0-ae1c-123478563412:type=cluster,uuid=d208cc7d"
DISCOVER = "/management-server/admin/datasources/" + DS.replace(":", "%3A").replace("=", "%3D").replace(",", "%2C") + "/discover"


@pytest.mark.parametrize("status,answer,reference", [
    (200, {"operationId": K1}, {"key": K1}),
    (201, {"job_key": K1}, {"key": K1}),
    (202, {"job": {"key": K1}}, {"key": K1}),
    (200, {"job": {"key": K1, "_links": {"self": {"href": "/api/management-server/jobs/" + K1}}}}, None),
], ids=["200 operationId", "201 job_key", "202 job.key", "200 job.key"])
def test_a_job_handle_is_recognised_by_its_shape_not_its_status(um, run_module, status, answer, reference):
    um.script("POST", DISCOVER, (status, answer))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": DISCOVER})
    assert code == 0 and result["changed"] is True and result["status"] == status
    assert result["job_key"] == K1
    assert result["job"] == (reference or answer["job"])


def test_rediscovery_operation_id_is_waited_on_like_any_job(um, run_module):
    """The public playbook polls /management-server/jobs/<operationId> until completed: wait: true does it."""
    um.add(job(K1, 20.0, status="error", final={"task_reports": [
        {"name": "Discover", "state": "completed", "status": "error", "failure_reason": "cluster unreachable"}]}))
    um.script("POST", DISCOVER, (200, {"operationId": K1}))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": DISCOVER, "wait": True})
    assert code == 1, "a failed rediscovery job must fail the task, not pass as a plain 200"
    assert result["job_key"] == K1 and result["outcomes"] == {K1: "error"}
    assert "cluster unreachable" in result["msg"]
    assert len([r for r in um.requests if r[0] == "POST"]) == 1


@pytest.mark.parametrize("answer", [{"records": [{"key": "x", "job_key": K1}]}, {"name": "ds1", "key": DS},
                                    {"operationId": ""}, {"job": {"name": "no key"}}, None])
def test_answers_without_a_job_handle_are_not_waited_on(um, run_module, answer):
    um.script("POST", DISCOVER, (200, answer))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": DISCOVER, "wait": True})
    assert code == 0 and "job_key" not in result and "outcomes" not in result


def test_a_get_is_never_waited_on_even_if_its_answer_names_a_job(um, run_module):
    um.script("GET", "/some/report", (200, {"job_key": K1}))
    code, result, _out = run_module(um_request.main, {"path": "/some/report", "wait": True})
    assert code == 0 and "job_key" not in result
    assert um.requests == [("GET", "/some/report", {}, None)]


def test_an_unusable_job_handle_fails_saying_the_request_was_sent(um, run_module):
    um.script("POST", DISCOVER, (200, {"operationId": "a b/../c"}))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": DISCOVER, "wait": True})
    assert code == 1 and result["changed"] is True and result["request"]["sent"] is True
    assert "operationId" in result["msg"] and "is not a UM job key" in result["msg"] and "um_job_info" in result["msg"]
    assert "Traceback" not in result["msg"]


@pytest.mark.parametrize("method", ["post", "Post", " POST "])
def test_method_in_any_case(um, run_module, method):
    um.script("POST", "/storage-provider/luns", (202, {"job": {"key": K1}}))
    code, result, _out = run_module(um_request.main, {"method": method, "path": "/storage-provider/luns",
                                                      "body": {"name": "l"}})
    assert code == 0 and result["request"]["method"] == "POST" and result["job_key"] == K1


def test_an_unknown_method_is_refused_before_sending(um, run_module):
    code, result, _out = run_module(um_request.main, {"method": "put", "path": "/storage-provider/luns"})
    assert code == 1 and result["msg"] == "method 'put' is not one of GET, POST, PATCH, DELETE (in any case)"
    assert um.requests == []


def test_user_and_pass_aliases(um, run_module):
    um.script("GET", "/storage-provider/luns", (200, {"records": []}))
    code, _result, out = run_module(um_request.main, {"user": "ontap_user", "pass": PASSWORD, "path": "/storage-provider/luns"},
                                    drop=("username", "password"))
    assert code == 0
    args, _kwargs = um.clients[0]
    assert args[1:3] == ("ontap_user", PASSWORD)
    assert PASSWORD not in out


def test_feature_flags_of_netapp_um_info_are_accepted_and_ignored(um, run_module):
    um.script("GET", "/storage-provider/luns", (200, {"records": []}))
    code, result, _out = run_module(um_request.main, {"path": "/storage-provider/luns",
                                                      "feature_flags": {"strict_json_check": True, "trace_apis": False}})
    assert code == 0 and not warnings_of(result)


def test_trace_flags_are_read_and_the_file_is_made_private(tmp_path):
    from ansible_collections.aiqum.jobs.plugins.module_utils._flags import FeatureFlags
    from ansible_collections.aiqum.jobs.plugins.module_utils._secrets import Secrets
    trace_file = tmp_path / "trace.log"
    flags = FeatureFlags.from_option({"trace_apis": "yes", "trace_file": str(trace_file), "trace_body_length": 40,
                                      "strict_json_check": False})
    assert flags.trace_apis is True and flags.trace_body_length == 40
    assert stat.S_IMODE(os.stat(trace_file).st_mode) == 0o600
    assert FeatureFlags.from_option(None).tracer(Secrets()) is None


def test_trace_apis_module_warns_where_the_file_is(um, run_module, tmp_path):
    trace_file = tmp_path / "t.log"
    um.script("GET", "/storage-provider/luns", (200, {"records": []}))
    code, result, _out = run_module(um_request.main, {"path": "/storage-provider/luns", "feature_flags": {
        "trace_apis": True, "trace_file": str(trace_file)}})
    assert code == 0
    assert any(str(trace_file) in w and "trace_apis" in w for w in warnings_of(result))


@pytest.mark.parametrize("flags,words", [
    ({"trace_apis": "sometimes"}, "feature_flags.trace_apis is 'sometimes', not a boolean"),
    ({"trace_apis": True, "trace_file": "/nonexistent-dir/x/trace.log"}, "cannot be written"),
    ({"trace_body_length": "lots"}, "feature_flags.trace_body_length is 'lots'"),
])
def test_bad_feature_flags_fail_in_one_line(um, run_module, flags, words):
    code, result, _out = run_module(um_request.main, {"path": "/x", "feature_flags": flags})
    assert code == 1 and words in result["msg"] and um.requests == []


@pytest.mark.parametrize("var,value,option", [
    ("UM_HTTP_PORT", "https", "http_port"), ("UM_HTTP_PORT", "70000", "http_port"),
    ("UM_VALIDATE_CERTS", "maybe", "validate_certs"), ("UM_REQUEST_TIMEOUT", "30s", "request_timeout"),
])
def test_a_bad_um_variable_is_named(um, run_module, monkeypatch, var, value, option):
    monkeypatch.setenv(var, value)
    code, result, _out = run_module(um_job_info.main, {}, drop=(option,))
    assert code == 1
    assert re.match(f"{var}='{value}' is (not a|out of range)", result["msg"]), result["msg"]
    assert option in result["msg"] and "\n" not in result["msg"]
    assert um.requests == []


def test_a_good_um_http_port_is_used(um, run_module, monkeypatch):
    monkeypatch.setenv("UM_HTTP_PORT", " 9443 ")
    um.script("GET", "/management-server/jobs", (200, {"records": [], "num_records": 0}))
    code, _result, _out = run_module(um_job_info.main, {}, drop=("http_port",))
    assert code == 0 and um.clients[0][1]["port"] == 9443


def test_a_given_http_port_wins_over_a_bad_variable(um, run_module, monkeypatch):
    monkeypatch.setenv("UM_HTTP_PORT", "nope")
    um.script("GET", "/management-server/jobs", (200, {"records": [], "num_records": 0}))
    code, _result, _out = run_module(um_job_info.main, {})
    assert code == 0 and um.clients[0][1]["port"] == 8443


@pytest.mark.parametrize("missing", [("hostname",), ("username", "password")])
def test_connection_options_are_required_unless_their_variable_is_set(um, run_module, monkeypatch, missing):
    for var in ("UM_HOSTNAME", "UM_USERNAME", "UM_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    code, result, _out = run_module(um_job_info.main, {}, drop=missing)
    assert code == 1
    for name in missing:
        assert f"{name} (or UM_{name.upper()})" in result["msg"]
    um.script("GET", "/management-server/jobs", (200, {"records": [], "num_records": 0}))
    for name in missing:
        monkeypatch.setenv(f"UM_{name.upper()}", "from-env")
    code, _result, _out = run_module(um_job_info.main, {}, drop=missing)
    assert code == 0


def test_validate_certs_false_warns_once(um, run_module):
    um.add(job(K1, 5.0))
    code, result, out = run_module(um_job_wait.main, {"key": K1, "validate_certs": False})
    assert code == 0
    warned = [w for w in warnings_of(result) if "validate_certs is false" in w]
    assert len(warned) == 1 and "um.example.com" in warned[0] and "ca_path" in warned[0]
    assert PASSWORD not in out


def test_validate_certs_true_does_not_warn(um, run_module):
    um.add(job(K1, 5.0))
    code, result, _out = run_module(um_job_wait.main, {"key": K1})
    assert code == 0 and not [w for w in warnings_of(result) if "validate_certs" in w]


def test_a_list_given_to_key_says_use_keys(um, run_module):
    code, result, _out = run_module(um_job_wait.main, {"key": [K1, K1.replace("7ff4", "7ff5")]})
    assert code == 1 and "use keys" in result["msg"], result["msg"]
    assert um.requests == []
