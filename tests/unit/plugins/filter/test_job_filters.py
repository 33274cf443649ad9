# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters job_outputs and job_failures, as Jinja calls them, on the shapes users hold a job in."""

from __future__ import annotations

import re

import pytest
import yaml

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


def _refusal(fn, value):
    with pytest.raises(AnsibleFilterError) as err:
        fn(value)
    message = str(err.value)
    assert "\n" not in message
    assert not re.search(r"_Ansible|Tagged|Lazy|NoneType|\bint\b|\bstr\b", message), message
    return message


@pytest.mark.parametrize("field, fn, value, said", [
    ("task_reports", job_failures, 7, "a number"),
    ("task_reports", job_failures, "Create LUN failed", "a string"),
    ("task_reports", job_failures, {"key": "t1"}, "a dict"),
    ("task_reports", job_failures, True, "a boolean"),
    ("job_results", job_outputs, 7, "a number"),
    ("job_results", job_outputs, "lunKey=x", "a string"),
    ("job_results", job_outputs, {"lunKey": "x"}, "a dict"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else None)
def test_a_job_field_that_is_not_a_list_is_refused_naming_what_it_is(field, fn, value, said):
    message = _refusal(fn, {"key": "k", "state": "completed", field: value})
    assert f"the job's {field} is {said}, not a list" in message


@pytest.mark.parametrize("field, fn", [("task_reports", job_failures), ("job_results", job_outputs)])
def test_an_entry_that_is_not_a_dict_is_refused_naming_its_place(field, fn):
    message = _refusal(fn, {"key": "k", field: [{"name": "a", "value": "b"}, "oops"]})
    assert f"{field}[1] is a string, not a dict" in message


@pytest.mark.parametrize("field, fn, empty", [("task_reports", job_failures, []), ("job_results", job_outputs, {})])
def test_a_null_field_is_like_an_absent_one(field, fn, empty):
    assert fn({"key": "k", "state": "running", field: None}) == empty


@pytest.mark.parametrize("bad, said", [
    (None, "was given nothing (null)"),
    ("2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4", "was given a string"),
    (42, "was given a number"),
    ([JOB], "was given a list"),
    ({"records": [JOB]}, "was given a dict with no job in it"),
    ({"changed": False, "jobs": [JOB, JOB]}, "was given a result holding a list of jobs"),
])
def test_what_was_given_and_what_to_pass(bad, said):
    for name, fn in (("job_outputs", job_outputs), ("job_failures", job_failures)):
        message = _refusal(fn, bad)
        assert message.startswith(f"{name} {said}"), message
        if isinstance(bad, list) or (isinstance(bad, dict) and "jobs" in bad):
            assert f"map('aiqum.jobs.{name}')" in message


# Through real Jinja: ansible-core 2.19 hands a filter lazy, tagged containers (_AnsibleLazyTemplateList,
# _AnsibleTaggedInt...); the message must still speak of "a list" and "a number".
def _render(expression, variables):
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    try:  # ansible-core 2.19 and later render only strings marked as trusted templates (as playbook text is)
        from ansible.template import trust_as_template
    except ImportError:
        def trust_as_template(text):
            return text
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


@pytest.mark.parametrize("value, said", [
    ([{"key": "k"}], "was given a list"),
    ({"key": "k", "task_reports": 7}, "the job's task_reports is a number"),
    ("a job key", "was given a string"),
])
def test_templated_input_is_named_in_user_terms(value, said):
    with pytest.raises(Exception) as err:
        _render("{{ value | aiqum.jobs.job_failures }}", {"value": value})
    assert said in str(err.value), str(err.value)
    assert "_Ansible" not in str(err.value), str(err.value)


def test_the_job_outputs_examples_run_on_ansible_core_alone():
    from ansible_collections.aiqum.jobs.plugins.filter import job_outputs as plugin

    tasks = yaml.safe_load(plugin.EXAMPLES)
    assert "community." not in plugin.EXAMPLES and "ansible.netcommon" not in plugin.EXAMPLES
    variables = {"polled": {"status": 200, "json": JOB}, "info": {"jobs": [JOB, dict(JOB, key="other", job_results=[])]}}
    used = 0
    for task in tasks:
        for module in ("ansible.builtin.debug", "ansible.builtin.set_fact"):
            for value in (task.get(module) or {}).values():
                rendered = _render(value, dict(variables, **{k: _render(v, variables)
                                                             for k, v in (task.get("vars") or {}).items()}))
                used += 1
                assert rendered in ("lun-1", {JOB["key"]: {"lunKey": "lun-1", "svmKey": "svm-1"}, "other": {}}), rendered
    assert used == 2
