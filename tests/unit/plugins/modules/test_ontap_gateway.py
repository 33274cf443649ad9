# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_request, um_job_wait and um_job_info with ONTAP's jobs through UM's API gateway (scripted answers, fake clock)."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMHTTPError, http_error
from ansible_collections.aiqum.jobs.plugins.modules import um_job_info, um_job_wait, um_request
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import CLUSTER, job

U1 = "0a1b2c3d-0000-11ee-8c1a-005056a70001"
U2 = "0a1b2c3d-0000-11ee-8c1a-005056a70002"
UM_KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
HREF = f"/api/gateways/{CLUSTER}/cluster/jobs/{U1}"
KEY = f"ontap:{CLUSTER}:{U1}"
KEY2 = f"ontap:{CLUSTER}:{U2}"
VOLUMES = f"/gateways/{CLUSTER}/storage/volumes"
JOB1 = f"/gateways/{CLUSTER}/cluster/jobs/{U1}"
GATEWAYS = (200, {"records": [{"uuid": CLUSTER, "name": "cluster-a", "type": "ONTAP"},
                              {"uuid": "9e9e9e9e-0000-11ee-9a3b-005056a7e009", "name": "cluster-b", "type": "ONTAP"}],
                  "num_records": 2})
ACCEPTED = (202, {"job": {"uuid": U1, "_links": {"self": {"href": HREF}}}})
BODY = {"name": "vol1", "svm": {"name": "svm1"}}


def ontap_job(state, message="In progress", code=0):
    return (200, {"uuid": U1, "description": "POST /api/storage/volumes", "state": state, "message": message,
                  "code": code, "start_time": "2026-11-27T10:00:00+00:00",
                  "_links": {"self": {"href": HREF}}})


def test_cluster_by_name_and_the_ontap_job_key_without_waiting(um, run_module):
    um.script("GET", "/gateways", GATEWAYS)
    um.script("POST", VOLUMES, ACCEPTED)
    code, result, _out = run_module(um_request.main, {"cluster": "cluster-a", "method": "POST",
                                                      "path": "/storage/volumes", "body": BODY})
    assert code == 0 and result["changed"] is True and result["status"] == 202
    assert result["job_key"] == KEY and result["job"]["uuid"] == U1
    assert result["request"]["path"] == VOLUMES
    post = [r for r in um.requests if r[0] == "POST"]
    assert post == [("POST", VOLUMES, {}, BODY)], "return_timeout only with wait or when the user sets it"


def test_cluster_by_uuid_and_wait_for_the_ontap_job(um, run_module):
    um.script("GET", "/gateways", GATEWAYS)
    um.script("POST", VOLUMES, ACCEPTED)
    um.script("GET", JOB1, ontap_job("running"), ontap_job("paused"), ontap_job("success", "success"))
    code, result, _out = run_module(um_request.main, {"cluster": CLUSTER, "method": "POST", "path": "/api/storage/volumes",
                                                      "body": BODY, "wait": True, "timeout": 300})
    assert code == 0, result["msg"]
    assert result["outcomes"] == {KEY: "success"} and result["job"]["state"] == "success"
    assert result["job_key"] == KEY and result["polls"] == 3
    post = [r for r in um.requests if r[0] == "POST"][0]
    assert post[2] == {"return_timeout": "120"}
    gets = [r for r in um.requests if r[1] == JOB1]
    assert len(gets) == 3 and all(r[2] == {} for r in gets), "no poll_timeout, nothing else, to ONTAP"


def test_return_timeout_is_capped_at_the_time_left_and_a_201_ends_in_one_round_trip(um, run_module):
    um.script("POST", VOLUMES, (201, ACCEPTED[1]))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": VOLUMES, "body": BODY, "wait": True,
                                                      "timeout": 45.5})
    assert code == 0, result["msg"]
    assert result["outcomes"] == {KEY: "success"} and result["polls"] == 0
    assert um.requests == [("POST", VOLUMES, {"return_timeout": "45"}, BODY)]


def test_user_return_timeout_is_sent_as_given(um, run_module):
    um.script("POST", VOLUMES, (201, ACCEPTED[1]))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": VOLUMES, "body": BODY,
                                                      "query": {"return_timeout": 5}})
    assert code == 0 and result["job_key"] == KEY
    assert um.requests == [("POST", VOLUMES, {"return_timeout": "5"}, BODY)]


def test_failed_job_held_by_return_timeout_fails_with_message_and_code(um, run_module):
    um.script("POST", VOLUMES, http_400())
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": VOLUMES, "body": BODY, "wait": True})
    assert code == 1
    assert "Duplicate volume name vol1." in result["msg"] and "917927" in result["msg"] and "\n" not in result["msg"]


def http_400():
    return UMHTTPError(400, "POST", VOLUMES, code="917927", um_message="Duplicate volume name vol1.")


def test_failed_job_fails_with_message_and_code(um, run_module):
    um.script("POST", VOLUMES, ACCEPTED)
    um.script("GET", JOB1, ontap_job("failure", "Duplicate volume name vol1.", 917927))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": VOLUMES, "body": BODY, "wait": True})
    assert code == 1 and result["outcomes"] == {KEY: "failure"} and result["job_key"] == KEY
    assert "Duplicate volume name vol1." in result["msg"] and "917927" in result["msg"]


def test_started_job_then_404_is_forgotten(um, run_module):
    um.script("POST", VOLUMES, ACCEPTED)
    um.script("GET", JOB1, http_error(404, "GET", JOB1, code="4", um_message="entry doesn't exist", target="uuid"))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": VOLUMES, "body": BODY, "wait": True})
    assert code == 1 and result["outcomes"] == {KEY: "forgotten"} and "forgot" in result["msg"]


def test_path_outside_the_gateway_is_refused_with_cluster(um, run_module):
    code, result, _out = run_module(um_request.main, {"cluster": "cluster-a", "path": "/storage-provider/luns"})
    assert code == 1 and "not an ONTAP path" in result["msg"] and um.requests == []


def test_unknown_cluster_name_is_one_line(um, run_module):
    um.script("GET", "/gateways", GATEWAYS)
    code, result, _out = run_module(um_request.main, {"cluster": "cluster-z", "path": "/storage/volumes"})
    assert code == 1 and "cluster-z" in result["msg"] and "cluster-a" in result["msg"] and "\n" not in result["msg"]


def test_um_write_with_wait_gets_no_return_timeout(um, run_module):
    um.add(job(UM_KEY, 2.0))
    um.script("POST", "/storage-provider/luns", (202, {"job": {"key": UM_KEY}}))
    code, result, _out = run_module(um_request.main, {"method": "POST", "path": "/storage-provider/luns",
                                                      "body": {"name": "l"}, "wait": True})
    assert code == 0 and [r for r in um.requests if r[0] == "POST"][0][2] == {}


@pytest.mark.parametrize("given", [KEY, HREF, {"uuid": U1, "_links": {"self": {"href": HREF}}}])
def test_um_job_wait_takes_every_form(um, run_module, given):
    um.script("GET", JOB1, ontap_job("success", "success"))
    code, result, _out = run_module(um_job_wait.main, {"key": given})
    assert code == 0, result["msg"]
    assert result["outcomes"] == {KEY: "success"} and result["job"]["key"] == KEY


def test_um_job_wait_mixed_um_and_ontap(um, run_module):
    um.add(job(UM_KEY, 1.5))
    running = [dict(ontap_job("running")[1], uuid=U1), dict(ontap_job("running")[1], uuid=U2)]
    ended = [dict(ontap_job("success")[1], uuid=U1), dict(ontap_job("failure", "no", 9)[1], uuid=U2)]
    um.script("GET", f"/gateways/{CLUSTER}/cluster/jobs", (200, {"records": running}), (200, {"records": ended}))
    code, result, _out = run_module(um_job_wait.main, {"keys": [UM_KEY, HREF, KEY2]})
    assert code == 1
    assert result["outcomes"] == {UM_KEY: "normal", KEY: "success", KEY2: "failure"}
    lists = [r for r in um.requests if r[1] == f"/gateways/{CLUSTER}/cluster/jobs"]
    assert lists[0][2]["uuid"] == f"{U1}|{U2}" and "state" in lists[0][2]["fields"]
    assert not any("poll_timeout" in r[2] for r in lists)


def test_um_job_info_refuses_an_ontap_key_in_one_line(um, run_module):
    code, result, _out = run_module(um_job_info.main, {"key": KEY})
    assert code == 1 and "ONTAP job" in result["msg"] and "um_job_wait" in result["msg"] and um.requests == []
