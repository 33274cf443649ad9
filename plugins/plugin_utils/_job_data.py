# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the filters job_outputs and job_failures read: a UM job in any of the wrappers users hold it in.

Anything else is refused with one line that names what was given in a user's words ("a list", "a string"),
never a Python or Ansible type name (ansible-core 2.19 hands filters lazy, tagged containers whose class
names mean nothing to a playbook author), and says what to pass instead.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.aiqum.jobs.plugins.module_utils._table import results_of

WHAT_TO_PASS = ("give it one job (as um_job_info's job, the um_job lookup or an event gives it), or the result of "
                "um_request, um_job_wait or ansible.builtin.uri that holds one in job or json")


def kind(value: t.Any) -> str:
    """What `value` is, in the words of a playbook author."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (str, bytes)):
        return "a string"
    if isinstance(value, t.Mapping):
        return "a dict"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "a list"
    return "a value that is not a dict"


def find_job(data: t.Any, filter_name: str) -> t.Mapping[str, t.Any]:
    """The job object in `data`: a job itself, or a result that holds one.

    Accepted: a job (as from um_job_info, the um_job lookup or an event payload); a um_request/um_job_wait result
    (its `job`); an ansible.builtin.uri result (its `json`).
    """
    if isinstance(data, t.Mapping):
        if any(k in data for k in ("job_results", "task_reports", "state", "status")) and "key" in data:
            return data
        for field in ("job", "json"):
            inner = data.get(field)
            if isinstance(inner, t.Mapping) and "key" in inner:
                return inner
        if "key" in data:
            return data
        if isinstance(data.get("jobs"), (list, tuple)):
            raise AnsibleFilterError(f"{filter_name} was given a result holding a list of jobs (jobs): pass one job, "
                                     f"or for each job use jobs | map('aiqum.jobs.{filter_name}')")
        raise AnsibleFilterError(f"{filter_name} was given a dict with no job in it (no key, job or json): "
                                 f"{WHAT_TO_PASS}")
    if isinstance(data, (list, tuple)):
        raise AnsibleFilterError(f"{filter_name} was given a list: it takes one job; for a list of jobs use "
                                 f"map('aiqum.jobs.{filter_name}')")
    raise AnsibleFilterError(f"{filter_name} was given {kind(data)}: {WHAT_TO_PASS}")


def _entries(job: t.Mapping[str, t.Any], field: str, filter_name: str, what: str) -> list[t.Mapping[str, t.Any]]:
    """The job's `field` as a list of dicts; absent or null is an empty list (a running job, a job that made
    nothing); anything else that is not a list of dicts is refused in one line."""
    items = job.get(field)
    if items is None:
        return []
    if not isinstance(items, (list, tuple)):
        raise AnsibleFilterError(f"{filter_name}: the job's {field} is {kind(items)}, not a list of {what}: "
                                 "pass the job as UM returns it")
    for index, item in enumerate(items):
        if not isinstance(item, t.Mapping):
            raise AnsibleFilterError(f"{filter_name}: the job's {field}[{index}] is {kind(item)}, not a dict: "
                                     f"{field} must be a list of {what}; pass the job as UM returns it")
    return list(items)


def outputs(data: t.Any) -> dict[str, t.Any]:
    job = find_job(data, "job_outputs")
    return results_of({"job_results": _entries(job, "job_results", "job_outputs", "name/value pairs")})


def failures(data: t.Any) -> list[str]:
    job = find_job(data, "job_failures")
    reasons = []
    for task in _entries(job, "task_reports", "job_failures", "tasks"):
        if task.get("failure_reason"):
            reasons.append(f"{task.get('name') or task.get('key') or 'task'}: {task['failure_reason']}")
    return reasons
