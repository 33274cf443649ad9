# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the filters job_outputs and job_failures read: a UM job in any of the wrappers users hold it in."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.aiqum.jobs.plugins.module_utils._table import results_of


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
    raise AnsibleFilterError(f"{filter_name} takes a UM job (a dict with its key, job_results and task_reports) or a "
                             f"result holding one in job or json, not {type(data).__name__}: "
                             "for several jobs use map('aiqum.jobs." + filter_name + "')")


def outputs(data: t.Any) -> dict[str, t.Any]:
    return results_of(find_job(data, "job_outputs"))


def failures(data: t.Any) -> list[str]:
    job = find_job(data, "job_failures")
    reasons = []
    for task in job.get("task_reports") or []:
        if isinstance(task, t.Mapping) and task.get("failure_reason"):
            reasons.append(f"{task.get('name') or task.get('key') or 'task'}: {task['failure_reason']}")
    return reasons
