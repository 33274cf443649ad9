# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters job_outputs and job_failures, as Jinja calls them, on the shapes users hold a job in."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.aiqum.jobs.plugins.filter.job_failures import FilterModule as Failures
from ansible_collections.aiqum.jobs.plugins.filter.job_outputs import FilterModule as Outputs

job_outputs = Outputs().filters()["job_outputs"]
job_failures = Failures().filters()["job_failures"]

JOB = {
    "key": "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4", "name": "Create LUN", "state": "completed",
    "status": "partial_failures",
    "job_results": [{"name": "lunKey", "value": "lun-1"}, {"name": "svmKey", "value": "svm-1"}, {"value": "nameless"}],
    "task_reports": [
        {"key": "t1", "name": "Create volume", "status": "normal"},
        {"key": "t2", "name": "Map LUN", "status": "error", "failure_reason": "igroup ig1 not found"},
        {"key": "t3", "status": "error", "failure_reason": "rollback incomplete"},
        {"key": "t4", "name": "Tidy", "failure_reason": ""},
    ],
}


@pytest.mark.parametrize("holder", [
    JOB,                                        # um_job_info record, the um_job lookup, an event payload
    {"changed": True, "job_key": JOB["key"], "job": JOB},  # um_request / um_job_wait result
    {"status": 200, "json": JOB, "url": "https://um/api/management-server/jobs/x"},  # ansible.builtin.uri result
], ids=["job", "module result", "uri result"])
def test_outputs_and_failures_from_every_holder(holder):
    assert job_outputs(holder) == {"lunKey": "lun-1", "svmKey": "svm-1"}
    assert job_failures(holder) == ["Map LUN: igroup ig1 not found", "t3: rollback incomplete"]


def test_a_running_job_has_no_outputs_or_failures():
    running = {"key": "k", "state": "running", "status": "normal"}
    assert job_outputs(running) == {} and job_failures(running) == []


@pytest.mark.parametrize("bad", [None, "a string", [JOB], {"records": [JOB]}])
def test_anything_else_is_refused_in_one_line(bad):
    for name, fn in (("job_outputs", job_outputs), ("job_failures", job_failures)):
        with pytest.raises(AnsibleFilterError) as err:
            fn(bad)
        assert name in str(err.value) and "\n" not in str(err.value)
        if isinstance(bad, list):
            assert "map(" in str(err.value)
