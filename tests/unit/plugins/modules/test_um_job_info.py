# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_job_info: main() with module args; the real client pages through the scripted UM."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.modules import um_job_info
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import FakeJob, job

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
JOBS = "/management-server/jobs"


def fill(um, running=30, done=15):
    for i in range(running):
        um.add(job(f"r{i:02d}:-1", None, submit=float(i), name=f"Create LUN lun{i}"))
    for i in range(done):
        um.add(FakeJob(f"d{i:02d}:-1", [(-1.0, "completed", "error" if i % 5 == 0 else "normal")],
                       submit=100.0 + i, name=f"Delete share s{i}"))


def test_one_job_by_key(um, run_module):
    um.add(job(K1, 5.0))
    code, result, _out = run_module(um_job_info.main, {"key": K1})
    assert code == 0 and result["changed"] is False
    assert result["job"]["key"] == K1 and result["jobs"] == [result["job"]] and result["count"] == 1
    assert [(m, p) for m, p, _q, _b in um.requests] == [("GET", f"{JOBS}/{K1.replace(':', '%3A')}")]
    assert um.requests[0][2] == {}, "a lookup must not long-poll"


def test_unknown_key_fails(um, run_module):
    code, result, _out = run_module(um_job_info.main, {"key": K1})
    assert code == 1
    assert K1 in result["msg"] and "does not exist" in result["msg"]


def test_bad_key_fails_before_any_request(um, run_module):
    code, result, _out = run_module(um_job_info.main, {"key": "x/../../y"})
    assert code == 1 and "not a UM job key" in result["msg"]
    assert um.requests == []


def test_filtered_listing_follows_pages_up_to_max_records(um, run_module):
    fill(um)
    um.page_max = 10  # UM hands out fewer per page than asked: the module must follow _links.next
    code, result, _out = run_module(um_job_info.main, {"state": "running|aborting", "name": "Create LUN*",
                                                       "order_by": "submit_time desc", "max_records": 25})
    assert code == 0 and result["changed"] is False
    assert result["count"] == 25 and len(result["jobs"]) == 25
    assert all(j["state"] == "running" for j in result["jobs"])
    assert len({j["key"] for j in result["jobs"]}) == 25
    first = um.requests[0]
    assert first[1] == JOBS
    assert first[2] == {"state": "running|aborting", "name": "Create LUN*", "order_by": "submit_time desc",
                        "max_records": "25"}
    assert [q.get("offset") for _m, _p, q, _b in um.requests] == [None, "10", "20"]
    assert all(q["state"] == "running|aborting" for _m, _p, q, _b in um.requests), "filters lost while paging"


def test_listing_reads_every_page_when_fewer_than_max_records(um, run_module):
    fill(um)
    um.page_max = 7
    code, result, _out = run_module(um_job_info.main, {"status": "error", "max_records": 1000})
    assert code == 0
    assert result["count"] == 3
    assert {j["key"] for j in result["jobs"]} == {"d00:-1", "d05:-1", "d10:-1"}
    assert len(um.requests) == 1


def test_listing_without_filters_returns_the_20_most_recent(um, run_module):
    fill(um)
    code, result, _out = run_module(um_job_info.main, {})
    assert code == 0
    assert result["count"] == 20
    assert um.requests[0][2] == {"max_records": "20"}
    assert result["jobs"][0]["key"] == "d14:-1"


@pytest.mark.parametrize("args, words", [
    ({"key": K1, "state": "running"}, "mutually exclusive"),
    ({"key": K1, "max_records": 5}, "mutually exclusive"),
    ({"state": "running", "max_records": 0}, "max_records"),
])
def test_bad_options(um, run_module, args, words):
    code, result, _out = run_module(um_job_info.main, args)
    assert code == 1 and words in result["msg"]
    assert um.requests == []


def test_runs_in_check_mode(um, run_module):
    fill(um, running=3, done=0)
    code, result, _out = run_module(um_job_info.main, {"state": "running"}, check_mode=True)
    assert code == 0 and result["count"] == 3


def test_empty_environment_variables_count_as_unset(um, run_module, monkeypatch):
    monkeypatch.setenv("UM_HTTP_PORT", "")
    monkeypatch.setenv("UM_VALIDATE_CERTS", " ")
    monkeypatch.setenv("UM_REQUEST_TIMEOUT", "")
    um.script("GET", "/management-server/jobs", (200, {"records": [], "num_records": 0}))
    code, result, _out = run_module(um_job_info.main, {"http_port": None, "state": "running"})
    assert code == 0, result
    assert um.clients[-1][1]["port"] is None and um.clients[-1][1]["validate_certs"] is True


def test_a_next_link_that_repeats_itself_fails_instead_of_paging_for_ever(um, run_module):
    """Issue 10 (7): a self-repeating _links.next no longer returns the same records again as success."""
    loop = "/api/management-server/jobs?max_records=2&offset=2"
    page = {"records": [{"key": "a:1"}, {"key": "b:2"}], "num_records": 2, "total_records": 9,
            "_links": {"next": {"href": loop}}}
    um.script("GET", JOBS, (200, page), (200, page))
    code, result, _out = run_module(um_job_info.main, {"name": "*", "max_records": 1000})
    assert code == 1
    assert "does not end" in result["msg"] and "repeats" in result["msg"] and "\n" not in result["msg"]
    assert len(um.requests) == 2 and um.routes[("GET", JOBS)] == []


@pytest.mark.parametrize("links", ["next", {"next": "x"}, {"next": {"href": 5}}])
def test_a_malformed_next_link_is_a_one_line_failure_or_the_end(um, run_module, links):
    um.script("GET", JOBS, (200, {"records": [{"key": "a:1"}], "_links": links}))
    code, result, _out = run_module(um_job_info.main, {"name": "*"})
    if code:
        assert "\n" not in result["msg"] and "Traceback" not in result["msg"]
    else:
        assert result["jobs"] == [{"key": "a:1"}]
