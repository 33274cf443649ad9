# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: job_failures
short_description: Why a Unified Manager job failed, one line per failed task
version_added: 0.2.0
description:
  - Unified Manager says why a job failed only in its C(task_reports[].failure_reason). This filter gives one
    line, the task's name then its reason, per task that has a failure reason.
  - Takes the job itself (from M(aiqum.jobs.um_job_info), the P(aiqum.jobs.um_job#lookup) lookup or an event
    payload), or a result that holds it, in C(job) (M(aiqum.jobs.um_request), M(aiqum.jobs.um_job_wait)) or in
    C(json) (M(ansible.builtin.uri)).
  - A job with no failed task gives an empty list.
author:
  - aiqum.jobs maintainers (@aiqum)
options:
  _input:
    description: A job, or a result holding one in C(job) or C(json).
    type: dict
    required: true
seealso:
  - plugin: aiqum.jobs.job_outputs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Say why the job failed
  ansible.builtin.debug:
    msg: "{{ waited | aiqum.jobs.job_failures | join('; ') }}"
  when: waited is failed
"""

RETURN = r"""
_value:
  description: One line per task with a failure reason (its name, a colon, the reason), in the job's order.
  type: list
  elements: str
  sample: ["Create LUN: Aggregate aggr1 is out of space"]
"""

from ansible_collections.aiqum.jobs.plugins.plugin_utils._job_data import failures


class FilterModule:

    def filters(self):
        return {"job_failures": failures}
